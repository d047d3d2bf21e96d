"""``idpsync_lease_lost_total`` counts each time a replica stops leading (what the
IdpsyncLeaseLost alert keys on), from the service's real lease path."""

from __future__ import annotations

import time
from pathlib import Path

from agent.config import load_config
from agent.service import Service
from agent.store import Store
from tests.service_support import app_doc, metadata_xml, write_config


def lost(service: Service) -> float | None:
    return service.metrics.registry.get_sample_value("idpsync_lease_lost_total")


async def test_a_lease_taken_over_is_counted_once(tmp_path: Path) -> None:
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1"]))
    (tmp_path / "app.json").write_text(app_doc(["us-east-1"]))
    path = write_config(tmp_path, lease_ttl="1s")
    store = Store.open("sqlite:///state.db", base_dir=tmp_path)
    try:
        leader = Service(path, load_config(path), store, holder="a")
        standby = Service(path, load_config(path), store, holder="b")
        await leader.check_lease()
        await standby.check_lease()
        assert leader.leader and lost(leader) == 0
        time.sleep(1.1)  # the leader missed its renewal; the standby takes over
        await standby.check_lease()
        await leader.check_lease()
        assert not leader.leader
        assert lost(leader) == 1
        await leader.check_lease()  # still not leading: no second loss
        assert lost(leader) == 1
        assert lost(standby) == 0
    finally:
        store.close()
