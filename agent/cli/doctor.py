"""``idpsync doctor``: check, Region by Region, that multi-Region sign-in is ready.

Read-only. Exit codes: 0 every check OK, 1 any FAIL, 4 only WARNs (see README.md).
"""

from __future__ import annotations

import asyncio
import sys

import click

from agent.cli.base import cli, config_option, handle_errors
from agent.config import Config, load_config
from agent.doctor.report import RENDERERS
from agent.doctor.runner import DoctorDeps, run_doctor
from agent.textsafe import safe_text


@cli.command("doctor")
@config_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(RENDERERS)),
    default="text",
    show_default=True,
    help="text (table for people), json (for machines) or markdown (for a ticket).",
)
@click.option(
    "--probe",
    is_flag=True,
    help="Also request each Region's portal URL without credentials and check the SAML "
    "AuthnRequest it leads to names an ACS URL the IdP app trusts.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=300),
    default=5.0,
    show_default=True,
    help="Seconds to wait for each DNS/TLS/HTTP step and each AWS call.",
)
@handle_errors
def doctor(config_path: str, fmt: str, probe: bool, timeout: float) -> None:
    """Is every Region ready? Instance and Regions, KMS replicas, IdP trust, metadata
    freshness, network reachability, certificates and (with --probe) the sign-in path.

    \b
    Exit codes: 0 all OK, 1 any FAIL, 4 only warnings.
    """
    config = load_config(config_path)
    deps = build_deps(config, timeout)
    report = asyncio.run(run_doctor(config, deps, probe_signin=probe))
    click.echo(safe_text(RENDERERS[fmt](report)), nl=False)  # app labels may hold escapes
    sys.exit(report.exit_code)


def build_deps(config: Config, timeout: float) -> DoctorDeps:
    """The production seams; tests monkeypatch this to point every seam at loopback fakes."""
    return DoctorDeps.production(config, timeout=timeout)
