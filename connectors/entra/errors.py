"""Graph's error answers read as vendor knowledge; the kit decides what they mean.

What is Graph's here: where the error text lives (``error.code``, ``error.message`` of the
OData error body, https://learn.microsoft.com/graph/errors), where the request id lives
(``innerError.request-id``, else the ``request-id``/``client-request-id`` headers), the
identifier-URI protection policy's refusal, and the permission hint on a 403. What an
answer *means* (retry after ``Retry-After``, back off, give up, auth error) is
:func:`connectors.kit.retry.translate`'s, and a transport failure is
:func:`connectors.kit.retry.lost_answer`'s: one translation for every connector.
"""

from __future__ import annotations

import httpx

from agent.errors import ConnectorError
from connectors.kit.retry import Failure, RetryPolicy, lost_answer, translate

_PERMISSION_HINT = (
    " (idpsync needs Application.ReadWrite.OwnedBy and must own both the application and "
    "its service principal, or Application.ReadWrite.All)"
)


class IdentifierUriBlocked(ConnectorError):
    """The tenant's identifier-URI protection policy refused the entity ID (retried only
    while a SAML switch idpsync just made may still be replicating: entra.propagation)."""


def graph_detail(exc: BaseException) -> tuple[str | None, str | None, str | None]:
    """``(code, message, request id)`` of an SDK ``ODataError`` (all None for others)."""
    error = getattr(exc, "error", None)
    if error is None:
        return None, None, None
    inner = getattr(error, "inner_error", None)
    return (
        getattr(error, "code", None),
        getattr(error, "message", None),
        getattr(inner, "request_id", None) if inner is not None else None,
    )


def is_uri_protection(code: str | None, message: str | None) -> bool:
    """The identifierUriRestriction policy's refusal, as Graph words it."""
    text = message or ""
    return code == "HostNameNotOnVerifiedDomain" or text.startswith("Failed to add identifier URI")


def _headers(exc: BaseException) -> httpx.Headers:
    headers = getattr(exc, "response_headers", None)
    if isinstance(headers, httpx.Headers):
        return headers
    try:
        return httpx.Headers(dict(headers or {}))
    except (TypeError, ValueError):
        return httpx.Headers()


def attempt_error(
    exc: BaseException,
    *,
    method: str,
    what: str,
    target: str,
    policy: RetryPolicy,
    attempt: int,
    timeout: float,
) -> Exception:
    """The exception for one failed Graph attempt: a kit ``Retry`` or the final error."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, httpx.TimeoutException):
        lost = f"{what}: timed out after {timeout:g}s"
        return lost_answer(method, lost, target=target, policy=policy, attempt=attempt)
    if isinstance(exc, httpx.HTTPError):
        lost = f"{what}: {type(exc).__name__} talking to Graph"
        return lost_answer(method, lost, target=target, policy=policy, attempt=attempt)
    status = getattr(exc, "response_status_code", None)
    if not isinstance(status, int):
        return ConnectorError(f"{what}: {type(exc).__name__}", target=target)
    headers = _headers(exc)
    code, message, inner_id = graph_detail(exc)
    request_id = inner_id or headers.get("request-id") or headers.get("client-request-id")
    if is_uri_protection(code, message):
        return IdentifierUriBlocked(
            f"{what}: the tenant's identifier-URI protection policy (identifierUriRestriction) "
            f"refused the entity ID ({message}). Set the service principal's "
            "preferredSingleSignOnMode to 'saml' (idpsync does this first; check it stuck) or "
            "exempt the app in the policy.",
            target=target,
            status=status,
            request_id=request_id,
            code=code,
        )
    text = f"{what}: {message or type(exc).__name__}"
    if status == 429 and attempt >= policy.max_retries:
        text += f" (still throttled after {policy.max_retries} retries)"
    failure = Failure(
        method=method,
        status=status,
        message=text + (_PERMISSION_HINT if status == 403 else ""),
        headers=headers,
        request_id=request_id,
        code=code,
    )
    return translate(failure, target=target, policy=policy, attempt=attempt)
