"""``Retimer``: one chain analysis, reused at other capture times, with its validity findings
worded for each (how long before the capture a certificate expired, and the capture time)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tlsdissect.x509.chain import ChainAnalysis
from tlsdissect.x509.checks.validity import VALIDITY_FINDINGS, _validity_wording
from tlsdissect.x509.findings import ChainFinding, _cap, _who
from tlsdissect.x509.times import _FMT_TIME_CACHE, _duration, _fmt_time, _to_datetime

_fromtimestamp = datetime.fromtimestamp
_UTC = timezone.utc
_GAP_LIMIT = timedelta(seconds=2e9)  # see Retimer.__call__


def _with_findings(analysis: ChainAnalysis, findings: list[ChainFinding]) -> ChainAnalysis:
    """``replace(analysis, findings=findings)`` without its walk over the fields: ChainAnalysis
    has no __post_init__, so its attributes with other findings are what replace builds."""
    new = object.__new__(ChainAnalysis)
    new.__dict__.update(analysis.__dict__)
    new.findings = findings
    return new


def _with_text(finding: ChainFinding, text: str) -> ChainFinding:
    """``ChainFinding(finding.id, finding.severity, text, finding.certificates)`` without the
    frozen dataclass's one object.__setattr__ call per field."""
    new = object.__new__(ChainFinding)
    attrs = new.__dict__
    attrs.update(finding.__dict__)
    attrs["text"] = text
    return new


class Retimer:
    """One analysis with its validity findings worded for the capture time it is called with.

    A cache (enrich.py) reuses an analysis at other instants of the same span — where the same
    certificates are expired or not yet valid — so each connection's report quotes its own
    capture time and how long before it the certificate expired. Only those two parts of the
    texts change, and a busy capture mostly repeats the previous connection's (the time is
    quoted to the second): then the previous result is handed out again (results are shared
    read-only, as cached analyses without validity findings always were) instead of a new one."""

    __slots__ = ("analysis", "_validity", "_bounds", "_whole", "_last", "_second")

    def __init__(self, analysis: ChainAnalysis, role: str) -> None:
        self.analysis = analysis
        # (position in findings, finding, its certificate, wording around the time-dependent parts)
        self._validity = tuple(
            (pos, f, info, _validity_wording(f.id, info, _cap(_who(role, f.certificates[0], info))))
            for pos, f in enumerate(analysis.findings)
            if f.id in VALIDITY_FINDINGS and len(f.certificates) == 1
            for info in (analysis.certificates[f.certificates[0]],)
        )
        # _validity_gap's operands for each: (expired finding?, the validity bound it compares with)
        self._bounds = tuple((f.id == "expired", info.not_after if f.id == "expired" else info.not_before)
                             for _pos, f, info, _wording in self._validity)
        # When all bounds are whole UTC seconds, the parts are the same all through one second
        # of capture time (its instant .000000 excepted), see __call__; then the capture times
        # for which the bounds are all nearer than _GAP_LIMIT: (after this, before this), None
        # where there is no limit (beyond the datetime range).
        self._whole: tuple[datetime | None, datetime | None] | None = None
        bounds = [b for _expired, b in self._bounds if b is not None]
        if all(b.tzinfo is _UTC and b.microsecond == 0 for b in bounds):
            after = before = None
            if bounds:
                try:
                    after = max(bounds) - _GAP_LIMIT
                except OverflowError:
                    pass
                try:
                    before = min(bounds) + _GAP_LIMIT
                except OverflowError:
                    pass
            self._whole = (after, before)
        self._last: tuple[list[str | None], ChainAnalysis] | None = None
        # (lowest, highest capture time as a float, the result for them): see __call__
        self._second: tuple[float, float, ChainAnalysis] | None = None

    def __call__(self, at: float) -> ChainAnalysis:
        if not self._validity:
            return self.analysis
        second = self._second
        if second is not None and type(at) is float and second[0] <= at <= second[1]:
            return second[2]
        if type(at) is float:  # _to_datetime's common case, without its checks
            try:
                when = _fromtimestamp(at, _UTC)
            except (OverflowError, OSError, ValueError):
                when = _to_datetime(at)  # raises its TypeError
        else:
            when = _to_datetime(at)
        # Everything in the texts that depends on the time: equal parts, equal texts.
        # (``when`` is aware UTC here: _fmt_time's key and cache, without its conversion.)
        stamp = _FMT_TIME_CACHE.get((when.year, when.month, when.day, when.hour, when.minute, when.second))
        now_text = _fmt_time(when) if stamp is None else stamp
        parts: list[str | None] = [now_text]
        for expired, bound in self._bounds:  # _validity_gap, then _duration
            if bound is None:
                parts.append(None)
            elif expired:
                parts.append(_duration((when - bound).total_seconds()) if when > bound else None)
            else:
                parts.append(_duration((bound - when).total_seconds()) if when < bound else None)
        last = self._last
        if last is not None and last[0] == parts:
            result = last[1]
        else:
            findings = list(self.analysis.findings)
            for (pos, f, _info, (head, middle, tail)), ago in zip(self._validity, parts[1:]):
                if ago is not None:
                    findings[pos] = _with_text(f, head + ago + middle + now_text + tail)
            result = _with_findings(self.analysis, findings)
            self._last = (parts, result)  # one assignment: safe to read from other threads
        # The same parts hold for every instant strictly inside this second when the bounds are
        # whole seconds: the capture time is quoted to the second; an "expired" gap lies in
        # (k, k+1) s and a "not yet valid" one in (k-1, k) s for one whole k, where _duration's
        # whole counts of seconds, minutes, hours or days cannot change, and which certificates
        # are out of their validity periods cannot either. Gaps under _GAP_LIMIT keep a
        # microsecond visible in the float seconds _duration reads. The float capture times
        # that fromtimestamp rounds into that open second s include [s + 2 us, s + 1 s - 2 us]
        # (times from 1970 to 2106, where a float is finer than half a microsecond); s is the
        # whole part of ``at`` when fromtimestamp did not round it up to the next second.
        second = None
        whole = self._whole
        if whole is not None and type(at) is float and 0.0 <= at < 4294967296.0 and when.microsecond \
                and (whole[0] is None or when > whole[0]) and (whole[1] is None or when < whole[1]):
            s = float(int(at))
            second = (s + 2e-6, s + 1.0 - 2e-6, result)
        self._second = second
        return result
