"""The guided Google Workspace connector (``type: google_workspace``)."""

from connectors.google.connector import GoogleWorkspaceConnector

__all__ = ["GoogleWorkspaceConnector"]
