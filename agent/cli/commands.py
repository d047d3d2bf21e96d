"""Imports every command module so their commands register on the root group.

Add a line here when you add a module under ``agent/cli/``.
"""

from __future__ import annotations
