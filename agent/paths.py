"""Where a path written in the config file points: one rule for every key that names a file."""

from __future__ import annotations

from pathlib import Path


def config_path(path: str | Path, base_dir: Path) -> Path:
    """``~`` expanded, then relative to the config file's directory (``base_dir``)."""
    expanded = Path(path).expanduser()
    return expanded if expanded.is_absolute() else base_dir / expanded
