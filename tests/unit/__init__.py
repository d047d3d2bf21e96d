"""Unit tests: one module or a small group of them, no CLI and no service."""
