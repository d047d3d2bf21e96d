"""``idpsync validate-config`` and ``idpsync show-desired``."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click

from agent.cli.base import cli, config_option, handle_errors
from agent.cli.state import STATE_DIR_ENV
from agent.config import Config, load_config
from agent.desired import build_desired
from agent.errors import SourceError
from agent.exitcodes import ExitCode
from agent.model import DesiredTrust
from agent.paths import config_path
from agent.sources.base import CachedCopy, DirectoryCache, LastGoodCache
from agent.textsafe import safe_text
from agent.xmlsec_check import check_xmlsec

DEFAULT_CACHE_DIR = ".idpsync-cache"
log = logging.getLogger(__name__)


class _DefaultDirectoryCache(DirectoryCache):
    """The default cache: a run must not fail because the directory nobody chose is not
    writable (a read-only config directory), so a failed store is a warning, not an error."""

    def put(self, source: str, copy: CachedCopy) -> None:
        try:
            super().put(source, copy)
        except SourceError as exc:
            log.warning(
                "%s; the next run cannot fall back to this copy (set "
                "identity_center.cache_dir or %s to a writable directory)",
                exc,
                STATE_DIR_ENV,
            )


def cache_for(config: Config) -> LastGoodCache:
    """The last-good cache of one-shot runs (fail-static and ``If-None-Match`` across runs).

    ``identity_center.cache_dir`` when set (relative to the config file); else
    ``.idpsync-cache`` in ``$IDPSYNC_STATE_DIR`` when set (beside the state database, for
    read-only config directories), else beside the config file.
    """
    directory = config.identity_center.cache_dir
    if directory is not None:
        return DirectoryCache(config_path(directory, config.base_dir))
    state_dir = os.environ.get(STATE_DIR_ENV)
    base = Path(state_dir).expanduser() if state_dir else config.base_dir
    return _DefaultDirectoryCache(base / DEFAULT_CACHE_DIR)


@cli.command("validate-config")
@config_option
@click.option(
    "--offline", is_flag=True, help="Skip the checks that need the network (DNS of each URL)."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@handle_errors
def validate_config(config_path: str, offline: bool, output_format: str) -> None:
    """Check the configuration and what a run will need: files readable, *_env variables set,
    URLs plausible (and, unless --offline, resolving). Never prints a secret.

    Exit codes: 0 valid (warnings allowed), 1 anything a run would fail on.
    """
    from agent.validate import FAIL, check_config, summary

    check_xmlsec()
    config = load_config(config_path)
    checks = check_config(config, env=os.environ, offline=offline)
    ok = not any(c.status == FAIL for c in checks)
    ic = config.identity_center
    if output_format == "json":
        doc = {
            "config": config_path,
            "ok": ok,
            "offline": offline,
            "primary_region": ic.primary_region,
            "metadata_sources": len(ic.metadata),
            "targets": [t.name for t in config.targets],
            "summary": summary(checks),
            "checks": [c.to_dict() for c in checks],
        }
        click.echo(json.dumps(doc, indent=2))
    else:
        for c in checks:
            if c.status != "ok":
                click.echo(f"{c.status.upper():<4}  {c.key}: {c.message}", err=True)
        counts = summary(checks)
        verdict = "OK" if ok else "FAILED"
        click.echo(
            f"{config_path}: {verdict}: primary Region {ic.primary_region}, "
            f"{len(ic.metadata)} metadata source(s), {len(config.targets)} target(s); "
            f"{counts['ok']} check(s) passed, {counts['warn']} warning(s), "
            f"{counts['fail']} failed" + (" (offline: DNS not checked)" if offline else "")
        )
    sys.exit(ExitCode.OK if ok else ExitCode.ERROR)


def render_text(desired: DesiredTrust) -> str:
    lines = [
        f"entity ID:      {desired.entity_id}",
        f"primary Region: {desired.primary_region}",
        f"default ACS:    {desired.default_acs}",
        f"complete:       {'yes' if desired.complete else 'NO (nothing will be removed)'}",
        f"ACS URLs ({len(desired.acs)}):",
    ]
    for a in desired.acs:
        index = "-" if a.index is None else str(a.index)
        marker = "*" if a.url == desired.default_acs else " "
        lines.append(f"  {marker} {a.region:<16} {a.stack.value:<9} index {index:<5} {a.url}")
    if desired.regions:
        lines.append("Regions (sso-admin):")
        for r in desired.regions:
            primary = " primary" if r.is_primary else ""
            lines.append(f"    {r.name:<16} {r.status.value}{primary}")
    for c in desired.certificates:
        lines.append(
            f"certificate: sha256={c.sha256} use={c.use or '-'} "
            f"expires {c.not_after.date().isoformat()} {c.subject}"
        )
    lines.append("sources:")
    for s in desired.sources:
        state = "ok" if s.ok else ("FAILED, last good copy used" if s.from_cache else "FAILED")
        lines.append(f"    {s.name}: {state} ({s.detail})")
    if desired.findings:
        lines.append("findings:")
        for f in desired.findings:
            lines.append(f"    [{f.severity.value}] {f.code}: {f.message}")
    return "\n".join(lines)


def render_json(desired: DesiredTrust) -> str:
    doc = desired.to_dict()
    doc["digest"] = desired.digest()
    doc["sources"] = [
        {"name": s.name, "ok": s.ok, "from_cache": s.from_cache, "detail": s.detail}
        for s in desired.sources
    ]
    doc["findings"] = [
        {"code": f.code, "severity": f.severity.value, "message": f.message, "region": f.region}
        for f in desired.findings
    ]
    return json.dumps(doc, indent=2)


@cli.command("show-desired")
@config_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@handle_errors
def show_desired(config_path: str, output_format: str) -> None:
    """Print what every IdP app must trust (from the metadata and Region list) and findings.

    Exits 1 when a source failed with no last good copy (the state is incomplete).
    """
    check_xmlsec()
    config = load_config(config_path)
    desired = build_desired(config, cache=cache_for(config))
    text = render_json(desired) if output_format == "json" else render_text(desired)
    click.echo(safe_text(text))  # a certificate subject or finding may carry ANSI escapes
    sys.exit(ExitCode.OK if desired.complete else ExitCode.ERROR)
