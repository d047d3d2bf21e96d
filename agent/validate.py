"""What ``idpsync validate-config`` checks beyond the schema: what a run will need.

Files named by the config exist and are readable (metadata files, key files, certificates,
CA bundles; ``~`` expanded, relative paths against the config file's directory), every
environment variable a ``*_env`` key names is set (its value is never read into a message),
and URLs are plausible (``https``, a host, no path where none belongs; Okta's ``org_url`` is the
org's base URL, not its ``-admin`` console). Without ``offline`` each URL's host must also
resolve in DNS. Each finding is a :class:`Check`; ``fail`` means the run would fail.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from agent.config import Config
from agent.connector import ConnectorContext

OK, WARN, FAIL = "ok", "warn", "fail"

# Okta's own domains for an org (production, preview, EMEA cell, US government cells).
_OKTA_HOST = re.compile(
    r"^[a-z0-9][a-z0-9-]*\.(okta|oktapreview|okta-emea|okta-gov|okta-mil)\.com$", re.I
)
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_URL_KEYS = ("graph_url", "authority", "url")


@dataclass(frozen=True)
class Check:
    status: str  # ok | warn | fail
    key: str  # where in the config (identity_center.metadata[0].file, targets[1].org_url)
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"status": self.status, "key": self.key, "message": self.message}


def _walk(value: Any, key: str) -> Iterator[tuple[str, str, Any]]:
    """(key path, field name, value) for every field of nested models, lists and dicts."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk_field(getattr(value, name), f"{key}.{name}" if key else name, name)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, f"{key}[{i}]")


def _walk_field(value: Any, key: str, name: str) -> Iterator[tuple[str, str, Any]]:
    yield key, name, value
    yield from _walk(value, key)


def _file_check(context: ConnectorContext, key: str, value: str) -> Check:
    path = context.resolve_path(value)
    if not path.exists():
        return Check(FAIL, key, f"{path} does not exist")
    if not path.is_file():
        return Check(FAIL, key, f"{path} is not a regular file")
    if not os.access(path, os.R_OK):
        return Check(FAIL, key, f"{path} is not readable by this user")
    return Check(OK, key, f"{path} readable")


def _env_check(env: Mapping[str, str], key: str, name: str) -> Check:
    if env.get(name):
        return Check(OK, key, f"environment variable {name} is set")
    return Check(FAIL, key, f"environment variable {name} is not set (or empty)")


def okta_org_url_problems(url: str) -> tuple[str, str] | None:
    """(status, message) when ``org_url`` is not an Okta org's base URL, else None."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "http" and host in _LOOPBACK:
        return WARN, f"{url} is plain http on loopback: for tests only"
    if parts.scheme != "https" or not host:
        return FAIL, f"{url} must look like https://<org>.okta.com"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return FAIL, f"{url} must be the org's base URL without a path: https://{host}"
    if host.split(".")[0].endswith("-admin"):
        org = host.replace("-admin.", ".", 1)
        return FAIL, f"{url} is the Admin Console host; use the org URL https://{org}"
    if not _OKTA_HOST.match(host):
        return WARN, f"{host} is not an Okta domain (fine if it is your org's custom domain)"
    return None


def _is_url_key(name: str) -> bool:
    """``graph_url``, ``authority``, ``url`` and any ``*_url`` a connector adds
    (``api_url``, ``token_url``), except Okta's ``org_url`` (checked on its own)."""
    return name in _URL_KEYS or (name.endswith("_url") and name != "org_url")


def _url_check(key: str, url: str) -> Check:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "http" and host in _LOOPBACK:
        return Check(WARN, key, f"{url} is plain http on loopback: for tests only")
    if parts.scheme != "https" or not host:
        return Check(FAIL, key, f"{url} must be an https:// URL with a host")
    return Check(OK, key, f"{url} plausible")


def _dns_check(key: str, url: str) -> Check | None:
    host = urlsplit(url).hostname
    if not host or host in _LOOPBACK:
        return None
    try:
        socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return Check(FAIL, key, f"{host} does not resolve ({exc}); check DNS or the name")
    return Check(OK, key, f"{host} resolves")


