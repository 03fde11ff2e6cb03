"""After the handshake, TCP's own signals of a stall: a receiver that stopped reading (its window
stayed zero) and probes that nobody answered (the peer or the path was gone).

Both come from the TCP stage (tcp/window.py: ``Connection.extra["zero_window"]`` and
``["probes"]``, docs/schema.md) and explain an established connection that ended without a
word in TLS, which the generic reset and close rules would otherwise blame on the side that
closed: the side that closes after a zero window gave up waiting for a reader, and the side
that resets after unanswered keep-alives is its TCP giving up on a silent peer.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from tlsdissect.diagnosis.candidate import Candidate, candidate
from tlsdissect.diagnosis.facts import PROBABLE_ALERT_MAX, Facts, other_side
from tlsdissect.diagnosis.verdict import Evidence, make_evidence

MIN_UNANSWERED = 2  # probes without an answer at the end before the peer counts as gone
_MAX_FRAMES = 8


def _frames(frames: list[int]) -> str:
    return ", ".join(map(str, frames[:_MAX_FRAMES]))


def _first_side(by_side: Optional[dict[str, Any]], test: Callable[[dict[str, Any]], bool]
                ) -> Optional[tuple[str, dict[str, Any]]]:
    """The first side (client, then server) whose entry in ``by_side`` passes ``test``."""
    for side in ("client", "server"):
        entry = (by_side or {}).get(side)
        if entry is not None and test(entry):
            return side, entry
    return None


def _probe_line(side: str, probes: dict[str, Any], answered: bool) -> Evidence:
    frames = probes["frames"]
    how = "each answered by the " + other_side(side) if answered else "none answered"
    return make_evidence(f"The {side} sends {probes['count']} probe{'s' if probes['count'] > 1 else ''} one byte "
                         f"before its next sequence number (frame{'s' if len(frames) > 1 else ''} "
                         f"{_frames(frames)}), {how}.", frames[:_MAX_FRAMES])


def probes_unanswered(f: Facts) -> Optional[Candidate]:
    """A side's last MIN_UNANSWERED probes (keep-alives, or window probes) got no answer and the
    peer sent nothing after them: the peer, or the path to it, was gone; the side's TCP gave up
    (Linux resets after TCP_KEEPCNT probes) or the capture ended while it probed."""
    c = f.c
    found = _first_side(c.extra.get("probes"), lambda p: p["unanswered_at_end"] >= MIN_UNANSWERED)
    if found is None:
        return None
    side, mine = found
    peer = other_side(side)
    close = c.tcp_close
    if close is not None and (close.by != side or close.frame < mine["frames"][-1]):
        return None  # (the peer closed, or the close came before the probes: they were not the end)
    silent = mine["last_time"] - mine["first_time"]
    evidence = [_probe_line(side, mine, answered=False),
                make_evidence(f"Nothing comes from the {peer} after them ({silent:.1f} s of probing).",
                              mine["frames"][-1:])]
    if close is not None:
        evidence.append(make_evidence(f"The {side} then {'resets' if close.how == 'rst' else 'closes'} the connection: "
                                      "its TCP gave up on a silent peer.", [close.frame]))
    window = "; they were window probes (the peer's window was zero)" if mine["while_peer_window_zero"] else ""
    return candidate("established", "keepalive_unanswered", "likely" if close is not None else "possible",
                     failure_point="application_data", aborted_by=side if close is not None else None,
                     how=close.how if close is not None else None,
                     alternatives=["connection_reset", "packets_dropped_on_path"], evidence=evidence,
                     hidden=[f"whether the {peer} was still up: its own side of the path (a capture there, its logs)"],
                     explanation=(f"The handshake completed; later the {side}'s TCP probed the connection and the "
                                  f"{peer} never answered{window}. The {peer}, or the path to it, was gone: a NAT, "
                                  "firewall or load balancer that had dropped the idle connection from its table, or a "
                                  f"{peer} host that crashed or lost its network. The {side}'s TCP then gave up."))


def stopped_reading(f: Facts) -> Optional[Candidate]:
    """A side's receive window stayed zero until the connection ended (tcp.window reports spells
    of REPORTED_SECONDS and more): its application stopped reading. When the other side ends
    the connection during it, that side gave up waiting (a send timeout); when the reader
    itself ends it, it left with bytes unread."""
    c = f.c
    found = _first_side(c.extra.get("zero_window"), lambda spell: bool(spell["open_at_end"]))
    if found is None:
        return _gave_up_during_stall(f)
    side, spell = found
    sender = other_side(side)
    close = c.tcp_close
    if close is not None and close.frame < spell["first_frame"]:
        return None  # (a window that closed after the connection began to close: nothing left to read)
    evidence = [make_evidence(f"The {side} advertises a zero window from frame {spell['first_frame']} on and keeps it "
                              f"closed for {spell['seconds']:.1f} s, until the connection ends: its application "
                              "reads nothing more.", [spell["first_frame"]])]
    probes = c.extra.get("probes", {}).get(sender)
    if probes is not None and probes["while_peer_window_zero"]:
        evidence.append(_probe_line(sender, probes, answered=probes["unanswered_at_end"] == 0))
    if close is None:
        return candidate("established", "receiver_stopped_reading", "likely", failure_point="application_data",
                         evidence=evidence, hidden=["what the two applications did after the capture ended"],
                         explanation=(f"The handshake completed, then the {side} stopped reading: its TCP receive "
                                      f"window stayed at zero and the {sender} could send nothing more. The capture "
                                      "ends during the stall."))
    gave_up = close.by == sender
    evidence.append(make_evidence(
        f"The {close.by} {'resets' if close.how == 'rst' else 'closes'} the connection "
        f"{spell['seconds']:.1f} s into the stall" + (f": it gave up waiting for the {side} to read." if gave_up else
                                                      ", with bytes it never read."), [close.frame]))
    why = (f"the {sender} waited, probing, then gave up and {'reset' if close.how == 'rst' else 'closed'} the "
           "connection (a send timeout: nginx's send_timeout, Apache's Timeout, HAProxy's timeout client or server)"
           if gave_up else f"then the {side} itself {'reset' if close.how == 'rst' else 'closed'} it, without reading "
           "what had arrived (a hung application that was killed, or one that no longer wanted the rest)")
    return candidate("established", "receiver_stopped_reading", "likely" if gave_up else "possible",
                     failure_point="application_data", aborted_by=close.by, how=close.how,
                     alternatives=["connection_reset"] if gave_up else ["connection_reset", "truncated_response"],
                     evidence=evidence,
                     explanation=(f"The handshake completed, then the {side} stopped reading: its TCP receive window "
                                  f"stayed at zero, so the {sender} could send nothing more; {why}."))


def _said_goodbye(f: Facts, sender: str, close_frame: int) -> bool:
    """The sender's last record up to its close is an alert, or in TLS 1.3 without keys one
    small enough to be its encrypted close_notify (the connection's last records, which a long
    transfer's timeline no longer lists)."""
    last = [r for r in (f.c.last_records or {}).get(sender, ()) if r["frame"] <= close_frame]
    if not last:
        return False
    record = last[-1]
    return record["content_type"] == 21 or (f.tls13 and record["protected"] and record["length"] <= PROBABLE_ALERT_MAX)


GAVE_UP_SECONDS = 1.0  # a stall this long can outlast a sender's write timeout (nginx send_timeout, Apache Timeout)


def _gave_up_during_stall(f: Facts) -> Optional[Candidate]:
    """A side's window stayed zero GAVE_UP_SECONDS and more and then opened again, and the other
    side, the sender, then ended the connection without a goodbye in TLS (no close_notify before
    its FIN or reset; in TLS 1.3 without keys, no alert-sized record last): the sender gave up
    during the stall. Its close had waited behind the data it had queued, and left when the
    reader read again (nginx, Apache and lighttpd time out a write this way). With the key log
    the decrypted response shows it cut short: likely; otherwise possible."""
    c = f.c
    found = _first_side(c.extra.get("zero_window"), lambda spell: spell["seconds"] >= GAVE_UP_SECONDS)
    close = c.tcp_close
    if found is None or close is None:
        return None
    side, spell = found
    sender = other_side(side)
    if close.by != sender or close.frame < spell["first_frame"]:
        return None
    if any(a.frame <= close.frame for a in c.alerts) or _said_goodbye(f, sender, close.frame):
        return None  # (a sender that said goodbye in TLS finished its answer; a reader that did first was done)
    cut = (c.extra.get("http") or {}).get("unfinished")
    evidence = [make_evidence(f"The {side} advertises a zero window from frame {spell['first_frame']} for "
                              f"{spell['seconds']:.1f} s (until frame {spell['reopened_frame']}): its application "
                              "read nothing meanwhile.", [spell["first_frame"], spell["reopened_frame"]]),
                make_evidence(f"The {sender} then {'resets' if close.how == 'rst' else 'closes'} the connection without "
                              "a close_notify: it had given up during the stall, and its close waited behind the data "
                              "it had queued.", [close.frame])]
    probes = (c.extra.get("probes") or {}).get(sender)
    if probes is not None and probes["while_peer_window_zero"]:
        evidence.insert(1, _probe_line(sender, probes, answered=True))
    if cut and cut.get("answered"):
        evidence.append(make_evidence("The decrypted response stops before its end: cut short.",
                                      [x for x in (cut.get("frame"),) if x is not None]))
    return candidate("established", "receiver_stopped_reading", "likely" if cut else "possible",
                     failure_point="application_data", aborted_by=sender, how=close.how,
                     alternatives=["truncated_response", "server_closed_without_alert" if sender == "server"
                                   else "client_closed_without_alert"],
                     evidence=evidence,
                     explanation=(f"The handshake completed, then the {side} stopped reading for "
                                  f"{spell['seconds']:.1f} s: its TCP window stayed at zero, and the {sender}, which "
                                  "could send nothing, gave up meanwhile (a write timeout: nginx's send_timeout, "
                                  "Apache's Timeout, lighttpd's max-write-idle). When the window opened again, the "
                                  f"{sender}'s queued data and then its close went out, without a close_notify: the "
                                  f"{side} got a cut-short answer."))
