"""metadata_stale reaches the ticket channel every interval until the metadata lists the
Region, with the console steps to download it again; then it is reported resolved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import load_config
from agent.service import Service
from agent.store import Store
from tests.events_support import ARN
from tests.fakes.jira_fake import TOKEN, JiraFake
from tests.fakes.sso_admin_fake import SsoAdminFake, serve
from tests.service_support import app_doc, metadata_xml, write_config
from tests.tickets_support import approve_config

STEPS = "Settings > Identity source > Actions > Manage authentication > Download metadata file"


@pytest.fixture
def jira(monkeypatch: pytest.MonkeyPatch) -> Iterator[JiraFake]:
    monkeypatch.setenv("JIRA_API_TOKEN", TOKEN)
    fake = JiraFake().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def sso(monkeypatch: pytest.MonkeyPatch) -> Iterator[SsoAdminFake]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    fake = SsoAdminFake(
        instance_arn=ARN,
        primary="us-east-1",
        regions=[
            {"RegionName": "us-east-1", "Status": "ACTIVE", "IsPrimaryRegion": True},
            {"RegionName": "eu-central-1", "Status": "ACTIVE", "IsPrimaryRegion": False},
        ],
    )
    with serve(fake) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_ADMIN", url)
        yield fake


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open("sqlite:///state.db", base_dir=tmp_path)
    yield s
    s.close()


def _service(tmp_path: Path, store: Store, jira: JiraFake, mode: str = "approve") -> Service:
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1"]))
    (tmp_path / "app.json").write_text(app_doc(["us-east-1"]))
    path = write_config(tmp_path, interval="1h")
    approve_config(path, jira.base_url)
    text = path.read_text().replace(
        "  primary_region: us-east-1\n", f"  primary_region: us-east-1\n  instance_arn: {ARN}\n"
    )
    if mode != "approve":
        text = text.replace("  mode: approve\n", f"  mode: {mode}\n")
    path.write_text(text)
    return Service(path, load_config(path), store, holder="a")


@pytest.mark.parametrize("mode", ["approve", "observe"])
async def test_metadata_stale_is_raised_every_interval_until_resolved(
    tmp_path: Path, store: Store, jira: JiraFake, sso: SsoAdminFake, mode: str
) -> None:
    service = _service(tmp_path, store, jira, mode)
    await service.check_lease()
    await service.sync_now("schedule")
    assert list(jira.issues) == ["OPS-1"]  # in sync apart from the stale metadata: no plan
    issue = jira.issues["OPS-1"]["fields"]
    assert issue["summary"] == "idpsync: the Identity Center metadata is stale (eu-central-1)"
    assert STEPS in str(issue["description"])
    assert service.metrics.metadata_stale_regions._value.get() == 1

    await service.sync_now("watch: regions changed")  # not an interval: no repeat
    assert jira.comments("OPS-1") == []
    await service.sync_now("schedule")
    await service.sync_now("schedule")
    comments = jira.comments("OPS-1")
    assert len(comments) == 2
    assert all(STEPS in c and "Still unresolved at" in c for c in comments)

    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1", "eu-central-1"]))
    await service.sync_now("schedule")
    assert jira.comments("OPS-1")[-1].startswith("Resolved at")
    assert service.metrics.metadata_stale_regions._value.get() == 0
    assert len(jira.issues) in (1, 2)  # the plan to add eu-central-1 has its own ticket
    await service.sync_now("schedule")
    assert len(jira.comments("OPS-1")) == 3  # resolved: no more reminders
