"""Helpers for the approval-gate tests: a config in ``service.mode: approve`` with a Jira
ticket backend (the loopback fake) and file-connector apps."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.jira_fake import EMAIL

JIRA_BLOCK = """tickets:
  - name: change
    type: jira
    url: {url}
    email: {email}
    project: OPS
    token_env: JIRA_API_TOKEN
    done_transition: Done
"""


def approve_config(path: Path, jira_url: str, *, extra_service: str = "") -> None:
    """Turn a write_config file into mode approve with service.ticket: change."""
    text = path.read_text().replace("  mode: apply\n", "  mode: approve\n")
    text = text.replace(
        "  mode: approve\n",
        "  mode: approve\n  ticket: change\n  ticket_poll_interval: 1s\n" + extra_service,
    )
    text += JIRA_BLOCK.format(url=jira_url, email=EMAIL)
    path.write_text(text)
