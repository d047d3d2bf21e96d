"""Where the state store is, the same for every command and the service.

``--state-url`` (or ``IDPSYNC_STATE_URL``) overrides ``state.url``; a relative SQLite path
resolves against ``IDPSYNC_STATE_DIR`` when set, else the config file's directory
(:func:`agent.store.core.resolve_url`). So a hand-run ``idpsync sync`` on the service's host
sees the service's history and takes the service's apply lease.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from agent.config import Config
from agent.errors import StateStoreError

if TYPE_CHECKING:
    from agent.store import Store

STATE_URL_ENV = "IDPSYNC_STATE_URL"
STATE_DIR_ENV = "IDPSYNC_STATE_DIR"
FIX = (
    f"set {STATE_DIR_ENV} to a writable directory, or pass --state-url (or {STATE_URL_ENV}) "
    "with a database URL"
)

state_url_option = click.option(
    "--state-url",
    envvar=STATE_URL_ENV,
    default=None,
    help=f"Database URL overriding state.url (or set {STATE_URL_ENV}; keeps passwords out "
    f"of the config file). A relative SQLite path lives in {STATE_DIR_ENV} when set.",
)


def sqlite_file(config: Config, state_url: str | None) -> Path | None:
    """The database file a SQLite state URL resolves to (None for other databases)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from agent.store.core import resolve_url

    try:
        parsed = make_url(resolve_url(state_url or config.state.url, config.base_dir))
    except ArgumentError:
        return None  # Store.open reports the bad URL
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def open_store(config: Config, state_url: str | None, *, must_exist: bool = False) -> Store:
    """Open the state store; with ``must_exist`` (readers such as ``history``) refuse to
    create an empty one where none exists, naming the path that was looked at."""
    from agent.store import Store

    path = sqlite_file(config, state_url)
    if must_exist and path is not None and not path.exists():
        raise StateStoreError(
            f"no state store at {path}: nothing has been recorded there (writing runs of "
            "`idpsync sync`, `idpsync apply` and the service create it). If the service "
            f"keeps its state elsewhere, set {STATE_DIR_ENV} or pass --state-url"
        )
    try:
        return Store.open(state_url or config.state.url, base_dir=config.base_dir)
    except OSError as exc:  # creating the database's directory failed
        raise StateStoreError(
            f"cannot create the state store at {path or exc.filename}: {exc.strerror or exc}; {FIX}"
        ) from None
    except StateStoreError as exc:
        if path is None or must_exist:
            raise
        raise StateStoreError(f"cannot open the state store at {path}: {exc}; {FIX}") from None
