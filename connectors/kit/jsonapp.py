"""The plumbing every JSON-over-HTTP connector wrote again, once: for vendors without an SDK.

* :func:`target_http` builds a :class:`~connectors.kit.http.JsonHttp` from a target's
  shared keys (``max_retries``, ``backoff_base``, ``max_rate_limit_wait``, ``concurrency``,
  ``ca_bundle``); the vendor passes only its knowledge (base URL, auth, request id header,
  bucket and kind functions, error readers);
* :func:`tls_context` is a ``ca_bundle`` as an SSL context (never verification switched off);
* :class:`JsonKitConnector` is a :class:`~connectors.kit.base.KitConnector` whose app is one
  JSON object at :meth:`~JsonKitConnector.app_path`: ``fetch`` is a GET plus the object
  check, ``send`` a PUT of the whole document (a vendor with partial updates narrows
  :meth:`~JsonKitConnector.body_to_send`), and the PUT's answer serves as the read-back
  only where the vendor answers with the app as stored (:attr:`put_answers_stored`);
* :func:`discover_refs` resolves a target's app selectors: an id is taken as is, any other
  selector is looked up by the vendor (a listing read once, or a filtered query), and one
  that matches nothing may be an error (a typo must not read as "nothing to manage");
  :func:`discover_in` is that lookup in one listing read once.
"""

from __future__ import annotations

import abc
import dataclasses
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from agent.connector import ConnectorContext
from agent.errors import ConfigError, ConnectorError
from agent.model import AppRef
from connectors.kit.base import Fetched, KitConnector
from connectors.kit.codec import Doc
from connectors.kit.http import Answer, ApiDialect, Auth, JsonHttp
from connectors.kit.retry import RetryPolicy

S = TypeVar("S")
T = TypeVar("T")


def tls_context(target: Any, context: ConnectorContext) -> ssl.SSLContext | bool:
    """The system trust store, or the target's ``ca_bundle`` CAs; an unreadable bundle is
    a :class:`ConfigError` naming the key (never a silent fall back to no verification)."""
    bundle = getattr(target, "ca_bundle", None)
    if not bundle:
        return True
    path = context.resolve_path(bundle)
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"ca_bundle {path} cannot be read as PEM certificates ({type(exc).__name__})",
            key=f"targets.{target.name}.ca_bundle",
        ) from None


def target_http(
    target: Any,
    context: ConnectorContext,
    *,
    base_url: str,
    auth: Auth,
    vendor: str,
    timeout: float | None = None,
    **vendor_knowledge: Any,
) -> JsonHttp:
    """A JsonHttp for ``target``: its retry policy, concurrency, TLS trust and ``timeout``
    from the target's keys (``timeout`` given here wins over the target's; a target without
    the key keeps the context's); the rest (``request_id_header``, ``kind_of``,
    ``error_text``, ...) as JsonHttp takes it."""
    timeout = timeout if timeout is not None else getattr(target, "timeout", None)
    if timeout is not None:
        context = dataclasses.replace(context, timeout=timeout)
    return JsonHttp(
        target=target.name,
        base_url=base_url,
        context=context,
        auth=auth,
        policy=RetryPolicy.of(target),
        concurrency=target.concurrency,
        vendor=vendor,
        verify=tls_context(target, context),
        **vendor_knowledge,
    )


class JsonKitConnector(KitConnector):
    """A kit connector on :attr:`http` whose app is one JSON object at :meth:`app_path`."""

    http: JsonHttp
    # What a read that is not a JSON object says; ``{app_id}`` is the app's id.
    not_an_object: ClassVar[str] = "GET app {app_id} returned something other than a JSON object"
    # The PUT answers with the app as stored (not an echo), so it is the read-back.
    put_answers_stored: ClassVar[bool] = False
    # How the vendor's API reads (request kinds, error bodies, request-id header).
    dialect: ClassVar[ApiDialect] = ApiDialect()

    def json_http(self, context: ConnectorContext, **knowledge: Any) -> JsonHttp:
        """:func:`target_http` for this connector's target, vendor and :attr:`dialect`
        (``knowledge`` given here wins over the dialect's)."""
        merged = {**self.dialect.knowledge(), **knowledge}
        return target_http(self.config, context, vendor=self.vendor, **merged)

    @abc.abstractmethod
    def app_path(self, app_id: str) -> str:
        """The path of one app: what ``fetch`` GETs and ``send`` PUTs."""

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch(self, ref: AppRef) -> Fetched:
        return self.fetched(ref, await self.http.get(self.app_path(ref.app_id)))

    def fetched(self, ref: AppRef, answer: Answer) -> Fetched:
        """An answer that must carry the app as a JSON object (else a ConnectorError)."""
        problem = self.not_an_object.format(app_id=ref.app_id)
        return Fetched.of_object(answer, problem=problem, target=self.name)

    def body_to_send(self, before: Fetched, after: Doc) -> Doc:
        """What the PUT carries: the whole document (a PUT-replace API) by default."""
        return after

    async def send(self, ref: AppRef, before: Fetched, after: Doc) -> Fetched | None:
        answer = await self.http.put(self.app_path(ref.app_id), self.body_to_send(before, after))
        if (
            self.put_answers_stored
            and isinstance(answer.data, dict)
            and answer.data.get("id") == ref.app_id
        ):
            return self.fetched(ref, answer)
        return None  # 204, an echo or an answer without the app: the template reads again


class Once(Generic[T]):
    """An async read made on first need and reused (one listing for every selector)."""

    def __init__(self, read: Callable[[], Awaitable[T]]) -> None:
        self._read = read
        self._value: list[T] = []

    async def __call__(self) -> T:
        if not self._value:
            self._value.append(await self._read())
        return self._value[0]


async def discover_refs(
    target: str,
    selectors: Iterable[S],
    *,
    id_of: Callable[[S], str | None],
    matches: Callable[[S], Awaitable[Sequence[AppRef]]],
    no_match: Callable[[S], str] | None = None,
) -> list[AppRef]:
    """The apps ``selectors`` name, each once, in the order first named: a selector with an
    id (``id_of``) is that app; any other is what ``matches`` finds for it, and one that
    finds nothing fails discovery with ``no_match``'s message when the vendor gives one."""
    refs: dict[str, AppRef] = {}
    for selector in selectors:
        app_id = id_of(selector)
        if app_id is not None:
            refs.setdefault(app_id, AppRef(target, app_id))
            continue
        found = await matches(selector)
        if not found and no_match is not None:
            raise ConnectorError(no_match(selector), target=target)
        for ref in found:
            refs.setdefault(ref.app_id, ref)
    return list(refs.values())


async def discover_in(
    target: str,
    selectors: Iterable[S],
    listing: Callable[[], Awaitable[Sequence[Doc]]],
    *,
    id_of: Callable[[S], str | None],
    picks: Callable[[S, Doc], bool],
    id_key: str = "id",
    label_key: str = "name",
    no_match: Callable[[S], str] | None = None,
) -> list[AppRef]:
    """:func:`discover_refs` for a vendor that finds apps in one listing: read on first need
    (never when every selector is an id) and once for all selectors; a selector without an
    id is every listed app it ``picks``, named by the app's ``id_key`` and ``label_key``."""
    apps = Once(listing)

    async def matches(selector: S) -> list[AppRef]:
        return [
            AppRef(target, str(app[id_key]), str(app.get(label_key, "")))
            for app in await apps()
            if picks(selector, app)
        ]

    return await discover_refs(target, selectors, id_of=id_of, matches=matches, no_match=no_match)
