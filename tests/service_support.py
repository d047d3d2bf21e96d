"""Helpers for the service, rollback and HA tests: metadata, configs, file apps, agents.

Agents run as real processes (``idpsync run``, or ``tests/service_entry.py`` when a test
needs slow writes) on 127.0.0.1 ports chosen free by the OS.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
IDPSYNC = Path(sys.executable).parent / "idpsync"
TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"


def acs(region: str, stack: str = "ipv4") -> str:
    host = f"{region}.signin.aws" if stack == "ipv4" else f"{region}.sso.signin.aws"
    return f"https://{host}/platform/saml/acs/{TENANT}"


def metadata_xml(regions: Iterable[str]) -> str:
    entries = []
    index = 0
    for region in regions:
        for stack in ("ipv4", "dualstack"):
            default = ' isDefault="true"' if index == 0 else ""
            entries.append(
                f'<md:AssertionConsumerService Binding="{POST}" Location="{acs(region, stack)}" '
                f'index="{index}"{default}/>'
            )
            index += 1
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'entityID="{ENTITY}">\n'
        '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">\n'
        + "\n".join(entries)
        + "\n</md:SPSSODescriptor>\n</md:EntityDescriptor>\n"
    )


def app_doc(regions: Iterable[str], *, default: str | None = None) -> str:
    urls = [acs(r, s) for r in regions for s in ("ipv4", "dualstack")]
    default = default or urls[0]
    entries = [{"url": u, "index": i, "default": u == default} for i, u in enumerate(urls)]
    doc = {"entity_id": ENTITY, "label": "AWS IAM Identity Center", "acs": entries}
    return json.dumps(doc, indent=2) + "\n"


def app_urls(path: Path) -> list[str]:
    return [e["url"] for e in json.loads(path.read_text())["acs"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(
    directory: Path,
    *,
    apps: Iterable[str] = ("app.json",),
    mode: str = "apply",
    interval: str = "1h",
    watch_interval: str = "1s",
    lease_ttl: str = "3s",
    port: int = 0,
    state_url: str = "sqlite:///state.db",
    policy_mode: str = "add-only",
    max_changes: int = 20,
    name: str = "idpsync.yaml",
) -> Path:
    targets = "\n".join(f"  - name: {Path(a).stem}\n    type: file\n    path: {a}" for a in apps)
    text = f"""
identity_center:
  primary_region: us-east-1
  metadata:
    - file: metadata.xml
targets:
{targets}
policy:
  mode: {policy_mode}
  max_changes: {max_changes}
service:
  mode: {mode}
  interval: {interval}
  watch_interval: {watch_interval}
  jitter: 0s
  lease_ttl: {lease_ttl}
  listen: 127.0.0.1:{port}
state:
  url: {state_url}
"""
    path = directory / name
    path.write_text(text)
    return path


class Agent:
    """One ``idpsync run`` process; stderr (JSON lines) goes to a file for inspection."""

    def __init__(
        self,
        config: Path,
        *,
        port: int,
        replica: str = "replica-a",
        env: dict[str, str] | None = None,
        slow_writes: float = 0.0,
        state_url: str | None = None,
    ) -> None:
        self.port = port
        self.log_path = config.parent / f"{replica}.log"
        full_env = {**os.environ, **(env or {})}
        for name in ("IDPSYNC_STATE_URL", "IDPSYNC_STATE_DIR", "IDPSYNC_REPLICA_ID"):
            full_env.pop(name, None)
        if state_url:
            full_env["IDPSYNC_STATE_URL"] = state_url
        if slow_writes:
            full_env["IDPSYNC_TEST_WRITE_DELAY"] = str(slow_writes)
            argv = [sys.executable, str(REPO / "tests" / "service_entry.py")]
        else:
            argv = [str(IDPSYNC)]
        argv += ["run", "--config", str(config), "--replica-id", replica]
        argv += ["--listen", f"127.0.0.1:{port}"]
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            argv, stdout=self._log, stderr=subprocess.STDOUT, env=full_env, cwd=config.parent
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url(path), timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, ""

    def metric(self, name: str, labels: str = "") -> float | None:
        status, body = self.get("/metrics")
        if status != 200:
            return None
        pattern = re.escape(name + (f"{{{labels}}}" if labels else "")) + r" (\S+)"
        found = re.search(r"^" + pattern + "$", body, re.M)
        return float(found.group(1)) if found else None

    def logs(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"msg": line, "raw": True})
        return out

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


def write_okta_service_config(
    directory: Path,
    org_url: str,
    app_id: str,
    *,
    instance_arn: str | None = None,
    watch_interval: str = "1s",
) -> Path:
    """A service config with one Okta target (API token from OKTA_API_TOKEN) and SQLite state."""
    arn = f"\n  instance_arn: {instance_arn}" if instance_arn else ""
    path = directory / "idpsync.yaml"
    path.write_text(
        f"""
identity_center:
  primary_region: us-east-1{arn}
  metadata:
    - file: metadata.xml
targets:
  - name: okta-test
    type: okta
    org_url: {org_url}
    auth: {{method: api_token, token_env: OKTA_API_TOKEN}}
    apps: [{{id: {app_id}}}]
    backoff_base: 0.01
    timeout: 5
service:
  mode: apply
  interval: 1h
  watch_interval: {watch_interval}
  jitter: 0s
  lease_ttl: 3s
state:
  url: sqlite:///state.db
"""
    )
    return path


def wait_for(
    predicate: Callable[[], object], timeout: float, what: str, step: float = 0.05
) -> float:
    """Poll until ``predicate()`` is truthy; return the seconds it took, fail with ``what``."""
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)
