"""connectors.entra.errors: Graph's error answers read as vendor knowledge, decided by the kit."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from kiota_abstractions.api_error import APIError

from agent.errors import AuthError, ConnectorError, RateLimited
from connectors.entra.errors import IdentifierUriBlocked, attempt_error
from connectors.kit.retry import Retry, RetryPolicy

POLICY = RetryPolicy(max_retries=2, max_rate_limit_wait=179.0)


@dataclass
class _Inner:
    request_id: str | None = None


@dataclass
class _Body:
    code: str | None = None
    message: str | None = None
    inner_error: _Inner | None = None


class _ODataError(APIError):  # the shape msgraph's ODataError has: .error and the response
    def __init__(self, status: int, body: _Body, headers: dict[str, str] | None = None) -> None:
        super().__init__(body.message or "", status, headers or {})
        self.error = body


def _outcome(exc: BaseException, method: str = "GET", attempt: int = 0) -> Exception:
    return attempt_error(
        exc, method=method, what="application x", target="entra-t", policy=POLICY,
        attempt=attempt, timeout=5.0,
    )  # fmt: skip


def test_429_is_retried_after_retry_after_plus_the_kits_margin() -> None:
    exc = _ODataError(429, _Body("TooManyRequests", "slow down"), {"Retry-After": "3"})
    outcome = _outcome(exc, "PATCH")
    assert isinstance(outcome, Retry) and outcome.wait == 4.0
    assert isinstance(outcome.error, RateLimited) and "still throttled" not in str(outcome.error)


def test_the_last_429_says_it_is_still_throttled() -> None:
    exc = _ODataError(429, _Body("TooManyRequests", "slow down"), {"Retry-After": "1"})
    outcome = _outcome(exc, attempt=2)
    assert isinstance(outcome, Retry)
    assert "still throttled after 2 retries" in str(outcome.error)


def test_a_retry_after_of_180_s_is_not_waited_for() -> None:
    exc = _ODataError(429, _Body("TooManyRequests", "x"), {"Retry-After": "180"})
    assert isinstance(_outcome(exc), RateLimited)


def test_403_names_the_permissions_and_the_request_id_from_the_body() -> None:
    exc = _ODataError(403, _Body("Authorization_RequestDenied", "no", _Inner("rid-1")))
    outcome = _outcome(exc)
    assert isinstance(outcome, AuthError) and outcome.status == 403
    assert "Application.ReadWrite.OwnedBy" in str(outcome) and outcome.request_id == "rid-1"
    assert outcome.code == "Authorization_RequestDenied"


def test_the_request_id_falls_back_to_graphs_headers() -> None:
    exc = _ODataError(404, _Body("Request_ResourceNotFound", "gone"), {"request-id": "rid-2"})
    outcome = _outcome(exc)
    assert type(outcome) is ConnectorError and outcome.request_id == "rid-2"
    exc = _ODataError(404, _Body(None, "gone"), {"client-request-id": "rid-3"})
    assert getattr(_outcome(exc), "request_id", None) == "rid-3"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("HostNameNotOnVerifiedDomain", "Values of identifierUris property must use a verified"),
        ("Request_BadRequest", "Failed to add identifier URI https://x. All newly added URIs"),
    ],
)
def test_the_identifier_uri_refusal_is_recognised_and_not_retried(code: str, message: str) -> None:
    outcome = _outcome(_ODataError(400, _Body(code, message)), "PATCH")
    assert isinstance(outcome, IdentifierUriBlocked) and "identifierUriRestriction" in str(outcome)


@pytest.mark.parametrize(("method", "retried"), [("GET", True), ("PATCH", False)])
def test_a_500_is_retried_for_reads_only(method: str, retried: bool) -> None:
    outcome = _outcome(_ODataError(500, _Body("InternalServerError", "boom")), method)
    assert isinstance(outcome, Retry) is retried


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_a_503_is_retried_for_every_method(method: str) -> None:
    outcome = _outcome(_ODataError(503, _Body("serviceNotAvailable", "busy")), method)
    assert isinstance(outcome, Retry)


@pytest.mark.parametrize(("method", "retried"), [("GET", True), ("PATCH", False)])
def test_a_lost_answer_is_retried_for_reads_only(method: str, retried: bool) -> None:
    request = httpx.Request(method, "https://graph.example/v1.0/applications")
    timeout = _outcome(httpx.ReadTimeout("slow", request=request), method)
    reset = _outcome(httpx.ReadError("reset", request=request), method)
    assert isinstance(timeout, Retry) is retried and isinstance(reset, Retry) is retried
    final = timeout.error if isinstance(timeout, Retry) else timeout
    assert "timed out after 5s" in str(final)
    final = reset.error if isinstance(reset, Retry) else reset
    assert "ReadError talking to Graph" in str(final)
