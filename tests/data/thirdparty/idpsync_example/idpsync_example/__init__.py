"""An idpsync connector for ExampleIdP, built on ``connectors.kit``."""

from idpsync_example.connector import ExampleConnector, ExampleTargetConfig

__all__ = ["ExampleConnector", "ExampleTargetConfig"]
