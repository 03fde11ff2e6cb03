"""A fatal alert after the exchange was over is late: it did not stop anything.

lighttpd answers a client that closes without close_notify (curl after an HTTP/2 200) with
an encrypted fatal ``decode_error`` (OpenSSL 3 reports the unexpected EOF so; openssl s_server in
the shared ssldump samples does the same); a server idling out a finished keep-alive connection may
send an alert of its own. Taking such an alert as the deciding one turns a success into a
failure. An alert is *late* when all of these hold:

- the handshake completed (both Finished) and the alert is in the application-data phase,
  not in a renegotiation or a post-handshake authentication (those failures stay failures);
- application data went both ways before it (a request and an answer: an alert right after
  the handshake, before any response, is a real failure);
- the exchange was over when it came: the alert's receiver had already closed (FIN, RST or
  close_notify), or its sender had said close_notify itself;
- it is no record-integrity alert (``bad_record_mac``, ``decryption_failed``,
  ``record_overflow``): a record that failed its check is a corrupted exchange, not an
  epilogue.

A late alert leaves the connection ``established`` with cause ``ok``; the diagnosis carries it
in ``after_handshake`` (docs/schema.md) with ``stopped_exchange: false``. Without keys a TLS 1.3
alert after the peer's close is an alert-sized record exactly like a close_notify, so nothing
is claimed about it.
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.alert_codes import BAD_RECORD_MAC, CLOSE_NOTIFY
from tlsdissect.diagnosis.facts import Facts, other_side
from tlsdissect.diagnosis.phases import post_handshake_phase
from tlsdissect.diagnosis.texts import alert_text
from tlsdissect.diagnosis.verdict import after_handshake_problem
from tlsdissect.results.model import Alert

# bad_record_mac, decryption_failed, record_overflow: the record layer itself failed.
RECORD_INTEGRITY_ALERTS = frozenset({BAD_RECORD_MAC, 21, 22})


def _closed_before(f: Facts, a: Alert) -> Optional[int]:
    """The frame where the exchange was already being closed before alert ``a``: the
    receiver's FIN, RST or close_notify, or the sender's own close_notify; None if not."""
    peer = other_side(a.sender)
    for typ in ("fin", "rst"):
        for e in f.by_type.get(typ, ()):
            if e.sender == peer and e.frame < a.frame:
                return e.frame
    for x in f.c.alerts:
        if x.frame >= a.frame:
            break
        if x.code == CLOSE_NOTIFY:
            return x.frame
    return None


def _data_both_ways_before(f: Facts, frame: int) -> Optional[tuple[int, int]]:
    """The first application data record of the client and of the server before ``frame``."""
    first: dict[str, int] = {}
    for e in f.app_data():
        if e.frame >= frame:
            break
        first.setdefault(e.sender, e.frame)
    if "client" in first and "server" in first:
        return first["client"], first["server"]
    return None


def late_alert(f: Facts, a: Alert) -> bool:
    """Whether the readable fatal alert ``a`` came after the exchange was over (see the module's
    docstring); when it did, it is noted as the diagnosis' after-handshake problem."""
    if not f.c.established or a.code is None or a.code in RECORD_INTEGRITY_ALERTS:
        return False
    data = _data_both_ways_before(f, a.frame)
    if data is None or post_handshake_phase(f, a.frame) != "application_data":
        return False
    closed = _closed_before(f, a)
    if closed is None:
        return False
    who = "the client" if a.sender == "server" else "the server"
    f.after_handshake = after_handshake_problem(
        "late_alert_after_success", "certain", False,
        (f"A late alert after the exchange completed; it did not stop the exchange: the {a.sender} sent "
         f"{a.name} ({a.hex}) after application data had gone both ways and after the connection was "
         f"being closed (frame {closed}). OpenSSL 3 reports a peer's close without close_notify (an unexpected "
         f"EOF) with decode_error, as lighttpd and openssl s_server do; what {who} received before it "
         f"stands."),
        sorted({data[0], data[1], closed, a.frame}), a)
    f.note(alert_text(a) + " It came after the exchange was over: a late alert, not the failure.", [a.frame])
    return True
