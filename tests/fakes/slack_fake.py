"""A loopback Slack Web API for the real ``slack_sdk`` WebClient.

Modelled on the documented methods, not on our client:

* every method answers HTTP 200 with ``{"ok": false, "error": "..."}`` on failure:
  ``not_authed`` without a token, ``invalid_auth`` with a wrong one, ``channel_not_found``,
  ``not_in_channel`` when the bot is not a member;
  https://docs.slack.dev/web#responses
* ``chat.postMessage`` (``channel``, ``text``, optional ``thread_ts``) returns ``ts``;
  https://docs.slack.dev/reference/methods/chat.postMessage
* ``files.getUploadURLExternal`` (``filename``, ``length``) returns an ``upload_url`` and
  ``file_id``; the bytes are POSTed there; ``files.completeUploadExternal`` (``files`` as a
  JSON list of ``{id, title}``, ``channel_id``, ``initial_comment``) shares them in the
  channel; a file whose upload never arrived is an error.
  https://docs.slack.dev/reference/methods/files.getUploadURLExternal
  https://docs.slack.dev/reference/methods/files.completeUploadExternal
"""

from __future__ import annotations

import itertools
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, cast

from tests.fakes.loopback import LoopbackServer, Reply, Request, json_reply

TOKEN = "xoxb-test-slack-bot-token"
CHANNEL = "C0IDPSYNC1"


@dataclass
class SlackFake:
    members_of: set[str] = field(default_factory=lambda: {CHANNEL})
    messages: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    def shared(self) -> dict[str, bytes]:
        return {f["name"]: f["data"] for f in self.files.values() if f.get("channel")}

    def answer(self, method: str, auth: str, params: dict[str, Any]) -> dict[str, Any]:
        if not auth:
            return {"ok": False, "error": "not_authed"}
        if auth != f"Bearer {TOKEN}":
            return {"ok": False, "error": "invalid_auth"}
        with self._lock:
            if method == "chat.postMessage":
                return self._post(params)
            if method == "files.getUploadURLExternal":
                if not params.get("filename") or not str(params.get("length", "")).isdigit():
                    return {"ok": False, "error": "invalid_arguments"}
                file_id = f"F{next(self._ids):08d}"
                self.files[file_id] = {"name": params["filename"], "length": int(params["length"])}
                return {
                    "ok": True,
                    "file_id": file_id,
                    "upload_url": f"{self.base_url}/upload/{file_id}",
                }
            if method == "files.completeUploadExternal":
                return self._complete(params)
        return {"ok": False, "error": "unknown_method"}

    def _channel_error(self, channel: object) -> dict[str, Any] | None:
        if not isinstance(channel, str) or not channel.startswith("C"):
            return {"ok": False, "error": "channel_not_found"}
        if channel not in self.members_of:
            return {"ok": False, "error": "not_in_channel"}
        return None

    def _post(self, params: dict[str, Any]) -> dict[str, Any]:
        error = self._channel_error(params.get("channel"))
        if error:
            return error
        ts = f"1765000000.{next(self._ids):06d}"
        message = {"ts": ts, "text": params.get("text", ""), "thread_ts": params.get("thread_ts")}
        self.messages.append(message)
        return {"ok": True, "channel": params["channel"], "ts": ts, "message": message}

    def _complete(self, params: dict[str, Any]) -> dict[str, Any]:
        error = self._channel_error(params.get("channel_id"))
        if error:
            return error
        listed = json.loads(params.get("files") or "[]")
        for item in listed:
            stored = self.files.get(item.get("id"))
            if stored is None or "data" not in stored:
                return {"ok": False, "error": "file_not_found"}
        for item in listed:
            self.files[item["id"]]["channel"] = params["channel_id"]
            self.files[item["id"]]["title"] = item.get("title")
        self.messages.append(
            {
                "ts": "",
                "text": params.get("initial_comment", ""),
                "files": [i["id"] for i in listed],
            }
        )
        return {"ok": True, "files": [{"id": i["id"], "title": i.get("title")} for i in listed]}

    def upload(self, file_id: str, data: bytes) -> tuple[int, bytes]:
        with self._lock:
            stored = self.files.get(file_id)
            if stored is None:
                return 404, b"not found"
            if len(data) != stored["length"]:
                return 400, b"length mismatch"
            stored["data"] = data
        return 200, f"OK - {len(data)}".encode()

    def start(self) -> SlackFake:
        self._server = LoopbackServer(self._handle)
        self.base_url = self._server.start()
        return self

    def _handle(self, request: Request) -> Reply:
        if request.method != "POST":  # the Web API and the upload URL take POST only
            return Reply(405, b"", None)
        path, _, query = request.path.partition("?")
        if path.startswith("/upload/"):
            status, data = self.upload(
                path.rsplit("/", 1)[1], _file_bytes(request.headers, request.body)
            )
            return Reply(status, data, "text/plain")
        params: dict[str, Any] = dict(urllib.parse.parse_qsl(query))
        kind = request.headers.get("content-type", "")
        if kind.startswith("application/json"):
            params.update(json.loads(request.body or b"{}"))
        elif request.body:
            params.update(urllib.parse.parse_qsl(request.body.decode()))
        method = path.removeprefix("/api/")
        answer = self.answer(method, request.authorization, params)
        return json_reply(200, answer, content_type="application/json")

    def stop(self) -> None:
        self._server.stop()


def _file_bytes(headers: dict[str, str], body: bytes) -> bytes:
    """The upload URL takes the raw bytes, or a multipart form with one file part."""
    kind = headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        return body
    import email.parser

    message = email.parser.BytesParser().parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + body)
    for part in cast("list[Message]", message.get_payload()) if message.is_multipart() else []:
        return bytes(part.get_payload(decode=True) or b"")
    return b""
