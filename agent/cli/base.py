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
from agent.textsafe import safe_text

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES_PENDING = 2
EXIT_BLOCKED = 3
EXIT_WARNINGS = 4

F = TypeVar("F", bound=Callable[..., Any])


def _version() -> str:
    try:
        return version("idpsync")
    except PackageNotFoundError:  # running from a checkout without install
        return "0+unknown"


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(_version(), prog_name="idpsync")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
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
    3 blocked by safety checks, 4 doctor found warnings only.
    """
    from agent.jsonlog import RedactingFormatter, protect_credentials

    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    protect_credentials(os.environ)  # -vv must not print signed AWS request headers


def handle_errors(func: F) -> F:
    """Turn idpsync errors into one clear message on stderr and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UnsafePlan as exc:
            click.echo(safe_text(f"error: {exc}"), err=True)
            sys.exit(EXIT_BLOCKED)
        except ConfigError as exc:
            click.echo(safe_text(f"config error: {exc}"), err=True)
            sys.exit(EXIT_ERROR)
        except SourceError as exc:
            click.echo(safe_text(f"source error: {exc}"), err=True)
            sys.exit(EXIT_ERROR)
        except IdpSyncError as exc:
            click.echo(safe_text(f"error: {exc}"), err=True)
            sys.exit(EXIT_ERROR)

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
