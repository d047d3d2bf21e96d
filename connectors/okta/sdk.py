"""The okta SDK, through its public seams only: configuration, executor, HTTP client.

* The configuration is the dict ``okta.client.Client(config)`` documents (``orgUrl``,
  ``authorizationMode``, ``token``/``clientId``/``privateKey``/``scopes``/``kid``,
  ``dpopEnabled``, ``rateLimit.maxRetries``, ``requestTimeout``, ``httpClient``);
* requests are made with ``RequestExecutor.create_request`` (auth headers, user agent,
  OAuth tokens, DPoP proofs) and ``RequestExecutor.execute`` (the DPoP nonce retry and the
  SDK's error check), answered by the documented ``httpClient`` extension point: a
  subclass of ``okta.http_client.HTTPClient`` ("Custom HTTP clients should inherit from
  this class") that keeps what its constructor and ``set_session`` are given.

Two measured shortcuts through SDK internals live in :mod:`connectors.okta._speedups`,
used only with the SDK versions they were read against; this module is the fallback.
"""

from __future__ import annotations

import json
import logging
import os
from importlib import import_module
from typing import Any

import aiohttp

from agent.connector import ConnectorContext
from agent.errors import ConfigError
from connectors.okta import _speedups
from connectors.okta.config import OktaTarget

_SDK_LOGGER = "okta-sdk-python"


class _DropSdkRequestDumps(logging.Filter):
    """The SDK logs whole request dicts (Authorization header included) at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        return "Authorization" not in text and not text.startswith("Request: ")


def silence_sdk_logger() -> None:
    """Errors are translated and logged once by idpsync; the SDK's own log stays off."""
    sdk_logger = logging.getLogger(_SDK_LOGGER)
    sdk_logger.disabled = True
    if not any(isinstance(f, _DropSdkRequestDumps) for f in sdk_logger.filters):
        sdk_logger.addFilter(_DropSdkRequestDumps())


def usable_private_key(text: str) -> bool:
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


def _private_key(target: OktaTarget, context: ConnectorContext) -> str:
    assert target.auth.private_key_file is not None
    path = context.resolve_path(target.auth.private_key_file)
    key_name = f"{target.name}.auth.private_key_file"
    try:
        key = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the private key file {path} ({exc.strerror})", key=key_name
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"the private key file {path} is not text (expected PEM or JWK JSON)", key=key_name
        ) from None
    if not usable_private_key(key):
        raise ConfigError(
            f"the private key file {path} holds no usable private key "
            "(expected an unencrypted PEM private key or a JWK JSON object)",
            key=key_name,
        )
    return key


def client_config(target: OktaTarget, context: ConnectorContext) -> dict[str, Any]:
    """The ``okta.client.Client`` configuration for ``target`` (secrets read here)."""
    auth = target.auth
    cfg: dict[str, Any] = {
        "orgUrl": target.base_url,
        "requestTimeout": target.timeout,
        "rateLimit": {"maxRetries": 0},  # retries are the kit's: the SDK's need both headers
        "cache": {"enabled": False},  # a cached GET would hide a concurrent edit
        "logging": {"enabled": False},
        "raiseException": False,
    }
    if auth.method == "private_key":
        assert auth.client_id is not None
        cfg.update(
            authorizationMode="PrivateKey",
            clientId=auth.client_id,
            scopes=list(auth.scopes),
            privateKey=_private_key(target, context),
        )
        if auth.key_id:
            cfg["kid"] = auth.key_id
        if auth.dpop:
            # The SDK's own DPoP (okta 3.4.6: okta/dpop.py, okta/oauth.py): a proof on the
            # token request, the use_dpop_nonce retry, "DPoP <token>" and a proof with ath
            # on every API request, and the nonce retry on 400/401 there too.
            cfg["dpopEnabled"] = True
    else:
        token = context.secret_from_env(
            auth.effective_token_env, key=f"{target.name}.auth.token_env"
        )
        mode = "SSWS" if auth.method == "api_token" else "Bearer"
        cfg.update(authorizationMode=mode, token=token)
    return cfg


