"""``idpsync`` with optionally slow file writes, so a test can signal during a write.

With IDPSYNC_TEST_WRITE_DELAY=<seconds>, the file connector's atomic write first creates
``<app>.writing``, sleeps, writes, then removes the marker; the test waits for the marker
and sends SIGTERM while the write is in progress.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _slow_writes(delay: float) -> None:
    from connectors import file as file_connector

    original = file_connector.write_atomically

    def slow(path: Path, data: bytes) -> None:
        marker = path.with_name(path.name + ".writing")
        marker.write_text("writing")
        time.sleep(delay)
        original(path, data)
        marker.unlink()

    file_connector.write_atomically = slow


if __name__ == "__main__":
    delay = float(os.environ.get("IDPSYNC_TEST_WRITE_DELAY", "0") or 0)
    if delay:
        _slow_writes(delay)
    from agent.cli import main

    sys.argv = ["idpsync", *sys.argv[1:]]
    main()
