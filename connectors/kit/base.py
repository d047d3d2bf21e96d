"""The connector template: the vendor supplies fetch, send, discovery and a codec.

Modelled on octoDNS's ``BaseProvider`` (``plan``/``apply`` in the base wrap a provider's
``_apply``): everything that must behave the same for every IdP lives here once.

* ``observe`` = :meth:`fetch` → codec ``decode`` → :meth:`fingerprint` (+ certificates);
* ``observe_many`` runs observes concurrently, at most :attr:`observe_concurrency` at a
  time; the first failure cancels the rest and is raised as itself;
* ``apply`` = a fresh :meth:`fetch` → the conflict guard (its fingerprint must equal the
  plan's) → codec ``encode`` → :meth:`send` (only if the document changed) → a read-back.
  If the answer to a send is lost (reset, timeout, 5xx), the app is read again and the
  write counts as landed only if the app moved to exactly the planned trust: a blind retry
  could overwrite an edit made in between;
* codec errors become :class:`agent.errors.NotSupported` naming the app.

Comparing the read-back with the plan is the engine's job (``agent.verify``), never the
connector's.
"""

from __future__ import annotations

import abc
import asyncio
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar, overload

from agent.connector import Connector, TargetConfig
from agent.errors import Conflict, ConnectorError, NotSupported
from agent.model import AppRef, AppTrust, Certificate, ObservedApp
from agent.plan import AppPlan
from connectors.kit.codec import Codec, Decoded, Doc, UnsupportedApp

C = TypeVar("C", bound=TargetConfig)

# json.dumps with these options builds a new encoder on every call; one is enough.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_fingerprint(doc: Any) -> str:
    """SHA-256 of ``doc`` as canonical JSON: changes whenever any field of it changes."""
    return hashlib.sha256(_CANONICAL.encode(doc).encode()).hexdigest()


class Readout(Protocol):
    """An HTTP answer as a vendor's client hands it over (the kit's ``Answer``, Okta's)."""

    @property
    def data(self) -> Any: ...
    @property
    def text(self) -> str: ...
    @property
    def request_id(self) -> str | None: ...


@dataclass(frozen=True)
class Fetched:
    """One app as read from the IdP: the parsed document and the text it was read from
    (kept as the backup, ``ObservedApp.raw``)."""

    doc: Doc
    text: str
    request_id: str | None = None

    @classmethod
    def of_object(cls, answer: Readout, *, problem: str, target: str) -> Fetched:
        """What ``answer`` carries, when it is a JSON object; else a ConnectorError saying
        ``problem`` (an API that answers a list, a string or nothing is not an app)."""
        if not isinstance(answer.data, dict):
            status = getattr(answer, "status", None)
            raise ConnectorError(
                problem, target=target, status=status, request_id=answer.request_id
            )
        return cls(doc=answer.data, text=answer.text, request_id=answer.request_id)


class ConfigView(Generic[C]):
    """``target = ConfigView(VendorTarget)`` in a connector's class: its config as the
    vendor's own model (what the registry validated it with, the ``config_model``), typed
    for the vendor's code."""

    def __init__(self, model: type[C]) -> None:
        self.model = model

    @overload
    def __get__(self, connector: None, owner: type[Any]) -> ConfigView[C]: ...
    @overload
    def __get__(self, connector: Connector, owner: type[Any]) -> C: ...
    def __get__(self, connector: Connector | None, owner: type[Any]) -> ConfigView[C] | C:
        if connector is None:
            return self
        config = connector.config
        assert isinstance(config, self.model)
        return config


