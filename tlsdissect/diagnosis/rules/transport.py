"""Failures that TCP explains: a flight sent again and again and never acknowledged.

The TCP stage reports a stalled direction (``Connection.extra["stalled"]``, tcp/stall.py):
the bytes from some point on, their first transmission and retransmissions, and the sizes of
the segments that did get through. Which sizes got through tells the two readings apart:

- smaller segments passed and only the large ones were lost: a **path-MTU black hole** (a link
  with a smaller MTU drops full-size packets and the ICMP "fragmentation needed" that would
  shrink them never comes back), cause ``path_mtu_blackhole``;
- everything from that point on was lost whatever its size: a **device on the path dropping the
  sender's packets** (a firewall, a broken relay), cause ``packets_dropped_on_path``.

A side that never answers at all is another rule's (``server_no_response``): here the side did
answer, and its answer never arrived.
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.diagnosis.candidate import Candidate, candidate
from tlsdissect.diagnosis.facts import Facts, other_side
from tlsdissect.diagnosis.phases import next_step, phase_at
from tlsdissect.diagnosis.verdict import Evidence, make_evidence

BIG_SEGMENT = 1200  # bytes: a lost segment this large may be lost for its size alone (IPv6's minimum MTU is 1280)
_MAX_FRAMES = 8  # frames listed in one evidence line

# A stalled side's first lost handshake message -> the failure point.
_POINT = {
    ("server", "server_hello"): "server_hello", ("server", "hello_retry_request"): "server_hello",
    ("server", "certificate"): "server_certificate", ("server", "encrypted_extensions"): "server_certificate",
    ("server", "certificate_status"): "server_certificate", ("server", "server_key_exchange"): "key_exchange",
    ("server", "certificate_request"): "key_exchange", ("server", "server_hello_done"): "key_exchange",
    ("server", "finished"): "finished", ("server", "new_session_ticket"): "finished",
    ("client", "client_hello"): "client_hello", ("client", "certificate"): "client_certificate",
    ("client", "client_key_exchange"): "key_exchange", ("client", "certificate_verify"): "client_certificate",
    ("client", "finished"): "finished",
}


def _frames(frames: list[int]) -> str:
    shown = ", ".join(map(str, frames[:_MAX_FRAMES]))
    return shown + (f" and {len(frames) - _MAX_FRAMES} more" if len(frames) > _MAX_FRAMES else "")


def _sizes(sizes: list[int]) -> str:
    return " and ".join(f"{n}" for n in sizes) + " bytes"


def _failure_point(f: Facts, side: str, first_frame: int) -> str:
    """The step the lost bytes belonged to: the stalled side's first message in or after the
    first transmission of the lost bytes."""
    for e in f.hs:
        if e.sender == side and e.frame >= first_frame:
            point = _POINT.get((side, e.info.get("message") or ""))
            if point is not None:
                return point
    if f.c.established:
        return "application_data"
    if side == "server" and f.tls13 and f.protected("server", 0):
        return "server_certificate"
    return next_step(f)


def _stall_lines(side: str, stall: dict[str, Any]) -> list[Evidence]:
    peer = other_side(side)
    retx = stall["retransmission_frames"]
    lines = [
        make_evidence(f"The {side} sends {stall['first_size']} bytes from byte {stall['lost_from']} of its stream "
                      f"(frame {stall['first_frame']}); the {peer}'s acknowledgement never gets past them.",
                      [stall["first_frame"]]),
        make_evidence(f"The {side} sends those bytes again {len(retx)} times over {stall['seconds']:.1f} s (frames "
                      f"{_frames(retx)}), in segments of {_sizes(stall['lost_sizes'])}; none is acknowledged.",
                      retx[:_MAX_FRAMES]),
    ]
    delivered = stall["delivered_frames"]
    if delivered:
        answers = stall["answer_frames"]
        how = (f", answered at once by the {peer}'s duplicate ACK (frame {_frames(answers)})" if answers else
               f", acknowledged by the {peer}")
        lines.append(make_evidence(f"Segments of {_sizes(stall['delivered_sizes'])} from the {side} got through "
                                   f"(frame {_frames(delivered)}){how}.", (delivered + answers)[:_MAX_FRAMES]))
    return lines


def _stalled_side(f: Facts) -> Optional[tuple[str, dict[str, Any]]]:
    stalls = f.c.extra.get("stalled")
    if not stalls:
        return None
    for side in ("server", "client"):
        if side in stalls:
            return side, stalls[side]
    return None


def flight_never_acknowledged(f: Facts) -> Optional[Candidate]:
    """A side's flight retransmitted again and again and never acknowledged: path-MTU black hole
    when smaller segments got through (or, possibly, when only large ones were ever sent), a
    device dropping the side's packets when sizes make no difference."""
    found = _stalled_side(f)
    if found is None:
        return None
    side, stall = found
    peer = other_side(side)
    lost, delivered = stall["lost_sizes"], stall["delivered_sizes"]
    close = f.c.tcp_close
    point = _failure_point(f, side, stall["first_frame"])
    evidence = _stall_lines(side, stall)
    if close is not None:
        evidence.append(make_evidence(f"The {close.by} {'resets' if close.how == 'rst' else 'closes'} the connection "
                                      f"{close.time - f.c.start_time:.1f} s after it began.", [close.frame]))
    hidden = ["the MSS each side announced in its SYN (TCP options are not decoded): compare it with the "
              "smallest MTU on the path"]
    aborted_by = close.by if close is not None else None
    how = "no_response" if close is None or close.by == peer else close.how
    smaller_passed = bool(delivered) and max(delivered) < min(lost)
    unheard = stall.get("unheard_ack_frames") or []
    if unheard:
        evidence.append(make_evidence(f"The {peer} sends again data the {side} had already acknowledged (frame"
                                      f"{'s' if len(unheard) > 1 else ''} {_frames(unheard)}): the {side}'s small "
                                      "packets, its ACKs, did not reach it either.", unheard[:8]))
        return candidate("incomplete", "packets_dropped_on_path", "likely", failure_point=point, aborted_by=aborted_by,
                         how=how, alternatives=["server_no_response" if side == "server" else "client_closed_without_alert",
                                                "path_mtu_blackhole"], evidence=evidence, hidden=hidden,
                         explanation=(f"The {side}'s flight was sent again and again and never acknowledged, and even "
                                      f"the {side}'s small packets were lost: the {peer} kept resending what the "
                                      f"{side} had acknowledged. Everything the {side} sent was dropped on the way, "
                                      f"whatever its size (a firewall or filter, a broken route back to the {peer}), "
                                      f"not only large packets: for the {peer} the {side} went silent. The capture "
                                      f"was made on the {side}'s side of the loss."))
    if smaller_passed or (not delivered and min(lost) >= BIG_SEGMENT):
        confidence = "likely" if smaller_passed else "possible"
        why = (f"smaller segments from the {side} got through ({_sizes(delivered)}) while "
               f"segments of {_sizes(lost)} never did" if smaller_passed else
               f"only full-size segments ({_sizes(lost)}) were lost, and nothing smaller of this flight was sent "
               "to compare with")
        return candidate("incomplete", "path_mtu_blackhole", confidence, failure_point=point, aborted_by=aborted_by,
                         how=how, alternatives=["packets_dropped_on_path"], evidence=evidence, hidden=hidden,
                         explanation=(f"The {side}'s flight was sent again and again and never acknowledged: "
                                      f"{why}. Large packets are lost on the path (a path-MTU black hole: a link "
                                      "with a smaller MTU, often a tunnel or VPN, drops them and the ICMP "
                                      "'fragmentation needed' never comes back); the handshake stalls without "
                                      "any alert."))
    why = (f"segments of every size were lost ({_sizes(lost)})" if not delivered else
           f"segments as large as the lost ones had got through before ({_sizes(delivered)})")
    return candidate("incomplete", "packets_dropped_on_path", "likely", failure_point=point, aborted_by=aborted_by,
                     how=how, alternatives=["path_mtu_blackhole", "server_no_response"], evidence=evidence,
                     hidden=hidden,
                     explanation=(f"The {side}'s flight was sent again and again and never acknowledged, while "
                                  f"the {peer}'s own packets kept arriving: {why}, so size is not what matters. A "
                                  "device on the path (a firewall, a relay, a broken route) dropped the "
                                  f"{side}'s packets from then on."))


