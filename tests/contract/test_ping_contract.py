"""The connector contract suite (``connectors.kit.testing.ConnectorContract``) for PingOne
and PingFederate, each against its loopback fake (``tests/ping_support.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from connectors.kit.testing import ConnectorContract, Subject
from tests.ping_support import pingfederate_subject, pingone_subject

BUILDERS = {"pingone": pingone_subject, "pingfederate": pingfederate_subject}


class TestPingConnectors(ConnectorContract):
    @pytest.fixture(params=sorted(BUILDERS))
    async def subject(
        self, request: pytest.FixtureRequest, tmp_path: Path
    ) -> AsyncIterator[Subject]:
        async with AsyncExitStack() as stack:
            yield await BUILDERS[request.param](tmp_path, stack)
