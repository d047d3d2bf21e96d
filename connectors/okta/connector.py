"""The Okta connector: discover, observe and apply SAML trust on Okta apps.

Okta field names stay in this package; the core sees only :mod:`agent.model` values. The
write cycle is GET → :func:`mapping.apply_trust` → PUT of the whole JSON (Okta has no
PATCH and no ETag on apps), guarded by a fresh GET whose ``lastUpdated`` and content must
match what was observed, and followed by a read-back (which the engine compares with the plan).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from agent.connector import Connector, ConnectorContext, TargetConfig
from agent.errors import Conflict, ConnectorError, NotSupported
from agent.model import AppRef, AppTrust, Capabilities, Certificate, ObservedApp
from agent.plan import AppPlan
from connectors.okta import mapping, readcache
from connectors.okta.client import OktaClient, OktaResponse
from connectors.okta.config import OktaTarget
from connectors.okta.keycache import KeyCache
from connectors.okta.readcache import ReadCache

# json.dumps with these options builds a new encoder on every call; one is enough.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def fingerprint(doc: dict[str, Any]) -> str:
    """Changes whenever the app changes (content hash; ``lastUpdated`` is part of it)."""
    canonical = _CANONICAL.encode(doc)
    return hashlib.sha256(canonical.encode()).hexdigest()


class OktaConnector(Connector):
    """Okta custom SAML 2.0 apps and the catalog app ``amazon_aws_sso``.

    ``amazon_aws_sso`` reports ``multi_acs = False``; the plan engine turns the Regions it
    cannot hold into a ``single_acs_app`` finding (see README "Okta").
    """

    kind: ClassVar[str] = "okta"
    config_model: ClassVar[type[TargetConfig]] = OktaTarget

    def __init__(self, config: TargetConfig, context: ConnectorContext) -> None:
        if not isinstance(config, OktaTarget):
            config = OktaTarget.model_validate(config.model_dump())
        super().__init__(config, context)
        self.target: OktaTarget = config
        self.client = OktaClient(config, context)
        # Passed in with the context (a run's, or a service's across its cycles), per target.
        self.reads = context.caches.drawer(self.name, "okta.reads", ReadCache)
        self.keys = context.caches.drawer(self.name, "okta.keys", KeyCache)

    def __repr__(self) -> str:
        return f"OktaConnector(target={self.target.name!r}, org_url={self.target.base_url!r})"

    async def aclose(self) -> None:
        await self.client.aclose()

    @property
    def write_concurrency(self) -> int:
        """Apps written at once; the client's ``concurrency`` bounds requests in flight too."""
        return self.target.concurrency

    # --- discover ------------------------------------------------------------------------

    async def discover(self) -> list[AppRef]:
        refs: dict[str, AppRef] = {}
        for selector in self.target.apps:
            if selector.id:
                refs.setdefault(selector.id, AppRef(self.name, selector.id))
                continue
            if selector.discover:
                found = await self.client.list_all(
                    {"filter": f'name eq "{selector.discover}"', "limit": "200"}
                )
                what = f"catalog name {selector.discover!r}"
            else:
                assert selector.label is not None
                # q is a prefix match on name or label: keep exact label matches only.
                listed = await self.client.list_all({"q": selector.label, "limit": "200"})
                found = [a for a in listed if a.get("label") == selector.label]
                what = f"label {selector.label!r}"
            if not found:
                raise ConnectorError(f"no Okta app matches {what}", target=self.name)
            for app in found:
                app_id = str(app["id"])
                refs.setdefault(app_id, AppRef(self.name, app_id, str(app.get("label", ""))))
        return list(refs.values())

    # --- observe -------------------------------------------------------------------------

    async def _read(self, app_id: str) -> tuple[OktaResponse, dict[str, Any]]:
        response = await self.client.get(f"/api/v1/apps/{quote(app_id, safe='')}")
        if not isinstance(response.data, dict):
            raise ConnectorError(
                f"app {app_id} is not a JSON object",
                target=self.name,
                request_id=response.request_id,
            )
        return response, response.data

    async def observe(self, ref: AppRef) -> ObservedApp:
        response, doc = await self._read(ref.app_id)
        app_fingerprint, kind, trust, caps = self._understand(ref, response.text, doc)
        certs = await self._signing_certificates(ref.app_id, doc)
        return ObservedApp(
            ref=AppRef(ref.target, ref.app_id, str(doc.get("label") or ref.label)),
            trust=trust,
            capabilities=caps,
            raw=response.text,
            fingerprint=app_fingerprint,
            certificates=certs,
            kind=kind,
            sp_certificate=sp_certificate(doc),
        )

    async def observe_many(self, refs: Sequence[AppRef]) -> list[ObservedApp]:
        """Observe concurrently (bounded by the client's semaphore); the first failure cancels
        the rest and is raised as itself, so no request outlives the run."""
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self.observe(r)) for r in refs]
        except BaseExceptionGroup as eg:
            first = eg.exceptions[0]
            while isinstance(first, BaseExceptionGroup):
                first = first.exceptions[0]
            raise first from None
        return [t.result() for t in tasks]

    def _understand(self, ref: AppRef, text: str, doc: dict[str, Any]) -> readcache.Read:
        """Fingerprint, kind, trust and capabilities of ``doc``, read from ``text``; taken
        from the read cache when this very text was read before."""
        key = readcache.digest(text)
        known = self.reads.lookup(key)
        if known is None:
            kind, trust, caps = self._map(ref, doc)  # NotSupported: never remembered
            known = (fingerprint(doc), kind, trust, caps)
            self.reads.remember(key, known)
        return known

    def _map(self, ref: AppRef, doc: dict[str, Any]) -> tuple[str, AppTrust, Capabilities]:
        try:
            kind, trust, caps = mapping.read_app(doc)
        except mapping.UnsupportedApp as exc:
            raise NotSupported(f"{ref.app_id}: {exc}", target=self.name) from None
        return kind, trust, caps

    async def _signing_certificates(
        self, app_id: str, doc: dict[str, Any]
    ) -> tuple[Certificate, ...]:
        """The active signing key (``credentials.signing.kid``) with its expiry."""
        credentials = doc.get("credentials")
        signing = credentials.get("signing") if isinstance(credentials, dict) else None
        kid = signing.get("kid") if isinstance(signing, dict) else None
        if not kid:
            return ()
        org = self.target.base_url
        known, cert = self.keys.lookup(org, str(kid))
        if not known:  # a kid's certificate never changes: read it once per cache
            response = await self.client.get(
                f"/api/v1/apps/{quote(app_id, safe='')}/credentials/keys"
            )
            keys = response.data if isinstance(response.data, list) else []
            for key in keys:
                if isinstance(key, dict) and isinstance(key.get("kid"), str):
                    self.keys.remember(org, key["kid"], certificate_from_jwk(key))
            _, cert = self.keys.lookup(org, str(kid))
        return (cert,) if cert is not None else ()

    # --- apply ---------------------------------------------------------------------------

    async def apply(self, plan: AppPlan) -> ObservedApp:
        ref = plan.ref
        response, doc = await self._read(ref.app_id)
        # The text observe read is remembered with its fingerprint: no second encoding.
        known = self.reads.lookup(readcache.digest(response.text))
        if (known[0] if known is not None else fingerprint(doc)) != plan.fingerprint:
            raise Conflict(
                f"app {ref.app_id} changed since it was observed (lastUpdated now "
                f"{doc.get('lastUpdated')}); not written, re-plan to include the new state",
                target=self.name,
            )
        try:
            new_doc = mapping.apply_trust(doc, plan.after)
            expected, _ = mapping.trust_from_raw(new_doc)
        except mapping.UnsupportedApp as exc:
            raise NotSupported(f"{ref.app_id}: {exc}", target=self.name) from None
        except mapping.TrustLimitError as exc:
            raise NotSupported(f"{ref.app_id}: {exc}", target=self.name) from None
        if new_doc != doc:
            await self._put(ref, doc, new_doc, expected)
        return await self.observe(ref)  # the engine compares it with the plan

    async def _put(
        self, ref: AppRef, doc: dict[str, Any], new_doc: dict[str, Any], expected: AppTrust
    ) -> None:
        """PUT; if the answer was lost (reset, timeout, 5xx), find out whether it landed.

        A blind retry could overwrite an edit made in between, so the app is read instead:
        if it moved from the observed state to exactly the planned trust, the write landed;
        otherwise the original error stands.
        """
        try:
            await self.client.put(f"/api/v1/apps/{quote(ref.app_id, safe='')}", new_doc)
        except ConnectorError as exc:
            if exc.status is not None and exc.status < 500:
                raise
            try:
                _, now = await self._read(ref.app_id)
                landed = (
                    now.get("lastUpdated") != doc.get("lastUpdated")
                    and mapping.trust_from_raw(now)[0] == expected
                )
            except (ConnectorError, mapping.UnsupportedApp):
                landed = False
            if not landed:
                raise

    def trust_from_raw(self, raw: str) -> AppTrust:
        try:
            trust, _ = mapping.trust_from_raw(json.loads(raw))
        except (ValueError, mapping.UnsupportedApp) as exc:
            raise NotSupported(f"not a managed Okta app: {exc}", target=self.name) from None
        return trust


