"""The Okta connector: vendor knowledge on the kit's template (:mod:`connectors.kit.base`).

Okta field names stay in this package; the core sees only :mod:`agent.model` values. The
write cycle is the template's: a fresh GET (the conflict guard: its content, ``lastUpdated``
included, must match what was observed) → :func:`mapping.encode` → a PUT of the whole JSON
(Okta has no PATCH and no ETag on apps). Okta's PUT (replaceApplication) answers ``200`` with
the Application as stored ("Replace an application", response ``200``: ``Application``;
https://developer.okta.com/docs/api/openapi/okta-management/management/tags/application/other/replaceapplication),
so that answer is the read-back the engine compares with the plan: no GET after a write.

What is Okta's own here: the endpoints, discovery by label or catalog name, signing keys
from ``/credentials/keys``, and two caches passed in with the context (reads by text
digest, certificates by ``kid``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar
from urllib.parse import quote

from agent.connector import ConnectorContext, TargetConfig
from agent.errors import ConnectorError
from agent.model import AppRef, Certificate
from connectors.kit import certs
from connectors.kit.base import Fetched, KitConnector
from connectors.kit.codec import Decoded, Doc, FunctionCodec
from connectors.okta import mapping, readcache
from connectors.okta.bookmarks import OktaBookmarks
from connectors.okta.client import OktaClient, OktaResponse
from connectors.okta.config import OktaTarget
from connectors.okta.keycache import KeyCache
from connectors.okta.readcache import ReadCache

# json.dumps with these options builds a new encoder on every call; one is enough.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))

sp_certificate = mapping.sp_certificate  # where the tests and older callers look for it


def fingerprint(doc: dict[str, Any]) -> str:
    """Changes whenever the app changes (content hash; ``lastUpdated`` is part of it)."""
    canonical = _CANONICAL.encode(doc)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _app_path(app_id: str) -> str:
    return f"/api/v1/apps/{quote(app_id, safe='')}"


class OktaConnector(OktaBookmarks, KitConnector):
    """Okta custom SAML 2.0 apps and the catalog app ``amazon_aws_sso``; and the per-Region
    bookmark apps (:class:`agent.bookmarks.BookmarkKeeper`, :mod:`connectors.okta.bookmarks`).

    ``amazon_aws_sso`` reports ``multi_acs = False``; the plan engine turns the Regions it
    cannot hold into a ``single_acs_app`` finding (see README "Okta").
    """

    config_model: ClassVar[type[TargetConfig]] = OktaTarget
    vendor: ClassVar[str] = "Okta"
    codec = FunctionCodec(mapping.decode, mapping.encode)

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

    @property
    def observe_concurrency(self) -> int:
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

    # --- read and write ------------------------------------------------------------------

    def _fetched(self, app_id: str, response: OktaResponse) -> Fetched:
        problem = f"app {app_id} is not a JSON object"
        return Fetched.of_object(response, problem=problem, target=self.name)

    async def fetch(self, ref: AppRef) -> Fetched:
        return self._fetched(ref.app_id, await self.client.get(_app_path(ref.app_id)))

    async def send(self, ref: AppRef, before: Fetched, after: Doc) -> Fetched | None:
        """PUT the whole app; Okta answers with the app as stored (the read-back)."""
        response = await self.client.put(_app_path(ref.app_id), after)
        return self._fetched(ref.app_id, response) if isinstance(response.data, dict) else None

    def fingerprint(self, fetched: Fetched) -> str:
        """The observed fingerprint when this very text was read before (the guard's GET
        answers the text observe just read): no second encoding of the app."""
        known = self.reads.lookup(readcache.digest(fetched.text))
        return known[0] if known is not None else fingerprint(fetched.doc)

    def understand(self, ref: AppRef, fetched: Fetched) -> tuple[str, Decoded]:
        """Fingerprint and decoding of a read, taken from the read cache when this very text
        was read before (an app the codec refuses is never remembered)."""
        key = readcache.digest(fetched.text)
        known = self.reads.lookup(key)
        if known is None:
            decoded = self.decode(ref, fetched.doc)  # NotSupported: never remembered
            known = (fingerprint(fetched.doc), decoded)
            self.reads.remember(key, known)
        return known

    def conflict_detail(self, fresh: Fetched) -> str:
        return f" (lastUpdated now {fresh.doc.get('lastUpdated')})"

    async def certificates(self, ref: AppRef, fetched: Fetched) -> tuple[Certificate, ...]:
        """The active signing key (``credentials.signing.kid``) with its expiry."""
        credentials = fetched.doc.get("credentials")
        signing = credentials.get("signing") if isinstance(credentials, dict) else None
        kid = signing.get("kid") if isinstance(signing, dict) else None
        if not kid:
            return ()
        org = self.target.base_url
        known, cert = self.keys.lookup(org, str(kid))
        if not known:  # a kid's certificate never changes: read it once per cache
            response = await self.client.get(f"{_app_path(ref.app_id)}/credentials/keys")
            keys = response.data if isinstance(response.data, list) else []
            for key in keys:
                if isinstance(key, dict) and isinstance(key.get("kid"), str):
                    self.keys.remember(org, key["kid"], certs.from_jwk(key))
            _, cert = self.keys.lookup(org, str(kid))
        return (cert,) if cert is not None else ()
