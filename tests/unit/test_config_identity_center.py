"""identity_center configuration: the shipped example loads; new keys validate."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import load_config, parse_config
from agent.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def ic(**extra: object) -> dict[str, object]:
    return {
        "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "m.xml"}], **extra}
    }


def test_shipped_example_loads_and_resolves_relative_to_itself() -> None:
    cfg = load_config(REPO / "config" / "example.yaml")
    assert cfg.base_dir == REPO / "config"
    assert cfg.identity_center.primary_region == "us-east-1"
    (src,) = cfg.identity_center.metadata
    assert src.file is not None and (cfg.base_dir / src.file).is_file()


def test_example_metadata_covers_three_regions_both_stacks_and_legacy() -> None:
    text = (REPO / "config" / "examples" / "identity-center-metadata.xml").read_text()
    for region in ("us-east-1", "eu-west-1", "ap-southeast-2"):
        assert f"https://{region}.signin.aws/" in text
        assert f"https://{region}.sso.signin.aws/" in text
    assert "https://us-east-1.signin.aws.amazon.com/platform/saml/acs/" in text


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        (["("], "is not a regex"),
        ([r"[a-z]+\.example\.com"], "(?P<region>...)"),
    ],
)
def test_allowed_hosts_patterns_are_checked(patterns: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(ic(allowed_hosts=patterns), path="c.yaml")
    assert "identity_center.allowed_hosts" in str(info.value)
    assert message in str(info.value)


def test_custom_allowed_hosts_accepted() -> None:
    cfg = parse_config(
        ic(allowed_hosts=[r"(?P<region>us-gov-[a-z]+-\d)\.signin\.amazonaws-us-gov\.com"])
    )
    assert len(cfg.identity_center.allowed_hosts) == 1


def test_metadata_source_options() -> None:
    cfg = parse_config(
        {
            "identity_center": {
                "primary_region": "us-east-1",
                "metadata": [
                    {"url": "https://x.example/m.xml", "ca_bundle": "ca.pem", "timeout": 3},
                    {"s3": "s3://b/k.xml", "region": "eu-west-1"},
                ],
            }
        }
    )
    assert cfg.identity_center.metadata[0].ca_bundle == "ca.pem"
    assert cfg.identity_center.certificate_warning_days == 30
    with pytest.raises(ConfigError, match="https"):
        parse_config(ic(metadata=[{"url": "http://x.example/m.xml"}]))


def test_every_identity_center_key_is_documented_in_the_readme() -> None:
    from agent.config import IdentityCenterConfig, MetadataSource, SignatureConfig

    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Configuration") :]
    for model in (IdentityCenterConfig, MetadataSource, SignatureConfig):
        for key in model.model_fields:
            assert f"{key}:" in section, f"{model.__name__}.{key} is not documented in README.md"
