"""The fake Graph's write limit (3,000 writes per app+tenant per 150 s, domain.md 4.5), which
the benchmark turns on: a write beyond it is answered 429 with Retry-After, reads are not."""

from __future__ import annotations

import httpx

from tests.entra_support import TOKEN, graph
from tests.fakes.graph_fake import GraphFake

__all__ = ["graph"]


def test_writes_beyond_the_window_are_throttled_and_reads_are_not(graph: GraphFake) -> None:
    app = graph.add_app()
    graph.write_limit(2, 150.0)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{graph.base_url}/v1.0/applications/{app['id']}"
    body = {"defaultRedirectUri": None}
    with httpx.Client(headers=headers) as client:
        statuses = [client.patch(url, json=body).status_code for _ in range(2)]
        third = client.patch(url, json=body)
        read = client.get(url)
    assert statuses == [204, 204]
    assert third.status_code == 429
    assert 1 <= int(third.headers["Retry-After"]) <= 150
    assert read.status_code == 200
