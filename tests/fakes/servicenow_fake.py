"""A loopback ServiceNow instance (Table API, Attachment API) over HTTPS, for real ``pysnc``.

pysnc refuses ``http://`` instances, so the fake serves TLS with a self-signed certificate
for 127.0.0.1; ``ca_file`` is what a config's ``ca_bundle`` points at. Modelled on the
documented behaviour:

* basic auth; a wrong password is 401 ``{"error": {"message": "User Not Authenticated"}}``;
* ``POST /api/now/table/change_request`` → 201 ``{"result": record}``; ``GET``/``PATCH
  /api/now/table/change_request/{sys_id}``; 404 ``No Record found`` for an unknown sys_id;
  with ``sysparm_display_value=all`` every field is ``{"value", "display_value"}``;
  ``work_notes`` is a journal field: each write appends an entry;
  https://docs.servicenow.com/bundle/latest/page/integrate/inbound-rest/concept/c_TableAPI.html
* ``GET /api/now/table/change_request?sysparm_query=...`` lists records: this fake
  evaluates the simple encoded queries pysnc sends, ``field=value`` conditions joined by
  ``^`` plus ``ORDERBY<field>``/``ORDERBYDESC<field>``; a condition on a field the table
  does not have is ignored (the documented default: the instance drops the invalid part
  and returns the rows the rest selects); ``sysparm_limit``/``sysparm_offset`` page, and
  ``X-Total-Count`` says how many rows matched. ``correlation_id``/``correlation_display``
  are task fields, so every change has them (empty until set);
  https://docs.servicenow.com/bundle/latest/page/integrate/inbound-rest/concept/c_TableAPI.html#table-GET
  https://docs.servicenow.com/bundle/geneva-servicenow-platform/page/integrate/inbound_rest/reference/r_TableAPI-GET.html
* ``POST /api/now/v1/attachment/file?file_name=&table_name=&table_sys_id=`` with the raw
  bytes → 201; an unknown record is a 400.
  https://docs.servicenow.com/bundle/latest/page/integrate/inbound-rest/concept/c_AttachmentAPI.html

A change approver is :meth:`ServiceNowFake.set_approval`.
"""

from __future__ import annotations

import base64
import ipaddress
import itertools
import json
import ssl
import tempfile
import threading
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.certs import private_pem, self_signed
from tests.fakes.loopback import LoopbackServer, Reply, Request, json_reply
from tests.fakes.servicenow_query import select

USER = "idpsync.integration"
PASSWORD = "servicenow-test-password"


