"""The Microsoft Entra ID connector: SAML trust of gallery/custom apps through Graph v1.0.

What it reads and writes (domain.md 4):

* observe: the **application** (``identifierUris``, ``web``, ``defaultRedirectUri``) with
  ``$select``, and its **service principal** (``preferredSingleSignOnMode``, signing
  ``keyCredentials`` with expiry, ``preferredTokenSigningKeyThumbprint``). Never writes.
* apply: the kit's template (:class:`connectors.kit.base.KitConnector`): a fresh read of the
  application (Graph has no ETag) and the conflict guard, the codec's encode, then
  :meth:`EntraConnector.send`, Graph's part: the SP set to ``saml`` mode first (the
  identifier-URI protection policy exempts only SAML apps), a PATCH of a fresh minimal body
  (through the policy's replication lag), and the template's read-back.
  Graph is eventually consistent: ``read_back`` lets the engine re-read (``reread``), bounded
  by ``readback_attempts`` x ``readback_interval``, until the read shows the plan; the engine
  alone compares it (a verification failure). The SP's ``replyUrls`` are never written: they
  mirror the application.

``observe_many`` batches: ``$filter=appId in (...)`` (15 values per request) for explicit
apps, and the discovery listing (one ``applicationTemplateId`` filter with ``$select``,
``$top=999``) is reused instead of reading each app again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any, ClassVar

import httpx

from agent.connector import ConnectorContext, ReadBack, TargetConfig
from agent.errors import ConnectorError, NotSupported
from agent.model import AppRef, AppTrust, Certificate, ObservedApp, Severity
from connectors.entra import mapping
from connectors.entra.batch import MAX_BATCH
from connectors.entra.bookmarks import EntraBookmarks
from connectors.entra.client import GraphClient
from connectors.entra.codec import EntraCodec
from connectors.entra.config import DISCOVERY_TEMPLATES, EntraTarget
from connectors.entra.credentials import Credentials, build_credentials
from connectors.entra.findings import app_findings, finding, signing_state
from connectors.entra.propagation import patch_through_policy_lag
from connectors.entra.transport import tls_context
from connectors.kit.base import Fetched, KitConnector
from connectors.kit.codec import Doc

log = logging.getLogger(__name__)

APP_SELECT = [
    "id",
    "appId",
    "displayName",
    "applicationTemplateId",
    "identifierUris",
    "web",
    "defaultRedirectUri",
]
SP_SELECT = [
    "id",
    "appId",
    "preferredSingleSignOnMode",
    "keyCredentials",
    "preferredTokenSigningKeyThumbprint",
]
# What apply reads of the SP: its mode only. keyCredentials is selected in observe alone
# (Graph allows 150 such requests per minute per tenant: connectors.entra.budget).
SP_MODE_SELECT = ["id", "appId", "preferredSingleSignOnMode"]
_SELECTED = frozenset(APP_SELECT)
IN_BATCH = 15  # Graph accepts at most 15 values in an `in` filter


# KitBookmarks declares ``name: str``; Connector's read-only ``name`` property satisfies it.
class EntraConnector(KitConnector, EntraBookmarks):  # type: ignore[override]
    """Keeps Entra SAML apps (``type: entra``) trusting every Identity Center Region, and
    its per-Region bookmark apps (:mod:`connectors.entra.bookmarks`)."""

    vendor: ClassVar[str] = "Entra ID"
    config_model: ClassVar[type[TargetConfig]] = EntraTarget
    codec = EntraCodec()

    def __init__(
        self,
        config: TargetConfig,
        context: ConnectorContext,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(config, context)
        assert isinstance(config, EntraTarget)
        self.target: EntraTarget = config
        self._transport = transport
        self._graph: GraphClient | None = None
        self._credentials: Credentials | None = None
        self._listed: dict[str, dict[str, Any]] = {}  # discovery listing, reused by observe
        self._listed_sps: dict[str, dict[str, Any]] = {}
        self._sp_seen: dict[str, dict[str, Any]] = {}  # SP as observed this run, by appId
        self._sent: set[str] = set()  # apps apply has written (or found nothing to write)

    # ---- plumbing -----------------------------------------------------------------------
    def graph(self) -> GraphClient:
        if self._graph is None:
            self._credentials = build_credentials(self.target, self.context)
            self._graph = GraphClient(
                self.target,
                self._credentials.provider,
                on_attempt=lambda kind, status: self.context.record(self.name, kind, status),
                transport=self._transport,
                tls=tls_context(self.context.caches, self.name),
            )
        return self._graph

    async def aclose(self) -> None:
        if self._graph is not None:
            await self._graph.aclose()
            self._graph = None
        if self._credentials is not None:
            await self._credentials.aclose()
            self._credentials = None

    @property
    def write_concurrency(self) -> int:
        """Apps written at once (each: guard GET, PATCH, read-back; one request at a time).

        With ``$batch`` (the default) enough apps to fill every envelope in flight: the
        requests of up to 20 apps at the same step share one envelope, ``concurrency``
        envelopes are in flight, and one group's read-backs overlap the next group's
        writes. What keeps this from draining a tenant's budget is not the number of apps
        but the pacer (:mod:`connectors.entra.pacing`: at most ``write_budget`` of Graph's
        documented limits). Unbatched, one request per app is in flight: ``concurrency``.
        """
        if self.target.batch:
            return self.target.concurrency * MAX_BATCH
        return self.target.concurrency

    def trust_from_raw(self, raw: str) -> AppTrust:
        return mapping.trust_from_raw(_load(raw, self.name))[0]

    # ---- discover / observe -------------------------------------------------------------
    async def discover(self) -> list[AppRef]:
        refs: dict[str, AppRef] = {}
        for selector in self.target.apps:
            if selector.app_id is not None:
                refs.setdefault(selector.app_id, AppRef(self.name, selector.app_id))
                continue
            assert selector.discover is not None
            template = DISCOVERY_TEMPLATES[selector.discover]
            where = f"applicationTemplateId eq '{template}'"
            graph = self.graph()
            apps, sps = await asyncio.gather(
                graph.list_applications(where, APP_SELECT),
                graph.list_service_principals(where, SP_SELECT),
            )
            self._listed.update({a["appId"]: a for a in apps if isinstance(a.get("appId"), str)})
            self._listed_sps.update({s["appId"]: s for s in sps if isinstance(s.get("appId"), str)})
            for app in apps:
                app_id = app.get("appId")
                if not isinstance(app_id, str) or not app_id:
                    # Skipping it would leave that app unmanaged while the run says "in sync".
                    raise ConnectorError(
                        f"the application listing holds an entry without an appId (id "
                        f"{app.get('id')!r}); not treating the listing as complete",
                        target=self.name,
                    )
                refs.setdefault(app_id, AppRef(self.name, app_id, app.get("displayName") or ""))
        log.debug("%s: discovered %d app(s)", self.name, len(refs))
        return list(refs.values())

    async def fetch(self, ref: AppRef) -> Fetched:
        """The application (its ``$select`` properties) as Graph reads it now: one GET."""
        doc = await self.graph().get_application(ref.app_id, APP_SELECT)
        app = {k: v for k, v in doc.items() if not k.startswith("@odata.")}
        return Fetched(app, _canonical(app))

    def fingerprint(self, fetched: Fetched) -> str:
        return _fingerprint(fetched.doc, fetched.text)

    async def observe(self, ref: AppRef) -> ObservedApp:
        """The application and its SP. After a write (the template's read-back) the SP is
        the one apply saw: Graph's SP mirrors the application, and its certificates are
        read once per run (150 such reads a minute per tenant: connectors.entra.budget)."""
        if ref.app_id in self._sent:
            return await self.reread(ref)
        graph = self.graph()
        app, sp = await asyncio.gather(
            graph.get_application(ref.app_id, APP_SELECT), self._service_principal(ref.app_id)
        )
        return self._observed(ref, app, sp)

    async def _service_principal(self, app_id: str) -> dict[str, Any] | None:
        """The app's SP, or None when it has none here (a finding, not a failure)."""
        try:
            return await self.graph().get_service_principal(app_id, SP_SELECT)
        except ConnectorError as exc:
            if exc.status == 404:
                return None
            raise

    async def observe_many(self, refs: Sequence[AppRef]) -> list[ObservedApp]:
        """Observe with few requests: reuse the discovery listing, batch the rest by 15."""
        apps = {r.app_id: self._listed.pop(r.app_id) for r in refs if r.app_id in self._listed}
        sps = {
            r.app_id: self._listed_sps.pop(r.app_id) for r in refs if r.app_id in self._listed_sps
        }
        missing_apps = [r.app_id for r in refs if r.app_id not in apps]
        missing_sps = [r.app_id for r in refs if r.app_id not in sps]
        graph = self.graph()
        limit = asyncio.Semaphore(self.target.concurrency)

        async def batch(kind: str, ids: list[str]) -> list[dict[str, Any]]:
            where = "appId in (" + ",".join(f"'{i}'" for i in ids) + ")"
            async with limit:
                if kind == "app":
                    return await graph.list_applications(where, APP_SELECT)
                return await graph.list_service_principals(where, SP_SELECT)

        jobs = [batch("app", c) for c in _chunks(missing_apps, IN_BATCH)]
        jobs += [batch("sp", c) for c in _chunks(missing_sps, IN_BATCH)]
        app_jobs = len(_chunks(missing_apps, IN_BATCH))
        results = await asyncio.gather(*jobs)
        for i, docs in enumerate(results):
            into = apps if i < app_jobs else sps
            into.update({d["appId"]: d for d in docs if isinstance(d.get("appId"), str)})
        out = []
        for ref in refs:
            if ref.app_id not in apps:
                raise ConnectorError(
                    f"application with appId {ref.app_id} not found (check apps[].app_id, and "
                    "that idpsync may read it: Application.Read.All or ownership)",
                    target=self.name,
                    status=404,
                )
            out.append(self._observed(ref, apps[ref.app_id], sps.get(ref.app_id)))
        return out

    def _observed(
        self,
        ref: AppRef,
        app: dict[str, Any],
        sp: dict[str, Any] | None,
        trust: AppTrust | None = None,  # already read from ``app``
    ) -> ObservedApp:
        app = {k: v for k, v in app.items() if not k.startswith("@odata.")}
        decoded = self.decode(ref, app)
        trust = decoded.trust if trust is None else trust
        ref = AppRef(ref.target, ref.app_id, ref.label or decoded.label)
        findings = list(app_findings(ref, app, trust))
        certificates: tuple[Certificate, ...] = ()
        if sp is None:
            findings.append(
                finding(
                    ref,
                    "entra_no_service_principal",
                    Severity.WARNING,
                    "the application has no service principal in this tenant",
                )
            )
        else:
            self._sp_seen[ref.app_id] = sp
            certificates, cert_findings = signing_state(ref, sp)
            findings.extend(cert_findings)
        raw = _canonical(app)
        return ObservedApp(
            ref=ref,
            trust=trust,
            capabilities=decoded.capabilities,
            raw=raw,
            fingerprint=_fingerprint(app, raw),
            certificates=certificates,
            findings=tuple(findings),
            kind=decoded.kind,
        )

    # ---- apply (the kit's template; Graph's part is send) -------------------------------
    async def send(self, ref: AppRef, before: Fetched, after: Doc) -> Fetched | None:
        """PATCH what differs between ``before`` and ``after`` (a fresh minimal body), with
        the SP switched to SAML mode first when it is unset; the template reads back."""
        self._sent.add(ref.app_id)
        body = mapping.patch_body(before.doc, self.decode(ref, after).trust)
        if not body:
            return None
        sp = await self._sp_for_write(ref)
        mode = sp.get("preferredSingleSignOnMode")
        if mode not in (None, "", "saml"):
            # Only an unset mode (a fresh gallery app) is switched: another mode is how
            # users sign in today, and an unknown value is not ours to overwrite.
            raise NotSupported(
                f"{ref.key}: the service principal's single sign-on mode is {mode!r}; "
                "idpsync switches only an unset mode to SAML (set SAML in the Entra portal)",
                target=self.name,
            )
        switched = mode != "saml"
        if switched:
            log.info("%s: setting service principal %s to SAML mode", ref.key, sp.get("id"))
            await self.graph().set_saml_mode(str(sp["id"]))
            self._sp_seen[ref.app_id] = {**sp, "preferredSingleSignOnMode": "saml"}
        log.info("%s: PATCH application (%s)", ref.key, ", ".join(sorted(body)))
        wait = self.target.identifier_uri_wait if switched else 0.0
        object_id = str(before.doc["id"])
        await patch_through_policy_lag(self.graph(), object_id, body, key=ref.key, wait=wait)
        return None

    async def _sp_for_write(self, ref: AppRef) -> dict[str, Any]:
        """The SP's mode before a write. One seen in SAML mode this run is trusted (if
        someone switched it back since, the identifier-URI policy error says so); otherwise
        it is read fresh. Its certificates stay as observed."""
        sp = self._sp_seen.get(ref.app_id)
        if sp is None or sp.get("preferredSingleSignOnMode") != "saml":
            fresh = await self.graph().get_service_principal(ref.app_id, SP_MODE_SELECT)
            sp = {**(sp or {}), **fresh}
        self._sp_seen[ref.app_id] = sp  # what the read-backs report the SP as
        return sp

    @property
    def read_back(self) -> ReadBack:
        """Graph's reads lag its writes: the engine re-reads, bounded, until one shows it."""
        return ReadBack(self.target.readback_attempts, self.target.readback_interval)

    async def reread(self, ref: AppRef) -> ObservedApp:
        """The application as Graph reads it now (one GET), with the SP apply last saw."""
        doc = await self.graph().get_application(ref.app_id, APP_SELECT)
        return self._observed(ref, doc, self._sp_seen.get(ref.app_id))


# ---- helpers (pure) -------------------------------------------------------------------------
def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _canonical(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _fingerprint(app: dict[str, Any], canonical: str | None = None) -> str:
    """SHA-256 over the selected application properties (what a concurrent edit would move).

    ``canonical`` is ``_canonical(app)`` if the caller has it: when ``app`` holds exactly the
    selected properties (what ``$select`` returns), it is the same text, not dumped again.
    """
    view = mapping.fingerprint_view(app)  # never over a property v1.0 may not return
    if canonical is None or view is not app or app.keys() != _SELECTED:
        canonical = _canonical({k: view.get(k) for k in APP_SELECT})
    return hashlib.sha256(canonical.encode()).hexdigest()


def _load(raw: str, target: str) -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ConnectorError("snapshot is not valid JSON", target=target) from exc
    if not isinstance(doc, dict):
        raise ConnectorError("snapshot is not a JSON object", target=target)
    return doc
