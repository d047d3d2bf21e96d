"""The guided Google Workspace connector: console steps for a person, never an API call.

Google publishes no API to read or change a custom SAML app's service provider details: the
Admin console is the only way ("Set up your own custom SAML app",
https://support.google.com/a/answer/6087519; the Terraform provider's maintainers and users
found the same, https://github.com/hashicorp/terraform-provider-googleworkspace/issues/425).
A custom SAML app holds **one** ACS URL and one Entity ID (its "Service provider details").

So this connector observes nothing it cannot: it reads at most a ``state_file`` the
administrator keeps (the values the console shows), or nothing, and declares every app
``Capabilities(writable=False, multi_acs=False, max_acs=1)``. The core then plans it like any
single-ACS app, turns the plan into the console steps below (``manual_steps`` in plan.md and
plan.json), reports it ``needs_person`` (never ``in_sync``), and never calls :meth:`apply`,
which refuses anyway.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import yaml

from agent.connector import Connector, ConnectorContext, TargetConfig
from agent.errors import ConfigError, NotSupported
from agent.manual import Console, steps_for
from agent.model import (
    AppRef,
    AppTrust,
    Capabilities,
    Finding,
    ObservedApp,
    Severity,
    TrustedAcs,
)
from agent.plan import AppPlan
from connectors.google.config import GoogleApp, GoogleWorkspaceTarget

CAPABILITIES = Capabilities(multi_acs=False, max_acs=1, indexed=False, writable=False)
CONSOLE_URL = "https://admin.google.com"
MAX_STATE_BYTES = 64 * 1024


def console_for(app: GoogleApp, known: bool) -> Console:
    """Where the values live in Google's Admin console, for one app."""
    notes = [
        "Google's custom SAML app holds one ACS URL, so keep it the primary Region's: direct "
        "sign-in to the other Regions needs one custom SAML app per Region (AWS advises "
        "re-pointing a single-ACS app to another Region only during a primary outage).",
        "Google notes that changes to a SAML app can take up to 24 hours to reach every user.",
    ]
    if app.state_file:
        notes.append(
            f"Then update {app.state_file} to the values you saved, so the next plan starts "
            "from them."
        )
    return Console(
        open_app=(
            f"Sign in to the Google Admin console ({CONSOLE_URL}) as an administrator who can "
            "manage SAML apps.",
            f'Go to Menu > Apps > Web and mobile apps and open the app "{app.name}".',
            "Open Service provider details.",
        ),
        acs_field="ACS URL",
        entity_field="Entity ID",
        save="Click Save.",
        notes=tuple(notes),
        known=known,
    )


class GoogleWorkspaceConnector(Connector):
    config_model: ClassVar[type[TargetConfig]] = GoogleWorkspaceTarget

    def __init__(self, config: TargetConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        assert isinstance(config, GoogleWorkspaceTarget)
        self.target = config
        self.apps = {a.name: a for a in config.apps}

    async def discover(self) -> list[AppRef]:
        return [AppRef(self.name, a.name, a.name) for a in self.target.apps]

    async def observe(self, ref: AppRef) -> ObservedApp:
        app = self.apps[ref.app_id]
        raw = self._read_state(app) if app.state_file else "{}"
        trust = self.trust_from_raw(raw)
        return ObservedApp(
            ref=ref,
            trust=trust,
            capabilities=CAPABILITIES,
            raw=raw,
            fingerprint=hashlib.sha256(raw.encode()).hexdigest(),
            findings=(self._finding(ref, app),),
            kind="custom_saml",
        )

    def _read_state(self, app: GoogleApp) -> str:
        assert app.state_file is not None
        path = self.context.resolve_path(app.state_file)
        key = f"targets.{self.name}.apps.{app.name}.state_file"
        try:
            data = path.read_bytes()[: MAX_STATE_BYTES + 1]
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}", key=key) from None
        if len(data) > MAX_STATE_BYTES:
            raise ConfigError(f"{path} is larger than {MAX_STATE_BYTES} bytes", key=key)
        text = data.decode("utf-8", "replace")
        try:
            self.trust_from_raw(text)
        except NotSupported as exc:
            raise ConfigError(f"{path}: {exc}", key=key) from None
        return text

    def _finding(self, ref: AppRef, app: GoogleApp) -> Finding:
        source = (
            f"the values come from {app.state_file}, as its administrator keeps them"
            if app.state_file
            else "its current values are unknown (no state_file)"
        )
        return Finding(
            "guided_app",
            Severity.INFO,
            "Google Workspace has no API for custom SAML apps: idpsync neither reads nor "
            f"writes this app, and {source}",
            app=ref.key,
        )

    def trust_from_raw(self, raw: str) -> AppTrust:
        """``{"acs_url": ..., "entity_id": ...}`` (JSON or YAML); ``{}`` when unknown."""
        try:
            doc: Any = yaml.safe_load(raw) if raw.strip() else {}
        except yaml.YAMLError as exc:
            raise NotSupported(f"not JSON or YAML: {exc}", target=self.name) from None
        doc = {} if doc is None else doc
        if not isinstance(doc, dict) or set(doc) - {"acs_url", "entity_id"}:
            raise NotSupported(
                "the state file must be a mapping with acs_url and entity_id only",
                target=self.name,
            )
        acs, entity = doc.get("acs_url"), doc.get("entity_id")
        for name, value in (("acs_url", acs), ("entity_id", entity)):
            if value is not None and not isinstance(value, str):
                raise NotSupported(f"{name} must be a string", target=self.name)
        return AppTrust(
            entity_id=entity or None,
            acs=(TrustedAcs(acs),) if acs else (),
            default_acs=acs or None,
        )

    def manual_steps(self, app: AppPlan, observed: ObservedApp) -> tuple[str, ...]:
        config = self.apps[app.ref.app_id]
        return steps_for(app, console_for(config, known=config.state_file is not None))

    async def apply(self, plan: AppPlan) -> ObservedApp:
        # The engine never calls this (the app is not writable); refuse if anything does.
        raise NotSupported(
            f"{plan.ref.app_id}: Google Workspace has no API for custom SAML apps; follow the "
            "plan's manual steps in the Admin console",
            target=self.name,
        )


__all__ = ["GoogleWorkspaceConnector"]