# -- relays: two legs of one connection ------------------------------------------------------------

RELAY_RESET_SECONDS = 0.005  # resets on two legs this close together come from the relay between them


def relay_reset(f: Facts) -> Optional[Candidate]:
    """This leg and another leg of the same relayed connection are reset within
    RELAY_RESET_SECONDS of each other: one reset by the relay, not one by each endpoint."""
    c = f.c
    legs = c.extra.get("relay_legs")
    rsts = f.by_type.get("rst")
    if not legs or not rsts:
        return None
    mine = rsts[0]
    for leg in legs:
        t = leg["reset_time"]
        if t is not None and abs(t - mine.time) <= RELAY_RESET_SECONDS:
            break
    else:
        return None
    apart = abs(t - mine.time)
    if f.hellos()[1] is not None:
        point = phase_at(f, mine.frame, other_side(mine.sender))
    else:  # (as no_alert.middlebox_reset: the server had started its answer, or not)
        point = "server_hello" if c.server_stats.bytes else "client_hello"
    line = make_evidence(f"This leg and stream {leg['stream']} are both reset within {apart * 1000:.2f} ms (frame "
                         f"{mine.frame} here, frame {leg['reset_frame']} there): the relay between them reset both, "
                         f"whichever endpoint each reset claims to come from.", [mine.frame])
    return candidate("established" if c.established else "failed", "middlebox_reset", "likely", failure_point=point,
                     aborted_by="middlebox", how="rst", alternatives=["connection_reset"], evidence=[line],
                     explanation=("The connection was reset by the relay that carries it, not by the endpoints: its "
                                  f"other leg (stream {leg['stream']}) was reset at the same moment. A firewall, "
                                  "proxy or load balancer that kills a flow resets both sides."))


