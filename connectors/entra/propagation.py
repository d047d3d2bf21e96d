"""The application PATCH right after the SAML switch, through the identifier-URI policy's lag.

The tenant's identifier-URI protection policy exempts SAML apps only when its
``identifierUriRestriction.excludeSaml`` is true and the service principal's
``preferredSingleSignOnMode`` is ``saml``
(https://learn.microsoft.com/graph/api/resources/identifierurirestriction,
https://learn.microsoft.com/entra/identity-platform/identifier-uri-restrictions). Graph is
eventually consistent: for a while after idpsync switches the SP, the PATCH that adds the
entity ID can still be refused with the policy's error (domain.md 9). That one refusal, and
only after a switch idpsync made itself, is retried with doubling waits for at most
``identifier_uri_wait`` seconds; then the app fails with a message naming the policy. Every
other error (and this one when the SP was already in SAML mode) surfaces at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from connectors.entra.client import GraphClient
from connectors.entra.errors import IdentifierUriBlocked

log = logging.getLogger(__name__)

FIRST_WAIT = 1.0  # seconds before the first retry (less when the whole wait is shorter)
MAX_WAIT = 10.0  # seconds between retries at most


async def patch_through_policy_lag(
    graph: GraphClient, object_id: str, body: dict[str, Any], *, key: str, wait: float
) -> None:
    """PATCH the application; retry the identifier-URI refusal for up to ``wait`` seconds."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    pause = min(FIRST_WAIT, wait / 8) if wait > 0 else 0.0
    attempts = 0
    while True:
        attempts += 1
        try:
            await graph.patch_application(object_id, body)
            return
        except IdentifierUriBlocked as exc:
            left = start + wait - loop.time()
            if wait <= 0:
                raise
            if left <= 0:
                raise _gave_up(exc, key, attempts, loop.time() - start, wait) from exc
            log.info(
                "%s: identifier-URI policy refused the entity ID %.1fs after the SAML switch; "
                "retrying in %.2fs (replication lag)",
                key,
                loop.time() - start,
                min(pause, left),
            )
            await asyncio.sleep(min(pause, left))
            pause = min(pause * 2, MAX_WAIT)


def _gave_up(
    exc: IdentifierUriBlocked, key: str, attempts: int, waited: float, wait: float
) -> IdentifierUriBlocked:
    return IdentifierUriBlocked(
        f"{key}: the tenant's identifier-URI protection policy (identifierUriRestriction) still "
        f"refused the entity ID after {attempts} attempt(s) over {waited:.1f}s since idpsync set "
        f"the service principal to SAML mode (identifier_uri_wait: {wait:g}s). SAML apps are "
        "exempt only when the policy's excludeSaml is true and the switch has replicated: check "
        "the tenant's app management policy, or run again later",
        target=exc.target,
        status=exc.status,
        request_id=exc.request_id,
        code=exc.code,
    )
