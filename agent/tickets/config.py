"""``tickets:``: named change-ticket and notification backends.

Each entry has a ``name`` (what ``service.ticket``, ``service.notify`` and
``idpsync plan --ticket NAME`` refer to) and a ``type``. Secrets are never inline: every
backend reads its token from an environment variable (``*_env``) or a file (``*_file``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.errors import ConfigError


class _Backend(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    token_env: str | None = Field(default=None, description="variable holding the token")
    token_file: str | None = Field(default=None, description="file holding the token")
    timeout: float = Field(default=15.0, gt=0, le=300)

    @model_validator(mode="after")
    def _one_secret(self) -> _Backend:
        if (self.token_env is None) == (self.token_file is None):
            raise ValueError(
                f"ticket backend {self.name!r} needs exactly one of token_env:, token_file:"
            )
        return self

    def token(self, env: Mapping[str, str], base_dir: Path) -> str:
        """The secret, read now; the error names the variable or file, never a value."""
        key = f"tickets.{self.name}"
        if self.token_env is not None:
            value = env.get(self.token_env, "").strip()
            if not value:
                raise ConfigError(
                    f"environment variable {self.token_env} is not set (it should hold the "
                    f"{self.type_label} token)",
                    key=f"{key}.token_env",
                )
            return value
        path = Path(self.token_file or "")
        path = path if path.is_absolute() else base_dir / path
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the token file {path} ({exc.strerror})", key=f"{key}.token_file"
            ) from None
        if not value:
            raise ConfigError(f"the token file {path} is empty", key=f"{key}.token_file")
        return value

    @property
    def type_label(self) -> str:
        return str(getattr(self, "type", "ticket"))

    @property
    def approves(self) -> bool:
        """Whether this backend can gate an apply (Slack only notifies)."""
        return True


class JiraConfig(_Backend):
    """Jira Cloud: one issue per plan; approval is the issue reaching an approved status."""

    type: Literal["jira"]
    url: str = Field(pattern=r"^https?://", description="https://<site>.atlassian.net")
    email: str = Field(description="the Atlassian account the API token belongs to")
    project: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,9}$", description="project key")
    issue_type: str = "Task"
    approved_statuses: list[str] = Field(default_factory=lambda: ["Approved"], min_length=1)
    rejected_statuses: list[str] = Field(default_factory=lambda: ["Declined", "Rejected"])
    done_transition: str | None = Field(
        default=None, description="transition to run after a successful apply (e.g. Done)"
    )
    labels: list[str] = Field(default_factory=lambda: ["idpsync"])


class ServiceNowConfig(_Backend):
    """ServiceNow: one ``change_request`` per plan; approval is ``approval=approved``."""

    type: Literal["servicenow"]
    instance: str = Field(pattern=r"^https?://", description="https://<instance>.service-now.com")
    user: str = Field(description="the integration user the password/token belongs to")
    assignment_group: str | None = Field(default=None, description="sys_id or name")
    change_type: Literal["normal", "standard", "emergency"] = "normal"
    ca_bundle: str | None = Field(
        default=None, description="PEM CA bundle for a private CA (default: system trust)"
    )


class GitHubConfig(_Backend):
    """GitHub: one issue per plan; approval is a label added by an allowed user."""

    type: Literal["github"]
    repo: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="owner/name")
    api_url: str = Field(default="https://api.github.com", pattern=r"^https?://")
    approve_label: str = "idpsync-approved"
    approvers: list[str] = Field(
        min_length=1, description="GitHub logins whose approve_label counts"
    )
    labels: list[str] = Field(default_factory=lambda: ["idpsync"])


class SlackConfig(_Backend):
    """Slack: notifications with the plan attached; never approves anything."""

    type: Literal["slack"]
    channel: str = Field(description="channel ID (C0123...) the bot is a member of")
    api_url: str = Field(default="https://slack.com/api/", pattern=r"^https?://")

    @property
    def approves(self) -> bool:
        return False


TicketBackendConfig = Annotated[
    JiraConfig | ServiceNowConfig | GitHubConfig | SlackConfig, Field(discriminator="type")
]
