"""The JumpCloud connector (``type: jumpcloud``): SSO applications through the V1 API."""

from connectors.jumpcloud.connector import JumpCloudConnector

__all__ = ["JumpCloudConnector"]