def sp_certificate(doc: dict[str, Any]) -> Certificate | None:
    """``settings.signOn.spCertificate.x5c[0]`` of a custom SAML app, when present."""
    sign_on = (doc.get("settings") or {}).get("signOn") or {}
    held = sign_on.get("spCertificate") if isinstance(sign_on, dict) else None
    if not isinstance(held, dict):
        return None
    cert = certificate_from_jwk(held)
    return dataclasses.replace(cert, use="sp") if cert is not None else None


def certificate_from_jwk(key: dict[str, Any]) -> Certificate | None:
    """The certificate in a JWK's ``x5c[0]``: SHA-256 fingerprint, expiry, subject."""
    from cryptography import x509

    chain = key.get("x5c")
    if not isinstance(chain, list) or not chain:
        return None
    try:
        der = base64.b64decode(chain[0])
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    not_after = cert.not_valid_after_utc
    expires = key.get("expiresAt")
    if isinstance(expires, str):
        with contextlib.suppress(ValueError):
            not_after = datetime.fromisoformat(expires.replace("Z", "+00:00")).astimezone(UTC)
    return Certificate(
        sha256=hashlib.sha256(der).hexdigest(),
        not_after=not_after,
        subject=cert.subject.rfc4514_string(),
        use="signing",
        der_b64=chain[0],
    )
