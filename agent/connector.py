"""The connector contract: how the core reads and updates apps in one IdP tenant.

A connector knows one vendor's API and nothing about policy. The core computes every plan
(``agent.diff``), checks it (``agent.safety``) and enforces dry-run: in dry-run, ``apply``
is never called. Built-in connectors register through the ``idpsync.connectors``
entry-point group exactly like third-party ones (``agent.registry``).
"""

from __future__ import annotations

import abc
import asyncio
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar, cast, get_args

from pydantic import BaseModel, ConfigDict

from agent.errors import ConfigError
from agent.manual import GENERIC, steps_for
from agent.model import AppRef, AppTrust, ObservedApp
from agent.paths import config_path
from agent.plan import AppPlan

# Called once per HTTP request a connector makes: (target, request kind, HTTP status or 0).
# "kind" is short and bounded ("list", "get", "put", "patch", "token", ...) so it can label
# a metric without exploding its cardinality.
RequestHook = Callable[[str, str, int], None]


def exactly_one(
    model: BaseModel,
    keys: Sequence[str],
    *,
    entry: str,
    listed: str | None = None,
    is_set: Callable[[Any], bool] = bool,
) -> None:
    """Refuse ``model`` unless exactly one of ``keys`` is set (``is_set``: by default, any
    value but None and empty): the message lists the keys (``id: or name:``, or ``listed``)
    and names those given, so every "one of these keys" entry of a config says it alike."""
    given = [k for k in keys if is_set(getattr(model, k))]
    if len(given) != 1:
        *first, last = keys
        listed = listed or (f"{', '.join(f'{k}:' for k in first)} or {last}:")
        raise ValueError(
            f"{entry} needs exactly one of {listed} (got {', '.join(given) or 'none'})"
        )


class TargetConfig(BaseModel):
    """Base of every connector's target configuration (``targets[]`` in the YAML).

    A connector subclasses it with its own keys and sets ``model_config = ConfigDict(
    extra="forbid")`` so a misspelt key is an error, not a silent default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: str

    def value_problems(self) -> list[tuple[str, str, str]]:
        """Vendor-specific shape checks for ``idpsync validate-config``: ``(status, key,
        message)`` with status ``warn`` or ``fail`` and ``key`` relative to the target
        (``api_url``). A connector overrides it to check what it knows (a regional API
        host, a realm name); generic checks (files, ``*_env``, URLs) run for every target."""
        return []


T = TypeVar("T")


class ConnectorCaches:
    """Caches connectors keep between their reads, owned by whoever passes them in.

    A one-shot run gets a fresh set with its context; the service keeps one set for its life
    and passes it to every cycle's connectors (what an unchanged app costs in steady state).
    Each target has its own drawer per cache name, so two targets never share one, and no
    cache is a module global."""

    def __init__(self) -> None:
        self._drawers: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()

    def drawer(self, target: str, name: str, factory: Callable[[], T]) -> T:
        """The ``name`` cache of ``target``, made by ``factory`` on first use."""
        with self._lock:
            held = self._drawers.get((target, name))
            if held is None:
                held = self._drawers[(target, name)] = factory()
        return cast(T, held)

    def drop(self, name: str) -> None:
        """Forget the ``name`` cache of every target."""
        with self._lock:
            for key in [k for k in self._drawers if k[1] == name]:
                del self._drawers[key]

    def clear(self) -> None:
        """Forget every cache (the next run reads as a new process would)."""
        with self._lock:
            self._drawers.clear()


@dataclass
class ConnectorContext:
    """What the core hands every connector: where secrets and relative paths resolve.

    ``env`` is where ``*_env`` secret references are read. Production passes
    ``os.environ``; tests pass a dict so they never see the developer's own credentials.
    """

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    base_dir: Path = field(default_factory=Path.cwd)
    on_request: RequestHook | None = None
    timeout: float = 30.0
    caches: ConnectorCaches = field(default_factory=ConnectorCaches)

    def secret_from_env(self, var: str, *, key: str) -> str:
        """The value of ``var``; a missing or empty variable names the variable, never a value."""
        value = self.env.get(var, "")
        if not value:
            raise ConfigError(
                f"environment variable {var} is not set (it should hold the secret; "
                f"export {var}=... or point {key} at another variable)",
                key=key,
            )
        return value

    def resolve_path(self, path: str | Path) -> Path:
        """``~`` expanded, then relative to the config file's directory."""
        return config_path(path, self.base_dir)

    def record(self, target: str, kind: str, status: int) -> None:
        if self.on_request is not None:
            self.on_request(target, kind, status)


