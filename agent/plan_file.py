"""Reading an approved plan.json: the checksum and redaction checks before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

from agent.errors import ConfigError
from agent.plan import Plan, plan_from_dict


def load_plan(path: str) -> Plan:
    """Read plan.json; refuse a file whose checksum does not match its content."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the plan ({exc.strerror})", path=path) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON ({exc.msg})", path=path) from None
    except RecursionError:  # json's C parser recurses once per nesting level
        raise ConfigError(
            "not an idpsync plan (JSON nested too deeply); use the plan.json that "
            "`idpsync plan --out DIR` wrote",
            path=path,
        ) from None
    if not isinstance(doc, dict):
        raise ConfigError("not an idpsync plan (expected a JSON object)", path=path)
    try:
        plan = plan_from_dict(doc)
    except ValueError as exc:
        raise ConfigError(str(exc), path=path) from None
    if doc.get("checksum") != plan.checksum() and "://***@" in json.dumps(doc):
        raise ConfigError(
            "the plan holds a URL whose user information idpsync redacted (an IdP app lists "
            "a URL with user:password@), so it cannot be applied exactly; remove that URL "
            "from the app, then run `idpsync plan` again",
            path=path,
        )
    if doc.get("checksum") != plan.checksum():
        raise ConfigError(
            "the plan's checksum does not match its content (was the file edited?); "
            "run `idpsync plan` again",
            path=path,
        )
    return plan
