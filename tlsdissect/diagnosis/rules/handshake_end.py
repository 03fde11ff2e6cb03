"""Alerts at the end of the handshake, and alerts at a step no other rule covers.

Each always applies: the rule for a deciding readable alert at ``finished``, and the one for an
alert whose phase and sender no family of rules covers.
"""

from __future__ import annotations

from tlsdissect.diagnosis.candidate import Candidate, alert_label, by_alert, deciding
from tlsdissect.diagnosis.facts import Facts


def finished_check_failed(f: Facts) -> Candidate:
    """The rule for an alert at ``finished`` (from either side): typically the Finished check failed."""
    return by_alert(f, "unknown", "possible", [],
                    f"The {deciding(f).sender} rejected the end of the handshake with {alert_label(f)}: typically the "
                    "Finished check failed (a TLS bug, a middlebox altering bytes, or mismatched pre-shared keys).")


def unexplained_alert(f: Facts) -> Candidate:
    """Any other alert (always applies): its name and phase, and that the capture does not say why."""
    return by_alert(f, "unknown", "possible", [],
                    f"The {deciding(f).sender} aborted with {alert_label(f)} during {f.phase.replace('_', ' ')}; "
                    "the capture does not show why.")
