"""build_desired: merge, order, default, stacks, fail-static and findings."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.config import Config, parse_config
from agent.desired import build_desired
from agent.errors import SourceError, UntrustedMetadata
from agent.model import Region, RegionStatus, Severity, Stack
from agent.sources.base import CachedCopy, MemoryCache
from agent.sources.regions import InstanceInfo

DATA = Path(__file__).parents[1] / "data" / "metadata"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"


def make_config(tmp_path: Path, *files: str, **ic: Any) -> Config:
    sources = []
    for name in files:
        shutil.copy(DATA / name, tmp_path / name)
        sources.append({"file": name})
    doc = {"identity_center": {"primary_region": "us-east-1", "metadata": sources, **ic}}
    return parse_config(doc, path="test.yaml", base_dir=tmp_path)


def instance(*regions: tuple[str, RegionStatus], primary: str = "us-east-1") -> InstanceInfo:
    return InstanceInfo(
        primary_region=primary,
        regions=tuple(Region(n, s, is_primary=n == primary) for n, s in regions),
        status="ACTIVE",
        encryption=None,
        api_region=primary,
    )


def codes(desired: Any) -> list[str]:
    return [f.code for f in desired.findings]


def test_order_primary_first_then_regions_by_name_ipv4_before_dualstack(tmp_path: Path) -> None:
    desired = build_desired(make_config(tmp_path, "combined-md-prefix.xml"), now=NOW)
    got = [(a.region, a.stack) for a in desired.acs]
    assert got == [
        ("us-east-1", Stack.IPV4),
        ("us-east-1", Stack.DUALSTACK),
        ("us-east-1", Stack.LEGACY),
        ("ap-southeast-2", Stack.IPV4),
        ("ap-southeast-2", Stack.DUALSTACK),
        ("eu-west-1", Stack.IPV4),
        ("eu-west-1", Stack.DUALSTACK),
    ]
    assert desired.entity_id == ENTITY
    assert desired.default_acs == desired.acs[0].url
    assert desired.complete
    assert desired.regions == ()
    assert desired.tenant_ids == ("75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b",)


def test_primary_region_decides_order_and_default(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, "combined-md-prefix.xml", primary_region="eu-west-1")
    desired = build_desired(cfg, now=NOW)
    assert desired.acs[0].region == "eu-west-1"
    assert desired.default_acs.startswith("https://eu-west-1.signin.aws/")
    # the legacy URL is for us-east-1, which is not the primary here: dropped, with a finding
    assert Stack.LEGACY not in {a.stack for a in desired.acs}
    assert "legacy_not_primary" in codes(desired)


def test_default_stack_dualstack(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, "combined-md-prefix.xml", default_stack="dualstack")
    desired = build_desired(cfg, now=NOW)
    assert desired.default_acs.startswith("https://us-east-1.sso.signin.aws/")


@pytest.mark.parametrize(
    ("stacks", "keep_legacy", "expected"),
    [
        (["ipv4"], True, {Stack.IPV4, Stack.LEGACY}),
        (["dualstack"], True, {Stack.DUALSTACK, Stack.LEGACY}),
        (["ipv4", "dualstack"], False, {Stack.IPV4, Stack.DUALSTACK}),
    ],
)
def test_configured_stacks_and_legacy(
    tmp_path: Path, stacks: list[str], keep_legacy: bool, expected: set[Stack]
) -> None:
    cfg = make_config(tmp_path, "combined-md-prefix.xml", stacks=stacks, keep_legacy=keep_legacy)
    assert {a.stack for a in build_desired(cfg, now=NOW).acs} == expected


def test_two_files_merge_and_dedupe_by_url(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, "ipv4-only.xml", "dualstack-only.xml", "no-legacy.xml")
    desired = build_desired(cfg, now=NOW)
    urls = [a.url for a in desired.acs]
    assert len(urls) == len(set(urls)) == 7
    assert [s.ok for s in desired.sources] == [True, True, True]


def test_dualstack_only_file_default_falls_back_to_primary_dualstack(tmp_path: Path) -> None:
    desired = build_desired(make_config(tmp_path, "dualstack-only.xml"), now=NOW)
    assert desired.default_acs.startswith("https://us-east-1.sso.signin.aws/")


def test_sources_disagreeing_on_entity_id_are_refused(tmp_path: Path) -> None:
    other = (DATA / "no-legacy.xml").read_text().replace("d-9067230fde", "d-1111111111")
    (tmp_path / "other.xml").write_text(other)
    cfg = make_config(tmp_path, "combined-md-prefix.xml")
    cfg = cfg.model_copy(
        update={
            "identity_center": cfg.identity_center.model_copy(
                update={
                    "metadata": [
                        *cfg.identity_center.metadata,
                        *parse_config(
                            {
                                "identity_center": {
                                    "primary_region": "x",
                                    "metadata": [{"file": "other.xml"}],
                                }
                            }
                        ).identity_center.metadata,
                    ]
                }
            )
        }
    )
    with pytest.raises(UntrustedMetadata, match="disagree on the entity ID"):
        build_desired(cfg, now=NOW)


def test_no_acs_for_primary_is_an_error(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, "combined-md-prefix.xml", primary_region="eu-central-1")
    with pytest.raises(UntrustedMetadata, match="no ACS URL for the primary Region eu-central-1"):
        build_desired(cfg, now=NOW)


def test_missing_source_without_copy_raises_when_nothing_is_usable(tmp_path: Path) -> None:
    cfg = parse_config(
        {"identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "gone.xml"}]}},
        base_dir=tmp_path,
    )
    with pytest.raises(SourceError, match="no last good copy"):
        build_desired(cfg, now=NOW)


def test_failed_source_without_copy_makes_the_state_incomplete(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, "combined-md-prefix.xml", "no-legacy.xml")
    (tmp_path / "no-legacy.xml").unlink()
    desired = build_desired(cfg, now=NOW)
    assert not desired.complete
    assert "source_failed" in codes(desired)
    assert [s.ok for s in desired.sources] == [True, False]
    assert len(desired.acs) == 7  # the other source still counts


def test_failed_source_uses_the_last_good_copy(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, "combined-md-prefix.xml")
    cache = MemoryCache()
    first = build_desired(cfg, cache=cache, now=NOW)
    (tmp_path / "combined-md-prefix.xml").write_text("<garbage")
    second = build_desired(cfg, cache=cache, now=NOW)
    assert second.complete
    assert second.acs == first.acs
    assert second.sources[0].from_cache and not second.sources[0].ok
    (finding,) = [f for f in second.findings if f.code == "source_from_cache"]
    assert "not well-formed" in finding.message


def test_invalid_new_copy_never_replaces_the_last_good_copy(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, "combined-md-prefix.xml")
    cache = MemoryCache()
    build_desired(cfg, cache=cache, now=NOW)
    good = cache.get("combined-md-prefix.xml")
    assert good is not None
    (tmp_path / "combined-md-prefix.xml").write_bytes(
        good.data.replace(b"us-east-1.signin.aws/", b"evil.example.com/", 1)
    )
    desired = build_desired(cfg, cache=cache, now=NOW)
    assert cache.get("combined-md-prefix.xml") == good
    assert "evil" not in " ".join(a.url for a in desired.acs)
    assert any("evil.example.com" in f.message for f in desired.findings)


def test_entity_id_change_against_the_last_good_copy_is_a_finding(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, "combined-md-prefix.xml")
    cache = MemoryCache()
    old = (DATA / "combined-md-prefix.xml").read_bytes().replace(b"d-9067230fde", b"d-0123456789")
    cache.put("combined-md-prefix.xml", CachedCopy(old, "etag-old", NOW))
    desired = build_desired(cfg, cache=cache, now=NOW)
    (finding,) = [f for f in desired.findings if f.code == "entity_id_changed"]
    assert "d-0123456789" in finding.message and finding.severity is Severity.ERROR


def test_entity_id_change_against_a_passed_previous_id(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, "combined-md-prefix.xml")
    same = build_desired(cfg, now=NOW, previous_entity_id=ENTITY)
    assert "entity_id_changed" not in codes(same)
    moved = build_desired(cfg, now=NOW, previous_entity_id="https://elsewhere/d-1")
    assert "entity_id_changed" in codes(moved)


def test_region_lifecycle_findings(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, "combined-md-prefix.xml")
    inst = instance(
        ("us-east-1", RegionStatus.ACTIVE),
        ("eu-west-1", RegionStatus.REMOVING),
        ("eu-central-1", RegionStatus.ACTIVE),
        ("ca-central-1", RegionStatus.ADDING),
    )
    desired = build_desired(cfg, instance=inst, now=NOW)
    by_code = {f.code: f for f in desired.findings}
    assert by_code["metadata_stale"].region == "eu-central-1"
    assert "metadata is stale: download it again" in by_code["metadata_stale"].message
    assert by_code["region_not_in_api"].region == "ap-southeast-2"
    assert by_code["region_removing"].region == "eu-west-1"
    assert [f.region for f in desired.findings if f.code == "metadata_stale"] == ["eu-central-1"]
    assert desired.regions == inst.regions
    assert desired.region_status("eu-west-1") is RegionStatus.REMOVING


def test_primary_mismatch_with_api_is_an_error_finding(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, "combined-md-prefix.xml")
    inst = instance(
        ("us-east-1", RegionStatus.ACTIVE), ("eu-west-1", RegionStatus.ACTIVE), primary="eu-west-1"
    )
    desired = build_desired(cfg, instance=inst, now=NOW)
    assert "primary_region_mismatch" in codes(desired)


def test_region_in_sso_admin_list_is_accepted_even_if_botocore_does_not_know_it(
    tmp_path: Path,
) -> None:
    text = (DATA / "no-legacy.xml").read_text().replace("ap-southeast-2", "mars-north-1")
    (tmp_path / "m.xml").write_text(text)
    cfg = parse_config(
        {"identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "m.xml"}]}},
        base_dir=tmp_path,
    )
    with pytest.raises(SourceError, match="mars-north-1"):
        build_desired(cfg, now=NOW)
    inst = instance(("us-east-1", RegionStatus.ACTIVE), ("mars-north-1", RegionStatus.ACTIVE))
    assert "mars-north-1" in {a.region for a in build_desired(cfg, instance=inst, now=NOW).acs}
    extra = cfg.model_copy(
        update={
            "identity_center": cfg.identity_center.model_copy(
                update={"extra_regions": ["mars-north-1"]}
            )
        }
    )
    assert "mars-north-1" in {a.region for a in build_desired(extra, now=NOW).acs}


def test_certificate_expiring_within_30_days_is_a_finding(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, "keydescriptor-signing.xml")
    far = build_desired(cfg, now=NOW)
    assert "certificate_expiring" not in codes(far)
    assert len(far.certificates) == 1
    soon = build_desired(cfg, now=datetime(2124, 12, 10, tzinfo=UTC))
    assert "certificate_expiring" in codes(soon)


def test_differing_tenant_ids_are_flagged(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, "no-legacy.xml", "uuid-tenant.xml")
    desired = build_desired(cfg, now=NOW)
    assert len(desired.tenant_ids) == 2
    assert "tenant_ids_differ" in codes(desired)


def test_ignored_binding_becomes_an_info_finding(tmp_path: Path) -> None:
    desired = build_desired(make_config(tmp_path, "other-binding.xml"), now=NOW)
    (f,) = [f for f in desired.findings if f.code == "metadata_warning"]
    assert f.severity is Severity.INFO and "HTTP-Artifact" in f.message


def test_digest_is_stable_and_tracks_content(tmp_path: Path) -> None:
    a = build_desired(make_config(tmp_path, "combined-md-prefix.xml"), now=NOW)
    b = build_desired(make_config(tmp_path, "combined-no-prefix.xml"), now=NOW)
    c = build_desired(make_config(tmp_path, "no-legacy.xml"), now=NOW)
    assert a.digest() == b.digest() != c.digest()


def test_corrupt_last_good_copy_is_reported_and_ignored(tmp_path: Path) -> None:
    from agent.sources.base import DirectoryCache

    cfg = make_config(tmp_path, "combined-md-prefix.xml")
    cache = DirectoryCache(tmp_path / "cache")
    build_desired(cfg, cache=cache, now=NOW)
    for data_file in (tmp_path / "cache").glob("*.xml"):
        data_file.write_bytes(b"tampered")
    desired = build_desired(cfg, cache=cache, now=NOW)
    assert desired.complete and len(desired.acs) == 7
    assert "cache_unreadable" in codes(desired)
    assert cache.get("combined-md-prefix.xml") is not None  # the fresh copy replaced it


def test_every_finding_code_is_documented_in_the_readme() -> None:
    import re

    repo = Path(__file__).resolve().parents[2]
    source = (repo / "agent" / "desired.py").read_text()
    found = set(re.findall(r'_finding\(\s*"([a-z_]+)"', source))
    assert {"metadata_stale", "entity_id_changed", "certificate_expiring"} <= found
    readme = (repo / "README.md").read_text()
    missing = sorted(code for code in found if f"`{code}`" not in readme)
    assert not missing, f"finding codes not documented in README.md: {missing}"
