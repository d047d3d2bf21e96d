"""The read-back's expected trust without copying the application document, and the
fingerprint without dumping the same JSON twice."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.model import AppTrust, TrustedAcs
from connectors.entra import connector, mapping
from connectors.entra.connector import APP_SELECT
from tests.entra_support import ISSUER, acs

_url = st.from_regex(
    r"https://[a-z]{1,8}\.signin\.aws/platform/saml/acs/[a-z0-9]{1,12}", fullmatch=True
)
_identifiers = st.one_of(
    st.none(),
    st.just("not a list"),
    st.lists(st.sampled_from([ISSUER, "https://prev.example/id", "api://x", 7]), max_size=3),
)
_web: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.just([]),
    st.fixed_dictionaries(
        {"redirectUris": st.lists(_url, max_size=4), "logoutUrl": st.none()},
        optional={"redirectUriSettings": st.just([{"uri": acs("us-east-1"), "index": 3}])},
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    urls=st.lists(_url, unique=True, max_size=8),
    indexes=st.lists(st.one_of(st.none(), st.integers(0, 9)), min_size=8, max_size=8),
    entity=st.sampled_from([None, ISSUER, "https://other.example/x"]),
    default=st.booleans(),
    identifiers=_identifiers,
    web=_web,
    current_default=st.sampled_from([None, "", acs("us-east-1")]),
)
def test_applied_trust_is_what_apply_trust_reads_back(
    urls: list[str],
    indexes: list[int | None],
    entity: str | None,
    default: bool,
    identifiers: Any,
    web: Any,
    current_default: str | None,
) -> None:
    trust = AppTrust(
        entity_id=entity,
        acs=tuple(TrustedAcs(u, i) for u, i in zip(urls, indexes, strict=False)),
        default_acs=urls[0] if urls and default else None,
    )
    doc: dict[str, Any] = {"id": "x", "tags": ["keep"], "defaultRedirectUri": current_default}
    if identifiers is not None:
        doc["identifierUris"] = identifiers
    if web is not None:
        doc["web"] = web
    expected = mapping.trust_from_raw(mapping.apply_trust(doc, trust))[0]
    assert mapping.applied_trust(doc, trust) == expected


@pytest.mark.parametrize(
    "app",
    [
        {k: f"v-{k}" for k in APP_SELECT},  # exactly what $select returns: the shortcut
        {k: None for k in APP_SELECT},
        {**{k: f"v-{k}" for k in APP_SELECT}, "tags": ["extra"]},  # more: no shortcut
        {k: f"v-{k}" for k in APP_SELECT[:-1]},  # fewer: no shortcut
        {"web": {"redirectUris": ["https://a"]}, "id": "x"},
    ],
)
def test_fingerprint_from_the_canonical_text_is_the_same(app: dict[str, Any]) -> None:
    assert connector._fingerprint(app, connector._canonical(app)) == connector._fingerprint(app)
