"""Hostile and broken configuration, end to end through ``idpsync sync`` (a writing run).

Each case must exit 1 with a message that names the problem (usually the key path), must
make zero writes on the Okta fake, and must never echo a secret that was put inline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.security.harness import GOOD_METADATA, OKTA_TOKEN, TOKEN_ENV, OktaWorld, output_of
from tests.security.metadata_corpus import sign

INLINE_SECRET = "sentinel-inline-secret-5b7d9f1e3a"


@dataclass(frozen=True)
class ConfigCase:
    name: str
    edit: Callable[[dict[str, Any], Path], Any]  # mutates the config dict (or returns text)
    expect: tuple[str, ...]


def _set(path: str, value: Any) -> Callable[[dict[str, Any], Path], None]:
    def edit(doc: dict[str, Any], _: Path) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return edit


_DELETE = object()


def _text(text: str) -> Callable[[dict[str, Any], Path], str]:
    return lambda doc, _: text


def _okta_key_file(content: bytes | None) -> Callable[[dict[str, Any], Path], None]:
    """Switch the Okta target to private-key auth with a key file that cannot be used."""

    def edit(doc: dict[str, Any], workdir: Path) -> None:
        key = workdir / "okta-key.pem"
        if content is None:
            key.mkdir()  # a directory: unreadable as a file even for root
        else:
            key.write_bytes(content)
        doc["targets"][0]["auth"] = {
            "method": "private_key",
            "client_id": "0oafakeclient",
            "private_key_file": "okta-key.pem",
        }

    return edit


def _entra(**extra: Any) -> Callable[[dict[str, Any], Path], None]:
    def edit(doc: dict[str, Any], _: Path) -> None:
        target = {
            "name": "entra-prod",
            "type": "entra",
            "tenant_id": "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
            "auth": {"method": "token_env", "token_env": "GRAPH_TOKEN"},
            "apps": [{"discover": "aws-iam-identity-center"}],
            **extra,
        }
        doc["targets"].append(target)

    return edit


def _signed_metadata_without_cert(doc: dict[str, Any], workdir: Path) -> None:
    (workdir / "md.xml").write_bytes(etree.tostring(sign(GOOD_METADATA)))
    doc["identity_center"]["signature"] = {"cert_file": "nope.pem"}


def _second_okta_named_same(doc: dict[str, Any], _: Path) -> None:
    doc["targets"].append(dict(doc["targets"][0]))


CASES = [
    ConfigCase("not valid YAML", _text("identity_center: [unclosed\n"), ("not valid YAML",)),
    ConfigCase("not a mapping", _text("- just\n- a list\n"), ("YAML mapping",)),
    ConfigCase("empty file", _text(""), ("YAML mapping",)),
    ConfigCase("missing identity_center", _set("identity_center", _DELETE), ("identity_center",)),
    ConfigCase(
        "missing primary_region",
        _set("identity_center.primary_region", _DELETE),
        ("primary_region", "field required"),
    ),
    ConfigCase(
        "no metadata source",
        _set("identity_center.metadata", []),
        ("identity_center.metadata",),
    ),
    ConfigCase(
        "metadata source with file and url",
        _set("identity_center.metadata", [{"file": "md.xml", "url": "https://x/md.xml"}]),
        ("exactly one of file:, url: or s3:",),
    ),
    ConfigCase(
        "metadata url over http",
        _set("identity_center.metadata", [{"url": "http://example.com/md.xml"}]),
        ("url must use https://",),
    ),
    ConfigCase("unknown top-level key", _set("polcy", {"mode": "sync"}), ("polcy", "unknown key")),
    ConfigCase(
        "typo inside identity_center",
        _set("identity_center.primary_regoin", "us-east-1"),
        ("primary_regoin", "unknown key"),
    ),
    ConfigCase(
        "wrong type max_changes",
        _set("policy", {"max_changes": "lots"}),
        ("policy.max_changes",),
    ),
    ConfigCase(
        "unknown policy mode", _set("policy", {"mode": "delete-all"}), ("policy.mode", "add-only")
    ),
    ConfigCase(
        "bad removal_grace",
        _set("policy", {"removal_grace": "soon"}),
        ("removal_grace", "duration"),
    ),
    ConfigCase(
        "malformed instance_arn",
        _set("identity_center.instance_arn", "arn:aws:sso:::instance/evil"),
        ("instance_arn",),
    ),
    ConfigCase(
        "allowed_hosts without a region group",
        _set("identity_center.allowed_hosts", [r".*\.evil\.com"]),
        ("allowed_hosts", "(?P<region>"),
    ),
    ConfigCase(
        "allowed_hosts not a regex",
        _set("identity_center.allowed_hosts", ["(?P<region>[a-z"]),
        ("allowed_hosts", "not a regex"),
    ),
    ConfigCase(
        "legacy in stacks", _set("identity_center.stacks", ["legacy"]), ("stacks", "legacy")
    ),
    ConfigCase("unknown connector", _set("targets.0.type", "oktaa"), ("targets[0].type", "oktaa")),
    ConfigCase("target without type", _set("targets.0.type", _DELETE), ("targets[0].type",)),
    ConfigCase("duplicate target names", _second_okta_named_same, ("duplicate target name",)),
    ConfigCase(
        "Okta token inline",
        _set("targets.0.auth.token", INLINE_SECRET),
        ("targets[0].auth.token", "unknown key"),
    ),
    ConfigCase(
        "Okta api_token inline on the target",
        _set("targets.0.api_token", INLINE_SECRET),
        ("targets[0].api_token", "unknown key"),
    ),
    ConfigCase(
        "Graph client secret inline",
        _entra(auth={"method": "client_secret", "client_id": "x", "client_secret": INLINE_SECRET}),
        ("targets[1].auth", "client_secret"),
    ),
    ConfigCase(
        "AWS secret key inline",
        _set("identity_center.aws_secret_access_key", INLINE_SECRET),
        ("aws_secret_access_key", "unknown key"),
    ),
    ConfigCase("Okta org_url not http(s)", _set("targets.0.org_url", "ftp://x"), ("org_url",)),
    ConfigCase("Okta without apps", _set("targets.0.apps", []), ("targets[0].apps",)),
    ConfigCase(
        "Okta selector with id and label",
        _set("targets.0.apps", [{"id": "0oa1", "label": "x"}]),
        ("exactly one of id:, discover: or label:",),
    ),
    ConfigCase("Okta concurrency 0", _set("targets.0.concurrency", 0), ("concurrency",)),
    ConfigCase("Entra tenant not a GUID", _entra(tenant_id="contoso"), ("tenant_id", "GUID")),
    ConfigCase(
        "Entra graph_url plain http", _entra(graph_url="http://graph.evil.com"), ("plain http",)
    ),
    ConfigCase(
        "missing token env var",
        _set("targets.0.auth.token_env", "IDPSYNC_VARIABLE_NOBODY_SET"),
        ("IDPSYNC_VARIABLE_NOBODY_SET", "not set"),
    ),
    ConfigCase(
        "unreadable key file (a directory)", _okta_key_file(None), ("okta-key.pem", "cannot read")
    ),
    ConfigCase("missing key file", _set("targets.0.auth", {}), ("auth",)),
    ConfigCase(
        "key file that is not a key",
        _okta_key_file(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"),
        ("okta-key.pem",),
    ),
    ConfigCase(
        "key file with binary garbage", _okta_key_file(bytes(range(256))), ("okta-key.pem",)
    ),
    ConfigCase("signature cert_file missing", _signed_metadata_without_cert, ("nope.pem",)),
]


def test_at_least_twenty_config_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.suite("hostile-input", "config")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_config_is_refused_with_zero_writes(world: OktaWorld, case: ConfigCase) -> None:
    path = world.workdir / "idpsync.yaml"
    doc = json.loads(path.read_text())
    text = case.edit(doc, world.workdir)
    path.write_text(text if isinstance(text, str) else json.dumps(doc), encoding="utf-8")
    world.fake.reset_log()
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 1, out
    for needle in case.expect:
        assert needle in out, out
    assert world.puts() == [], "a broken config must cause zero writes"
    assert INLINE_SECRET not in out and OKTA_TOKEN not in out


def test_missing_config_file_names_the_path(world: OktaWorld) -> None:
    result = world.run("sync", config=world.workdir / "absent.yaml")
    assert result.exit_code == 1
    assert "absent.yaml" in output_of(result) and "file not found" in output_of(result)


def test_the_token_variable_is_read_from_the_environment(
    world: OktaWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the env-var case: with the variable set the same config writes."""
    monkeypatch.setenv(TOKEN_ENV, OKTA_TOKEN)
    assert world.sync().exit_code == 0
    assert len(world.puts()) == 1
