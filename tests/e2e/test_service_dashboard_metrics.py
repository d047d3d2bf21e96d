"""Every metric config/prometheus/alerts.yaml and config/grafana/idpsync.json name is on the
/metrics of a real ``idpsync run``: a process syncing a fake Okta (one answer is a 429) for
an instance whose fake sso-admin lists a Region the metadata lacks (stale), with a signing
certificate in the metadata. The values the alerts key on are checked too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from tests.certs import self_signed
from tests.fakes.okta_fake import OktaFake
from tests.fakes.sso_admin_fake import SsoAdminFake, serve
from tests.okta_support import TOKEN, custom_app, recorded_keys
from tests.service_support import (
    Agent,
    acs,
    free_port,
    metadata_xml,
    wait_for,
    write_okta_service_config,
)
from tests.unit.test_observability_config import exported_names, referenced_metrics

ARN = "arn:aws:sso:::instance/ssoins-1111111111111111"
REGIONS = [
    {"RegionName": "us-east-1", "Status": "ACTIVE", "IsPrimaryRegion": True},
    {"RegionName": "eu-west-1", "Status": "ACTIVE", "IsPrimaryRegion": False},
    {"RegionName": "ca-central-1", "Status": "ACTIVE", "IsPrimaryRegion": False},
]
CERT_DAYS = 400


@pytest.fixture
def okta() -> Iterator[OktaFake]:
    server = OktaFake().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sso_admin() -> Iterator[str]:
    with serve(SsoAdminFake(instance_arn=ARN, primary="us-east-1", regions=REGIONS)) as url:
        yield url


def metadata_with_certificate() -> str:
    now = datetime.now(UTC)
    _, cert = self_signed(
        "idpsync-test-sp", now - timedelta(days=1), now + timedelta(days=CERT_DAYS)
    )
    b64 = re.sub(r"-----[A-Z ]+-----|\s", "", cert.public_bytes(Encoding.PEM).decode())
    key = (
        '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        f"<ds:X509Data><ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data>"
        "</ds:KeyInfo></md:KeyDescriptor>\n"
    )
    xml = metadata_xml(["us-east-1", "eu-west-1"])
    marker = 'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">\n'
    assert marker in xml
    return xml.replace(marker, marker + key)


def sample(body: str, name: str, labels: str = "") -> float | None:
    found = re.search(
        "^" + re.escape(name + (f"{{{labels}}}" if labels else "")) + r" (\S+)$", body, re.M
    )
    return float(found.group(1)) if found else None


def test_a_real_service_exports_every_metric_the_rules_and_dashboard_query(
    tmp_path: Path, okta: OktaFake, sso_admin: str
) -> None:
    app_id = okta.add_app(custom_app(), keys=recorded_keys())  # the app's signing certificate
    okta.inject("429_no_reset", method="GET", path_re=app_id + "$")  # retried after a backoff
    (tmp_path / "metadata.xml").write_text(metadata_with_certificate())
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    agent = Agent(
        write_okta_service_config(
            tmp_path, okta.base_url, app_id, instance_arn=ARN, watch_interval="1h"
        ),
        port=port,
        env={
            "OKTA_API_TOKEN": TOKEN,
            "OKTA_TESTING_TESTINGDISABLEHTTPSCHECK": "true",
            "HOME": str(home),
            "AWS_ENDPOINT_URL_SSO_ADMIN": sso_admin,
            "AWS_ACCESS_KEY_ID": "AKIDTESTTESTTESTTEST",
            "AWS_SECRET_ACCESS_KEY": "test-secret",
        },
    )
    try:
        wait_for(
            lambda: agent.metric("idpsync_sync_runs_total", 'outcome="applied"') == 1,
            30,
            "the start-up sync to apply",
        )
        status, body = agent.get("/metrics")
    finally:
        agent.stop()
    assert status == 200
    missing = referenced_metrics() - exported_names(body)
    assert not missing, f"the rules/dashboard query metrics /metrics does not export: {missing}"

    assert sample(body, "idpsync_rate_limited_total", 'connector="okta-test"') == 1
    assert sample(body, "idpsync_app_writes_total", 'result="applied",target="okta-test"') == 1
    assert sample(body, "idpsync_target_apps_in_drift", 'target="okta-test"') == 0
    assert sample(body, "idpsync_metadata_stale", 'region="ca-central-1"') == 1
    assert sample(body, "idpsync_metadata_stale", 'region="eu-west-1"') is None
    # After the write the app trusts both listed Regions; nobody can add the stale one.
    assert sample(body, "idpsync_region_apps", 'region="eu-west-1",state="trusted"') == 1
    assert sample(body, "idpsync_region_apps", 'region="eu-west-1",state="to_add"') == 0
    assert sample(body, "idpsync_region_apps", 'region="ca-central-1",state="needs_person"') == 1
    [cert_left] = re.findall(
        r"^idpsync_metadata_certificate_expiry_seconds\{.*\} (\S+)$", body, re.M
    )
    assert abs(float(cert_left) - CERT_DAYS * 86400) < 3600
    assert sample(body, "idpsync_certificate_expiry_seconds", f'app="okta-test/{app_id}"')
    assert sample(body, "idpsync_lease_lost_total") == 0
    assert sample(body, "idpsync_leader") == 1
    assert acs("eu-west-1") in str(okta.apps[app_id])
