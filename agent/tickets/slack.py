"""Slack through ``slack_sdk``: notifications only, never an approval.

A new plan is one message in ``channel`` with plan.md, plan.json and plan.diff uploaded by
``files_upload_v2`` (files.getUploadURLExternal → upload → files.completeUploadExternal,
the flow that replaced files.upload); the summary is its ``initial_comment``. Outcomes and
findings are ``chat.postMessage`` messages. The bot token needs ``chat:write`` and
``files:write`` and the bot must be a member of the channel (else ``not_in_channel``).
https://docs.slack.dev/reference/methods/files.getUploadURLExternal
https://docs.slack.dev/reference/methods/files.completeUploadExternal
https://docs.slack.dev/reference/methods/chat.postMessage
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from agent.tickets.base import PlanPacket, TicketBackend, TicketError, TicketRef
from agent.tickets.config import SlackConfig

T = TypeVar("T")

# Slack truncates a message's text at 40,000 characters; keep well below.
MAX_TEXT = 3500


class SlackBackend(TicketBackend):
    approves = False

    def __init__(self, config: SlackConfig, token: str, *, client: WebClient | None = None) -> None:
        super().__init__(config.name)
        self.config = config
        self.client = client or WebClient(
            token=token, base_url=config.api_url, timeout=int(config.timeout)
        )

    def _guard(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except SlackApiError as exc:
            error = exc.response.get("error", "?") if exc.response is not None else "?"
            hint = {
                "invalid_auth": " (check token_env/token_file)",
                "not_authed": " (check token_env/token_file)",
                "not_in_channel": f" (invite the bot to {self.config.channel})",
                "channel_not_found": " (use the channel ID, C0123..., not its name)",
            }.get(str(error), "")
            raise TicketError(f"Slack {what}: {error}{hint}") from None
        except (SlackClientError, OSError) as exc:
            raise TicketError(f"Slack {what}: {type(exc).__name__}: {exc}"[:300]) from None

    def _post(self, text: str, thread_ts: str | None = None) -> dict[str, Any]:
        answer = self._guard(
            "chat.postMessage",
            lambda: self.client.chat_postMessage(
                channel=self.config.channel, text=text[:MAX_TEXT], thread_ts=thread_ts
            ),
        )
        return dict(answer.data) if isinstance(answer.data, dict) else {}

    def notify(
        self, title: str, text: str, files: dict[str, bytes] | None = None
    ) -> TicketRef | None:
        message = f"*{title}*\n{text}"
        if not files:
            answer = self._post(message)
            return TicketRef(str(answer.get("ts", "")), "")
        uploads = [{"filename": n, "content": d, "title": n} for n, d in files.items()]
        self._guard(
            "files_upload_v2",
            lambda: self.client.files_upload_v2(
                channel=self.config.channel,
                file_uploads=uploads,
                initial_comment=message[:MAX_TEXT],
            ),
        )
        return TicketRef("", "")

    def open(self, packet: PlanPacket) -> TicketRef:
        ref = self.notify(packet.title, packet.summary, packet.files)
        assert ref is not None
        return ref

    def comment(self, ref: TicketRef, text: str) -> None:
        self._post(text, thread_ts=ref.key or None)
