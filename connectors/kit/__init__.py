"""The connector kit: what every connector shares, so a connector is vendor knowledge only.

A connector built on the kit supplies its endpoints, its auth and a codec; the kit supplies
the rest, once:

* :mod:`connectors.kit.base`: :class:`KitConnector`, the template (observe = fetch, decode,
  fingerprint; apply = fresh fetch, conflict guard, encode, send, read back; bounded
  concurrent observe; codec errors mapped to :class:`agent.errors.NotSupported`);
* :mod:`connectors.kit.codec`: the codec contract (decode a raw app to its trust and its
  limits as data, encode trust into a raw app);
* :mod:`connectors.kit.retry`, :mod:`connectors.kit.ratelimit`, :mod:`connectors.kit.links`,
  :mod:`connectors.kit.errors`: the HTTP policy (retry with backoff and ``Retry-After``
  or reset headers, rate budgets, opaque next links on the same origin with a loop guard,
  one translation of HTTP and transport failures into :mod:`agent.errors`);
* :mod:`connectors.kit.http`: a JSON client on httpx that applies that policy, for vendors
  without an SDK the brief requires;
* :mod:`connectors.kit.certs`: certificates from DER, PEM, base64, x5c and JWK;
* :mod:`connectors.kit.testing`: the contract suite and a loopback fake-IdP base, shipped
  with the package so a connector outside this repository can run them.
"""
