"""A loopback sso-admin fake for the real boto3 client: DescribeInstance, ListRegions,
DescribeRegion and AddRegion, with Regions that move ADDING → ACTIVE over (fake) time.

moto raises NotImplementedError for these calls (domain.md 2.7). The fake speaks the JSON
1.1 protocol on 127.0.0.1 and answers per *signing Region* (read from the SigV4 credential
scope), so one endpoint can play a failed primary and a healthy replica. It records every
call as ``(region, operation, body)``.

Shapes follow botocore's sso-admin model (2020-07-20; ``DescribeInstanceResponse`` with
``PrimaryRegion`` and ``Regions`` as ``RegionMetadata`` lists, ``DescribeRegionResponse``)
and the API reference:
https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DescribeInstance.html,
https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DescribeRegion.html,
https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_AddRegion.html
("The Region status is set to ADDING at first and changes to ACTIVE when the workflow
completes"; sso-admin has no waiter). AddRegion runs only in the primary Region, one
add/remove at a time. A Region that is not enabled (absent, or still ADDING) answers
nothing: ResourceNotFoundException, as reported for calls outside enabled Regions.

Time is the fake's own ``now`` (epoch seconds), moved by :meth:`SsoAdminFake.advance`:
no test sleeps for a Region to become ACTIVE.
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
NOW = 1_790_000_000.0  # 2026-09-21, the fake's clock at start


@dataclass
class SsoAdminFake:
    instance_arn: str
    primary: str
    regions: list[dict[str, Any]]  # RegionMetadata: RegionName, Status, IsPrimaryRegion, ...
    page_size: int = 2
    failing: dict[str, tuple[int, str]] = field(default_factory=dict)  # region -> (status, code)
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    now: float = NOW
    add_duration: float = 900.0  # seconds an AddRegion takes (ADDING, then ACTIVE)
    ready_at: dict[str, float] = field(default_factory=dict)  # ADDING Region -> ACTIVE time

    def __post_init__(self) -> None:
        self._lock = threading.Lock()  # the HTTP server answers on several threads

    # --- test controls -------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move the fake clock; ADDING Regions whose time has come are ACTIVE from now on."""
        self.now += seconds

    def add_region(self, name: str, *, takes: float | None = None) -> None:
        """What a successful AddRegion does: the Region is listed ADDING, then ACTIVE."""
        self.regions.append(
            {
                "RegionName": name,
                "Status": "ADDING",
                "IsPrimaryRegion": False,
                "AddedDate": self.now,
            }
        )
        self.ready_at[name] = self.now + (self.add_duration if takes is None else takes)

    # --- the service ---------------------------------------------------------------------

    def _tick(self) -> None:
        for region in self.regions:
            due = self.ready_at.get(region["RegionName"])
            if region["Status"] == "ADDING" and due is not None and self.now >= due:
                region["Status"] = "ACTIVE"
                del self.ready_at[region["RegionName"]]

    def _region(self, name: str) -> dict[str, Any] | None:
        return next((r for r in self.regions if r["RegionName"] == name), None)

    def _metadata(self, region: dict[str, Any]) -> dict[str, Any]:
        keys = ("RegionName", "Status", "AddedDate", "IsPrimaryRegion")
        return {k: region[k] for k in keys if k in region}

    def answer(
        self, region: str, operation: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            return self._answer(region, operation, body)

    def _answer(
        self, region: str, operation: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        self.calls.append((region, operation, body))
        self._tick()
        if region in self.failing:
            status, code = self.failing[region]
            return status, _error(code, f"{code} in {region}")
        if body.get("InstanceArn") != self.instance_arn:
            return 400, _error("ResourceNotFoundException", "no such instance")
        here = self._region(region)
        if here is None or here["Status"] != "ACTIVE":  # not enabled (yet) in this Region
            return 400, _error(
                "ResourceNotFoundException", "The resource does not exist in this Region"
            )
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:
            return 400, _error("ValidationException", f"unknown {operation}")
        result: tuple[int, dict[str, Any]] = handler(region, body)
        return result

    def _op_DescribeInstance(self, region: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, {
            "InstanceArn": self.instance_arn,
            "IdentityStoreId": "d-9067000000",
            "OwnerAccountId": "111122223333",
            "Name": "idpsync-test",
            "CreatedDate": NOW - 86_400 * 400,
            "Status": "ACTIVE",
            "PrimaryRegion": self.primary,
            "Regions": [self._metadata(r) for r in self.regions],
            "EncryptionConfigurationDetails": {"KeyType": "CUSTOMER_MANAGED_KEY"},
            "PermissionSetsEnabled": True,
        }

    def _op_ListRegions(self, region: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        size = int(body.get("MaxResults") or self.page_size)
        if not 1 <= size <= 100:
            return 400, _error("ValidationException", "MaxResults must be between 1 and 100")
        size = min(size, self.page_size)
        start = int(body.get("NextToken") or 0)
        page = self.regions[start : start + size]
        out: dict[str, Any] = {"Regions": [self._metadata(r) for r in page]}
        if start + size < len(self.regions):
            out["NextToken"] = str(start + size)
        return 200, out

    def _op_DescribeRegion(self, region: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        found = self._region(str(body.get("RegionName", "")))
        if found is None:
            return 400, _error(
                "ResourceNotFoundException", f"Region {body.get('RegionName')} is not enabled"
            )
        return 200, self._metadata(found)

    def _op_AddRegion(self, region: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if region != self.primary:
            return 400, _error(
                "ValidationException", "AddRegion is allowed in the primary Region only"
            )
        name = str(body.get("RegionName", ""))
        if self.ready_at or any(r["Status"] != "ACTIVE" for r in self.regions):
            return 400, _error("ConflictException", "another Region operation is in progress")
        if self._region(name) is not None:
            return 400, _error("ConflictException", f"{name} is already enabled")
        self.add_region(name)
        return 200, {"Status": "ADDING"}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"__type": code, "message": message}


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
