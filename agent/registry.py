"""Connector discovery through the ``idpsync.connectors`` entry-point group.

Built-in connectors (file, okta, entra) are registered in ``pyproject.toml`` exactly like a
third-party package would register its own, so there is one path for both.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from agent.connector import Connector, ConnectorContext, TargetConfig
from agent.errors import ConfigError

GROUP = "idpsync.connectors"
# Scanning every installed distribution's entry points costs ~10 ms; the service resolves the
# same types every cycle. Only successful loads are kept: an unknown type is re-scanned (it
# may have been installed since), and the error path is unchanged.
_loaded: dict[str, type[Connector]] = {}


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def known_types() -> list[str]:
    return sorted(_entry_points())


def connector_class(type_name: str, *, key: str | None = None) -> type[Connector]:
    """The connector class registered as ``type_name``; an unknown type lists the known ones."""
    cached = _loaded.get(type_name)
    if cached is not None:
        return cached
    eps = _entry_points()
    ep = eps.get(type_name)
    if ep is None:
        known = ", ".join(sorted(eps)) or "none (is idpsync installed? pip install -e .)"
        raise ConfigError(
            f"unknown connector type {type_name!r}; known types: {known}. "
            "Third-party connectors register under the 'idpsync.connectors' entry-point group.",
            key=key,
        )
    try:
        cls = ep.load()
    except Exception as exc:  # a broken plugin must not crash config loading opaquely
        raise ConfigError(
            f"connector type {type_name!r} ({ep.value}) failed to load: {exc}", key=key
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConfigError(
            f"entry point {type_name!r} ({ep.value}) is not an idpsync Connector subclass",
            key=key,
        )
    _loaded[type_name] = cls
    return cls


def build_connector(target: TargetConfig, context: ConnectorContext) -> Connector:
    """The one place a connector is built: the class registered for ``target.type``, given
    its target and the run's context. Sync, rollback and doctor all build theirs here."""
    return connector_class(target.type)(target, context)
