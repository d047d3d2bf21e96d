"""The ``bookmarks:`` section: every bad input is a ConfigError that names the key and fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from agent import registry
from agent.bookmarks import PortalStack
from agent.config import parse_config
from agent.connector import Connector, TargetConfig
from agent.errors import ConfigError
from tests.bookmark_support import ARN, INSTANCE


def doc(section: dict[str, Any] | None, *, arn: str | None = ARN, **more: Any) -> dict[str, Any]:
    ic: dict[str, Any] = {"primary_region": "us-east-1", "metadata": [{"file": "m.xml"}]}
    if arn is not None:
        ic["instance_arn"] = arn
    body: dict[str, Any] = {
        "identity_center": ic,
        "targets": [{"name": "app", "type": "file", "path": "app.json"}],
        **more,
    }
    if section is not None:
        body["bookmarks"] = section
    return body


def load(section: dict[str, Any] | None, **kw: Any) -> Any:
    return parse_config(doc(section, **kw), path="c.yaml", base_dir=Path("."))


def test_defaults_and_the_instance_id_from_the_arn() -> None:
    cfg = load({"targets": ["app"]})
    b = cfg.bookmarks
    assert b.label == "AWS access portal ({region})" and b.stack is PortalStack.DUALSTACK
    assert b.mode == "add-only"
    rules = b.rules(cfg.identity_center.instance_arn)
    assert rules.instance_id == INSTANCE
    assert rules.url_for("eu-west-1") == f"https://{INSTANCE}.portal.eu-west-1.app.aws"


def test_no_section_means_no_bookmarks() -> None:
    assert load(None).bookmarks is None


def test_an_explicit_instance_id_works_without_an_arn() -> None:
    cfg = load({"targets": ["app"], "instance_id": INSTANCE, "stack": "ipv4"}, arn=None)
    assert cfg.bookmarks.rules(None).url_for("eu-west-1").endswith(".portal.amazonaws.com")


@pytest.mark.parametrize(
    ("section", "kw", "key", "words"),
    [
        ({"targets": []}, {}, "bookmarks.targets", "at least 1"),
        ({}, {}, "bookmarks.targets", "field required"),
        ({"targets": ["app", "app"]}, {}, "bookmarks.targets", "twice"),
        ({"targets": ["nope"]}, {}, "bookmarks.targets[0]", "no target named 'nope'"),
        ({"targets": ["app"]}, {"arn": None}, "bookmarks.instance_id", "instance_arn"),
        ({"targets": ["app"], "instance_id": "ssoins-XYZ"}, {}, "bookmarks.instance_id", "16 hex"),
        ({"targets": ["app"], "stack": "legacy"}, {}, "bookmarks.stack", "ipv4"),
        ({"targets": ["app"], "mode": "delete-all"}, {}, "bookmarks.mode", "add-only"),
        ({"targets": ["app"], "colour": "red"}, {}, "bookmarks.colour", "unknown key"),
        ({"targets": ["app"], "label": "AWS ({regoin})"}, {}, "bookmarks.label", "only"),
        ({"targets": ["app"], "label": "AWS ({region!r})"}, {}, "bookmarks.label", "only"),
        ({"targets": ["app"], "label": "AWS ({region:>20})"}, {}, "bookmarks.label", "only"),
        ({"targets": ["app"], "label": "AWS ({})"}, {}, "bookmarks.label", "only"),
        ({"targets": ["app"], "label": "AWS ({region"}, {}, "bookmarks.label", "template"),
        ({"targets": ["app"], "label": "AWS portal"}, {}, "bookmarks.label", "needs"),
        ({"targets": ["app"], "label": "AWS\u202e ({region})"}, {}, "bookmarks.label", "control"),
        ({"targets": ["app"], "label": "AWS\n({region})"}, {}, "bookmarks.label", "control"),
        ({"targets": ["app"], "label": "<b>{region}</b>"}, {}, "bookmarks.label", "markup"),
        ({"targets": ["app"], "label": "`{region}`"}, {}, "bookmarks.label", "markup"),
        ({"targets": ["app"], "label": " {region}"}, {}, "bookmarks.label", "spaces"),
        ({"targets": ["app"], "label": "x" * 90 + "{region}"}, {}, "bookmarks.label", "long"),
    ],
)
def test_bad_input_is_a_clear_config_error(
    section: dict[str, Any], kw: dict[str, Any], key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load(section, **kw)
    assert words in str(err.value)
    assert key in str(err.value)


class PlainConnector(Connector):
    """A connector type that keeps no bookmark apps (subclasses only ``Connector``)."""

    kind: ClassVar[str] = "plain"
    config_model: ClassVar[type[TargetConfig]] = TargetConfig


def test_a_target_that_cannot_keep_bookmarks_names_the_types_that_can(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = registry.connector_class
    monkeypatch.setattr(
        registry,
        "connector_class",
        lambda name, key=None: PlainConnector if name == "plain" else real(name, key=key),
    )
    section = {"targets": ["app"]}
    body = doc(section)
    body["targets"] = [{"name": "app", "type": "plain"}]
    with pytest.raises(ConfigError) as err:
        parse_config(body, path="c.yaml")
    message = str(err.value)
    assert "target 'app' (type plain) cannot keep bookmark apps" in message
    assert "file" in message.split("types that can:")[1]
    assert "bookmarks.targets[0]" in message


def test_every_bookmarks_key_is_documented_in_the_readme() -> None:
    from agent.bookmark_config import BookmarksConfig

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### Per-Region bookmark apps") :]
    for key in (*BookmarksConfig.model_fields, "bookmarks_file"):
        assert f"{key}:" in section, f"bookmarks.{key} is not documented in README.md"
