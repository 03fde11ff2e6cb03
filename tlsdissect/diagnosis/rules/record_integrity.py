"""A protected record that failed its integrity check after the handshake: ``bad_record_mac``.

Once both sides have exchanged records under the session keys, a record whose MAC or AEAD tag
does not verify means its bytes changed between the two TLS stacks (a relay, proxy or NIC that
altered the payload), or one stack computed or checked it wrong. What tells them apart:

- with the key log, our own decryption of the record the alert answers: a record that fails
  here too was already altered before the capture point (or its sender is broken); one that
  verifies here was altered after it (or the receiver is broken). Captures at both ends
  locate the change;
- a completed handshake (each side accepted the other's protected Finished and went on) shows
  the two sides agreed on the keys: the failure is in this record, not in the key exchange.

Without keys the alert is encrypted (TLS 1.2 after ChangeCipherSpec, TLS 1.3 always) and no
rule names this cause: its shape is that of an ordinary close. An encrypted alert from the
receiver of an application-data record, right after it, after which the other side closes
without answering, is what the lab's relay produced (captures/wide_record_flipped_relay_curl),
and exactly what curl's close_notify after an nginx response looks like
(captures/tls12_success_nginx: same record sizes, same order of FINs); naming a corrupted
record there would turn successes into failures. The key log tells.
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.diagnosis.candidate import Candidate, alert_label, candidate, deciding
from tlsdissect.diagnosis.facts import Facts, other_side
from tlsdissect.diagnosis.verdict import make_evidence

INTEGRITY_ALERTS = frozenset({20, 21})  # bad_record_mac, decryption_failed (SSL 3.0 / TLS 1.0)


def _peer_record_before(f: Facts, sender: str, frame: int) -> Optional[dict[str, Any]]:
    """The peer's last protected record before ``frame`` when ``sender`` sent nothing after it
    (the alert answers that record), from the per-direction last records; None otherwise."""
    last = f.c.last_records
    peer = [r for r in last.get(other_side(sender), ()) if r["frame"] < frame and r.get("protected")]
    if not peer:
        return None
    rec = peer[-1]
    own = [r for r in last.get(sender, ()) if rec["frame"] <= r["frame"] < frame]
    return None if own else rec


def _decryption_failed(f: Facts, sender: str, frame: int) -> Optional[int]:
    """The frame of a record of ``sender`` up to ``frame`` that our own decryption (key log)
    could not authenticate, or None."""
    for a in f.c.anomalies:
        if a.sender == sender and a.frame <= frame and a.info.get("name") == "decryption_failed":
            return a.frame
    return None


def _tells(where: str) -> str:
    return (f"The record failed its check {where}. Both sides had accepted each other's protected Finished and "
            "gone on, so they agree on the keys: the bytes of this record were changed in transit (a relay, proxy, TLS "
            "inspection device or NIC offload), or one TLS stack is broken. A capture at each end tells: "
            "the record differs between them when the path changed it.")


def record_failed_check(f: Facts) -> Optional[Candidate]:
    """A readable ``bad_record_mac`` (or ``decryption_failed``) after a completed handshake."""
    a = deciding(f)
    if a.code not in INTEGRITY_ALERTS or not f.c.established:
        return None
    peer = other_side(a.sender)
    rec = _peer_record_before(f, a.sender, a.frame)
    evidence = []
    if rec is not None:
        evidence.append(make_evidence(f"The {a.sender} sends {alert_label(f)} right after the {peer}'s protected "
                                      f"record of {rec['length']} bytes.", [rec["frame"], a.frame]))
    failed_here = _decryption_failed(f, peer, a.frame)
    if failed_here is not None:
        evidence.append(make_evidence(f"That {peer} record does not verify with the session keys here either "
                                      "(tlsdissect's own decryption fails), while earlier ones did.", [failed_here]))
        where, confidence = ("already at the capture point: it was altered before it (or its sender is broken)",
                             "likely")
    else:
        where, confidence = ("at the receiver but not at the capture point: it was altered after it (or the "
                             "receiver is broken)", "possible") if f.by_type.get("application_data") else \
            ("at the receiver", "likely")
    return candidate("established", "record_corrupted_in_transit", confidence, failure_point="application_data",
                     aborted_by=a.sender, how="alert", alert=a, alternatives=["tls_implementation_bug"],
                     evidence=evidence,
                     explanation=(f"The handshake completed and data flowed, then the {a.sender} rejected a record "
                                  f"with {alert_label(f)}: its MAC/AEAD tag did not verify. " + _tells(where)))
