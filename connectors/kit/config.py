"""The config keys most connectors' targets share, declared once.

* :class:`AppsTarget` holds the ``apps`` list (at least one entry, of the connector's own
  selector type), and :class:`HttpTargetConfig` adds the HTTP keys (``concurrency``,
  ``timeout`` and the retry keys) with the kit's defaults;
* :func:`api_url_field` declares the key holding the API's URL, with the example shown when
  a value is not an absolute http(s) URL;
* the ``*_field`` factories build each of those keys, so a connector whose default, bound
  or description differs redeclares that key in one line with only what differs;
* :class:`AppSelector` is an ``apps`` entry that names its app by exactly one key.

Config keys are a public contract (tests/unit/test_kit_config.py): a factory's defaults are
the kit's, and a connector passes its own where its key always had another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticUndefined

from agent.connector import TargetConfig, exactly_one
from connectors.kit.retry import RetryPolicy

_FIRST_URL = re.compile(r"https?://\S+")

# What the targets whose vendors always send Retry-After call their rate-limit wait.
LONGEST_RETRY_AFTER = "longest Retry-After idpsync waits out (s)"


def concurrency_field(
    default: int = 4, *, le: int = 32, description: str = "requests in flight"
) -> Any:
    return Field(default=default, ge=1, le=le, description=description)


def timeout_field(description: str = "seconds per request") -> Any:
    return Field(default=30.0, gt=0, le=300, description=description)


def retries_field(default: int = 3, description: str = "retries on 429 and 5xx") -> Any:
    return Field(default=default, ge=0, le=10, description=description)


def backoff_field(
    default: float = 0.5, description: str = "first backoff (s) when no Retry-After is sent"
) -> Any:
    return Field(default=default, ge=0, le=30, description=description)


def rate_limit_wait_field(
    default: float = 60.0,
    *,
    le: float = 900,
    description: str = "longest wait for a rate-limit reset (s)",
) -> Any:
    return Field(default=default, ge=0, le=le, description=description)


def keys_together(config: Any, *keys: str) -> list[tuple[str, str, str]]:
    """A ``value_problems`` "fail" when some of ``keys`` are set and others not: keys that
    work only together (a half-configured feature must not pass ``validate``)."""
    given = [getattr(config, key) is not None for key in keys]
    if any(given) and not all(given):
        return [("fail", keys[0], f"set {' and '.join(keys)} together, or neither")]
    return []


@dataclass(frozen=True)
class ApiUrl:
    """Field metadata marking the key that holds the API's URL (see :func:`api_url_field`)."""

    example: str


def api_url_field(description: str, default: Any = PydanticUndefined) -> Any:
    """The key holding the API's URL: a value that is not an absolute http(s) URL is refused
    when the config loads, naming the first URL in ``description`` as the example ("org_url
    must look like https://<org>.okta.com"), so the example is written once."""
    example = _FIRST_URL.search(description)
    if example is None:
        raise ValueError(f"an API URL key's description needs an example URL: {description!r}")
    info = Field(default=default, description=description)
    info.metadata.append(ApiUrl(example.group(0).rstrip(".,;)")))
    return info


AppT = TypeVar("AppT", bound=BaseModel)


class AppsTarget(TargetConfig, Generic[AppT]):
    """Base of a target whose ``apps`` entries are ``AppT`` selectors: at least one, since a
    target that names no app can only be a mistake in the config."""

    apps: list[AppT] = Field(min_length=1)


class HttpTargetConfig(AppsTarget[AppT], Generic[AppT]):
    """Base of a target reached over HTTP through :class:`connectors.kit.http.JsonHttp`."""

    concurrency: int = concurrency_field()
    timeout: float = timeout_field()
    max_retries: int = retries_field()
    backoff_base: float = backoff_field()
    max_rate_limit_wait: float = rate_limit_wait_field()

    @model_validator(mode="after")
    def _absolute_url(self) -> Self:
        for key, info in type(self).model_fields.items():
            value = getattr(self, key)
            for marker in info.metadata:
                # None is an optional URL left unset, not a relative one.
                if isinstance(marker, ApiUrl) and value is not None and not _absolute(value):
                    raise ValueError(f"{key} must look like {marker.example}")
        return self

    def retry_policy(self) -> RetryPolicy:
        """The kit's retry policy from this target's retry keys."""
        return RetryPolicy.of(self)


class AppSelector(BaseModel):
    """An ``apps`` entry that names its app(s) by exactly one of the keys in :attr:`one_of`.

    ``one_of_text`` replaces the keys' list in the error where it needs words of its own.
    A key counts as given when its value is neither None nor empty, or, with
    ``empty_is_given``, whenever it is not None (an ``id`` 0 is still an id)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    one_of: ClassVar[tuple[str, ...]]
    one_of_text: ClassVar[str | None] = None
    empty_is_given: ClassVar[bool] = False

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        is_set = _not_none if self.empty_is_given else bool
        exactly_one(
            self, self.one_of, entry="each apps entry", listed=self.one_of_text, is_set=is_set
        )
        return self


def _absolute(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def _not_none(value: object) -> bool:
    return value is not None
