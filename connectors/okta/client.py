"""Raw JSON calls to Okta through the SDK's request executor: the one I/O boundary.

Why raw: the SDK's typed models drop ``settings.app``, unknown fields, nulls and empty
lists on a PUT (domain.md 3.9 #3), and its paginator stops silently on errors (#5). Here
every call goes through ``RequestExecutor.create_request(..., keep_empty_params=True)``
(auth headers, user agent, OAuth tokens) and ``RequestExecutor.fire_request_helper`` (DPoP
nonce handling) with a lean ``HTTPClient`` subclass; bodies are sent and read as JSON text,
each response body is parsed once, and:

* SDK retries are off (``maxRetries: 0``); this module retries 429 (honouring
  ``X-Rate-Limit-Reset`` against the server's ``Date``, or bounded exponential backoff when
  the headers are missing) and, for GETs only, 5xx, resets and truncated bodies;
* a bucket whose ``X-Rate-Limit-Remaining`` reached 0 is waited out before the next call
  (buckets, repeated headers and the wait rule: :mod:`connectors.okta.ratelimit`);
* at most ``concurrency`` requests are in flight (a share of Okta's 75 per org);
* every SDK exception (its ``AttributeError``/``ValidationError`` quirks included) becomes
  an :mod:`agent.errors` exception here, with Okta's ``errorCode``, ``errorSummary``,
  ``errorCauses`` and the request id; no message ever carries a token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass
from importlib import import_module
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp

from agent.connector import ConnectorContext
from agent.errors import AuthError, ConfigError, ConnectorError, RateLimited
from connectors.okta import ratelimit
from connectors.okta.config import OktaTarget
from connectors.okta.ratelimit import RESET_MARGIN
from connectors.okta.wire import (
    MalformedLink,
    json_or_none,
    network_message,
    next_link,
    okta_message,
    path_only,
    sdk_message,
)

log = logging.getLogger(__name__)

_SDK_LOGGER = "okta-sdk-python"
_RETRYABLE_5XX = frozenset({500, 502, 503, 504})


def _lean_http_client(base: Any) -> Any:
    """A subclass of the SDK's ``HTTPClient`` (its documented extension point) that sends
    a JSON request exactly as ``HTTPClient.send_request`` does, without first formatting
    the whole request dict into a DEBUG message (``f"Request: {request}"`` runs even with
    the logger off: ~40 us per PUT of an app, the SDK's largest cost per request). Form
    requests (the OAuth token call) still go through the SDK's own method."""

    class LeanHTTPClient(base):  # type: ignore[misc]
        async def send_request(self, request: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
            if request.get("form") or request.get("json") or self._session is None:
                return await super().send_request(request)  # type: ignore[no-any-return]
            params: dict[str, Any] = {
                "method": request["method"],
                "url": request["url"],
                "headers": {**self._default_headers, **request["headers"]},
            }
            if request["data"]:
                params["data"] = json.dumps(request["data"])
            if self._timeout:
                params["timeout"] = self._timeout
            if self._proxy:
                params["proxy"] = self._proxy
            if self._ssl_context:
                params["ssl_context"] = self._ssl_context
            try:
                async with self._session.request(**params) as response:
                    return response.request_info, response, await response.text(), None
            except (TimeoutError, aiohttp.ClientError) as error:
                return None, None, None, error

    return LeanHTTPClient


class _DropSdkRequestDumps(logging.Filter):
    """The SDK logs whole request dicts (Authorization header included) at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        return "Authorization" not in text and not text.startswith("Request: ")


def _silence_sdk_logger() -> None:
    """Errors are translated and logged once by idpsync; the SDK's own log stays off."""
    sdk_logger = logging.getLogger(_SDK_LOGGER)
    sdk_logger.disabled = True
    if not any(isinstance(f, _DropSdkRequestDumps) for f in sdk_logger.filters):
        sdk_logger.addFilter(_DropSdkRequestDumps())


def _usable_private_key(text: str) -> bool:
    """True if ``text`` parses as a PEM private key or a private JWK (never logs the key)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            jwk = json.loads(stripped)
        except ValueError:
            return False
        return isinstance(jwk, dict) and isinstance(jwk.get("kty"), str) and "d" in jwk
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        load_pem_private_key(stripped.encode(), password=None)
    except (ValueError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class OktaResponse:
    status: int
    text: str
    data: Any
    request_id: str | None
    links: tuple[str, ...] = ()


# _decode's answer for a 2xx body that is not JSON (None is a valid answer: no body).
_INVALID: Any = object()


class _Retry(Exception):
    """Internal: this attempt failed in a retryable way after ``wait`` seconds."""

    def __init__(self, error: ConnectorError, wait: float) -> None:
        self.error = error
        self.wait = wait


def _quote_url(url: str) -> str:
    """A server-sent URL quoted for an error message: printable and bounded."""
    return repr(url if len(url) <= 160 else url[:160] + "...")


class OktaClient:
    """One Okta org: an SDK client with a shared aiohttp session, opened lazily."""

    def __init__(self, target: OktaTarget, context: ConnectorContext) -> None:
        self.target = target
        self.context = context
        self._sdk: Any = None
        self._session: aiohttp.ClientSession | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._budgets = ratelimit.Budgets(target.name, target.max_rate_limit_wait)

    def __repr__(self) -> str:  # never the token
        return f"OktaClient(target={self.target.name!r}, org_url={self.target.base_url!r})"

    # --- setup ---------------------------------------------------------------------------

    def _sdk_config(self) -> dict[str, Any]:
        auth = self.target.auth
        cfg: dict[str, Any] = {
            "orgUrl": self.target.base_url,
            "requestTimeout": self.target.timeout,
            "rateLimit": {"maxRetries": 0},  # retries are ours: the SDK's need both headers
            "cache": {"enabled": False},  # a cached GET would hide a concurrent edit
            "logging": {"enabled": False},
            "raiseException": False,
        }
        if auth.method == "private_key":
            assert auth.private_key_file is not None and auth.client_id is not None
            path = self.context.resolve_path(auth.private_key_file)
            try:
                key = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(
                    f"cannot read the private key file {path} ({exc.strerror})",
                    key=f"{self.target.name}.auth.private_key_file",
                ) from None
            except UnicodeDecodeError:
                raise ConfigError(
                    f"the private key file {path} is not text (expected PEM or JWK JSON)",
                    key=f"{self.target.name}.auth.private_key_file",
                ) from None
            if not _usable_private_key(key):
                raise ConfigError(
                    f"the private key file {path} holds no usable private key "
                    "(expected an unencrypted PEM private key or a JWK JSON object)",
                    key=f"{self.target.name}.auth.private_key_file",
                )
            cfg.update(
                authorizationMode="PrivateKey",
                clientId=auth.client_id,
                scopes=list(auth.scopes),
                privateKey=key,
            )
            if auth.key_id:
                cfg["kid"] = auth.key_id
            if auth.dpop:
                # The SDK's own DPoP (okta 3.4.6: okta/dpop.py, okta/oauth.py): a proof on
                # the token request, the use_dpop_nonce retry, "DPoP <token>" and a proof
                # with ath on every API request, and the nonce retry on 400/401 there too.
                cfg["dpopEnabled"] = True
        else:
            token = self.context.secret_from_env(
                auth.effective_token_env, key=f"{self.target.name}.auth.token_env"
            )
            cfg.update(
                authorizationMode="SSWS" if auth.method == "api_token" else "Bearer",
                token=token,
            )
        return cfg

    async def _executor(self) -> Any:
        """The SDK's RequestExecutor, built the way ``okta.client.Client`` builds it.

        ``Client`` itself is not used: importing it loads every generated API module and
        model (about 4 s), and its typed methods are exactly what idpsync must not use.
        """
        if self._sdk is None:
            # Late, untyped (Any) imports: the SDK is only needed once a request is made,
            # and its partial annotations would only add noise under mypy --strict.
            setter_mod: Any = import_module("okta.config.config_setter")
            validator_mod: Any = import_module("okta.config.config_validator")
            executor_mod: Any = import_module("okta.request_executor")
            cache_mod: Any = import_module("okta.cache.no_op_cache")
            http_mod: Any = import_module("okta.http_client")

            _silence_sdk_logger()
            try:
                setter = setter_mod.ConfigSetter()  # defaults, OKTA_* env, okta.yaml files ...
                setter._apply_config({"client": self._sdk_config()})  # ... then ours, winning
                config = setter._prune_config(setter.get_config())
                validator_mod.ConfigValidator(config)
                self._sdk = executor_mod.RequestExecutor(
                    config, cache_mod.NoOpCache(), _lean_http_client(http_mod.HTTPClient)
                )
            except (ValueError, TypeError, KeyError) as exc:
                # The SDK's messages name fields, not values; keep only its first line.
                lines = str(exc).strip().splitlines()
                detail = next((ln for ln in lines if ln and ln != "Errors:"), "invalid")
                raise ConfigError(f"Okta SDK rejected the settings: {detail}") from None
            self._session = aiohttp.ClientSession()
            self._sdk.set_session(self._session)
            self._semaphore = asyncio.Semaphore(self.target.concurrency)
        return self._sdk

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._sdk = None

    # --- calls ---------------------------------------------------------------------------

    async def get(self, path: str) -> OktaResponse:
        return await self.call("GET", path)

    async def put(self, path: str, body: dict[str, Any]) -> OktaResponse:
        return await self.call("PUT", path, body)

    async def list_all(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every app matching ``params``; any failed page raises (never a partial list).

        Later pages come from the ``rel="next"`` Link, followed exactly as sent (Okta: "treat
        the link as an opaque value", https://developer.okta.com/docs/api/#pagination). A
        link that cannot be followed (unparsable, another host, a loop) fails the listing
        loudly: stopping early would make the apps on later pages look absent.
        """
        items: list[dict[str, Any]] = []
        path = "/api/v1/apps?" + urlencode(params, quote_via=quote)
        seen = {path}
        while True:
            response = await self.get(path)
            if not isinstance(response.data, list):
                raise self._error("listing apps returned something other than a list", response)
            items.extend(response.data)
            try:
                link = next_link(response.links)
            except MalformedLink as exc:
                raise self._error(f"listing apps: {exc}; not followed", response) from None
            if link is None:
                return items
            path = self._same_org_path(link, response)
            if path in seen:
                raise self._error(
                    f"listing apps looped: the next link {_quote_url(link)} was already read",
                    response,
                )
            seen.add(path)

    def _same_org_path(self, link: str, response: OktaResponse) -> str:
        """The path and query of ``link``, unchanged, if it points at the configured org.

        The request goes to ``org_url`` with exactly the link's path and query (the SDK
        prefixes the org URL), so the bearer token never leaves for another host.
        """
        try:
            parts = urlsplit(link)
            port, org = parts.port, urlsplit(self.target.base_url)
            org_port = org.port
        except ValueError:
            raise self._error(
                f"listing apps: malformed next link {_quote_url(link)}", response
            ) from None
        if parts.scheme not in ("http", "https") or not parts.hostname or not parts.path:
            raise self._error(
                f"listing apps: malformed next link {_quote_url(link)} (not an absolute URL)",
                response,
            )
        default = {"http": 80, "https": 443}
        if (
            parts.scheme != org.scheme
            or parts.hostname != (org.hostname or "").lower()
            or (port or default[parts.scheme]) != (org_port or default.get(org.scheme))
            or parts.username is not None
        ):
            raise self._error(
                f"listing apps: the next link {_quote_url(link)} points outside org_url "
                f"{self.target.base_url}; not followed (check org_url names the org itself)",
                response,
            )
        return parts.path + (f"?{parts.query}" if parts.query else "")

    async def call(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> OktaResponse:
        bucket = ratelimit.bucket_of(method, path)
        attempts = self.target.max_retries + 1
        last: ConnectorError | None = None
        for attempt in range(attempts):
            try:
                return await self._attempt(method, path, body, bucket, attempt)
            except _Retry as retry:
                last = retry.error
                if attempt + 1 >= attempts:
                    break
                log.info(
                    "okta %s %s: %s; retrying in %.1fs", method, path_only(path), last, retry.wait
                )
                await ratelimit.sleep(retry.wait)
        assert last is not None
        raise last

    async def _attempt(
        self, method: str, path: str, body: dict[str, Any] | None, bucket: str, attempt: int
    ) -> OktaResponse:
        executor = await self._executor()
        await self._budgets.wait_for(bucket)
        assert self._semaphore is not None
        async with self._semaphore:
            data: Any = None
            try:
                request, err = await executor.create_request(
                    method, path, body, {}, keep_empty_params=True
                )
                if err is not None:
                    raise AuthError(
                        f"could not obtain an OAuth access token: {self._token_message(err)}",
                        target=self.target.name,
                        status=getattr(err, "status", None),
                        code=getattr(err, "error_code", None),
                    )
                # fire_request_helper is what ``execute`` runs under its cache and its
                # error check. The cache is a NoOpCache (it parsed every GET body only to
                # decide not to cache it); the error check parsed every 2xx body, and so
                # did this client: ``_decode`` parses it once, failing as the check did.
                _, response, text, err = await executor.fire_request_helper(request, 0, time.time())
                if response is not None and not 200 <= response.status < 300:
                    # Unchanged from ``execute``: an error body it cannot parse is raised.
                    executor._http_client.check_response_for_error(request["url"], response, text)
                elif response is not None:
                    data = self._decode(response, text)
            except ConnectorError:
                raise
            except Exception as exc:  # SDK quirks: AttributeError, JSONDecodeError, ...
                response, text, err = None, None, exc
        if response is None:
            self.context.record(self.target.name, ratelimit.request_kind(method, path), 0)
            error = ConnectorError(
                f"{method} {path_only(path)} failed: {network_message(err)}",
                target=self.target.name,
            )
            if method == "GET":
                raise _Retry(error, self._backoff(attempt))
            raise error
        self.context.record(self.target.name, ratelimit.request_kind(method, path), response.status)
        self._budgets.note(bucket, response.headers)
        request_id = response.headers.get("X-Okta-Request-Id")
        if 200 <= response.status < 300:
            if data is _INVALID:
                error = ConnectorError(
                    f"{method} {path_only(path)} returned a truncated or invalid JSON body",
                    target=self.target.name,
                    status=response.status,
                    request_id=request_id,
                )
                if method == "GET":
                    raise _Retry(error, self._backoff(attempt))
                raise error
            links = tuple(response.headers.getall("Link", ()))
            return OktaResponse(response.status, text or "", data, request_id, links)
        raise self._failure(method, path, response, text, attempt)

    def _token_message(self, err: Any) -> str:
        """One line for a failed token request; a DPoP refusal says what to configure."""
        code = str(getattr(err, "error_code", "") or "")
        message = sdk_message(err)
        if not code.startswith(("invalid_dpop", "use_dpop", "dpop_")):
            return message
        if not self.target.auth.dpop:
            return (
                f"{message} ({code}): the Okta service app requires DPoP-bound tokens; "
                f"set auth.dpop: true on target {self.target.name}"
            )
        return f"{message} ({code})"

    @staticmethod
    def _decode(response: Any, text: str | None) -> Any:
        """The JSON of a 2xx body, parsed once, failing exactly as ``execute`` did.

        ``execute``'s error check parsed an ``application/json`` body (even an empty one)
        and raised on a bad one, which this connector treats like a lost answer (retried
        for a GET; for a PUT, a read-back decides whether it landed). XML bodies went
        through ``xmltodict``. Any other body is parsed here, and a bad one is reported as
        an invalid JSON body (``_INVALID``).
        """
        content_type = response.content_type
        if content_type == "application/json":
            return json.loads(text)  # type: ignore[arg-type]  # raises like the SDK did
        if content_type == "application/xml":
            import_module("xmltodict").parse(text)
        try:
            return json.loads(text) if text else None
        except ValueError:
            return _INVALID

    def _failure(
        self, method: str, path: str, response: Any, text: str | None, attempt: int
    ) -> Exception:
        status = response.status
        request_id = response.headers.get("X-Okta-Request-Id")
        body = json_or_none(text)
        code = body.get("errorCode") if isinstance(body, dict) else None
        message = f"{method} {path_only(path)} failed: {okta_message(body, text, status)}"
        kwargs: dict[str, Any] = {
            "target": self.target.name,
            "status": status,
            "request_id": request_id,
            "code": code,
        }
        if status == 429:
            announced = ratelimit.announced_wait(response.headers)
            # Without reset/Date headers: back off on our own.
            wait = self._backoff(attempt) if announced is None else announced + RESET_MARGIN
            limited = RateLimited(message, retry_after=wait, **kwargs)
            if (wait if announced is None else announced) > self.target.max_rate_limit_wait:
                return limited
            return _Retry(limited, wait)
        if status in (401, 403):
            return AuthError(message, **kwargs)
        error = ConnectorError(message, **kwargs)
        if status in _RETRYABLE_5XX and (method == "GET" or status == 503):
            return _Retry(error, self._backoff(attempt))
        return error

    # --- rate limits ---------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        base = float(self.target.backoff_base) * (2**attempt)
        jitter: float = 0.5 + random.random() / 2
        return float(min(base, 30.0) * jitter)

    def _error(self, message: str, response: OktaResponse) -> ConnectorError:
        return ConnectorError(
            message, target=self.target.name, status=response.status, request_id=response.request_id
        )
