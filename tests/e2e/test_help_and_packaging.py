"""Help topics, shell completion (issue 16 item 8) and packaging (item 9)."""

from __future__ import annotations

import json
import re
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent import healthcheck
from agent.cli.helptopics import TOPICS
from agent.config import load_config, parse_config
from agent.exitcodes import ExitCode
from tests.cli_support import REPO, invoke
from tests.e2e.test_dockerfile import _instructions

README = (REPO / "README.md").read_text()


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_every_help_topic_renders_and_the_readme_names_it(topic: str) -> None:
    result = invoke("help", topic)
    assert result.exit_code == 0 and result.output.strip() == TOPICS[topic].strip()
    assert len(result.output.splitlines()) >= 5
    assert f"idpsync help {topic}" in README


def test_help_lists_topics_and_rejects_unknown_ones() -> None:
    listed = invoke("help")
    assert listed.exit_code == 0 and all(t in listed.output for t in TOPICS)
    assert invoke("help", "nope").exit_code == ExitCode.USAGE


def test_exit_codes_topic_comes_from_the_enum() -> None:
    text = TOPICS["exit-codes"]
    for code in ExitCode:
        assert re.search(rf"^\s+{int(code)}\s", text, re.M), code


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F"),
        ("zsh", "#compdef idpsync"),
        ("fish", "complete --no-files"),
    ],
)
def test_completion_scripts(shell: str, marker: str) -> None:
    result = invoke("completion", shell)
    assert result.exit_code == 0
    assert marker in result.output and "_IDPSYNC_COMPLETE" in result.output
    assert f"idpsync completion {shell}" in README


def test_completion_offers_the_subcommands(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from agent.cli import cli

    env = {"_IDPSYNC_COMPLETE": "bash_complete", "COMP_WORDS": "idpsync sy", "COMP_CWORD": "1"}
    result = CliRunner().invoke(cli, [], env=env, prog_name="idpsync")
    assert "sync" in result.output and "show-desired" not in result.output


# --- packaging ------------------------------------------------------------------------------


def test_constraints_pin_every_dependency_exactly() -> None:
    lines = [
        line
        for line in (REPO / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[\w.+!\-]+", x) for x in lines), lines
    pinned = {x.split("==")[0].lower().replace("_", "-") for x in lines}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    for requirement in wanted:
        name = re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pinned, f"{name} is not in constraints.txt: run scripts/lock"
    assert "idpsync" not in pinned


def test_constraints_are_used_by_scripts_test_ci_and_the_dockerfile() -> None:
    assert "-c constraints.txt" in (REPO / "scripts" / "test").read_text()
    assert "./scripts/test" in (REPO / ".ci" / "run").read_text()
    docker = _instructions(REPO / "Dockerfile")
    assert any(op == "RUN" and "pip install -c constraints.txt" in a for op, a in docker)
    assert any(op == "COPY" and "constraints.txt" in a.split() for op, a in docker)
    lock = (REPO / "scripts" / "lock").read_text()
    assert "pip freeze" in lock and "venv" in lock and "'.[test]'" in lock


def test_quickstart_first_command_needs_no_constraints_file() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("```", 2)[1]
    assert "pip install -q -e ." in quickstart and "idpsync sync --dry-run" in quickstart


def test_dockerfile_base_pinned_by_digest_with_oci_labels_and_readyz_healthcheck() -> None:
    docker = _instructions(REPO / "Dockerfile")
    froms = [a for op, a in docker if op == "FROM"]
    digests = {re.search(r"@(sha256:[0-9a-f]{64})", f).group(1) for f in froms}  # type: ignore[union-attr]
    assert len(digests) == 1
    labels = " ".join(a for op, a in docker if op == "LABEL")
    for key in ("title", "description", "version", "licenses", "base.name", "base.digest"):
        assert f"org.opencontainers.image.{key}=" in labels
    assert digests.pop() in labels
    [health] = [a for op, a in docker if op == "HEALTHCHECK"]
    assert json.loads(health.split("CMD", 1)[1]) == ["python", "-m", "agent.healthcheck"]


class _Ready:
    def __init__(self, status: int) -> None:
        server = self
        self.paths: list[str] = []
        self.status = status

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.paths.append(self.path)
                self.send_response(server.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.port = self.httpd.server_address[1]


@pytest.mark.parametrize(("status", "code"), [(200, 0), (503, 1)])
def test_healthcheck_asks_readyz_on_the_configured_port(
    monkeypatch: pytest.MonkeyPatch, status: int, code: int
) -> None:
    server = _Ready(status)
    try:
        monkeypatch.setenv("IDPSYNC_LISTEN", f"0.0.0.0:{server.port}")
        assert healthcheck.main() == code
        assert server.paths == ["/readyz"]
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def test_healthcheck_url_for_listen_forms() -> None:
    assert healthcheck.readyz_url("0.0.0.0:9464") == "http://127.0.0.1:9464/readyz"
    assert healthcheck.readyz_url("[::1]:9000") == "http://[::1]:9000/readyz"
    assert healthcheck.readyz_url("10.0.0.5:80") == "http://10.0.0.5:80/readyz"


def test_example_yaml_shows_commented_service_and_state_that_load(tmp_path: Path) -> None:
    example = REPO / "config" / "example.yaml"
    text = example.read_text()
    assert "\n# service:\n" in text and "\n# state:\n" in text
    load_config(example)  # the shipped file loads as it is
    # Uncommented, the sections are valid too (the defaults they show are real).
    lines = []
    for line in text.splitlines():
        if re.match(r"^# (service|state|bookmarks):$", line) or re.match(r"^#   [a-z_]+: ", line):
            line = line[2:]
        lines.append(line)
    doc = yaml.safe_load("\n".join(lines))
    assert {"service", "state"} <= set(doc)
    config = parse_config(doc, base_dir=example.parent)
    assert config.service.listen == "127.0.0.1:9464" and config.state.url.startswith("sqlite")
    assert config.bookmarks is not None and config.bookmarks.targets == ["offline-app"]


def test_every_shipped_example_config_loads() -> None:
    found = [*REPO.glob("config/*.yaml"), *REPO.glob("config/examples/*.yaml")]
    # CloudFormation templates (config/*.cfn.yaml, e.g. the EventBridge rule) are not idpsync
    # configurations.
    found = [p for p in found if not p.name.endswith(".cfn.yaml")]
    assert found
    for path in found:
        load_config(path)


def test_security_md_aws_policy_includes_kms_describe_key() -> None:
    security = (REPO / "SECURITY.md").read_text()
    aws = security.split("### AWS", 1)[1]
    policy = json.loads(aws.split("```json", 1)[1].split("```", 1)[0])
    actions = [
        a
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert {"kms:DescribeKey", "sso:ListRegions", "sso:DescribeInstance"} <= set(actions)
