"""The root click group, exit codes and the one place errors are turned into messages."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

import click

from agent.errors import ConfigError, IdpSyncError, SourceError, UnsafePlan
from agent.exitcodes import ExitCode
from agent.textsafe import safe_text

# Aliases kept for the command modules (and other branches) that import them from here.
EXIT_OK = ExitCode.OK
EXIT_ERROR = ExitCode.ERROR
EXIT_CHANGES_PENDING = ExitCode.CHANGES_PENDING
EXIT_BLOCKED = ExitCode.BLOCKED
EXIT_WARNINGS = ExitCode.WARNINGS

F = TypeVar("F", bound=Callable[..., Any])

_VERBOSITY = "idpsync.verbosity"
_QUIET = "idpsync.quiet"


def _version() -> str:
    try:
        return version("idpsync")
    except PackageNotFoundError:  # running from a checkout without install
        return "0+unknown"


class RootGroup(click.Group):
    """Click's usage errors exit 2 by default, which idpsync uses for "changes pending": a CI
    job would read a typo as pending changes. Every usage error exits 64 (EX_USAGE) instead."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            exc.exit_code = ExitCode.USAGE  # type: ignore[misc]  # per instance, on purpose
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            exc.exit_code = ExitCode.USAGE  # type: ignore[misc]  # per instance, on purpose
            raise


def configure_logging(verbose: int) -> None:
    """WARNING by default, INFO with -v (per-app decisions), DEBUG with -vv."""
    from agent.jsonlog import RedactingFormatter, protect_credentials

    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])  # once per process, as always
    root = logging.getLogger()
    if level < root.getEffectiveLevel():  # -v after the subcommand, once logging is set up
        root.setLevel(level)
    protect_credentials(os.environ)  # -vv must not print signed AWS request headers


def verbosity() -> int:
    """How many -v were given, before and after the subcommand together."""
    ctx = click.get_current_context(silent=True)
    return int(ctx.find_root().meta.get(_VERBOSITY, 0)) if ctx else 0


def quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx.find_root().meta.get(_QUIET, False)) if ctx else False


def _add_verbosity(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    if value:
        root = ctx.find_root()
        root.meta[_VERBOSITY] = int(root.meta.get(_VERBOSITY, 0)) + value
        configure_logging(root.meta[_VERBOSITY])


def _set_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.find_root().meta[_QUIET] = True


def verbosity_options() -> list[click.Option]:
    """-v and -q, accepted after the subcommand as well as before it."""
    return [
        click.Option(
            ["-v", "--verbose"],
            count=True,
            expose_value=False,
            callback=_add_verbosity,
            help="More output: -v per-app decisions, -vv debug logs.",
        ),
        click.Option(
            ["-q", "--quiet"],
            is_flag=True,
            expose_value=False,
            callback=_set_quiet,
            help="No progress output (progress shows only on a terminal anyway).",
        ),
    ]


@click.group(
    cls=RootGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(_version(), prog_name="idpsync")
@click.option("-v", "--verbose", count=True, help="More output (-v per-app decisions, -vv debug).")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Keep Okta and Microsoft Entra ID SAML apps trusting every Region of a multi-Region
    AWS IAM Identity Center.

    \b
    Typical use:
      idpsync validate-config --config idpsync.yaml
      idpsync show-desired    --config idpsync.yaml
      idpsync sync --dry-run  --config idpsync.yaml --out ticket/
      idpsync sync            --config idpsync.yaml

    \b
    Exit codes: 0 in sync / applied, 1 error, 2 changes pending (dry-run or plan),
    3 blocked by safety checks, 4 doctor found warnings only, 64 usage error.
    More: idpsync help exit-codes | config | safety
    """
    ctx.meta[_VERBOSITY] = verbose
    ctx.meta[_QUIET] = quiet
    configure_logging(verbose)


def handle_errors(func: F) -> F:
    """Turn idpsync errors into one clear message on stderr and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UnsafePlan as exc:
            click.echo(safe_text(f"error: {exc}"), err=True)
            sys.exit(ExitCode.BLOCKED)
        except ConfigError as exc:
            click.echo(safe_text(f"config error: {exc}"), err=True)
            sys.exit(ExitCode.ERROR)
        except SourceError as exc:
            click.echo(safe_text(f"source error: {exc}"), err=True)
            sys.exit(ExitCode.ERROR)
        except IdpSyncError as exc:
            click.echo(safe_text(f"error: {exc}"), err=True)
            sys.exit(ExitCode.ERROR)

    return wrapper  # type: ignore[return-value]


config_option = click.option(
    "-c",
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    envvar="IDPSYNC_CONFIG",
    help="Path to the YAML configuration (or set IDPSYNC_CONFIG).",
)
