"""The ``file`` connector: one app's configuration kept as a JSON document on disk.

Useful offline, for air-gapped change preparation, and for the README example. ``observe``
reads the file; ``apply`` re-reads it, refuses if it changed since the plan was made, and
writes the new document atomically (temp file in the same directory, fsync, ``os.replace``)
keeping every key it does not manage, at any level, in its original order.

``path`` may be a symbolic link: idpsync reads and writes the file it resolves to (the new
copy is written beside that file and renamed over it), so the link stays a link and the
real file is updated. Anything that is not a regular file (a FIFO, a device, a directory)
is refused before it is read; FIFOs are opened non-blocking, so they never hang a run.

The document shape is chosen by ``format``. Each format is a pair of pure functions,
``trust_from_raw(doc) -> (AppTrust, Capabilities)`` and ``apply_trust(doc, trust) -> doc``,
found through :data:`FORMATS`, so adding a format (``okta``, ``entra``) is one line there.

``format: idpsync`` (the default)::

    {"entity_id": "https://...", "multi_acs": true,
     "acs": [{"url": "https://...", "index": 0, "default": true}, ...],
     "any other key": "kept exactly as it is"}
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import importlib
import json
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, JsonValue, field_validator

from agent.connector import ConnectorContext, TargetConfig
from agent.errors import ConfigError, ConnectorError, NotSupported
from agent.model import AppRef, AppTrust, Capabilities, TrustedAcs
from connectors.file_bookmarks import FileBookmarks
from connectors.kit.base import ConfigView, Fetched, KitConnector
from connectors.kit.codec import Decoded, FunctionCodec, UnsupportedApp, url_and_index

TrustFromRaw = Callable[[dict[str, Any]], tuple[AppTrust, Capabilities]]
ApplyTrust = Callable[[dict[str, Any], AppTrust], dict[str, Any]]

# format name -> module exposing trust_from_raw(doc) and apply_trust(doc, trust).
FORMATS: dict[str, str] = {
    "idpsync": "connectors.file",
    "okta": "connectors.okta.mapping",
    "entra": "connectors.entra.mapping",
}
_FORMAT_NAMES: list[JsonValue] = [*sorted(FORMATS)]  # for config/schema.json


class FileTargetConfig(TargetConfig):
    type: Literal["file"] = "file"
    path: str
    format: str = Field(
        default="idpsync",
        description="document shape: idpsync (default), or an IdP's own app JSON (okta, entra)",
        json_schema_extra={"enum": _FORMAT_NAMES},
    )
    bookmarks_file: str | None = Field(
        default=None,
        description="JSON file of this target's bookmark apps (bookmarks: section); created "
        "on the first write",
    )

    @field_validator("format")
    @classmethod
    def _known_format(cls, v: str) -> str:
        if v not in FORMATS:
            raise ValueError(f"unknown format {v!r}; known: {', '.join(sorted(FORMATS))}")
        return v


# ---- format: idpsync ------------------------------------------------------------------


def trust_from_raw(doc: dict[str, Any]) -> tuple[AppTrust, Capabilities]:
    """Read the idpsync document. Raises ValueError on a malformed document."""
    if not isinstance(doc, dict):
        raise ValueError("the document must be a JSON object")
    entries = doc.get("acs", [])
    if not isinstance(entries, list):
        raise ValueError("acs must be a list")
    multi = doc.get("multi_acs", True)
    if not isinstance(multi, bool):
        raise ValueError("multi_acs must be true or false")
    acs: list[TrustedAcs] = []
    default: str | None = None
    for i, entry in enumerate(entries):
        url, index = url_and_index(entry, f"acs[{i}]")
        acs.append(TrustedAcs(url=url, index=index))
        if entry.get("default") is True:
            if default is not None:
                raise ValueError("default is true on more than one acs entry")
            default = entry["url"]
    if default is None and len(acs) == 1:
        default = acs[0].url
    entity_id = doc.get("entity_id") or None
    if entity_id is not None and not isinstance(entity_id, str):
        raise ValueError("entity_id must be a string")
    caps = Capabilities(multi_acs=multi, max_acs=100 if multi else 1)
    return AppTrust(entity_id=entity_id, acs=tuple(acs), default_acs=default), caps


def apply_trust(doc: dict[str, Any], trust: AppTrust) -> dict[str, Any]:
    """A new document with ``trust`` written in; every other key keeps its value and place."""
    new = copy.deepcopy(doc)
    if trust.entity_id is not None or "entity_id" in new:
        new["entity_id"] = trust.entity_id or ""
    old_entries = {e.get("url"): e for e in doc.get("acs", []) if isinstance(e, dict)}
    entries: list[dict[str, Any]] = []
    for acs in trust.acs:
        entry = copy.deepcopy(old_entries.get(acs.url, {"url": acs.url}))
        if acs.index is None:
            entry.pop("index", None)
        else:
            entry["index"] = acs.index
        if acs.url == trust.default_acs:
            entry["default"] = True
        elif "default" in entry:
            entry["default"] = False
        entries.append(entry)
    if entries or "acs" in new:
        new["acs"] = entries
    return new


# ---- the connector ----------------------------------------------------------------------


def _indent_of(text: str) -> int | None:
    """The indent the file uses (so a rewrite keeps its layout); None for one-line JSON."""
    lines = text.splitlines()
    if len(lines) < 2:
        return None
    second = lines[1]
    return len(second) - len(second.lstrip(" ")) or None


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so a reader sees the old file or the new, never half."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_regular_file(path: Path, error: Callable[[str], ConnectorError]) -> bytes:
    """The bytes of ``path`` if it is a regular file; a FIFO, device or directory is refused
    without blocking (opened with ``O_NONBLOCK``, checked with ``fstat`` on that same file
    descriptor, so nothing can be swapped in between)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise error(f"cannot read the app file ({exc.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = (
                "a directory"
                if stat.S_ISDIR(mode)
                else "a FIFO"
                if stat.S_ISFIFO(mode)
                else "a device or socket"
            )
            raise error(f"is {kind}, not a regular file; point path: at the app's JSON file")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"cannot read the app file ({exc.strerror})") from None
    finally:
        os.close(fd)


