"""Metadata over HTTPS with ``requests``: TLS verified, timeouts, size cap, ETag polling.

Redirects are not followed: a redirect could downgrade to http or move to a host nobody
reviewed, so the operator points ``url:`` at the final location instead.
"""

from __future__ import annotations

import requests

from agent.errors import SourceError
from agent.sources.base import CachedCopy, FetchResult

_ACCEPT = "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8"
_CHUNK = 64 * 1024


class HttpsSource:
    def __init__(
        self,
        url: str,
        *,
        max_bytes: int,
        timeout: float,
        verify: bool | str = True,
        session: requests.Session | None = None,
    ) -> None:
        if not url.startswith("https://"):
            raise SourceError("only https:// metadata URLs are fetched", source=url)
        self.url = url
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.verify = verify
        self.session = session or requests.Session()

    @property
    def name(self) -> str:
        return self.url

    def fetch(self, previous: CachedCopy | None) -> FetchResult:
        headers = {"Accept": _ACCEPT}
        if previous is not None and previous.etag:
            headers["If-None-Match"] = previous.etag
        try:
            with self.session.get(
                self.url,
                headers=headers,
                timeout=(self.timeout, self.timeout),
                verify=self.verify,
                allow_redirects=False,
                stream=True,
            ) as resp:
                return self._result(resp, previous)
        except requests.exceptions.SSLError as exc:
            raise SourceError(f"TLS verification failed: {exc}", source=self.url) from exc
        except requests.exceptions.Timeout as exc:
            raise SourceError(f"timed out after {self.timeout}s", source=self.url) from exc
        except requests.exceptions.RequestException as exc:
            raise SourceError(f"request failed: {exc}", source=self.url) from exc

    def _result(self, resp: requests.Response, previous: CachedCopy | None) -> FetchResult:
        if resp.status_code == 304 and previous is not None:
            return FetchResult(data=previous.data, etag=previous.etag, changed=False)
        if 300 <= resp.status_code < 400:
            raise SourceError(
                f"HTTP {resp.status_code} redirect to {resp.headers.get('Location')!r} not "
                "followed; set url: to the final https:// location",
                source=self.url,
            )
        if resp.status_code != 200:
            raise SourceError(f"HTTP {resp.status_code} {resp.reason}", source=self.url)
        length = resp.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            raise SourceError(
                f"response of {length} bytes is over the {self.max_bytes}-byte size cap",
                source=self.url,
            )
        body = bytearray()
        for chunk in resp.iter_content(_CHUNK):
            body.extend(chunk)
            if len(body) > self.max_bytes:
                raise SourceError(
                    f"response is over the {self.max_bytes}-byte size cap", source=self.url
                )
        etag = resp.headers.get("ETag")
        data = bytes(body)
        changed = previous is None or previous.data != data
        return FetchResult(data=data, etag=etag, changed=changed)
