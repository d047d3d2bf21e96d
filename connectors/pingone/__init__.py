"""PingOne connector: SAML applications in one PingOne environment.

Registered as the ``pingone`` entry point (``connectors.pingone:PingOneConnector``).
"""

from __future__ import annotations

from connectors.pingone.connector import PingOneConnector

__all__ = ["PingOneConnector"]