@dataclass(frozen=True)
class ReadBack:
    """How the engine verifies a write: ``attempts`` reads in all (the one ``apply`` returns,
    then :meth:`Connector.reread` every ``interval`` seconds) until one shows the plan.

    One read for an IdP that is consistent after a write; more for one whose reads lag
    (Graph). The comparison itself is the engine's (``agent.verify``), never the connector's.
    """

    attempts: int = 1
    interval: float = 0.0


class Connector(abc.ABC):
    """Reads and updates the SAML trust settings of apps in one IdP tenant.

    Subclasses set ``config_model`` (``kind`` is then its ``type:`` literal, unless the
    subclass sets one) and implement ``discover``, ``observe``, ``apply`` and
    ``trust_from_raw``:

    - ``discover`` resolves the target's app selectors to app references. It never writes,
      and a failed list page is an error: a partial list is never returned as complete.
    - ``observe`` never writes. It returns the app's vendor-neutral state plus the raw
      snapshot and its fingerprint (what apply must find unchanged before writing).
    - ``apply`` receives only plans that passed the safety checks. It re-reads the app and
      raises :class:`agent.errors.Conflict` if the fingerprint moved, writes ``plan.after``
      while preserving every field it does not manage, re-reads, and returns that state. It
      does not compare that state with the plan: the engine does (``agent.verify``), polling
      :meth:`reread` as :attr:`read_back` declares.
    - ``trust_from_raw`` maps a raw snapshot (a backup) to its trust, for rollback.
    """

    kind: ClassVar[str]
    config_model: ClassVar[type[TargetConfig]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The kind is the config's ``type: Literal["..."]``: stated once, in the config model.
        model = cls.__dict__.get("config_model")
        if "kind" not in cls.__dict__ and model is not None:
            declared = model.model_fields.get("type")
            choices = get_args(declared.annotation) if declared is not None else ()
            if len(choices) == 1 and isinstance(choices[0], str):
                cls.kind = choices[0]

    def __init__(self, config: TargetConfig, context: ConnectorContext) -> None:
        self.config = config
        self.context = context

    @property
    def name(self) -> str:
        return self.config.name

    @abc.abstractmethod
    async def discover(self) -> list[AppRef]: ...

    @abc.abstractmethod
    async def observe(self, ref: AppRef) -> ObservedApp: ...

    async def observe_many(self, refs: Sequence[AppRef]) -> list[ObservedApp]:
        """Observe several apps. Connectors override this to batch or bound concurrency."""
        return list(await asyncio.gather(*(self.observe(r) for r in refs)))

    @abc.abstractmethod
    async def apply(self, plan: AppPlan) -> ObservedApp: ...

    @property
    def write_concurrency(self) -> int:
        """How many apps' ``apply`` the engine may run at once for this target.

        1 (one app after another) unless the connector knows its API takes more and bounds
        its own requests in flight; each ``apply`` still guards, writes and re-reads in order.
        """
        return 1

    @property
    def read_back(self) -> ReadBack:
        """How many reads the engine may make before a write counts as not landed."""
        return ReadBack()

    async def reread(self, ref: AppRef) -> ObservedApp:
        """The app as it reads now, after a write (the engine's later read-backs)."""
        return await self.observe(ref)

    @abc.abstractmethod
    def trust_from_raw(self, raw: str) -> AppTrust: ...

    def manual_steps(self, app: AppPlan, observed: ObservedApp) -> tuple[str, ...]:
        """For an app this connector cannot write (``Capabilities.writable`` False): the
        console steps a person takes to make it trust ``app.after``. The default names no
        console; a connector overrides it with its own menu path and field names."""
        return steps_for(app, GENERIC)

    async def aclose(self) -> None:  # noqa: B027  (optional hook, not abstract)
        """Release sessions and connections. Idempotent."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
