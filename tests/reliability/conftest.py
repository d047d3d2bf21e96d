"""The reliability suites share the security suites' conftest: the suite-summary plugin, the
Okta fake fixtures and an Okta world."""

from __future__ import annotations

from tests.security.conftest import fake, okta_env, pytest_configure, world

__all__ = ["fake", "okta_env", "pytest_configure", "world"]
