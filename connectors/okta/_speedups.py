"""The two measured shortcuts through okta SDK internals, and nothing else.

Each is used only with an SDK version in :data:`CHECKED` (the range whose source they were
read against: okta 3.4.6, ``okta/client.py`` and ``okta/request_executor.py``); outside it
:func:`build_executor` answers None, and :mod:`connectors.okta.sdk` then takes the public
path for that executor's whole life (the version is checked once per executor).

1. :func:`build_executor` makes the ``RequestExecutor`` the way ``Client.__init__`` does
   (``ConfigSetter._apply_config`` / ``_prune_config``, ``ConfigValidator``) without
   importing ``okta.client``, which loads every generated API module and model: measured on
   this project's 2-core machine, a cold ``import okta.client`` takes 5.3 s against 1.4 s for
   the executor's own modules (about 4 s of every CLI run).
2. :func:`send` calls ``RequestExecutor.fire_request_helper`` (the DPoP nonce retry) where
   ``execute`` would also run ``fire_request`` (a NoOpCache check that parses every 2xx GET
   body, only to decide not to cache it) and the error check (which parses every 2xx body
   again): measured 0.53 against 0.41 ms of CPU per GET of the benchmark's 17-Region app
   (6.8 KB, the loopback fake's share included), ~0.12 ms per read or ~0.1 s of a 500-app
   apply's 1,000 reads.
   Non-2xx answers still go through the SDK's error check, as under ``execute``.
"""

from __future__ import annotations

import time
from importlib import import_module
from typing import Any

from connectors.kit import versions

# [lowest, highest) okta versions whose internals these shortcuts were checked against.
CHECKED: versions.VersionRange = ((3, 4, 6), (3, 5, 0))


def sdk_version() -> str | None:
    """The installed okta SDK's version, or None if it is not installed as a distribution."""
    return versions.installed("okta")


def checked(version: str | None = None) -> bool:
    """Whether ``version`` (default: the installed one) is in :data:`CHECKED`."""
    return versions.in_range(sdk_version() if version is None else version, CHECKED)


# Tests set this to False to exercise the public path with a checked SDK installed.
enabled = True


def active() -> bool:
    return enabled and checked()


def build_executor(config: dict[str, Any], http_client: type[Any]) -> Any:
    """``Client.__init__``'s executor without ``import okta.client``; None outside CHECKED."""
    if not active():
        return None
    setter_mod: Any = import_module("okta.config.config_setter")
    validator_mod: Any = import_module("okta.config.config_validator")
    executor_mod: Any = import_module("okta.request_executor")
    cache_mod: Any = import_module("okta.cache.no_op_cache")
    setter = setter_mod.ConfigSetter()  # defaults, OKTA_* env, okta.yaml files ...
    setter._apply_config({"client": config})  # ... then ours, winning (as Client does)
    merged = setter._prune_config(setter.get_config())
    validator_mod.ConfigValidator(merged)
    return executor_mod.RequestExecutor(merged, cache_mod.NoOpCache(), http_client)


async def send(executor: Any, request: dict[str, Any]) -> tuple[Any, str | None, Any]:
    """``execute`` without its cache pass and its 2xx parse, for an executor that
    :func:`build_executor` made (so the version was checked once, not per request)."""
    _, response, text, error = await executor.fire_request_helper(request, 0, time.time())
    if response is None:
        return None, None, error
    if not 200 <= response.status < 300:
        # Unchanged from ``execute``: an error body it cannot parse raises.
        http_mod: Any = import_module("okta.http_client")
        http_mod.HTTPClient.check_response_for_error(request["url"], response, text)
    return response, text, None
