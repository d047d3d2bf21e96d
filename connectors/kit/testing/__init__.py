"""What a connector package needs to test itself the way the built-in connectors are tested:
the contract suite (:class:`ConnectorContract`, :class:`Subject`), the desired trust it plans
with, and the loopback fake-IdP base (:class:`FakeIdP`). Importing this module needs pytest
(the ``test`` extra); the connectors themselves never import it."""

from connectors.kit.testing.contract import ConnectorContract, Subject, plan_adding_regions
from connectors.kit.testing.fakeidp import (
    CUT,
    FakeIdP,
    Fault,
    LoggedRequest,
    Versioned,
    json_response,
)
from connectors.kit.testing.trust import (
    ADDED_REGIONS,
    ENTITY,
    PRIMARY,
    PRIMARY_URLS,
    TENANT,
    acs_url,
    desired_trust,
)

__all__ = [
    "ADDED_REGIONS",
    "CUT",
    "ENTITY",
    "PRIMARY",
    "PRIMARY_URLS",
    "TENANT",
    "ConnectorContract",
    "FakeIdP",
    "Fault",
    "LoggedRequest",
    "Subject",
    "Versioned",
    "acs_url",
    "desired_trust",
    "json_response",
    "plan_adding_regions",
]
