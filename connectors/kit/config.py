"""The config keys most connectors' targets share, declared once.

* :class:`HttpTargetConfig` holds the HTTP keys (``concurrency``, ``timeout`` and the retry
  keys) with the kit's defaults, and checks that the target's API URL key is absolute;
* the ``*_field`` factories build each of those keys, so a connector whose default, bound
  or description differs redeclares that key in one line with only what differs;
* :class:`AppSelector` is an ``apps`` entry that names its app by exactly one key.

Config keys are a public contract (tests/unit/test_kit_config.py): a factory's defaults are
the kit's, and a connector passes its own where its key always had another.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.connector import TargetConfig, exactly_one
from connectors.kit.retry import RetryPolicy

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


class HttpTargetConfig(TargetConfig):
    """Base of a target reached over HTTP through :class:`connectors.kit.http.JsonHttp`."""

    # The key holding the API's URL and an example of it: a value that is not an absolute
    # http(s) URL is refused when the config loads ("api_url must look like https://...").
    url_key: ClassVar[tuple[str, str] | None] = None

    concurrency: int = concurrency_field()
    timeout: float = timeout_field()
    max_retries: int = retries_field()
    backoff_base: float = backoff_field()
    max_rate_limit_wait: float = rate_limit_wait_field()

    @model_validator(mode="after")
    def _absolute_url(self) -> Self:
        if self.url_key is not None:
            key, example = self.url_key
            if not getattr(self, key).startswith(("https://", "http://")):
                raise ValueError(f"{key} must look like {example}")
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


def _not_none(value: object) -> bool:
    return value is not None
