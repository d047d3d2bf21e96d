"""Small pure helpers for reading Okta's wire format: error bodies and failure messages."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp


def path_only(path: str) -> str:
    return path.split("?", 1)[0]


def json_or_none(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def okta_message(body: Any, text: str | None, status: int) -> str:
    """errorSummary plus every errorCauses[].errorSummary, or a short body excerpt.

    Okta's error object: https://developer.okta.com/docs/reference/error-codes/ (errorCode,
    errorSummary, errorLink, errorId, errorCauses); the token endpoint answers OAuth's
    ``error``/``error_description`` instead."""
    if isinstance(body, dict) and ("errorSummary" in body or "error" in body):
        summary = str(body.get("errorSummary") or body.get("error_description") or body["error"])
        causes = [
            str(c.get("errorSummary"))
            for c in body.get("errorCauses") or []
            if isinstance(c, dict) and c.get("errorSummary")
        ]
        return summary + (f" — causes: {'; '.join(causes)}" if causes else "")
    excerpt = (text or "").strip().replace("\n", " ")[:200]
    return f"HTTP {status}" + (f": {excerpt}" if excerpt else "")


def error_code(body: Any) -> str | None:
    """Okta's ``errorCode`` (``E0000047``, ...) of an error body, when it has one."""
    code = body.get("errorCode") if isinstance(body, dict) else None
    return str(code) if code else None


def sdk_message(err: Any) -> str:
    """The SDK error's summary, first line only (its DPoP messages add ACTION paragraphs)."""
    summary = getattr(err, "error_summary", None)
    if summary:
        return str(summary).strip().splitlines()[0][:300]
    return type(err).__name__ if not str(err) else str(err).splitlines()[0][:200]


def network_message(err: Any) -> str:
    if isinstance(err, asyncio.TimeoutError):
        return "timed out"
    if isinstance(err, aiohttp.ClientPayloadError):
        return "the response body was cut off"
    if isinstance(err, aiohttp.ClientConnectionError):
        return f"connection failed ({type(err).__name__})"
    return f"{type(err).__name__}: {str(err)[:200]}" if err is not None else "no response"
