"""validate-config and show-desired, through click's runner and as a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from agent.cli import cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "example.yaml"


def test_validate_config_on_the_example() -> None:
    result = CliRunner().invoke(cli, ["validate-config", "--config", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and "1 metadata source(s)" in result.output


def test_validate_config_names_file_key_and_fix(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("identity_center:\n  primary_region: us-east-1\n  metadata:\n    - {}\n")
    result = CliRunner().invoke(cli, ["validate-config", "--config", str(bad)])
    assert result.exit_code == 1
    assert str(bad) in result.output
    assert "identity_center.metadata[0]" in result.output
    assert "exactly one of file:, url: or s3:" in result.output


def test_show_desired_text() -> None:
    result = CliRunner().invoke(cli, ["show-desired", "--config", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde" in result.output
    assert "ACS URLs (7)" in result.output
    assert "ap-southeast-2" in result.output


def test_show_desired_json_is_the_desired_state() -> None:
    result = CliRunner().invoke(cli, ["show-desired", "--config", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["primary_region"] == "us-east-1"
    assert {a["region"] for a in doc["acs"]} == {"us-east-1", "eu-west-1", "ap-southeast-2"}
    assert {a["stack"] for a in doc["acs"]} == {"ipv4", "dualstack", "legacy"}
    assert doc["default_acs"] == doc["acs"][0]["url"]
    assert doc["complete"] is True
    assert len(doc["digest"]) == 64


def test_show_desired_exits_1_when_a_source_failed_without_a_copy(tmp_path: Path) -> None:
    shutil.copy(REPO / "config" / "examples" / "identity-center-metadata.xml", tmp_path / "m.xml")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "identity_center:\n  primary_region: us-east-1\n  metadata:\n"
        "    - file: m.xml\n    - file: missing.xml\n"
    )
    result = CliRunner().invoke(cli, ["show-desired", "--config", str(cfg)])
    assert result.exit_code == 1
    assert "source_failed" in result.output and "missing.xml" in result.output


def test_show_desired_with_a_cache_dir_survives_a_broken_file(tmp_path: Path) -> None:
    shutil.copy(REPO / "config" / "examples" / "identity-center-metadata.xml", tmp_path / "m.xml")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "identity_center:\n  primary_region: us-east-1\n  cache_dir: cache\n"
        "  metadata:\n    - file: m.xml\n"
    )
    assert CliRunner().invoke(cli, ["show-desired", "--config", str(cfg)]).exit_code == 0
    assert any((tmp_path / "cache").iterdir())
    (tmp_path / "m.xml").write_text("not xml")
    result = CliRunner().invoke(cli, ["show-desired", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "last good copy used" in result.output and "ACS URLs (7)" in result.output


def test_show_desired_reports_a_hostile_file_as_a_source_error(tmp_path: Path) -> None:
    (tmp_path / "m.xml").write_text("<!DOCTYPE x><x/>")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "identity_center:\n  primary_region: us-east-1\n  metadata:\n    - file: m.xml\n"
    )
    result = CliRunner().invoke(cli, ["show-desired", "--config", str(cfg)])
    assert result.exit_code == 1
    assert "source error" in result.output and "DTD" in result.output


def test_relative_paths_resolve_against_the_config_directory_in_a_real_process(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from agent.cli import main; main()",
            "show-desired",
            "-c",
            str(EXAMPLE),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ACS URLs (7)" in result.stdout