def _checks_for(
    key: str, name: str, value: Any, context: ConnectorContext, env: Mapping[str, str]
) -> list[Check]:
    if not isinstance(value, str) or not value:
        return []
    if name == "bookmarks_file" and not context.resolve_path(value).exists():
        return [_created_later(context, key, value)]
    if name.endswith("_file") or name in ("file", "ca_bundle") or key.endswith("].path"):
        return [_file_check(context, key, value)]
    if name.endswith("_env"):
        return [_env_check(env, key, value)]
    if name == "org_url":
        problem = okta_org_url_problems(value)
        if problem is None:
            return [Check(OK, key, f"{value} plausible")]
        return [Check(problem[0], key, problem[1])]
    if _is_url_key(name) and "://" in value and not value.startswith("s3://"):
        return [_url_check(key, value)]
    return []


def _created_later(context: ConnectorContext, key: str, value: str) -> Check:
    """A file idpsync creates on its first write (the file connector's bookmarks_file)."""
    path = context.resolve_path(value)
    if path.parent.is_dir() and os.access(path.parent, os.W_OK):
        return Check(OK, key, f"{path} does not exist yet; the first write creates it")
    return Check(FAIL, key, f"{path} cannot be created: {path.parent} is not a writable directory")


def _bookmarks_check(config: Config) -> list[Check]:
    """What the bookmarks: section will do (load_config already refused a bad one)."""
    section = config.bookmarks
    if section is None:
        return []
    rules = section.rules(config.identity_center.instance_arn)
    return [
        Check(
            OK,
            "bookmarks",
            f"{len(section.targets)} target(s) ({', '.join(section.targets)}) keep one bookmark "
            f"per Region of {rules.instance_id} ({rules.stack.value} portal, mode {rules.mode}), "
            f"e.g. {rules.label_for('eu-west-1')!r} -> {rules.url_for('eu-west-1')}",
        )
    ]


def _implicit_env(config: Config) -> Iterator[tuple[str, str]]:
    """Variables a target reads without naming them (Okta's api_token default)."""
    for i, target in enumerate(config.targets):
        auth = getattr(target, "auth", None)
        effective = getattr(auth, "effective_token_env", None)
        implicit = not getattr(auth, "token_env", None)
        if isinstance(effective, str) and implicit and getattr(auth, "method", None) == "api_token":
            yield f"targets[{i}].auth.token_env", effective


def _state_check(config: Config, env: Mapping[str, str]) -> Check | None:
    """Where a SQLite state store would be created: its directory must be creatable.

    Only the path is shown, never the URL (it may hold a password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from agent.store.core import resolve_url

    url = env.get("IDPSYNC_STATE_URL") or config.state.url
    try:
        parsed = make_url(resolve_url(url, config.base_dir))
    except ArgumentError:
        return Check(FAIL, "state.url", "not a database URL (see README: State)")
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(str(parsed.database))
    parent = next((p for p in (path, *path.parents) if p.exists()), None)
    if parent is not None and (not parent.is_dir() if parent != path else not path.is_file()):
        return Check(
            FAIL,
            "state.url",
            f"the state store {path} cannot be created: {parent} is not a directory "
            "(set IDPSYNC_STATE_DIR or --state-url)",
        )
    if parent is not None and not os.access(parent if parent != path else path, os.W_OK):
        return Check(
            FAIL,
            "state.url",
            f"the state store {path} is not writable by this user (set IDPSYNC_STATE_DIR or "
            "--state-url)",
        )
    return Check(OK, "state.url", f"state store {path}")


def check_config(config: Config, *, env: Mapping[str, str], offline: bool = False) -> list[Check]:
    """Every check, in config order. Never reads a secret's value into a message."""
    context = ConnectorContext(env=env, base_dir=config.base_dir)
    out: list[Check] = []
    urls: list[tuple[str, str]] = []
    for key, name, value in _walk(config, ""):
        if key.startswith("state") or name == "base_dir":
            continue  # state.url is checked by opening the store, never echoed (passwords)
        out += _checks_for(key, name, value, context, env)
        if isinstance(value, str) and (_is_url_key(name) or name == "org_url") and "://" in value:
            urls.append((key, value))
    out += [_env_check(env, key, var) for key, var in _implicit_env(config)]
    for i, target in enumerate(config.targets):
        out += [Check(st, f"targets[{i}].{k}", msg) for st, k, msg in target.value_problems()]
    out += _bookmarks_check(config)
    state = _state_check(config, env)
    if state is not None:
        out.append(state)
    if not offline:
        out += [c for key, url in urls if (c := _dns_check(key, url)) is not None]
    return out


def summary(checks: list[Check]) -> dict[str, int]:
    return {s: sum(1 for c in checks if c.status == s) for s in (OK, WARN, FAIL)}