def parse_json(
    data: bytes, shape: type, wrong_shape: str, error: Callable[[str], ConnectorError]
) -> Any:
    """``data`` as JSON of ``shape`` (dict or list); anything else raises ``error(...)``."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"not valid JSON ({exc})") from None
    if not isinstance(doc, shape):
        raise error(wrong_shape)
    return doc


@dataclass(frozen=True)
class _FileRead(Fetched):
    """A read of the app file, with the path every link resolved to (what is written)."""

    real: Path = Path()
    broken: ConnectorError | None = None  # the file is not a JSON object (see document())


class FileConnector(FileBookmarks, KitConnector):
    """One app per target, stored as a JSON file (``path`` resolves against the config).

    The kit's template does observe and apply; this class is the file's vendor knowledge:
    how to find, read and atomically write the document, and which format decodes it.
    With ``bookmarks_file`` it also keeps bookmark apps (``connectors.file_bookmarks``).
    """

    vendor: ClassVar[str] = "file"
    config_model: ClassVar[type[TargetConfig]] = FileTargetConfig

    def __init__(self, config: TargetConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        trust_of, write_in = self._mapping()
        self.codec = FunctionCodec(_decoder(trust_of, self._cfg.format), _encoder(write_in))

    _cfg = ConfigView(FileTargetConfig)

    @property
    def path(self) -> Path:
        return self.context.resolve_path(self._cfg.path)

    def bookmarks_path(self) -> Path | None:
        given = self._cfg.bookmarks_file
        return None if given is None else self.context.resolve_path(given)

    def _mapping(self) -> tuple[TrustFromRaw, ApplyTrust]:
        module_name = FORMATS[self._cfg.format]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigError(
                f"format {self._cfg.format!r} needs {module_name}, which is not installed",
                key=f"targets.{self.name}.format",
            ) from exc
        return module.trust_from_raw, module.apply_trust

    def _error(self, message: str) -> ConnectorError:
        return ConnectorError(f"{self.path}: {message}", target=self.name)

    def _real_path(self) -> Path:
        """The file ``path`` names, with every symbolic link resolved (what is written)."""
        try:
            return self.path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:  # missing, dangling link, or a link loop
            reason = getattr(exc, "strerror", None) or str(exc)
            raise self._error(f"cannot read the app file ({reason})") from None

    def parse_raw(self, raw: str) -> dict[str, Any]:
        return self._parse(raw.encode("utf-8"))

    def _parse(self, data: bytes) -> dict[str, Any]:
        doc: dict[str, Any] = parse_json(
            data, dict, "the document must be a JSON object", self._error
        )
        return doc

    def decode(self, ref: AppRef, doc: dict[str, Any]) -> Decoded:
        """A document the format cannot read is a broken file, not an unsupported app."""
        try:
            return self.codec.decode(doc)
        except UnsupportedApp as exc:
            raise self._error(f"unexpected document: {exc}") from None

    def encode(self, ref: AppRef, doc: dict[str, Any], trust: AppTrust) -> dict[str, Any]:
        try:
            return self.codec.encode(doc, trust)
        except UnsupportedApp as exc:  # the format's own limits
            raise NotSupported(f"{self.path}: {exc}", target=self.name) from None

    def fingerprint(self, fetched: Fetched) -> str:
        """The file's bytes: any edit at all, even of whitespace, is a conflict."""
        return hashlib.sha256(fetched.text.encode("utf-8")).hexdigest()

    async def discover(self) -> list[AppRef]:
        return [AppRef(target=self.name, app_id=self._cfg.path, label=self.path.name)]

    async def fetch(self, ref: AppRef) -> _FileRead:
        real = self._real_path()
        data = read_regular_file(real, self._error)
        self.context.record(self.name, "get", 200)
        try:
            return _FileRead(doc=self._parse(data), text=data.decode("utf-8"), real=real)
        except ConnectorError as exc:  # raised by document(), after the conflict guard
            return _FileRead(doc={}, text=data.decode("utf-8", "replace"), real=real, broken=exc)

    def document(self, fetched: Fetched) -> dict[str, Any]:
        if isinstance(fetched, _FileRead) and fetched.broken is not None:
            raise fetched.broken
        return fetched.doc

    async def send(self, ref: AppRef, before: Fetched, after: dict[str, Any]) -> None:
        """Writes the file; returns None, so the template reads it back from disk."""
        # The file checked by the conflict guard is the file written (resolved once).
        real = before.real if isinstance(before, _FileRead) else self._real_path()
        body = json.dumps(after, indent=_indent_of(before.text), ensure_ascii=False)
        if before.text.endswith("\n"):
            body += "\n"
        try:
            await asyncio.to_thread(write_atomically, real, body.encode("utf-8"))
        except OSError as exc:
            raise self._error(f"cannot write the app file ({exc.strerror})") from None
        self.context.record(self.name, "put", 200)


def _decoder(trust_of: TrustFromRaw, format_name: str) -> Callable[[dict[str, Any]], Decoded]:
    def decode(doc: dict[str, Any]) -> Decoded:
        try:
            trust, caps = trust_of(doc)
        except (ValueError, KeyError, TypeError) as exc:
            raise UnsupportedApp(str(exc)) from None
        return Decoded(trust=trust, capabilities=caps, kind=f"file:{format_name}")

    return decode


def _encoder(write_in: ApplyTrust) -> Callable[[dict[str, Any], AppTrust], dict[str, Any]]:
    def encode(doc: dict[str, Any], trust: AppTrust) -> dict[str, Any]:
        try:
            return write_in(doc, trust)
        except (ValueError, KeyError, TypeError) as exc:
            raise UnsupportedApp(str(exc)) from None

    return encode
