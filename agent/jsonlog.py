"""JSON-lines logging for service mode, with secrets redacted at the last moment.

Each record becomes one JSON object per line (``ts``, ``level``, ``logger``, ``msg`` and
any ``extra`` fields), which log pipelines ingest without parsing rules. Redaction runs on
the rendered line, so it covers messages, arguments, extras and tracebacks alike:

* every secret value the configuration references (the contents of ``*_env`` variables),
  registered with :func:`register_secret`;
* well-known credential shapes: ``SSWS <token>``, ``Bearer <token>``, ``password=``,
  ``client_secret=``, ``token=`` parameters, and the user information of any URL
  (``://user:pw@``, :func:`agent.textsafe.redact_userinfo`).

Control characters (ANSI escapes, bidi overrides) in a line become a visible ``\\uXXXX``
(:func:`agent.textsafe.escape_controls`), so a hostile label or metadata value quoted in a
message can neither drive the terminal nor forge a second log line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from agent.textsafe import escape_controls, one_line, redact_userinfo

REDACTED = "***"

_PATTERNS = (
    re.compile(r"(?i)\b(SSWS|Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"(?i)\b(password|passwd|pwd|client_secret|secret|token|api_key|apikey|access_key)"
        r"(\"?\s*[=:]\s*\"?)[^\s\"&,;]+"
    ),
)

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Redact ``value`` wherever it appears in a log line (ignored if too short to matter)."""
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, REDACTED)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return redact_userinfo(text)


# Libraries that print signed request headers at DEBUG (the AWS SigV4 credential with the
# access key ID, X-Amz-Security-Token, Authorization): ``-vv`` / ``--log-level debug`` must
# not turn those on, so they are capped at INFO.
CREDENTIAL_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3")
AWS_SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


def protect_credentials(env: Mapping[str, str]) -> None:
    """Cap credential-dumping loggers at INFO and redact the AWS secrets in ``env``."""
    for name in CREDENTIAL_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    for var in AWS_SECRET_ENV:
        register_secret(env.get(var))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # json escapes C0 itself; C1 and bidi controls get the same (valid JSON) escape.
        return escape_controls(redact(json.dumps(entry, default=str, ensure_ascii=False)))


class RedactingFormatter(logging.Formatter):
    """The CLI's readable text format, redacted the same way."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        # The message itself stays on one line (a value cannot forge a second log line);
        # a traceback appended after it keeps its own lines.
        return one_line(super().formatMessage(record))

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(redact(super().format(record)))


def configure_json_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Replace the root handlers with one JSON-lines handler (service mode)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
