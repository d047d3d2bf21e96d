"""The benchmark scenario: parameters, the data it seeds, and the lower bound it imposes.

Everything here is computed from :class:`Scenario` alone, so the lower bound is a property
of the scenario (latency, concurrency caps, rate limits, minimum request counts), not of any
measured run.
"""

from __future__ import annotations

import base64
import copy
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agent.model import AppTrust, TrustedAcs

REPO = Path(__file__).resolve().parents[2]
OKTA_TEMPLATE = REPO / "tests" / "data" / "okta" / "synthetic-custom-saml.json"

# The 17 commercial Regions enabled by default (domain.md 2.1); the primary comes first.
REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
)
TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
ENTITY_ID = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"
LABEL = "AWS IAM Identity Center"
OKTA_TOKEN = "bench-okta-token"
GRAPH_TOKEN = "bench-graph-token"
OKTA_PAGE = 200  # Okta's maximum list page
# Graph's documented writes per app+tenant per 150 s (domain.md 4.5;
# https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits)
GRAPH_WRITES = 3000
GRAPH_WRITES_WINDOW = 150.0
GRAPH_PAGE = 999  # Graph's maximum $top for /applications and /servicePrincipals


@dataclass(frozen=True)
class Scenario:
    """Parameters of one benchmark size. Rate limits are per run (the fakes are reset)."""

    apps: int = 1000
    latency: float = 0.020  # seconds the fakes add to every response
    # False: idpsync, the floor and the bound use the shipped defaults (what a user gets);
    # True: the tuned settings below (the second, labelled table).
    tuned: bool = False
    # Okta: org-wide concurrency cap (the fake answers 429 above it) and the share of it
    # idpsync is configured to use (the rest is left to the org's other integrations).
    okta_cap: int = 75
    okta_tuned: int = 50
    # Okta per-bucket budgets per window (a large org with DynamicScale; list is scarcer).
    okta_window: float = 60.0
    okta_buckets: dict[str, int] = field(
        # get and put of /api/v1/apps/{id} spend one bucket (it had 10,000 for each)
        default_factory=lambda: {"list": 100, "app": 20_000, "keys": 10_000}
    )
    # Graph: a token bucket (1 token per request), 429 + Retry-After once it is empty:
    # 3,500 per 10 s is the published identity limit for a tenant of < 50 users.
    graph_capacity: float = 3500.0
    graph_refill: float = 350.0
    graph_tuned: int = 32  # parallel requests / envelopes when tuned (connector maximum)
    graph_batch: int = 20  # requests per $batch HTTP call in the write phase (1: no batching)
    # Share of Graph's documented limits idpsync's batched writes may use (connector default
    # write_budget 0.5 of the smallest tier's 3,500 units per 10 s: connectors.entra.pacing).
    graph_budget_units: int = 1750
    graph_budget_window: float = 10.0
    graph_budget_writes: int = 1500  # of Graph's 3,000 writes per 150 s
    regions_before: int = 16  # every app trusts this many Regions; the metadata has 17
    regions_after: int = 17

    @property
    def okta_concurrency(self) -> int:
        return self.okta_tuned if self.tuned else okta_default_concurrency()

    @property
    def graph_concurrency(self) -> int:
        return self.graph_tuned if self.tuned else graph_default_concurrency()

    def settings(self) -> str:
        """What idpsync (and the floor) were configured with, for the table's heading."""
        which = "tuned" if self.tuned else "shipped defaults"
        return (
            f"{which}: okta concurrency {self.okta_concurrency}, entra concurrency "
            f"{self.graph_concurrency} ($batch envelopes in flight, 20 apps each), entra "
            f"write_budget 0.5 ({self.graph_budget_units} units / 10 s)"
        )

    @property
    def okta_apps(self) -> int:
        return self.apps // 2

    @property
    def entra_apps(self) -> int:
        return self.apps - self.okta_apps

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["okta_concurrency"] = self.okta_concurrency
        out["graph_concurrency"] = self.graph_concurrency
        out["settings"] = self.settings()
        return out


def okta_default_concurrency() -> int:
    from connectors.okta.config import OktaTarget

    value: int = OktaTarget.model_fields["concurrency"].default
    return value


def graph_default_concurrency() -> int:
    from connectors.entra.config import EntraTarget

    value: int = EntraTarget.model_fields["concurrency"].default
    return value


# --- data ---------------------------------------------------------------------------------


def acs_url(region: str, dualstack: bool) -> str:
    host = f"{region}.sso.signin.aws" if dualstack else f"{region}.signin.aws"
    return f"https://{host}/platform/saml/acs/{TENANT}"


