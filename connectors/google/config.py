"""The ``type: google_workspace`` target configuration (a guided target: nothing to log in
to, because Google publishes no API for custom SAML apps)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.kit.config import AppsTarget


class GoogleApp(BaseModel):
    """One custom SAML app, by its name in the Admin console."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="the custom SAML app's name in the Admin console")
    state_file: str | None = Field(
        default=None,
        description="optional JSON or YAML the administrator keeps with the app's current "
        "acs_url and entity_id (what the console shows); without it the current values are "
        "unknown",
    )


class GoogleWorkspaceTarget(AppsTarget[GoogleApp]):
    type: Literal["google_workspace"] = "google_workspace"

    def value_problems(self) -> list[tuple[str, str, str]]:
        names = [a.name for a in self.apps]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        return [("fail", "apps", f"app {n!r} is listed twice") for n in duplicates]
