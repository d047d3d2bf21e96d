"""service.mode approve with a ServiceNow change request as the gate (real pysnc, HTTPS)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import load_config
from agent.service import Service
from agent.store import Store
from tests.fakes.servicenow_fake import PASSWORD, USER, ServiceNowFake
from tests.service_support import acs, app_doc, app_urls, metadata_xml, write_config


@pytest.fixture
def snow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServiceNowFake]:
    monkeypatch.setenv("SNOW_PASSWORD", PASSWORD)
    certs = tmp_path / "certs"
    certs.mkdir()
    fake = ServiceNowFake().start(certs)
    try:
        yield fake
    finally:
        fake.stop()


async def test_an_approved_change_request_applies_the_plan(
    tmp_path: Path, snow: ServiceNowFake
) -> None:
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1", "eu-west-1"]))
    (tmp_path / "app.json").write_text(app_doc(["us-east-1"]))
    path = write_config(tmp_path, interval="1h")
    text = path.read_text().replace("  mode: apply\n", "  mode: approve\n  ticket: snow\n")
    text += (
        f"tickets:\n  - name: snow\n    type: servicenow\n    instance: {snow.base_url}\n"
        f"    user: {USER}\n    token_env: SNOW_PASSWORD\n    ca_bundle: {snow.ca_file}\n"
    )
    path.write_text(text)
    store = Store.open("sqlite:///state.db", base_dir=tmp_path)
    try:
        service = Service(path, load_config(path), store, holder="a")
        await service.check_lease()
        await service.sync_now("schedule")
        (sys_id,) = snow.records
        assert sorted(snow.attachments[sys_id]) == ["plan.diff", "plan.json", "plan.md"]
        snow.set_approval(sys_id, "requested")
        await service.gate.check()
        assert acs("eu-west-1") not in app_urls(tmp_path / "app.json")
        snow.set_approval(sys_id, "approved")
        await service.gate.check()
        assert acs("eu-west-1") in app_urls(tmp_path / "app.json")
        assert "Applied by idpsync run" in snow.work_notes[sys_id][-1]
        assert snow.records[sys_id]["close_code"] == "successful"
    finally:
        store.close()