def endpoints(regions: int) -> list[tuple[str, int]]:
    """(URL, metadata index) for the first ``regions`` Regions x {IPv4, dual-stack}."""
    out = []
    for i, region in enumerate(REGIONS[:regions]):
        out.append((acs_url(region, False), 2 * i))
        out.append((acs_url(region, True), 2 * i + 1))
    return out


def metadata_xml(regions: int) -> bytes:
    """Identity Center SP metadata for ``regions`` Regions x 2 stacks (primary IPv4 default)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'entityID="{ENTITY_ID}">',
        '  <md:SPSSODescriptor WantAssertionsSigned="true" '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">',
        "    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
        "</md:NameIDFormat>",
    ]
    for url, index in endpoints(regions):
        default = ' isDefault="true"' if index == 0 else ""
        lines.append(
            '    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:'
            f'HTTP-POST" Location="{url}" index="{index}"{default}/>'
        )
    lines += ["  </md:SPSSODescriptor>", "</md:EntityDescriptor>", ""]
    return "\n".join(lines).encode()


def trust(regions: int, *, indexed: bool) -> AppTrust:
    """The trust of an app converged to ``regions`` Regions (Entra keeps null indexes)."""
    acs = tuple(TrustedAcs(url, index if indexed else None) for url, index in endpoints(regions))
    return AppTrust(entity_id=ENTITY_ID, acs=acs, default_acs=acs_url(REGIONS[0], False))


def okta_app(number: int, state: AppTrust, kid: str) -> dict[str, Any]:
    """A custom SAML 2.0 app (the synthetic template) holding ``state``, signed by ``kid``."""
    from connectors.okta import mapping

    doc: dict[str, Any] = json.loads(OKTA_TEMPLATE.read_text())
    app_id = f"0oabench{number:08d}"
    doc["id"] = app_id
    doc["name"] = f"acmeorg_awsiamidentitycenter_{number}"
    doc["orn"] = doc["orn"].rsplit(":", 2)[0] + f":{doc['name']}:{app_id}"
    doc["label"] = LABEL
    doc["credentials"]["signing"]["kid"] = kid
    doc.pop("_links", None)
    return mapping.apply_trust(doc, state)


def okta_keys(kid: str, cert_b64: str) -> list[dict[str, Any]]:
    return [
        {
            "kty": "RSA",
            "created": "2026-01-01T00:00:00.000Z",
            "lastUpdated": "2026-01-01T00:00:00.000Z",
            "expiresAt": "2028-01-01T00:00:00.000Z",
            "alg": "RS256",
            "kid": kid,
            "use": "sig",
            "x5c": [cert_b64],
            "e": "AQAB",
            "n": "bench",
        }
    ]


def signing_certificate() -> tuple[str, str]:
    """One self-signed certificate (base64 DER) and its SHA-1 thumbprint, shared by all apps."""
    import datetime as dt
    import hashlib

    from cryptography.hazmat.primitives import serialization

    from tests.certs import self_signed

    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    _, cert = self_signed("idpsync benchmark IdP", start, start + dt.timedelta(days=730), serial=1)
    der = cert.public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode(), hashlib.sha1(der).hexdigest().upper()


def entra_key_credential(cert_b64: str, thumbprint: str, number: int) -> dict[str, Any]:
    return {
        "keyId": f"00000000-0000-4000-8000-{number:012d}",
        "customKeyIdentifier": base64.b64encode(bytes.fromhex(thumbprint)).decode(),
        "displayName": "CN=Microsoft Azure Federated SSO Certificate",
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
        "startDateTime": "2026-01-01T00:00:00Z",
        "endDateTime": "2028-01-01T00:00:00Z",
        "key": cert_b64,
    }


def deep(value: Any) -> Any:
    return copy.deepcopy(value)


# --- the lower bound ------------------------------------------------------------------------

# The documented minimum requests per app (verification reads counted separately).
MINIMUM = {
    "okta": "observe: 1 GET /apps/{id} per app, +1 GET .../credentials/keys per signing kid "
    "not yet seen by this process, + ceil(apps/200) list pages when discovering by label; "
    "write: 1 guard GET + 1 PUT; verify: the PUT answer (replaceApplication answers 200 with "
    "the app as stored, https://developer.okta.com/docs/api/openapi/okta-management/"
    "management/tags/application/other/replaceapplication)",
    "entra": "observe: 2 x ceil(apps/999) $select list pages (applications + service "
    "principals) when discovering; write: 1 guard GET + 1 PATCH; verify: 1 GET; the write "
    "phase's requests travel in $batch envelopes of up to 20 (Graph throttles each request in "
    "an envelope, so requests, not envelopes, are what this minimum counts)",
}


@dataclass(frozen=True)
class PhaseCost:
    """Requests a phase needs at minimum, by rate-limit bucket, and its critical path."""

    requests: dict[str, int]
    critical_path: int  # dependent requests one after another (each costs one latency)
    per_call: int = 1  # requests one HTTP call carries ($batch envelopes carry up to 20)


def okta_observe(apps: int, *, cold_keys: bool) -> PhaseCost:
    pages = max(1, math.ceil(apps / OKTA_PAGE))
    requests = {"list": pages, "get": apps, "keys": apps if cold_keys else 0}
    return PhaseCost(requests, pages + 1 + (1 if cold_keys else 0))


def entra_observe(apps: int) -> PhaseCost:
    pages = max(1, math.ceil(apps / GRAPH_PAGE))
    return PhaseCost({"list": 2 * pages}, pages)


def okta_write(apps: int) -> PhaseCost:
    # guard GET + PUT; the PUT's answer is the read-back (no verification GET)
    return PhaseCost({"get": apps, "put": apps}, 2 if apps else 0)


def entra_write(apps: int, per_call: int = 1) -> PhaseCost:
    return PhaseCost({"get": 2 * apps, "patch": apps}, 3 if apps else 0, per_call)


def okta_time(s: Scenario, cost: PhaseCost, used: dict[str, int]) -> float:
    """max(latency x critical path, latency x requests / concurrency, fixed-window waits).

    ``used`` is what earlier phases of the same run already took from each bucket.
    """
    total = sum(cost.requests.values())
    latency = s.latency * max(cost.critical_path, math.ceil(total / s.okta_concurrency))
    rate = 0.0
    spent: dict[str, int] = {}
    for kind, n in cost.requests.items():  # get and put spend the one "app" bucket
        bucket = "app" if kind in ("get", "put") else kind
        spent[bucket] = spent.get(bucket, 0) + n
    for bucket, n in spent.items():
        limit = s.okta_buckets.get(bucket)
        before = used.get(bucket, 0)
        used[bucket] = before + n
        if limit and n:
            windows = math.ceil((before + n) / limit) - max(1, math.ceil(before / limit))
            rate = max(rate, windows * s.okta_window)
    return max(latency, rate)


def graph_time(s: Scenario, cost: PhaseCost, used: list[float]) -> float:
    """Like :func:`okta_time`; the token bucket refills continuously (``used[0]`` tokens)."""
    total = sum(cost.requests.values())
    calls = math.ceil(total / cost.per_call)  # HTTP calls; the bucket still counts requests
    latency = s.latency * max(cost.critical_path, math.ceil(calls / s.graph_concurrency))
    before = used[0]
    used[0] = before + total
    deficit = max(0.0, used[0] - s.graph_capacity) - max(0.0, before - s.graph_capacity)
    rate = deficit / s.graph_refill
    if cost.per_call > 1:  # batched writes are paced to the budget the defaults allow
        windows = math.ceil(total / s.graph_budget_units) - 1
        rate = max(rate, windows * s.graph_budget_window)
        writes = cost.requests.get("patch", 0)  # and to half of 3,000 writes per 150 s
        windows = max(0, math.ceil(writes / s.graph_budget_writes) - 1)
        rate = max(rate, windows * GRAPH_WRITES_WINDOW)
    return max(latency, rate)


def lower_bound(s: Scenario, run: str) -> float:
    """Seconds the fakes impose on ``run`` (dry_run, apply or steady) for a client that makes
    exactly the documented minimum requests. Observe must finish before any write (the plan
    is safety-checked as a whole), so phases add; the two IdPs run in parallel, so within a
    phase the slower one counts."""
    okta_used: dict[str, int] = {}
    graph_used = [0.0]
    cold = run == "dry_run"  # the first run of a process has seen no signing key yet
    total = max(
        okta_time(s, okta_observe(s.okta_apps, cold_keys=cold), okta_used),
        graph_time(s, entra_observe(s.entra_apps), graph_used),
    )
    if run == "apply":
        total += max(
            okta_time(s, okta_write(s.okta_apps), okta_used),
            graph_time(s, entra_write(s.entra_apps, s.graph_batch), graph_used),
        )
    return total


def minimum_requests(s: Scenario, run: str) -> dict[str, dict[str, int]]:
    """The documented minimum request counts of ``run``, per IdP and kind."""
    okta = dict(okta_observe(s.okta_apps, cold_keys=run == "dry_run").requests)
    entra = dict(entra_observe(s.entra_apps).requests)
    if run == "apply":
        okta["get"] += s.okta_apps  # the guard; the PUT's answer verifies
        okta["put"] = s.okta_apps
        entra["get"] = 2 * s.entra_apps
        entra["patch"] = s.entra_apps
    return {"okta": okta, "entra": entra}
