"""``idpsync validate-config`` checks what a run will need (issue 16 item 4)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.validate import FAIL, OK, WARN, okta_org_url_problems
from tests.cli_support import REPO, invoke

SECRET = "sentinel-secret-value-7c1d"
METADATA = REPO / "config" / "examples" / "identity-center-metadata.xml"


def _write(tmp_path: Path, targets: list[dict[str, Any]], **ic: Any) -> Path:
    doc = {
        "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": str(METADATA)}]}
        | ic,
        "targets": targets,
    }
    path = tmp_path / "idpsync.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _okta(org_url: str = "https://acme.okta.com", **auth: Any) -> dict[str, Any]:
    return {
        "name": "okta-prod",
        "type": "okta",
        "org_url": org_url,
        "auth": auth or {"method": "api_token", "token_env": "IDPSYNC_TEST_OKTA_TOKEN"},
        "apps": [{"id": "0oa1"}],
    }


def _json(config: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, Any]:
    result = invoke("validate-config", "-c", str(config), "--format", "json", *extra, env=env)
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture(autouse=True)
def _offline_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """DNS answers only for *.okta.com here; everything else does not resolve."""
    looked_up: list[str] = []

    def fake(host: str, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host)
        if host.endswith(".okta.com"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", 443))]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return looked_up


def test_a_missing_env_variable_fails_without_printing_any_secret(tmp_path: Path) -> None:
    config = _write(tmp_path, [_okta()])
    code, doc = _json(config, env={"IDPSYNC_TEST_OKTA_TOKEN": ""})
    assert code == 1 and doc["ok"] is False
    [check] = [c for c in doc["checks"] if c["key"] == "targets[0].auth.token_env"]
    assert check["status"] == FAIL and "IDPSYNC_TEST_OKTA_TOKEN is not set" in check["message"]
    result = invoke("validate-config", "-c", str(config), env={"IDPSYNC_TEST_OKTA_TOKEN": SECRET})
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    code, doc = _json(config, env={"IDPSYNC_TEST_OKTA_TOKEN": SECRET})
    assert code == 0 and SECRET not in json.dumps(doc)


def test_missing_and_unreadable_files_fail_naming_the_path(tmp_path: Path) -> None:
    (tmp_path / "key-dir").mkdir()
    config = _write(
        tmp_path,
        [_okta(method="private_key", client_id="0oaX", private_key_file="key-dir")],
        signature={"cert_file": "~/definitely-not-here.pem"},
    )
    code, doc = _json(config, "--offline")
    assert code == 1
    by_key = {c["key"]: c for c in doc["checks"]}
    assert by_key["targets[0].auth.private_key_file"]["status"] == FAIL
    assert "is not a regular file" in by_key["targets[0].auth.private_key_file"]["message"]
    cert = by_key["identity_center.signature.cert_file"]
    home = str(Path("~").expanduser())
    assert cert["status"] == FAIL and cert["message"].startswith(home)  # ~ expanded
    assert by_key["identity_center.metadata[0].file"]["status"] == OK


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("https://acme.okta.com", None, ""),
        ("https://acme.oktapreview.com", None, ""),
        ("https://acme.okta-emea.com/", None, ""),
        (
            "https://acme-admin.okta.com",
            FAIL,
            "Admin Console host; use the org URL https://acme.okta.com",
        ),
        ("https://acme.okta.com/app/UserHome", FAIL, "without a path"),
        ("http://acme.okta.com", FAIL, "must look like https://"),
        ("https://login.acme.example", WARN, "custom domain"),
        ("http://127.0.0.1:8080", WARN, "for tests only"),
    ],
)
def test_okta_org_url_is_the_orgs_base_url(url: str, status: str | None, words: str) -> None:
    problem = okta_org_url_problems(url)
    if status is None:
        assert problem is None
    else:
        assert problem is not None and problem[0] == status and words in problem[1]


def test_admin_org_url_fails_the_command(tmp_path: Path) -> None:
    config = _write(tmp_path, [_okta("https://acme-admin.okta.com")])
    result = invoke("validate-config", "-c", str(config), env={"IDPSYNC_TEST_OKTA_TOKEN": "x"})
    assert result.exit_code == 1
    assert "FAIL  targets[0].org_url" in result.output and "acme.okta.com" in result.output


def test_offline_skips_dns_and_online_checks_it(tmp_path: Path, _offline_dns: list[str]) -> None:
    config = _write(
        tmp_path,
        [_okta()],
        metadata=[{"url": "https://intranet.example.invalid/idc/metadata.xml"}],
    )
    env = {"IDPSYNC_TEST_OKTA_TOKEN": "x"}
    code, doc = _json(config, "--offline", env=env)
    assert code == 0, doc
    assert _offline_dns == []
    code, doc = _json(config, env=env)
    assert code == 1
    failing = [c for c in doc["checks"] if c["status"] == FAIL]
    assert [c["key"] for c in failing] == ["identity_center.metadata[0].url"]
    assert "intranet.example.invalid does not resolve" in failing[0]["message"]
    assert "acme.okta.com" in _offline_dns


def test_json_shape_on_the_example() -> None:
    code, doc = _json(REPO / "config" / "example.yaml", "--offline")
    assert code == 0
    assert set(doc) >= {"config", "ok", "offline", "summary", "checks", "targets"}
    assert doc["summary"]["fail"] == 0 and doc["summary"]["ok"] >= 2
    assert {c["key"] for c in doc["checks"]} >= {
        "identity_center.metadata[0].file",
        "targets[0].path",
    }


def test_state_store_location_is_checked_without_showing_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _write(tmp_path, [])
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("IDPSYNC_STATE_DIR", str(blocker / "state"))
    code, doc = _json(config, "--offline")
    assert code == 1
    [state] = [c for c in doc["checks"] if c["key"] == "state.url"]
    assert state["status"] == FAIL and "IDPSYNC_STATE_DIR" in state["message"]
    assert str(blocker) in state["message"]
    monkeypatch.setenv("IDPSYNC_STATE_DIR", str(tmp_path / "fresh"))
    code, doc = _json(config, "--offline")
    assert code == 0 and not (tmp_path / "fresh").exists()  # checked, nothing created
    monkeypatch.setenv("IDPSYNC_STATE_URL", "postgresql+psycopg://u:hunter2@db/x")
    code, doc = _json(config, "--offline")
    assert "hunter2" not in json.dumps(doc)
