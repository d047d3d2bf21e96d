"""``python -m agent.healthcheck``: the container's HEALTHCHECK.

Asks ``/readyz`` on the port the service listens on (``IDPSYNC_LISTEN``, else the default
``service.listen``), so a replica that runs but cannot sync (state store down, syncs failing)
is reported unhealthy, and moving the port with ``IDPSYNC_LISTEN`` moves the check with it.
Exit 0 when ready, 1 otherwise (what Docker expects).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_LISTEN = "127.0.0.1:9464"
_ANY = {"", "0.0.0.0", "::", "*"}


def readyz_url(listen: str) -> str:
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if host in _ANY:
        host = "127.0.0.1"  # listening on every address: ask over loopback
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/readyz"


def main() -> int:
    url = readyz_url(os.environ.get("IDPSYNC_LISTEN") or DEFAULT_LISTEN)
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        sys.stderr.write(f"{url}: {exc}\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
