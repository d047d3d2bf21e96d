"""Durations in the configuration: ``30s``, ``15m``, ``24h``, ``7d``, seconds, or ISO 8601
(``PT15M``, as config/schema.json shows the defaults), and the range check every duration key
gets (the error names the allowed range)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pydantic import ValidationInfo, field_validator

_DURATION = re.compile(r"^\s*([0-9]+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# ISO 8601 durations, as config/schema.json shows the defaults (PT15M, PT24H, P7D).
_ISO_DURATION = re.compile(
    r"^\s*P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?\s*$",
    re.IGNORECASE,
)


def parse_duration(value: object) -> timedelta:
    """``"24h"``, ``"15m"``, ``"60s"``, ``"7d"``, ISO 8601 (``"PT15M"``) or seconds."""
    if isinstance(value, timedelta):
        return value
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return timedelta(seconds=float(value))
        if isinstance(value, str):
            m = _DURATION.match(value)
            if m:
                return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
            iso = _ISO_DURATION.match(value)
            if iso and any(iso.groupdict().values()) and not value.strip().upper().endswith("T"):
                return timedelta(**{k: float(v) for k, v in iso.groupdict().items() if v})
    except (OverflowError, ValueError):  # 99999999999999d, .inf, .nan
        raise ValueError(f"duration {value!r} is out of range") from None
    raise ValueError(
        f"expected a duration such as 30s, 15m, 24h, 7d or ISO 8601 PT15M, got {value!r}"
    )


def _spell(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def bounded_duration(value: object, low: timedelta, high: timedelta) -> timedelta:
    """A duration within [low, high]; the error names the allowed range."""
    allowed = f"allowed: {_spell(low)} to {_spell(high)}"
    try:
        parsed = parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"{exc} ({allowed})") from None
    if not low <= parsed <= high:
        raise ValueError(f"duration {value!r} is out of range ({allowed})")
    return parsed


def durations_within(**ranges: tuple[timedelta, timedelta]) -> Any:
    """A ``mode="before"`` validator for several duration fields, each with its range."""

    def check(cls: type, value: object, info: ValidationInfo) -> timedelta:
        low, high = ranges[str(info.field_name)]
        return bounded_duration(value, low, high)

    return field_validator(*ranges, mode="before")(classmethod(check))


SECOND, DAY = timedelta(seconds=1), timedelta(days=1)
