"""Okta's rate-limit knowledge: which bucket a request spends and what its headers are called.

Waiting, reading and retrying are the kit's (:mod:`connectors.kit.ratelimit`,
:mod:`connectors.kit.retry`); this module only says how Okta names things:

* Buckets (https://developer.okta.com/docs/reference/rl-global-mgmt/): get, update and
  delete of ``/api/v1/apps/{id}`` share one bucket; listing and creating (``/api/v1/apps``)
  have their own, which "other app actions" (``/api/v1/apps/{id}/*``, such as the lifecycle
  calls that deactivate a bookmark app before its delete) spend too. The metric label
  (:func:`request_kind`, or the caller's own kind) still tells a GET from a PUT.
* Headers: ``X-Rate-Limit-Limit`` / ``-Remaining`` / ``-Reset`` (Unix seconds, read against
  the server's ``Date``, https://developer.okta.com/docs/reference/rl-best-practices/). Each
  may come more than once (the org's bucket and the calling token's or OAuth app's share of
  it, https://developer.okta.com/docs/reference/rl2-token-oauth/); the kit takes the most
  restrictive value, as the okta SDK's ``RequestExecutor`` reads every value with ``getall``.
"""

from __future__ import annotations

from connectors.kit.ratelimit import HeaderNames

OKTA_HEADERS = HeaderNames(remaining=("X-Rate-Limit-Remaining",), reset=("X-Rate-Limit-Reset",))


def request_kind(method: str, path: str) -> str:
    """The metric label of a request: ``list``, ``keys``, ``get`` or ``put``."""
    bare = path.split("?", 1)[0]
    if bare == "/api/v1/apps":
        return "list"
    if bare.endswith("/credentials/keys"):
        return "keys"
    return "put" if method == "PUT" else "get"


def bucket_of(method: str, path: str) -> str:
    """The Okta rate-limit bucket a request spends: ``list``, ``keys`` or ``app``."""
    if "/lifecycle/" in path.split("?", 1)[0]:
        return "list"  # /api/v1/apps/{id}/lifecycle/*: "other app actions"
    kind = request_kind(method, path)
    return "app" if kind in ("get", "put") else kind
