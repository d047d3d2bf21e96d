"""A loopback sso-admin fake (DescribeInstance, ListRegions, DescribeRegion) for boto3.

moto raises NotImplementedError for these calls (domain.md 2.7). The fake speaks the JSON
1.1 protocol on 127.0.0.1 and answers per *signing Region* (read from the SigV4 credential
scope), so one endpoint can play a failed primary and a healthy replica. It records every
call as ``(region, operation, body)``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/sso/aws4_request")


@dataclass
class SsoAdminFake:
    instance_arn: str
    primary: str
    regions: list[dict[str, Any]]
    page_size: int = 2
    failing: dict[str, tuple[int, str]] = field(default_factory=dict)  # region -> (status, code)
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def answer(
        self, region: str, operation: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        self.calls.append((region, operation, body))
        if region in self.failing:
            status, code = self.failing[region]
            return status, {"__type": code, "message": f"{code} in {region}"}
        if body.get("InstanceArn") != self.instance_arn:
            return 400, {"__type": "ResourceNotFoundException", "message": "no such instance"}
        if operation == "DescribeInstance":
            return 200, {
                "InstanceArn": self.instance_arn,
                "Status": "ACTIVE",
                "PrimaryRegion": self.primary,
                "EncryptionConfigurationDetails": {"KeyType": "CUSTOMER_MANAGED_KEY"},
            }
        if operation == "ListRegions":
            start = int(body.get("NextToken") or 0)
            page = self.regions[start : start + self.page_size]
            out: dict[str, Any] = {"Regions": page}
            if start + self.page_size < len(self.regions):
                out["NextToken"] = str(start + self.page_size)
            return 200, out
        if operation == "DescribeRegion":  # the region dict as listed (h18a; h15o extends)
            found = [r for r in self.regions if r["RegionName"] == body.get("RegionName")]
            if not found:
                return 400, {"__type": "ResourceNotFoundException", "message": "no such Region"}
            return 200, dict(found[0])
        return 400, {"__type": "ValidationException", "message": f"unknown {operation}"}


@contextmanager
def serve(fake: SsoAdminFake) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            target = self.headers.get("X-Amz-Target", "")
            match = _SCOPE.search(self.headers.get("Authorization", ""))
            region = match.group("region") if match else "?"
            status, payload = fake.answer(region, target.rsplit(".", 1)[-1], body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
