"""Diagnosis: where the handshake stopped, who gave up and how, why, and what to change.

The reasoning works from the phase and the bytes, not from the alert name alone: the same
``unknown_ca`` means a missing intermediate when the chain stops at a leaf whose issuer is
absent, a self-signed certificate when the leaf signs itself, and an untrusted root when the
chain is complete. Each conclusion carries a confidence ("certain" when the bytes prove it,
"likely" when they strongly suggest it, "possible" when it is one reading among others), the
evidence with frame numbers, and the alternatives the evidence leaves open.

The facts about a connection are gathered once (:mod:`~tlsdissect.diagnosis.facts`); the
rules (:mod:`~tlsdissect.diagnosis.rules`) each propose a candidate cause; the ranking
(:mod:`~tlsdissect.diagnosis.ranking`) picks the winner; here it becomes the Diagnosis.

Input is a finished :class:`~tlsdissect.results.model.Connection` plus the certificate analyses of
:mod:`tlsdissect.pipeline.enrich`; nothing here reads packets.
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.diagnosis.candidate import Candidate
from tlsdissect.diagnosis.causes import CAUSES, remedy_lines
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.ranking import decide
from tlsdissect.diagnosis.texts import check_for
from tlsdissect.diagnosis.verdict import Diagnosis, Evidence, after_handshake_problem
from tlsdissect.results.model import Connection, Event

__all__ = ["diagnose", "Diagnosis", "Evidence"]

# Failure points after a completed handshake: a cause named there is the after-handshake problem.
AFTER_HANDSHAKE_POINTS = frozenset({"application_data", "renegotiation", "post_handshake_auth"})


def diagnose(conn: Connection, server_chain: Any = None, client_chain: Any = None,
             client_findings: Any = None, by_type: Optional[dict[str, list[Event]]] = None,
             peer_server_key: Optional[tuple[str, int]] = None, server_signature: Any = None) -> Diagnosis:
    """Diagnose one connection (certificate analyses are optional inputs; ``by_type`` is its
    events grouped by type, when the caller has them: see facts.events_by_type;
    ``peer_server_key`` the server's certificate key type and the stream that showed it, when
    another connection to the same server did; ``server_signature`` the server's handshake
    signature checked and its message's frame)."""
    f = Facts(conn, server_chain, client_findings, client_chain, by_type, peer_server_key, server_signature)
    won = decide(f)
    # The winner as the Diagnosis: the notes and then its own evidence, the last handshake
    # message before its alert, the catalogue's remedy and check command.
    evidence = f.evidence
    if won.evidence:
        evidence += won.evidence
    hidden = f.hidden
    if won.hidden:
        hidden += won.hidden
    # The last handshake message before the deciding alert (all of them without one).
    alert = won.alert
    hs = f.hs
    last = None
    if alert:  # last_hs(before=the alert's frame)
        limit = alert.frame
        for e in reversed(hs):
            if e.frame <= limit:
                last = e
                break
    elif hs:
        last = hs[-1]
    last_completed = None
    if last is not None:
        info = last.info
        last_completed = {"message": info.get("message"), "sender": last.sender, "frame": last.frame,
                          "encrypted": bool(info.get("encrypted"))}
    cause = won.cause
    remedy: list[str] = []
    command = withheld = None
    if cause != "ok":
        remedy = list(won.remedy) if won.remedy else remedy_lines(cause)
        st = conn.starttls
        command, withheld = check_for(cause, conn.server, conn.server_name or "", st.protocol if st else "smtp")
    after = f.after_handshake
    if after is None and conn.established and cause not in ("ok", "unknown", "not_tls") \
            and won.failure_point in AFTER_HANDSHAKE_POINTS:
        after = _stopped_exchange(won)
    # (Positional: a keyword call of the class costs half as much again; the field order is
    # held by tests/test_enrich_diagnosis_factory.py.)
    return Diagnosis(won.outcome, cause, won.confidence, won.failure_point, last_completed, won.aborted_by,
                     won.how, alert, won.alternatives, won.explanation, evidence, remedy, command, withheld,
                     conn.wireshark_filter, hidden, after)


def _stopped_exchange(won: Candidate) -> dict[str, Any]:
    """The after-handshake problem of a winner that named a cause after the handshake: the
    cause itself, with the frames of the winner's own evidence and its alert."""
    frames = sorted({fr for e in won.evidence for fr in e.frames})
    if won.alert is not None and won.alert.frame not in frames:
        frames = sorted(frames + [won.alert.frame])
    return after_handshake_problem(won.cause, won.confidence, True, CAUSES[won.cause].title, frames, won.alert)
