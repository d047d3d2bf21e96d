"""OneLogin connector: SAML apps through the OneLogin API v2.

Registered as the ``onelogin`` entry point (``connectors.onelogin:OneLoginConnector``).
"""

from __future__ import annotations

from connectors.onelogin.connector import OneLoginConnector

__all__ = ["OneLoginConnector"]
