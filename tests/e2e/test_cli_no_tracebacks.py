"""No tracebacks at the edges (issue 16 item 5): --listen, --out, YAML errors, durations.

Each failure is one line naming the address or path and the fix, exit 1, and never comes after
a plan printed as if all went well.
"""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import pytest

from agent.durations import parse_duration
from tests.cli_support import example_copy, invoke
from tests.service_support import app_doc, metadata_xml, write_config


def _service_config(tmp_path: Path) -> Path:
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1"]))
    (tmp_path / "app.json").write_text(app_doc(["us-east-1"]))
    return write_config(tmp_path, mode="observe")


def _one_error_line(output: str) -> str:
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    return errors[0]


def test_listen_on_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    config = _service_config(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke(
            "run",
            "-c",
            str(config),
            "--listen",
            f"127.0.0.1:{port}",
            "--state-url",
            f"sqlite:///{tmp_path / 's.db'}",
        )
    assert result.exit_code == 1
    line = _one_error_line(result.output)
    assert f"cannot listen on 127.0.0.1:{port}" in line and "--listen" in line


def test_listen_on_an_address_this_host_does_not_have(tmp_path: Path) -> None:
    config = _service_config(tmp_path)
    result = invoke(
        "run",
        "-c",
        str(config),
        "--listen",
        "192.0.2.55:9464",
        "--state-url",
        f"sqlite:///{tmp_path / 's.db'}",
    )
    assert result.exit_code == 1
    line = _one_error_line(result.output)
    assert "cannot listen on 192.0.2.55:9464" in line and "IDPSYNC_LISTEN" in line


@pytest.mark.parametrize("command", ["sync --dry-run", "plan"])
def test_out_under_a_file_fails_before_any_plan_is_printed(tmp_path: Path, command: str) -> None:
    config = example_copy(tmp_path / "cfg")
    blocker = tmp_path / "ticket.txt"
    blocker.write_text("a file, not a directory")
    out = blocker / "sub"
    result = invoke(*command.split(), "-c", str(config), "--out", str(out))
    assert result.exit_code == 1, result.output
    assert result.stdout == ""  # no plan that looked fine
    line = _one_error_line(result.output)
    assert str(out) in line and "a file is in the way" in line
    assert "choose a writable directory" in line
    # --out naming the file itself is a usage error click catches: 64, before anything runs.
    assert invoke(*command.split(), "-c", str(config), "--out", str(blocker)).exit_code == 64


def test_writing_sync_refuses_an_unusable_out_before_it_writes(tmp_path: Path) -> None:
    config = example_copy(tmp_path / "cfg")
    app = config.parent / "examples" / "app.json"
    before = app.read_bytes()
    blocker = tmp_path / "f"
    blocker.write_text("x")
    result = invoke(
        "sync",
        "-c",
        str(config),
        "--out",
        str(blocker / "t"),
        "--state-url",
        f"sqlite:///{tmp_path / 's.db'}",
    )
    assert result.exit_code == 1 and app.read_bytes() == before  # nothing written to the IdP


def test_read_only_filesystem_out(tmp_path: Path) -> None:
    ro = Path("/proc/idpsync-plan-out")  # /proc refuses new directories, even for root
    config = example_copy(tmp_path / "cfg")
    result = invoke("plan", "-c", str(config), "--out", str(ro))
    assert result.exit_code == 1 and result.stdout == ""
    assert str(ro) in _one_error_line(result.output)


@pytest.mark.parametrize(
    ("text", "words", "line"),
    [
        ("identity_center:\n\tprimary_region: us-east-1\n", "a tab character", 2),
        (
            "identity_center:\n  primary_region: us-east-1\n  stacks: [ipv4, dualstack\n"
            "targets: []\n",
            "the '[' opened here is never closed",
            3,
        ),
        ("identity_center: {primary_region: us-east-1\ntargets: []\n", "'{' opened here", 1),
        ("identity_center:\n  primary_region: 'us-east-1\n", "quote opened here", 2),
    ],
)
def test_yaml_errors_say_what_and_where(tmp_path: Path, text: str, words: str, line: int) -> None:
    config = tmp_path / "idpsync.yaml"
    config.write_text(text)
    result = invoke("validate-config", "-c", str(config))
    assert result.exit_code == 1
    message = result.output.strip()
    assert "\n" not in message and "Traceback" not in message
    assert words in message and f"at line {line}," in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PT15M", timedelta(minutes=15)),
        ("PT30S", timedelta(seconds=30)),
        ("P1D", timedelta(days=1)),
        ("PT1H30M", timedelta(minutes=90)),
        ("15m", timedelta(minutes=15)),
        (90, timedelta(seconds=90)),
    ],
)
def test_durations_accept_iso_8601_as_the_schema_shows(value: object, expected: timedelta) -> None:
    assert parse_duration(value) == expected


def test_schema_defaults_load_as_config_values(tmp_path: Path) -> None:
    config = example_copy(tmp_path / "cfg")
    text = config.read_text() + "\nservice:\n  interval: PT15M\n  jitter: PT30S\n"
    text += "state:\n  url: sqlite:///x.db\n"
    config.write_text(text.replace("removal_grace: 24h", "removal_grace: P1D"))
    result = invoke("validate-config", "-c", str(config), "--offline")
    assert result.exit_code == 0, result.output
    for bad in ("P", "PT", "15 minutes"):
        config.write_text(text.replace("interval: PT15M", f"interval: {bad}"))
        result = invoke("validate-config", "-c", str(config), "--offline")
        assert result.exit_code == 1 and "ISO 8601" in result.output
