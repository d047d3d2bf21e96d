"""Vendor knowledge a connector states once (issue 14): its kind is its config's ``type:``
literal, its typed config is a :class:`ConfigView`, its timeout comes from the target's key,
and "these keys go together" is one kit check."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest

from agent.connector import ConnectorContext, TargetConfig
from agent.model import AppRef
from agent.registry import build_connector, connector_class, known_types
from connectors.jumpcloud.config import JumpCloudTarget
from connectors.keycloak.config import KeycloakTarget
from connectors.kit.base import ConfigView, Fetched, KitConnector
from connectors.kit.codec import Doc, FunctionCodec
from connectors.kit.config import keys_together
from connectors.kit.jsonapp import JsonKitConnector
from connectors.onelogin.config import OneLoginTarget

SECRET_ENV = "IDPSYNC_TEST_CLIENT_SECRET"


@pytest.mark.parametrize("type_name", known_types())
def test_every_registered_kind_is_its_config_type(type_name: str) -> None:
    cls = connector_class(type_name)
    assert cls.kind == type_name
    literal = cls.config_model.model_fields["type"].annotation
    assert getattr(literal, "__args__", None) == (type_name,)


class _WidgetTarget(TargetConfig):
    type: Literal["widget"] = "widget"


class _Widget(KitConnector):
    config_model: ClassVar[type[TargetConfig]] = _WidgetTarget
    codec = FunctionCodec(lambda doc: None, lambda doc, trust: doc)  # type: ignore[arg-type,return-value]
    target = ConfigView(_WidgetTarget)

    async def discover(self) -> list[AppRef]:
        raise NotImplementedError  # never called: only the class's declarations are tested

    async def fetch(self, ref: AppRef) -> Fetched:
        raise NotImplementedError

    async def send(self, ref: AppRef, before: Fetched, after: Doc) -> Fetched | None:
        raise NotImplementedError


class _Renamed(_Widget):
    kind: ClassVar[str] = "widget-v2"  # a connector may still choose its own kind


def test_kind_is_derived_from_the_literal_unless_set() -> None:
    assert _Widget.kind == "widget"
    assert _Renamed.kind == "widget-v2"


def test_config_view_is_the_config_typed_and_refuses_another_model() -> None:
    config = _WidgetTarget.model_validate({"name": "w"})
    widget = _Widget(config, ConnectorContext(env={}))
    assert widget.target is config
    assert isinstance(_Widget.target, ConfigView)
    widget.config = TargetConfig.model_validate({"name": "w", "type": "widget"})
    with pytest.raises(AssertionError):
        _ = widget.target


class _Pair:
    def __init__(self, first: object, second: object) -> None:
        self.first, self.second = first, second


@pytest.mark.parametrize(
    ("first", "second", "fails"),
    [(None, None, False), ("a", 1, False), ("a", None, True), (None, 0, True)],
)
def test_keys_together(first: object, second: object, fails: bool) -> None:
    problems = keys_together(_Pair(first, second), "first", "second")
    expected = [("fail", "first", "set first and second together, or neither")]
    assert problems == (expected if fails else [])


def _targets() -> list[TargetConfig]:
    common: dict[str, Any] = {"timeout": 7.5}
    return [
        KeycloakTarget.model_validate(
            {
                "name": "kc",
                "base_url": "https://sso.example.com",
                "realm": "r",
                "client_id": "idpsync",
                "client_secret_env": SECRET_ENV,
                "apps": [{"client_id": "urn:amazon:webservices"}],
                **common,
            }
        ),
        OneLoginTarget.model_validate(
            {
                "name": "ol",
                "api_url": "https://example.onelogin.com",
                "client_id": "idpsync",
                "client_secret_env": SECRET_ENV,
                "apps": [{"name": "AWS"}],
                **common,
            }
        ),
        JumpCloudTarget.model_validate(
            {"name": "jc", "api_key_env": SECRET_ENV, "apps": [{"label": "AWS"}], **common}
        ),
    ]


@pytest.mark.parametrize("target", _targets(), ids=lambda t: t.type)
def test_the_targets_timeout_key_reaches_its_http_client(
    target: TargetConfig, tmp_path: Path
) -> None:
    # These three used to drop their `timeout:` and use the run's (30 s).
    context = ConnectorContext(env={SECRET_ENV: "s3cret"}, base_dir=tmp_path, timeout=30)
    connector = build_connector(target, context)
    assert isinstance(connector, JsonKitConnector)
    assert connector.http.context.timeout == 7.5