class KitConnector(Connector):
    """A connector whose vendor code is :meth:`discover`, :meth:`fetch`, :meth:`send` and a
    codec; see the module docstring for what the template does with them."""

    codec: Codec  # a class attribute, or set per instance (the file connector's formats)
    vendor: ClassVar[str] = "the IdP"
    # What repr() shows beside the name, as (label, config attribute): where the tenant is,
    # never a credential. None: object's repr.
    repr_field: ClassVar[tuple[str, str] | None] = None

    def __repr__(self) -> str:
        if self.repr_field is None:
            return super().__repr__()
        label, attribute = self.repr_field
        shown = getattr(self.config, attribute)
        return f"{type(self).__name__}(name={self.name!r}, {label}={shown!r})"

    # --- what the vendor supplies -------------------------------------------------------

    @abc.abstractmethod
    async def fetch(self, ref: AppRef) -> Fetched:
        """Read one app (a failed read raises; it is never returned empty)."""

    @abc.abstractmethod
    async def send(self, ref: AppRef, before: Fetched, after: Doc) -> Fetched | None:
        """Write ``after`` (the encoded document) for an app read as ``before``: a PUT of
        the whole document, or a PATCH of what differs, as the vendor's API requires.

        Return the app as the write's answer states it (Okta's PUT answers with the app as
        stored) and the template uses that as the read-back; return None and the template
        reads the app again. Only a vendor whose write answer *is* the stored app (not an
        echo of the request) may return it."""

    async def certificates(self, ref: AppRef, fetched: Fetched) -> tuple[Certificate, ...]:
        """The IdP's signing certificates for this app (none unless the vendor has them)."""
        return ()

    def fingerprint(self, fetched: Fetched) -> str:
        """What the conflict guard compares; by default the whole document's content."""
        return canonical_fingerprint(fetched.doc)

    def understand(self, ref: AppRef, fetched: Fetched) -> tuple[str, Decoded]:
        """The fingerprint and the decoding of one read. Both depend on the read alone, so a
        vendor may remember them (Okta keys them by a digest of the text); by default they
        are computed afresh, the decoding first (an app the codec refuses has none)."""
        decoded = self.decode(ref, self.document(fetched))
        return self.fingerprint(fetched), decoded

    def conflict_detail(self, fresh: Fetched) -> str:
        """What the conflict message adds about the app's new state (e.g. its timestamp)."""
        return ""

    def document(self, fetched: Fetched) -> Doc:
        """The document of a read. A vendor whose reads can be unparsable keeps the error
        for here, so the conflict guard (which needs only the fingerprint) runs first."""
        return fetched.doc

    def parse_raw(self, raw: str) -> Doc:
        """A backup's text (``ObservedApp.raw``) as a document."""
        doc = json.loads(raw)
        if not isinstance(doc, dict):
            raise ValueError("the backup is not a JSON object")
        return doc

    @property
    def observe_concurrency(self) -> int:
        """Observes in flight at once; a target's ``concurrency`` key when it has one."""
        return max(1, int(getattr(self.config, "concurrency", 4)))

    @property
    def write_concurrency(self) -> int:
        """Apps written at once. A target with a ``concurrency`` key bounds its requests in
        flight with it (the kit's JsonHttp does), so it may write that many apps at once;
        one without (a file) writes one app after another."""
        return max(1, int(getattr(self.config, "concurrency", 1)))

    # --- the template -------------------------------------------------------------------

    def decode(self, ref: AppRef, doc: Doc) -> Decoded:
        try:
            return self.codec.decode(doc)
        except UnsupportedApp as exc:
            raise NotSupported(f"{ref.app_id}: {exc}", target=self.name) from None

    def encode(self, ref: AppRef, doc: Doc, trust: AppTrust) -> Doc:
        try:
            return self.codec.encode(doc, trust)
        except UnsupportedApp as exc:
            raise NotSupported(f"{ref.app_id}: {exc}", target=self.name) from None

    async def observe(self, ref: AppRef) -> ObservedApp:
        return await self.observed(ref, await self.fetch(ref))

    async def observed(self, ref: AppRef, fetched: Fetched) -> ObservedApp:
        """The vendor-neutral state of one read."""
        fingerprint, decoded = self.understand(ref, fetched)
        return ObservedApp(
            ref=AppRef(ref.target, ref.app_id, decoded.label or ref.label),
            trust=decoded.trust,
            capabilities=decoded.capabilities,
            raw=fetched.text,
            fingerprint=fingerprint,
            certificates=await self.certificates(ref, fetched),
            findings=decoded.findings,
            kind=decoded.kind,
            sp_certificate=decoded.sp_certificate,
        )

    async def observe_many(self, refs: Sequence[AppRef]) -> list[ObservedApp]:
        gate = asyncio.Semaphore(self.observe_concurrency)

        async def one(ref: AppRef) -> ObservedApp:
            async with gate:
                return await self.observe(ref)

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(r)) for r in refs]
        except BaseExceptionGroup as eg:
            first: BaseException = eg
            while isinstance(first, BaseExceptionGroup):
                first = first.exceptions[0]
            raise first from None
        return [t.result() for t in tasks]

    async def apply(self, plan: AppPlan) -> ObservedApp:
        ref = plan.ref
        fresh = await self.fetch(ref)
        if self.fingerprint(fresh) != plan.fingerprint:
            raise Conflict(
                f"app {ref.app_id} changed since it was observed{self.conflict_detail(fresh)}; "
                "not written, "
                "re-plan to include the new state",
                target=self.name,
            )
        doc = self.document(fresh)
        new_doc = self.encode(ref, doc, plan.after)
        expected = self.decode(ref, new_doc).trust
        stored = None
        if new_doc != doc:
            stored = await self._send_checked(ref, fresh, new_doc, expected)
        # The engine compares the read-back with the plan (agent.verify).
        return await (self.observed(ref, stored) if stored else self.observe(ref))

    async def _send_checked(
        self, ref: AppRef, before: Fetched, new_doc: Doc, expected: AppTrust
    ) -> Fetched | None:
        try:
            return await self.send(ref, before, new_doc)
        except ConnectorError as exc:
            if exc.status is not None and exc.status < 500:
                raise
            if not await self._landed(ref, before, expected):
                raise
            return None

    async def _landed(self, ref: AppRef, before: Fetched, expected: AppTrust) -> bool:
        """After a lost answer: did the app move from ``before`` to exactly ``expected``?"""
        try:
            now = await self.fetch(ref)
            moved = self.fingerprint(now) != self.fingerprint(before)
            return moved and self.decode(ref, self.document(now)).trust == expected
        except ConnectorError:
            return False

    def trust_from_raw(self, raw: str) -> AppTrust:
        try:
            doc = self.parse_raw(raw)
            return self.codec.decode(doc).trust
        except (ValueError, UnsupportedApp) as exc:
            raise NotSupported(
                f"not a managed {self.vendor} app: {exc}", target=self.name
            ) from None
