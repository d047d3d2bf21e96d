"""The HTTP keys most connectors' target configs share (``concurrency``, ``timeout`` and the
retry keys), declared once. A connector whose default, bound or description differs
redeclares just that field: config keys are a public contract (tests/test_kit_config.py)."""

from __future__ import annotations

from pydantic import Field

from agent.connector import TargetConfig
from connectors.kit.retry import RetryPolicy


class HttpTargetConfig(TargetConfig):
    """Base of a target reached over HTTP through :class:`connectors.kit.http.JsonHttp`."""

    concurrency: int = Field(default=4, ge=1, le=32, description="requests in flight")
    timeout: float = Field(default=30.0, gt=0, le=300, description="seconds per request")
    max_retries: int = Field(default=3, ge=0, le=10, description="retries on 429 and 5xx")
    backoff_base: float = Field(
        default=0.5, ge=0, le=30, description="first backoff (s) when no Retry-After is sent"
    )
    max_rate_limit_wait: float = Field(
        default=60.0, ge=0, le=900, description="longest wait for a rate-limit reset (s)"
    )

    def retry_policy(self) -> RetryPolicy:
        """The kit's retry policy from this target's retry keys."""
        return RetryPolicy(
            max_retries=self.max_retries,
            backoff_base=self.backoff_base,
            max_rate_limit_wait=self.max_rate_limit_wait,
        )