def _env_proxy() -> str | None:
    """The proxy the SDK's HTTPClient takes from the environment when none is configured."""
    return os.environ.get("HTTPS_PROXY") or os.environ.get("HTTP_PROXY") or None


def lean_http_client() -> type[Any]:
    """A subclass of the SDK's ``HTTPClient`` that sends a JSON request exactly as
    ``HTTPClient.send_request`` does, without first formatting the whole request dict into
    a DEBUG message (``f"Request: {request}"`` runs even with the logger off: ~40 us per PUT
    of an app, the SDK's largest cost per request). Form requests (the OAuth token call)
    and proxied ones still go through the SDK's own method."""
    base: Any = import_module("okta.http_client").HTTPClient

    class LeanHTTPClient(base):  # type: ignore[misc]
        def __init__(self, http_config: dict[str, Any]) -> None:
            super().__init__(http_config)
            # What the executor hands every HTTP client (okta.request_executor).
            self.lean_headers: dict[str, str] = http_config["headers"]
            timeout = http_config.get("requestTimeout") or 0
            self.lean_timeout = aiohttp.ClientTimeout(total=timeout if timeout > 0 else None)
            self.lean_ssl = http_config.get("sslContext")
            self.lean_proxied = bool(http_config.get("proxy")) or _env_proxy() is not None
            self.lean_session: aiohttp.ClientSession | None = None

        def set_session(self, session: aiohttp.ClientSession) -> None:
            super().set_session(session)
            self.lean_session = session

        async def send_request(self, request: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
            session = self.lean_session
            if request.get("form") or request.get("json") or self.lean_proxied or not session:
                return await super().send_request(request)  # type: ignore[no-any-return]
            params: dict[str, Any] = {
                "method": request["method"],
                "url": request["url"],
                "headers": {**self.lean_headers, **request["headers"]},
                "timeout": self.lean_timeout,
            }
            if request["data"]:
                params["data"] = json.dumps(request["data"])
            if self.lean_ssl:
                params["ssl_context"] = self.lean_ssl
            try:
                async with session.request(**params) as response:
                    return response.request_info, response, await response.text(), None
            except (TimeoutError, aiohttp.ClientError) as error:
                return None, None, None, error

    return LeanHTTPClient


def sdk_rejection(exc: Exception) -> ConfigError:
    """The SDK's messages name fields, not values; keep only its first line."""
    lines = str(exc).strip().splitlines()
    detail = next((ln for ln in lines if ln and ln != "Errors:"), "invalid")
    return ConfigError(f"Okta SDK rejected the settings: {detail}")


def build_executor(config: dict[str, Any]) -> tuple[Any, bool]:
    """The SDK's ``RequestExecutor`` for ``config``, answered by :func:`lean_http_client`,
    and whether :mod:`connectors.okta._speedups` may send through it.

    The public way is ``okta.client.Client(config).get_request_executor()``; importing
    ``okta.client`` loads every generated API module and model (measured: see
    :mod:`connectors.okta._speedups`), so the checked shortcut is taken where it holds.
    The SDK version is checked here, once per executor (reading it costs ~0.6 ms).
    """
    silence_sdk_logger()
    http_client = lean_http_client()
    try:
        executor = _speedups.build_executor(config, http_client)
        if executor is not None:
            return executor, True
        client_mod: Any = import_module("okta.client")
        client = client_mod.Client({**config, "httpClient": http_client})
    except (ValueError, TypeError, KeyError) as exc:
        raise sdk_rejection(exc) from None
    return client.get_request_executor(), False


async def send(
    executor: Any, request: dict[str, Any], *, shortcut: bool
) -> tuple[Any, str | None, Any]:
    """(response, body text, transport error) for one request built by ``create_request``.

    ``execute`` runs the SDK's error check on every answer: a JSON body it cannot parse
    raises (the caller treats that as a lost answer)."""
    if shortcut:
        return await _speedups.send(executor, request)
    response, text, error = await executor.execute(request)
    if response is None:
        return None, None, error
    return response, text, None
