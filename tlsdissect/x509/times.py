"""Times as the certificate stage writes them: aware UTC, ISO 8601, durations, capture times to the second."""

from __future__ import annotations

from datetime import datetime, timezone


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return _utc(value).isoformat().replace("+00:00", "Z")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _duration(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        n, unit = int(seconds), "second"
    elif seconds < 2 * 3600:
        n, unit = int(seconds // 60), "minute"
    elif seconds < 2 * 86400:
        n, unit = int(seconds // 3600), "hour"
    else:
        n, unit = int(seconds // 86400), "day"
    return f"{n} {unit}{'' if n == 1 else 's'}"


_FMT_TIME_CACHE: dict[tuple[int, ...], str] = {}
_FMT_TIME_CACHE_MAX = 4096  # whole seconds remembered (cleared when full)


def _fmt_time(value: datetime) -> str:
    """UTC to the second; remembered because every connection quotes its capture time and a
    busy capture packs hundreds of them into each second."""
    utc = _utc(value)
    # Keyed on exactly the fields shown (a tuple hashes several times faster than a datetime).
    key = (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)
    text = _FMT_TIME_CACHE.get(key)
    if text is None:
        if len(_FMT_TIME_CACHE) >= _FMT_TIME_CACHE_MAX:
            _FMT_TIME_CACHE.clear()
        text = _FMT_TIME_CACHE[key] = utc.strftime("%Y-%m-%d %H:%M:%S UTC")
    return text


def _to_datetime(at: datetime | float) -> datetime:
    """The capture time as aware UTC; a clear TypeError for anything that is not a time."""
    if isinstance(at, datetime):
        return _utc(at)
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        try:
            return datetime.fromtimestamp(float(at), tz=timezone.utc)
        except (OverflowError, OSError, ValueError) as exc:
            raise TypeError(f"capture time {at!r} is not a usable epoch time: {exc}") from exc
    raise TypeError(f"capture time must be a datetime or epoch seconds, not {type(at).__name__}")
