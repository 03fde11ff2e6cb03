"""What a rule proposes: a cause with its confidence, where and how things stopped, the
explanation, and the evidence lines and hidden items of its own.

A rule returns a :class:`Candidate` when the facts it starts from are there, None otherwise;
:mod:`tlsdissect.diagnosis.ranking` picks the winner, and the reasoner makes it the
connection's Diagnosis: the notes in :class:`~tlsdissect.diagnosis.facts.Facts` first, then the
winner's own lines; the remedy and check command the catalogue gives for its cause unless it
brings its own remedy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.verdict import Evidence
from tlsdissect.results.model import Alert

_new = object.__new__


@dataclass(slots=True)
class Candidate:
    outcome: str  # established | failed | incomplete | not_tls
    cause: str  # an id of diagnosis.causes.CAUSES (or "ok", "unknown")
    confidence: str  # certain | likely | possible
    failure_point: Optional[str] = None
    aborted_by: Optional[str] = None  # client | server | middlebox | unknown
    how: Optional[str] = None  # alert | rst | fin | no_response | capture_ended | one_way
    alert: Optional[Alert] = None  # the deciding alert, when one ended it
    alternatives: list[str] = field(default_factory=list)
    explanation: str = ""
    evidence: Sequence[Evidence] = ()  # after the notes
    hidden: Sequence[str] = ()  # after the notes
    remedy: Sequence[str] = ()  # empty: the catalogue's for the cause


# A rule: the facts in, a candidate out when it applies (None when it does not).
Rule = Callable[[Facts], Optional[Candidate]]


def candidate(outcome: str, cause: str, confidence: str, failure_point: Optional[str] = None,
              aborted_by: Optional[str] = None, how: Optional[str] = None, alert: Optional[Alert] = None,
              alternatives: Optional[list[str]] = None, explanation: str = "",
              evidence: Sequence[Evidence] = (), hidden: Sequence[str] = ()) -> Candidate:
    """``Candidate(...)`` without the class call (a call of the dataclass with keywords goes
    through the interpreter's generic class-call path and costs twice this);
    tests/test_enrich_diagnosis_factory.py holds the two equal."""
    d = _new(Candidate)
    d.outcome = outcome
    d.cause = cause
    d.confidence = confidence
    d.failure_point = failure_point
    d.aborted_by = aborted_by
    d.how = how
    d.alert = alert
    d.alternatives = [] if alternatives is None else alternatives
    d.explanation = explanation
    d.evidence = evidence
    d.hidden = hidden
    d.remedy = ()
    return d


def deciding(f: Facts) -> Alert:
    """The deciding alert, for the rules that run only when there is one."""
    a = f.alert
    assert a is not None, "an alert rule ran without a deciding alert"
    return a


def ended_by_alert(a: Alert, phase: str, cause: str, confidence: str, alternatives: list[str], explanation: str,
                   evidence: Sequence[Evidence] = (), hidden: Sequence[str] = ()) -> Candidate:
    """A failure ended by alert ``a`` at ``phase``, by its sender."""
    return candidate("failed", cause, confidence, failure_point=phase, aborted_by=a.sender, how="alert",
                     alert=a, alternatives=alternatives, explanation=explanation,
                     evidence=evidence, hidden=hidden)


def by_alert(f: Facts, cause: str, confidence: str, alternatives: list[str], explanation: str,
             evidence: Sequence[Evidence] = (), hidden: Sequence[str] = ()) -> Candidate:
    """A failure ended by the deciding alert: stopped at its phase, by its sender."""
    a = deciding(f)
    return candidate("failed", cause, confidence, failure_point=f.phase, aborted_by=a.sender, how="alert",
                     alert=a, alternatives=alternatives, explanation=explanation,
                     evidence=evidence, hidden=hidden)


def alert_label(f: Facts) -> str:
    """'handshake_failure (0x28)': how explanations name the deciding alert."""
    a = deciding(f)
    return f"{a.name} ({a.hex})"
