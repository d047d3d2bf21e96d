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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                if path.startswith("/upload/"):
                    status, data = fake.upload(
                        path.rsplit("/", 1)[1], _file_bytes(self.headers, body)
                    )
                    self._send(status, data, "text/plain")
                    return
                params: dict[str, Any] = dict(urllib.parse.parse_qsl(query))
                kind = self.headers.get("Content-Type", "")
                if kind.startswith("application/json"):
                    params.update(json.loads(body or b"{}"))
                elif body:
                    params.update(urllib.parse.parse_qsl(body.decode()))
                method = path.removeprefix("/api/")
                answer = fake.answer(method, self.headers.get("Authorization", ""), params)
                self._send(200, json.dumps(answer).encode(), "application/json")

            def _send(self, status: int, data: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _file_bytes(headers: Any, body: bytes) -> bytes:
    """The upload URL takes the raw bytes, or a multipart form with one file part."""
    kind = headers.get("Content-Type", "")
    if not kind.startswith("multipart/form-data"):
        return body
    import email.parser

    message = email.parser.BytesParser().parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + body)
    for part in message.get_payload() if message.is_multipart() else []:
        return bytes(part.get_payload(decode=True) or b"")
    return b""
