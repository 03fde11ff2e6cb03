"""A visible alert never ends as ``unknown``: when no rule of its family names a cause, the
alert model (diagnosis.alerts: every registered alert by sender and phase, with the main TLS
stacks' habits) gives its most likely reading, and the next ones as alternatives.

The confidence is ``possible`` (the model's likelihood says how often a cause is behind the
alert, not that the capture proves it), and the explanation says what the alert means and
what in the capture would tell the readings apart.
"""

from __future__ import annotations

from tlsdissect.diagnosis import alerts
from tlsdissect.diagnosis.candidate import Candidate
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.verdict import make_evidence

ALTERNATIVES = 3  # readings named after the first


def read_by_the_alert_model(f: Facts, found: Candidate) -> Candidate:
    """``found`` with the model's reading of the deciding alert when ``found`` names no cause."""
    a = f.alert
    if found.cause != "unknown" or a is None or a.code is None or f.phase is None:
        return found
    readings = alerts.candidates(a.code, a.sender, f.phase)
    top = readings[0]
    found.cause = top.cause
    found.confidence = "possible"
    found.alternatives = [r.cause for r in readings[1:1 + ALTERNATIVES] if r.cause != top.cause]
    found.explanation = alerts.describe(a.code, a.sender, f.phase)
    check = f"To tell the readings apart: {top.evidence}"
    if top.stacks:
        check += f" (a habit of {', '.join(alerts.STACKS.get(s, s) for s in top.stacks)})"
    found.evidence = tuple(found.evidence) + (make_evidence(check, [a.frame]),)
    return found
