"""Okta connector: custom SAML 2.0 apps and the ``amazon_aws_sso`` catalog app.

Registered as the ``okta`` entry point (``connectors.okta:OktaConnector``).
"""

from __future__ import annotations

from connectors.okta.connector import OktaConnector

__all__ = ["OktaConnector"]
