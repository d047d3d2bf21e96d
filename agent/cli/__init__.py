"""The ``idpsync`` command line. The only package that prints.

Each command group lives in its own module and registers itself on :data:`cli` when
imported below. Exit codes are defined once, in :mod:`agent.exitcodes` (README "Exit
codes", ``idpsync help exit-codes``); a usage error exits 64, never 2 ("changes pending").
"""

from __future__ import annotations

# Importing a command module registers its commands on ``cli``.
from agent.cli import commands as _commands  # noqa: F401  (registration side effect)
from agent.cli.base import cli

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="idpsync")


if __name__ == "__main__":  # pragma: no cover
    main()
