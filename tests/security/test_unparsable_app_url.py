"""Item 5 (issue 13): one app holding an unparsable URL fails that app only.

An IdP app may hold a URL Python's ``urllib`` cannot parse at all (a port out of range, a
non-numeric port, a broken IPv6 literal, a host that NFKC-normalises to a slash): it raises
ValueError. Before the fix that crashed the whole run with a traceback and no target was
written. Now that app fails with a message naming the app and the URL (it can be neither
recognised as this instance's nor ruled out, and unknown is not absent), every other app
and target is still planned and written, and the run exits 1.
"""

from __future__ import annotations

import json

import pytest

from tests.security.harness import TENANT, OktaWorld, acs, output_of
from tests.service_support import app_doc

BAD_URLS = {
    "port out of range": f"https://us-east-1.signin.aws:99999/platform/saml/acs/{TENANT}",
    "non-numeric port": f"https://us-east-1.signin.aws:44x/platform/saml/acs/{TENANT}",
    "negative port": f"https://us-east-1.signin.aws:-1/platform/saml/acs/{TENANT}",
    "broken IPv6 literal": f"https://[::1/platform/saml/acs/{TENANT}",
    "NFKC slash in host": f"https://us-east-1.signin.aws\uff0fx/platform/saml/acs/{TENANT}",
}


def _with_file_target(world: OktaWorld) -> None:
    """Add a second target (a file app missing two Regions) to the world's config."""
    path = world.workdir / "idpsync.yaml"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["targets"].append({"name": "files", "type": "file", "path": "app.json"})
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    (world.workdir / "app.json").write_text(app_doc(["us-east-1"]), encoding="utf-8")


def _file_urls(world: OktaWorld) -> set[str]:
    doc = json.loads((world.workdir / "app.json").read_text(encoding="utf-8"))
    return {e["url"] for e in doc["acs"]}


@pytest.mark.suite("hostile-input", "api-response")
@pytest.mark.parametrize("name", sorted(BAD_URLS))
def test_an_okta_app_with_an_unparsable_url_fails_alone(world: OktaWorld, name: str) -> None:
    bad_url = BAD_URLS[name]
    bad, good = world.app_ids[0], world.add_apps(1)[-1]
    _with_file_target(world)
    endpoints = world.fake.apps[bad]["settings"]["signOn"]["acsEndpoints"]
    endpoints.append({"url": bad_url, "index": 9})
    before = json.dumps(world.fake.apps[bad], sort_keys=True)

    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 1, out
    assert result.exception is None or isinstance(result.exception, SystemExit), out
    assert f"okta-prod/{bad}: failed" in out and repr(bad_url) in out, out
    assert "cannot be parsed" in out
    assert {p.path.rsplit("/", 1)[-1] for p in world.puts()} == {good}
    assert acs("eu-west-1.signin.aws") in {
        e["url"] for e in world.fake.apps[good]["settings"]["signOn"]["acsEndpoints"]
    }
    assert acs("eu-west-1.signin.aws") in _file_urls(world)  # the other target was written
    assert json.dumps(world.fake.apps[bad], sort_keys=True) == before


@pytest.mark.suite("hostile-input", "api-response")
def test_a_file_app_with_an_unparsable_default_fails_alone(world: OktaWorld) -> None:
    _with_file_target(world)
    doc = json.loads((world.workdir / "app.json").read_text(encoding="utf-8"))
    bad_url = BAD_URLS["port out of range"]
    doc["acs"].append({"url": bad_url, "index": 9, "default": False})
    (world.workdir / "app.json").write_text(json.dumps(doc), encoding="utf-8")

    dry = world.run("sync", "--dry-run", "--format", "json")
    assert dry.exit_code == 1, output_of(dry)
    plan = json.loads(dry.stdout)
    unreadable = [f for f in plan["findings"] if f["code"] == "app_unreadable"]
    assert len(unreadable) == 1 and bad_url in unreadable[0]["message"]

    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 1, out
    assert "files/app.json: failed" in out and repr(bad_url) in out, out
    assert len(world.puts()) == 1  # the Okta target was still written
    assert acs("eu-west-1.signin.aws") not in _file_urls(world)
