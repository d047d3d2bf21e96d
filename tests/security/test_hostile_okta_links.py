"""Hostile Okta next links: another host, unparsable, empty, relative, a loop, two at once.

Each fails the listing loudly (never a short list that makes apps look absent), and the
token is never sent anywhere but org_url. The link is opaque
(https://developer.okta.com/docs/api/#pagination), so only its origin is checked.
"""

from __future__ import annotations

import pytest

from agent.errors import ConnectorError
from tests.fakes.okta_fake import OktaFake
from tests.unit.test_okta_pagination import add_apps, first_page_links, list_apps


@pytest.mark.suite("hostile-input", "api-response")
@pytest.mark.parametrize(
    ("link", "match"),
    [
        (
            '<https://evil.example/api/v1/apps?page=x>; rel="next"',
            r"evil\.example.*outside org_url",
        ),
        ('<{base}/api/v1/apps?page=x; rel="next"', r"unparsable Link header"),
        ('<>; rel="next"', r"empty URL"),
        ('</api/v1/apps?page=x>; rel="next"', r"not an absolute URL"),
        ('<ftp://{host}/api/v1/apps>; rel="next"', r"not an absolute URL"),
        ('<http://user@{host}/api/v1/apps?page=x>; rel="next"', r"outside org_url"),
        ('<{base}/api/v1/apps?limit=2>; rel="next"', r"looped"),
        ('<{base}/a>; rel="next", <{base}/b>; rel="next"', r"2 different"),
    ],
    ids=["other-host", "unparsable", "empty", "relative", "not-http", "userinfo", "loop", "two"],
)
async def test_a_next_link_that_cannot_be_followed_fails_the_listing(
    fake: OktaFake, link: str, match: str
) -> None:
    add_apps(fake, 3)
    host = fake.base_url.split("://", 1)[1]
    first_page_links(fake, link.format(base=fake.base_url, host=host))
    with pytest.raises(ConnectorError, match=match):
        await list_apps(fake, {"limit": "2"})
    # Nothing was sent anywhere else, and no page was silently skipped.
    assert len(fake.calls("GET", r"^/api/v1/apps$")) == 1