def _changed(f: Facts) -> Optional[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(side, where, leg) of the first relay leg whose bytes differ from this one's."""
    for leg in f.c.extra.get("relay_legs") or ():
        differ = leg.get("bytes_differ")
        if differ:
            side = "server" if "server" in differ else "client"
            return side, differ[side], leg
    return None


def relay_changed_bytes(f: Facts) -> Optional[Candidate]:
    """This leg and another leg of the same relayed connection carry different bytes: a relay
    forwards bytes unchanged, so the one between them changed some (tcp.relays compares the legs'
    first 16 KB per direction, block by block). When the handshake completed, what changed was
    a protected record after it (its receiver's integrity check fails: bad_record_mac); when it
    did not, the handshake itself was altered. A handshake signature that this leg shows not
    verifying is the signature rule's (it says more), so this one stands aside there."""
    found = _changed(f)
    if found is None:
        return None
    checked = f.server_signature
    if checked is not None and checked[0].verified is False:
        return None
    if checked is not None and checked[0].verified is True:
        check, msg_frame = checked
        f.note(f"The {check.message.replace('_', ' ')}'s {check.scheme} signature verifies with the public key of "
               f"the server's certificate ({check.key}): on this leg the bytes are as the server signed them.",
               [msg_frame])
    side, where, _ = found  # (the evidence line is note_relay_legs')
    c = f.c
    receiver = other_side(side)
    a = f.alert
    if a is None:  # (the receiver's alert, encrypted after the handshake)
        a = next((x for x in c.alerts if x.sender == receiver and x.frame > where["frame"]), None)
    close = c.tcp_close
    aborted_by = a.sender if a is not None else (close.by if close is not None else None)
    how = "alert" if a is not None else (close.how if close is not None else None)
    if c.established:
        return candidate("established", "record_corrupted_in_transit", "likely", failure_point="application_data",
                         aborted_by=aborted_by, how=how, alert=a, alternatives=["middlebox_tampering"],
                         explanation=(f"The handshake completed, then the relay that carries this connection changed "
                                      f"bytes of the {side}'s protected records on their way: the {receiver}'s record "
                                      "check fails on them (bad_record_mac, encrypted when sent after the handshake), "
                                      "and the session ends. A relay forwards bytes unchanged; this one is faulty or "
                                      "tampering."))
    return candidate("failed", "middlebox_tampering", "likely", failure_point=phase_at(f, where["frame"], side),
                     aborted_by=aborted_by, how=how, alert=a, alternatives=["handshake_transcript_mismatch"],
                     explanation=(f"The relay that carries this connection changed bytes of the {side}'s handshake "
                                  f"on their way, so the {receiver} checked something the {side} never sent and the "
                                  "handshake failed. A relay forwards bytes unchanged; this one is faulty or "
                                  "tampering."))
