"""PingFederate connector: SP connections on a self-hosted PingFederate (Administrative API).

Registered as the ``pingfederate`` entry point
(``connectors.pingfederate:PingFederateConnector``).
"""

from __future__ import annotations

from connectors.pingfederate.connector import PingFederateConnector

__all__ = ["PingFederateConnector"]
