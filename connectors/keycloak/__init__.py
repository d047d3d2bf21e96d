"""Keycloak connector: SAML clients of one realm through the Admin REST API.

Registered as the ``keycloak`` entry point (``connectors.keycloak:KeycloakConnector``).
"""

from __future__ import annotations

from connectors.keycloak.connector import KeycloakConnector

__all__ = ["KeycloakConnector"]
