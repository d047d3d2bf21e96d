"""The fakes' child process, shared by the main benchmark (``servers.py``) and the mixed
scenario (``mixed_servers.py``): a separate process keeps the fakes' request handling off
idpsync's GIL. The parent drives it over a pipe with ``(command, *args)`` messages, each
answered with what the fakes' method of that name returns.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable
from typing import Any, Protocol, Self

ANSWER_SECONDS = 600  # the longest a command may take (seeding thousands of apps)


class Stoppable(Protocol):
    def stop(self) -> None: ...


def serve_commands(conn: Any, fakes: Stoppable) -> None:
    """In the child: say "ready", then answer commands until "stop"; stop the fakes at the end."""
    try:
        conn.send("ready")
        while True:
            command, *args = conn.recv()
            if command == "stop":
                conn.send(None)
                return
            conn.send(getattr(fakes, command)(*args))
    finally:
        fakes.stop()


class ChildFakes:
    """The parent's handle: starts ``target(child_end, *args)`` in a spawned process and waits
    for its "ready"; ``with`` stops it (a process that does not stop is killed)."""

    def __init__(self, target: Callable[..., None], args: tuple[Any, ...], name: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._name = name
        self._proc = ctx.Process(target=target, args=(child, *args), name=name)
        self._proc.start()
        self._receive("start")

    def _receive(self, command: str) -> Any:
        if not self._conn.poll(ANSWER_SECONDS):
            raise RuntimeError(f"the {self._name} process did not answer {command!r}")
        return self._conn.recv()

    def _call(self, command: str, *args: Any) -> Any:
        self._conn.send((command, *args))
        return self._receive(command)

    def close(self) -> None:
        if self._proc.is_alive():
            with contextlib.suppress(OSError, EOFError, RuntimeError):
                self._call("stop")
            self._proc.join(10)
            if self._proc.is_alive():
                self._proc.kill()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
