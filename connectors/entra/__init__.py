"""Microsoft Entra ID connector (``type: entra``) over msgraph-sdk; see ``connector.py``."""

from connectors.entra.connector import EntraConnector

__all__ = ["EntraConnector"]
