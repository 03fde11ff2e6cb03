"""Validity at the capture time: whether the capture's clock is credible, and whether each
certificate was within its validity period then (worded so that ``retime`` can reword it)."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from tlsdissect.x509.findings import _ChainContext
from tlsdissect.x509.info import CertificateInfo
from tlsdissect.x509.times import _duration, _fmt_time, _to_datetime

# Packet times before this are a reset clock (epoch 0 and friends), not a real capture date.
EARLIEST_CREDIBLE_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
VALIDITY_FINDINGS = ("expired", "not_yet_valid")  # the findings that quote the capture time


def capture_time(at: datetime | float) -> datetime | None:
    """``at`` as aware UTC; None for a finite epoch outside years 1-9999 (a corrupt packet
    timestamp, judged by ``credible_time``). Raises TypeError for anything that is not a time."""
    try:
        return _to_datetime(at)
    except TypeError:
        if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at):
            raise
        return None  # a finite epoch outside years 1-9999: a corrupt packet timestamp, see credible_time


def credible_time(ctx: _ChainContext, when: datetime | None, at: datetime | float) -> datetime | None:
    """The capture time to judge validity periods at; None, with ``capture_time_implausible``,
    when the capture's clock is not credible (reset to 1970, or beyond the years 1-9999)."""
    if when is None or when < EARLIEST_CREDIBLE_TIME:
        ctx.add(
            "capture_time_implausible",
            "info",
            f"The capture's clock reads {_fmt_time(when) if when else f'{at:.0f} s from 1970 (outside the years 1-9999)'}, "
            "so its timestamps are not real; certificate validity periods were not judged.",
        )
        return None
    return when


def validity_period(ctx: _ChainContext, index: int, who: str, at: datetime) -> None:
    """``expired`` or ``not_yet_valid`` of one certificate at the capture time ``at``."""
    for fid, text in _validity_findings(ctx.parsed[index].info, who, at):
        ctx.add(fid, "error", text, [index])


def _validity_gap(fid: str, info: CertificateInfo, at: datetime) -> float | None:
    """Seconds by which ``at`` lies outside the validity period on the side of finding ``fid``
    (VALIDITY_FINDINGS); None when the certificate is not in that state at ``at``."""
    if fid == "expired" and info.not_after is not None and at > info.not_after:
        return (at - info.not_after).total_seconds()
    if fid == "not_yet_valid" and info.not_before is not None and at < info.not_before:
        return (info.not_before - at).total_seconds()
    return None


def _validity_wording(fid: str, info: CertificateInfo, who: str) -> tuple[str, str, str]:
    """The text of validity finding ``fid`` around its two time-dependent parts: the text is
    head + how long + middle + capture time + tail."""
    bound = info.not_after if fid == "expired" else info.not_before
    assert bound is not None  # (the finding exists only where its bound is known: _validity_gap)
    if fid == "expired":
        return (f"{who} expired ", f" before the capture (not valid after {_fmt_time(bound)}; "
                "capture time ", ").")
    return (f"{who} becomes valid only ", f" after the capture (not valid before {_fmt_time(bound)}; "
            "capture time ", "); check the clocks of the client, of the capturing host and of the machine "
            "that issued the certificate.")


def _validity_text(fid: str, info: CertificateInfo, who: str, at: datetime) -> str | None:
    """The text of validity finding ``fid`` of one certificate at time ``at``; None when the
    certificate is not in that state then."""
    gap = _validity_gap(fid, info, at)
    if gap is None:
        return None
    head, middle, tail = _validity_wording(fid, info, who)
    return head + _duration(gap) + middle + _fmt_time(at) + tail


def _validity_findings(info: CertificateInfo, who: str, at: datetime) -> list[tuple[str, str]]:
    """(id, text) of the validity-period findings of one certificate at time ``at``."""
    out = []
    for fid in VALIDITY_FINDINGS:
        text = _validity_text(fid, info, who, at)
        if text is not None:
            out.append((fid, text))
    return out
