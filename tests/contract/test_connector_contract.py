"""The connector contract suite (``connectors.kit.testing.ConnectorContract``) run against
every built-in connector.

Each case runs for ``file`` (a JSON document on disk), ``okta`` (the Okta fake, a custom
SAML app, the real okta SDK) and ``entra`` (the Graph fake, an IdC gallery app, the real
msgraph-sdk). The app trusts only the primary Region; the desired state adds eu-west-1 and
ap-southeast-2. Per-connector wiring lives in ``tests/contract_support.py``; the cases live
in the package, so a connector outside this repository runs the very same ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from connectors.kit.testing import ConnectorContract, Subject
from tests.contract_support import BUILDERS
from tests.okta_support import okta_env

__all__ = ["okta_env"]  # the okta subject needs it (SDK env/HOME/cwd isolation)


class TestBuiltinConnectors(ConnectorContract):
    @pytest.fixture(params=sorted(BUILDERS))
    async def subject(
        self, request: pytest.FixtureRequest, tmp_path: Path
    ) -> AsyncIterator[Subject]:
        if request.param == "okta":
            request.getfixturevalue("okta_env")
        async with AsyncExitStack() as stack:
            yield await BUILDERS[request.param](tmp_path, stack)
