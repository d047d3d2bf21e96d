"""Prometheus metrics of one service process, on its own ``CollectorRegistry``.

A per-process registry (not prometheus-client's global one) keeps tests independent and
lets two services run in one interpreter. Label values are bounded: connector (target)
names and short request kinds come from the configuration and the connectors, HTTP status
is a number, and the app label names configured apps only.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from agent.model import DesiredTrust, ObservedApp
from agent.outcomes import AppStatus
from agent.plan import Plan
from agent.trust_matrix import CellState, build_matrix

CONTENT_TYPE = CONTENT_TYPE_LATEST

# What a planned cell is once its app was written and verified.
_DONE = {
    CellState.TO_ADD: CellState.TRUSTED,
    CellState.TO_UPDATE: CellState.TRUSTED,
    CellState.TO_REMOVE: CellState.NONE,
}

_DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class ServiceMetrics:
    """Every metric the service exports; ``render()`` is the /metrics body."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.sync_duration = Histogram(
            "idpsync_sync_duration_seconds",
            "Wall time of one sync run (observe, plan, apply).",
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.sync_runs = Counter(
            "idpsync_sync_runs_total", "Sync runs by outcome.", ["outcome"], registry=r
        )
        self.last_success = Gauge(
            "idpsync_last_success_timestamp_seconds",
            "Unix time of the last sync that finished without error.",
            registry=r,
        )
        self.apps_in_drift = Gauge(
            "idpsync_apps_in_drift",
            "Apps whose trust differs from the desired state after the last run.",
            registry=r,
        )
        self.changes_applied = Counter(
            "idpsync_changes_applied_total", "Changes written to IdP apps.", ["target"], registry=r
        )
        self.plans_blocked = Counter(
            "idpsync_plans_blocked_total", "Runs whose plan the safety checks refused.", registry=r
        )
        self.api_requests = Counter(
            "idpsync_api_requests_total",
            "HTTP requests connectors made, by connector, request kind and status.",
            ["connector", "kind", "status"],
            registry=r,
        )
        self.api_errors = Counter(
            "idpsync_api_errors_total",
            "Connector HTTP requests that failed (status >= 400, or 0 for no response).",
            ["connector", "status"],
            registry=r,
        )
        self.cert_expiry = Gauge(
            "idpsync_certificate_expiry_seconds",
            "Seconds until the soonest-expiring certificate of an app expires.",
            ["app"],
            registry=r,
        )
        self.leader = Gauge(
            "idpsync_leader", "1 while this replica holds the apply lease.", registry=r
        )
        self.watch_triggers = Counter(
            "idpsync_watch_triggers_total",
            "Syncs the watch job started early, by what changed.",
            ["reason"],
            registry=r,
        )
        self._add_dashboard_metrics(r)
        self._event_and_ticket_metrics(r)

    def _add_dashboard_metrics(self, r: CollectorRegistry) -> None:
        """What config/grafana/idpsync.json and config/prometheus/alerts.yaml need."""
        self.target_drift = Gauge(
            "idpsync_target_apps_in_drift",
            "Apps of one target whose trust differs from the desired state after the last run.",
            ["target"],
            registry=r,
        )
        self.app_writes = Counter(
            "idpsync_app_writes_total",
            "App writes (one per app written), by target and result (applied or failed).",
            ["target", "result"],
            registry=r,
        )
        self.rate_limited = Counter(
            "idpsync_rate_limited_total",
            "Connector HTTP responses with status 429 (rate limited), retried or not.",
            ["connector"],
            registry=r,
        )
        self.lease_lost = Counter(
            "idpsync_lease_lost_total",
            "Times this replica stopped leading (lease taken over or not renewed in time).",
            registry=r,
        )
        self.needs_person = Gauge(
            "idpsync_apps_needing_person",
            "Apps of one target no API can write, whose manual steps a person must take "
            "(never counted in sync).",
            ["target"],
            registry=r,
        )
        self.region_apps = Gauge(
            "idpsync_region_apps",
            "Apps per Region and trust state after the last run (trusted, to_add, to_remove, "
            "to_update, blocked, needs_person, none).",
            ["region", "state"],
            registry=r,
        )
        self.metadata_stale = Gauge(
            "idpsync_metadata_stale",
            "1 for a Region that is ACTIVE in Identity Center but has no ACS URL in the "
            "metadata (download the metadata again).",
            ["region"],
            registry=r,
        )
        self.metadata_cert_expiry = Gauge(
            "idpsync_metadata_certificate_expiry_seconds",
            "Seconds until a certificate of the Identity Center metadata expires.",
            ["certificate"],
            registry=r,
        )

    def _event_and_ticket_metrics(self, r: CollectorRegistry) -> None:
        """Events (service.events) and change tickets (service.mode approve)."""
        self.events_received = Counter(
            "idpsync_events_received_total",
            "SQS messages received: AddRegion, RemoveRegion, duplicate, ignored, error.",
            ["event"],
            registry=r,
        )
        self.event_sync_seconds = Histogram(
            "idpsync_event_to_sync_seconds",
            "From a Region event's CloudTrail time to the end of the sync it started.",
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.metadata_stale_regions = Gauge(
            "idpsync_metadata_stale_regions",
            "ACTIVE Regions the metadata has no ACS URL for (download it again).",
            registry=r,
        )
        self.tickets_opened = Counter(
            "idpsync_tickets_opened_total",
            "Change tickets opened, by backend.",
            ["backend"],
            registry=r,
        )
        self.ticket_applies = Counter(
            "idpsync_ticket_applies_total",
            "Approved plans the service tried to apply: applied, refused (stale), failed.",
            ["outcome"],
            registry=r,
        )
        self.ticket_errors = Counter(
            "idpsync_ticket_errors_total",
            "Calls to a ticket or notification backend that failed.",
            ["backend"],
            registry=r,
        )

    def on_request(self, connector: str, kind: str, status: int) -> None:
        """``ConnectorContext.on_request`` hook."""
        self.api_requests.labels(connector=connector, kind=kind, status=str(status)).inc()
        if status == 0 or status >= 400:
            self.api_errors.labels(connector=connector, status=str(status)).inc()
        if status == 429:
            self.rate_limited.labels(connector=connector).inc()

    def know_targets(self, names: Iterable[str]) -> None:
        """Start each configured target's counters at 0, so ``increase()`` sees the first
        429 and a dashboard lists every target before anything happened."""
        for name in names:
            self.rate_limited.labels(connector=name)
            for result in (AppStatus.APPLIED, AppStatus.FAILED):
                self.app_writes.labels(target=name, result=result)

    def observe_plan(
        self,
        plan: Plan,
        desired: DesiredTrust | None,
        now: datetime,
        applied: Collection[str] = (),
    ) -> None:
        """Per-Region trust, stale Regions and metadata certificates after the last run.

        ``applied`` names the apps (``target/app_id``) this run wrote and verified: their
        planned cells count as done (an add is trusted now, a removal gone). Each gauge
        family is rebuilt whole, so a Region or certificate that went away disappears
        instead of keeping its last value.
        """
        matrix = build_matrix(plan, desired)
        tally = {c.name: dict.fromkeys(CellState, 0) for c in matrix.columns}
        for row in matrix.rows:
            done = row.app.ref.key in applied
            for col, cell in zip(matrix.columns, row.cells, strict=True):
                tally[col.name][_DONE.get(cell.state, cell.state) if done else cell.state] += 1
        self.region_apps.clear()
        for region, counts in tally.items():
            for state, count in counts.items():
                self.region_apps.labels(region=region, state=state.value).set(count)
        if desired is None:
            return
        self.metadata_stale.clear()
        for f in desired.findings:
            if f.code == "metadata_stale" and f.region:
                self.metadata_stale.labels(region=f.region).set(1)
        self.metadata_cert_expiry.clear()
        for cert in desired.certificates:
            left = (cert.not_after - now).total_seconds()
            self.metadata_cert_expiry.labels(certificate=cert.sha256[:16]).set(left)

    def observe_certificates(self, apps: Iterable[ObservedApp], now: datetime) -> None:
        for app in apps:
            if app.certificates:
                soonest = min(c.not_after for c in app.certificates)
                self.cert_expiry.labels(app=app.ref.key).set((soonest - now).total_seconds())

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
