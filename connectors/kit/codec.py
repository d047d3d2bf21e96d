"""The codec contract: a vendor's app document to idpsync's trust, and back.

A codec is two pure functions over the vendor's JSON:

* ``decode(doc) -> Decoded``: the app's trust (entity ID, ACS URLs, default), its kind, and
  its limits as data (:class:`agent.model.Capabilities`: one or many ACS URLs, how many, how
  long, indexed or not). The core checks a plan against these limits **while planning**
  (``agent.safety``), so an apply never meets a limit the plan did not know about.
* ``encode(doc, trust) -> doc``: a new document with ``trust`` written into the managed
  fields and every other field kept exactly as it was (a deep copy is made only of the
  path it writes).

Both raise :class:`UnsupportedApp` for a document the connector does not manage; the kit
turns that into :class:`agent.errors.NotSupported` naming the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.model import AppTrust, Capabilities, Certificate, Finding

Doc = dict[str, Any]


class UnsupportedApp(ValueError):
    """The document is not an app this connector manages (wrong kind, missing fields), or
    it cannot hold the trust asked of it."""


@dataclass(frozen=True)
class Decoded:
    """What a codec reads from one app document."""

    trust: AppTrust
    capabilities: Capabilities = field(default_factory=Capabilities)
    kind: str = ""  # the vendor's app kind ("custom_saml", "amazon_aws_sso", ...)
    label: str = ""  # the app's display name, when the document has one
    findings: tuple[Finding, ...] = ()
    sp_certificate: Certificate | None = None


class Codec(Protocol):
    """What :class:`connectors.kit.base.KitConnector` needs of a codec (a module with these
    two functions satisfies it)."""

    def decode(self, doc: Doc) -> Decoded: ...

    def encode(self, doc: Doc, trust: AppTrust) -> Doc: ...


@dataclass(frozen=True)
class FunctionCodec:
    """A codec made of two functions (for formats kept as module-level functions)."""

    decode_fn: Callable[[Doc], Decoded]
    encode_fn: Callable[[Doc, AppTrust], Doc]

    def decode(self, doc: Doc) -> Decoded:
        return self.decode_fn(doc)

    def encode(self, doc: Doc, trust: AppTrust) -> Doc:
        return self.encode_fn(doc, trust)


def url_and_index(entry: Any, where: str) -> tuple[str, int | None]:
    """One ``{"url": ..., "index": ...}`` ACS entry (the file format's ``acs[]``, Okta's
    ``acsEndpoints[]``): its URL and its index, if any. An entry without a url string, or
    with an index that is not an integer (a bool is not one), is refused naming ``where``:
    skipping it would make the next write drop it."""
    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
        raise UnsupportedApp(f"{where} needs a url string")
    index = entry.get("index")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
        raise UnsupportedApp(f"{where}.index must be an integer, not {index!r}")
    return entry["url"], index
