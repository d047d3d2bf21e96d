"""``idpsync help TOPIC`` and ``idpsync completion SHELL``.

The help topics live here and nowhere else; README.md points at them (a test checks that every
topic renders and that the README names it).
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from agent.cli.base import cli
from agent.exitcodes import MEANING, ExitCode


def _exit_codes() -> str:
    lines = ["Exit codes (every command):", ""]
    lines += [f"  {int(code):>3}  {MEANING[code]}" for code in ExitCode]
    lines += [
        "",
        "A usage error exits 64, never 2, so a CI job cannot read a typo as pending changes.",
    ]
    return "\n".join(lines)


_CONFIG = """\
Configuration: one YAML file (--config FILE or IDPSYNC_CONFIG), validated at load.

  identity_center:  primary_region, instance_arn, api_regions, metadata (file:, url:, s3:),
                    stacks, default_stack, keep_legacy, extra_regions, allowed_hosts,
                    cache_dir (default .idpsync-cache), certificate_warning_days, signature
  targets:          IdP apps: type okta, entra or file (each connector validates its own keys)
  policy:           mode add-only|sync, removal_grace (24h), max_changes (20)
  service:          mode observe|apply, interval (15m), watch_interval, jitter, lease_ttl,
                    listen (127.0.0.1:9464)
  state:            url (sqlite:///idpsync-state.db)

Relative paths resolve against the config file's directory; a relative SQLite state.url and
the default cache_dir resolve against IDPSYNC_STATE_DIR when it is set. Durations take 30s,
15m, 24h, 7d, a number of seconds, or ISO 8601 (PT15M). Secrets are never inline: name an
environment variable (*_env) or a file (*_file). Unknown keys are errors.

  idpsync validate-config -c FILE [--offline] [--format json]   check what a run will need
  config/schema.json                                            JSON Schema for editors"""

_SAFETY = """\
Safety rules (checked before any write; every violation is listed, not just the first):

  never remove the ACS URL of an ACTIVE Region                             --force: no
  never remove the primary Region's ACS URL, or the legacy primary URL     --force: no
  never leave an app with zero ACS URLs                                    --force: no
  never remove an entry this Identity Center does not own                  --force: no
  never act on a desired state from a failed or empty metadata source      --force: no
  stay within the app's limits (ACS count, single-ACS, URL length, index)  --force: no
  never remove anything under policy.mode add-only                         --force: no
  replacing a non-empty entity ID with a different one                     --force: yes
  adding URLs of a new tenant ID next to one the app trusts (a new trust)  --force: yes
  more than policy.max_changes changes in one run                          --force: yes
  failover: only while sso-admin reports the primary down (--to) or up     --force: no
    again (--back), to an ACTIVE Region; only single-ACS apps' one ACS URL
    and default change; --back only onto what the failover wrote

A violation of one app blocks that app (exit 3); a run-wide one blocks every app.
Dry-run is enforced by the core: a connector's write method is never reached."""

TOPICS: dict[str, str] = {
    "exit-codes": _exit_codes(),
    "config": _CONFIG,
    "safety": _SAFETY,
}


@cli.command("help")
@click.argument("topic", type=click.Choice(sorted(TOPICS)), required=False)
def help_command(topic: str | None) -> None:
    """Explain a topic: exit-codes, config or safety (without TOPIC: list them)."""
    if topic is None:
        click.echo("Topics: " + ", ".join(sorted(TOPICS)) + "  (idpsync help TOPIC)")
        return
    click.echo(TOPICS[topic])


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_command(shell: str) -> None:
    """Print the shell completion script, e.g. eval "$(idpsync completion bash)"."""
    completion = get_completion_class(shell)
    assert completion is not None  # click ships bash, zsh and fish
    click.echo(completion(cli, {}, "idpsync", "_IDPSYNC_COMPLETE").source())
