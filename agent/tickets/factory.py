"""Build a :class:`TicketBackend` from its ``tickets:`` entry (client libraries load late)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from agent.tickets.base import TicketBackend
from agent.tickets.config import (
    GitHubConfig,
    JiraConfig,
    ServiceNowConfig,
    SlackConfig,
    TicketBackendConfig,
)


def open_backend(cfg: TicketBackendConfig, env: Mapping[str, str], base_dir: Path) -> TicketBackend:
    token = cfg.token(env, base_dir)
    if isinstance(cfg, JiraConfig):
        from agent.tickets.jira import JiraBackend

        return JiraBackend(cfg, token)
    if isinstance(cfg, ServiceNowConfig):
        from agent.tickets.servicenow import ServiceNowBackend

        return ServiceNowBackend(cfg, token)
    if isinstance(cfg, GitHubConfig):
        from agent.tickets.github import GitHubBackend

        return GitHubBackend(cfg, token)
    assert isinstance(cfg, SlackConfig)
    from agent.tickets.slack import SlackBackend

    return SlackBackend(cfg, token)
