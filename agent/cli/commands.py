"""Imports every command module so their commands register on the root group.

Add a line here when you add a module under ``agent/cli/``.
"""

from __future__ import annotations

from agent.cli import desired as _desired  # noqa: F401  (validate-config, show-desired)
from agent.cli import doctor as _doctor  # noqa: F401  (doctor)
from agent.cli import failover as _failover  # noqa: F401  (failover)
from agent.cli import helptopics as _helptopics  # noqa: F401  (help, completion)
from agent.cli import service as _service  # noqa: F401  (run, history, rollback)
from agent.cli import sync as _sync  # noqa: F401  (sync, plan, apply)
from agent.cli.base import cli, verbosity_options

# -v and -q work after the subcommand too (`idpsync sync -c FILE -v`), not only before it.
for _command in cli.commands.values():
    _command.params.extend(verbosity_options())
