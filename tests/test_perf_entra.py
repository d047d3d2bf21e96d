"""Entra writes as many apps at once as the target's ``concurrency`` (each app: guard GET,
PATCH, read-back, one request at a time), so requests in flight stay within it."""

from __future__ import annotations

from tests.entra_support import connector, graph
from tests.fakes.graph_fake import GraphFake

__all__ = ["graph"]


def test_write_concurrency_is_the_targets_concurrency(graph: GraphFake) -> None:
    assert connector(graph, concurrency=7).write_concurrency == 7
    assert connector(graph).write_concurrency == 4  # the documented default
