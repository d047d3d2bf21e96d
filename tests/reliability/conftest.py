"""Registers the suite-summary plugin; shares the Okta fake fixtures and an Okta world."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.okta_fake import OktaFake
from tests.okta_support import fake, okta_env
from tests.security.harness import OktaWorld, make_world
from tests.security.suite_summary import register

__all__ = ["fake", "okta_env", "world"]


def pytest_configure(config: pytest.Config) -> None:
    register(config)


@pytest.fixture
def world(fake: OktaFake, okta_env: Path, monkeypatch: pytest.MonkeyPatch) -> OktaWorld:
    """One Okta custom SAML app missing two Regions, the good metadata, a config."""
    return make_world(fake, okta_env, monkeypatch)
