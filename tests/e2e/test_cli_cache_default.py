"""One-shot runs keep a last good copy by default (issue 16 item 3).

Two (and three) real CLI runs against a loopback HTTPS metadata source: the second sends
``If-None-Match`` and gets a 304; when the source then fails, the third plans from the last
good copy (fail-static) instead of failing.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.benchmarks.servers import _tls_files
from tests.cli_support import REPO, example_copy, invoke

METADATA = (REPO / "config" / "examples" / "identity-center-metadata.xml").read_bytes()
ETAG = '"v1"'


class Source:
    """HTTPS on 127.0.0.1: 200 with an ETag, 304 for If-None-Match, 503 while failing."""

    def __init__(self, workdir: Path) -> None:
        self.failing = False
        self.requests: list[dict[str, str]] = []
        cert, key = _tls_files(workdir)
        self.ca_file = str(cert)
        source = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                source.requests.append(dict(self.headers.items()))
                if source.failing:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.headers.get("If-None-Match") == ETAG:
                    self.send_response(304)
                    self.send_header("ETag", ETAG)
                    self.end_headers()
                else:
                    self.send_response(200)
                    self.send_header("ETag", ETAG)
                    self.send_header("Content-Length", str(len(METADATA)))
                    self.end_headers()
                    self.wfile.write(METADATA)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}/idc/metadata.xml"


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Source]:
    server = Source(tmp_path)
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def _config_with_url(tmp_path: Path, source: Source) -> Path:
    config = example_copy(tmp_path / "cfg")
    doc = yaml.safe_load(config.read_text())
    doc["identity_center"]["metadata"] = [{"url": source.url, "ca_bundle": source.ca_file}]
    config.write_text(yaml.safe_dump(doc))
    return config


def test_second_run_sends_if_none_match_and_a_failed_source_uses_the_last_copy(
    tmp_path: Path, source: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IDPSYNC_STATE_DIR", raising=False)
    config = _config_with_url(tmp_path, source)
    first = invoke("sync", "--dry-run", "-c", str(config))
    assert first.exit_code == 2, first.output
    assert "If-None-Match" not in source.requests[0]
    assert (config.parent / ".idpsync-cache").is_dir()  # the documented default

    second = invoke("sync", "--dry-run", "-c", str(config))
    assert second.exit_code == 2, second.output
    assert source.requests[1].get("If-None-Match") == ETAG  # an unchanged file costs a 304

    source.failing = True
    third = invoke("sync", "--dry-run", "-c", str(config))
    assert third.exit_code == 2, third.output  # the same plan, from the last good copy
    assert "source_from_cache" in third.output
    assert "4 change(s) in 1 app(s)" in second.stdout and "4 change(s) in 1 app(s)" in third.stdout


def test_the_default_cache_follows_idpsync_state_dir(
    tmp_path: Path, source: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_dir = tmp_path / "state"
    monkeypatch.setenv("IDPSYNC_STATE_DIR", str(state_dir))
    config = _config_with_url(tmp_path, source)
    assert invoke("show-desired", "-c", str(config)).exit_code == 0
    assert (state_dir / ".idpsync-cache").is_dir()
    assert not (config.parent / ".idpsync-cache").exists()


def test_an_unwritable_default_cache_warns_and_the_run_goes_on(
    tmp_path: Path,
    source: Source,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("IDPSYNC_STATE_DIR", str(blocker))
    config = _config_with_url(tmp_path, source)
    caplog.set_level(logging.WARNING, logger="agent.cli.desired")
    result = invoke("sync", "--dry-run", "-c", str(config))
    assert result.exit_code == 2, result.output
    assert "4 change(s) in 1 app(s)" in result.stdout
    warnings = [r.getMessage() for r in caplog.records if r.name == "agent.cli.desired"]
    assert any("cannot store last good copy" in w and "cache_dir" in w for w in warnings)