@dataclass
class ServiceNowFake:
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    work_notes: dict[str, list[str]] = field(default_factory=dict)
    attachments: dict[str, dict[str, bytes]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path with query)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(30001))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""
    ca_file: str = ""

    def set_approval(self, sys_id: str, value: str) -> None:
        with self._lock:
            self.records[sys_id]["approval"] = value

    def answer(
        self, method: str, path: str, auth: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        status, payload, _ = self.respond(method, path, auth, headers, body)
        return status, payload

    def respond(
        self, method: str, path: str, auth: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON payload, extra response headers)."""
        self.calls.append((method, path))
        status, payload = self._answer(method, path, auth, body)
        if isinstance(payload, tuple):  # a list: (payload, matched row count)
            payload, total = payload
            return status, payload, {"X-Total-Count": str(total)}
        return status, payload, {}

    def _answer(self, method: str, path: str, auth: str, body: bytes) -> tuple[int, Any]:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if auth != expected:
            return 401, {
                "error": {
                    "message": "User Not Authenticated",
                    "detail": "Required to provide Auth information",
                },
                "status": "failure",
            }
        route, _, query = path.partition("?")
        params = dict(urllib.parse.parse_qsl(query))
        display_all = params.get("sysparm_display_value") == "all"
        with self._lock:
            if route == "/api/now/v1/attachment/file" and method == "POST":
                return self._attach(params, body)
            if route == "/api/now/table/change_request" and method == "POST":
                return 201, {
                    "result": self._show(self._create(json.loads(body or b"{}")), display_all)
                }
            if route == "/api/now/table/change_request" and method == "GET":
                rows = select(list(self.records.values()), params.get("sysparm_query", ""))
                offset = int(params.get("sysparm_offset") or 0)
                limit = int(params.get("sysparm_limit") or 10000)
                page = [self._show(r, display_all) for r in rows[offset : offset + limit]]
                return 200, ({"result": page}, len(rows))
            prefix = "/api/now/table/change_request/"
            if route.startswith(prefix):
                sys_id = route[len(prefix) :]
                if sys_id not in self.records:
                    return 404, {
                        "error": {
                            "message": "No Record found",
                            "detail": "Record doesn't exist or ACL restricts the record retrieval",
                        },
                        "status": "failure",
                    }
                if method == "GET":
                    return 200, {"result": self._show(self.records[sys_id], display_all)}
                if method in ("PATCH", "PUT"):
                    self._update(sys_id, json.loads(body or b"{}"))
                    return 200, {"result": self._show(self.records[sys_id], display_all)}
        return 400, {"error": {"message": f"Invalid request {method} {route}"}, "status": "failure"}

    def _create(self, doc: dict[str, Any]) -> dict[str, Any]:
        sys_id = uuid.uuid4().hex
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        record = {
            "sys_id": sys_id,
            "number": f"CHG00{next(self._numbers)}",
            "state": "-5",  # New
            "approval": "not requested",
            "type": "normal",
            "short_description": "",
            "description": "",
            "sys_created_on": now,
            "sys_created_by": USER,  # the authenticated user (a system field, never written)
            # Journal fields read back empty; a write appends an entry (kept in work_notes).
            "work_notes": "",
            "comments": "",
            "close_code": "",
            "close_notes": "",
            "assignment_group": "",
            "correlation_id": "",
            "correlation_display": "",
        }
        for key, value in doc.items():
            if key not in ("sys_id", "number", "work_notes", "sys_created_by"):
                record[key] = str(value)
        self.records[sys_id] = record
        self.work_notes[sys_id] = []
        self.attachments[sys_id] = {}
        if doc.get("work_notes"):
            self.work_notes[sys_id].append(str(doc["work_notes"]))
        return record

    def _update(self, sys_id: str, doc: dict[str, Any]) -> None:
        for key, value in doc.items():
            if key == "work_notes":
                if value:
                    self.work_notes[sys_id].append(str(value))
            elif key not in ("sys_id", "number"):
                self.records[sys_id][key] = str(value)

    def _attach(self, params: dict[str, str], body: bytes) -> tuple[int, Any]:
        target = params.get("table_sys_id", "")
        if params.get("table_name") != "change_request" or target not in self.records:
            return 400, {"error": {"message": "Invalid table or table_sys_id"}, "status": "failure"}
        name = params.get("file_name") or "attachment"
        self.attachments[target][name] = body
        return 201, {
            "result": {
                "sys_id": uuid.uuid4().hex,
                "file_name": name,
                "size_bytes": str(len(body)),
                "table_name": "change_request",
                "table_sys_id": target,
            }
        }

    @staticmethod
    def _show(record: dict[str, Any], display_all: bool) -> dict[str, Any]:
        if not display_all:
            return dict(record)
        return {k: {"value": v, "display_value": v} for k, v in record.items()}

    def start(self, directory: Path | None = None) -> ServiceNowFake:
        where = Path(directory or tempfile.mkdtemp(prefix="snow-fake-"))
        key, cert = self_signed(
            "127.0.0.1",
            datetime(2020, 1, 1, tzinfo=UTC),
            datetime(2100, 1, 1, tzinfo=UTC),
            extensions=[
                (
                    x509.SubjectAlternativeName(
                        [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                    ),
                    False,
                ),
                (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
                (x509.BasicConstraints(ca=True, path_length=None), True),
            ],
        )
        from cryptography.hazmat.primitives import serialization

        (where / "snow.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (where / "snow.key").write_bytes(private_pem(key))
        self.ca_file = str(where / "snow.pem")

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(where / "snow.pem", where / "snow.key")
        self._server = LoopbackServer(self._handle, tls=context)
        self.base_url = self._server.start()
        return self

    def _handle(self, request: Request) -> Reply:
        status, payload, headers = self.respond(
            request.method, request.path, request.authorization, request.headers, request.body
        )
        if status == 201 and request.path.startswith("/api/now/v1/attachment/file"):
            # The Attachment API answers with the new attachment's URL in Location.
            headers["Location"] = (
                f"{self.base_url}/api/now/v1/attachment/{payload['result']['sys_id']}"
            )
        return json_reply(status, payload, headers=headers)

    def stop(self) -> None:
        self._server.stop()
