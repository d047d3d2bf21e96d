"""Config checks on the raw document, before the models: references and URLs.

They run on the whole YAML document, so third-party connectors' sections get them too:

* every ``*_env`` value must name an environment variable (``[A-Za-z_][A-Za-z0-9_]*``);
  a value that is not a name is usually the secret itself, pasted where its variable's
  name belongs, so the error never shows it (and nothing reaches a log or the audit trail);
* no http(s)/s3 URL may carry user information (``https://user:password@host``).
"""

from __future__ import annotations

import re

from agent.errors import ConfigError

# What a ``*_env`` key may name: a POSIX environment variable name, nothing else.
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
URL_CREDENTIALS_HELP = (
    "credentials in a URL (https://user:password@host/...) are not accepted: they would be "
    "shown in plans, logs and the state database. Serve the metadata without a password "
    "from a host only administrators can write, use an s3: source (idpsync's own AWS "
    "credentials), or a file: next to the config (ca_bundle: trusts an internal CA)"
)


def has_userinfo(url: str) -> bool:
    """True when ``url``'s authority carries user information (``user[:password]@``)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https", "s3"):
        return False  # database URLs (state.url) carry their password legitimately
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    return "@" in authority


def check_references(node: object, path: str, key: str = "") -> None:
    """Every ``*_env`` value names an environment variable, and no URL carries a password.

    Runs on the raw document before the models (so third-party connectors get it too).
    Neither error shows the value: a ``*_env`` value that is not a name is usually the
    secret itself, pasted where its variable's name belongs.
    """
    if isinstance(node, dict):
        for name, value in node.items():
            child = f"{key}.{name}" if key else str(name)
            if isinstance(name, str) and name.endswith("_env") and value is not None:
                if not isinstance(value, str) or not ENV_NAME.fullmatch(value):
                    raise ConfigError(
                        "must be the NAME of an environment variable (letters, digits and _, "
                        "not starting with a digit), not its value; the value is not shown "
                        "here in case it is a secret. Put the secret in a variable and name "
                        "that variable here",
                        path=path,
                        key=child,
                    )
            elif isinstance(value, str) and has_userinfo(value):
                raise ConfigError(URL_CREDENTIALS_HELP, path=path, key=child)
            check_references(value, path, child)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            check_references(item, path, f"{key}[{i}]")
