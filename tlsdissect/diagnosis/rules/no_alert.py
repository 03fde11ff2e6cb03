"""No alert at all: the TCP pattern decides (refused or unanswered connections, silence,
resets and closes, a middlebox's reset, and TLS 1.3's encrypted alerts read from their size).

Rules for a connection with no deciding alert that did not complete its handshake (or never
carried data), in this order; the last one always applies. From
:func:`middlebox_reset` on, each counts on there being a ClientHello
(:func:`no_client_hello_seen` takes the rest).
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.candidate import Candidate, candidate
from tlsdissect.diagnosis.facts import Facts, other_side
from tlsdissect.diagnosis.offer_lists import offers_only_tls13, read_lists
from tlsdissect.diagnosis.phases import next_step, phase_at
from tlsdissect.diagnosis.verdict import Evidence, make_evidence
from tlsdissect.results.model import Alert, Connection, Event, TcpClose
from tlsdissect.tls import tables

_NONE: tuple[Event, ...] = ()
_SERVER_TLS = ("handshake", "encrypted_record", "alert")


def _client_hello(f: Facts) -> Event:
    ch = f.hellos()[0]
    assert ch is not None, "a rule that counts on a ClientHello ran without one"
    return ch


# -- a capture that sees one direction ----------------------------------------------------
def one_way_capture(f: Facts) -> Optional[Candidate]:
    """No packet of one side, yet the other side's ACKs show it received that side's bytes
    (``acked_not_captured``, tcp.oneway): the capture sees one direction only, so nothing it
    lacks (an answer, an alert) can be read as silence."""
    missing = f.c.extra.get("acked_not_captured")
    if not missing:
        return None
    side, count = next(iter(missing.items()))
    peer = other_side(side)
    frames = [e.frame for e in f.c.events if e.sender == peer][-1:] or [f.c.last_frame]
    lines = [make_evidence(f"The capture holds no packet of the {side}'s, yet the {peer} acknowledges {count} bytes "
                           f"from the {side}.", frames)]
    hidden_alert = next((a for a in f.c.alerts if a.code is None), None)
    if hidden_alert is not None:
        lines.append(make_evidence(f"The {hidden_alert.sender} sends an encrypted alert: without the other direction "
                                   "(and a key log) nothing tells a close_notify from an error.", [hidden_alert.frame]))
    return candidate("incomplete", "unknown", "possible", failure_point=next_step(f), how="one_way",
                     evidence=lines, hidden=[f"everything the {side} sent (its handshake messages and alerts)"],
                     explanation=(f"The capture sees one direction only: the {peer}'s acknowledgements show that "
                                  f"the {side} sent {count} bytes, none of which are in the capture (a one-way tap or "
                                  f"mirror port, a capture filter on one source address, or packets lost by the "
                                  f"capture). What the {side} said, and so why the connection ended, cannot be told; "
                                  "capture both directions (e.g. `host A and host B`, not `src host A`)."))


# -- before any ClientHello ----------------------------------------------------------------
def tcp_connect_failed(f: Facts) -> Optional[Candidate]:
    """The client's SYN is refused with a reset, or never answered."""
    c = f.c
    if c.client_stats.bytes or "syn_ack" in f.by_type or f.hellos()[0] is not None or "syn" not in f.by_type \
            or c.transport != "tcp":
        return None  # (no SYN: the capture starts mid-connection, a lone reset is not a refusal; OpenVPN over UDP)
    icmp = f.first_event("icmp", "server")
    if icmp is not None:
        return _connect_answered_by_icmp(f, icmp)
    refused = f.first_event("rst", "server") is not None
    line = make_evidence("The client's SYN " + ("is refused with a reset." if refused else "gets no answer."),
                         [e.frame for e in c.events if e.type in ("syn", "rst")][:3])
    confidence = "certain"
    if not refused:
        syns = [e.time for e in c.events if e.type == "syn"]
        cut = _cut_before_answer(f, syns)
        if cut is not None:
            return cut
        if len(syns) == 1:
            # A client whose SYN goes unanswered sends it again; one that does not gave up at
            # once (Happy Eyeballs drops the slower address family) or the capture lacks packets.
            confidence = "possible"
            line = make_evidence("The client's SYN gets no answer, and the client does not send it again.",
                                 line.frames)
    return candidate("failed", "connection_reset" if refused else "server_no_response", confidence,
                     failure_point="tcp_connect", aborted_by="server" if refused else "unknown",
                     how="rst" if refused else "no_response", evidence=[line],
                     explanation=("The server refused the TCP connection (port closed)." if refused else
                                  "The server never answered the TCP connection request."))


def _connect_answered_by_icmp(f: Facts, icmp: Event) -> Candidate:
    """The client's SYN answered by an ICMP error quoting it: a host with nothing listening
    answers TCP with a reset, so an ICMP error (port unreachable, administratively prohibited,
    host or network unreachable) comes from a firewall's REJECT or a router on the way."""
    name, source = icmp.info.get("name", "an ICMP error"), icmp.info.get("source", "?")
    line = make_evidence(f"The client's SYN is answered by {name} from {source}, quoting it.",
                         [e.frame for e in f.c.events if e.type in ("syn", "icmp")][:3])
    return candidate("failed", "host_unreachable", "certain", failure_point="tcp_connect", aborted_by="middlebox",
                     how="icmp", evidence=[line],
                     explanation=(f"The TCP connection was refused on the way: the client's SYN got {name} back from "
                                  f"{source}. A server with nothing listening answers with a TCP reset, not ICMP: "
                                  "this is a firewall rejecting the connection (iptables REJECT, whose default is "
                                  "port unreachable) or a router with no way to the server. Clients report "
                                  "'Connection refused', 'No route to host' or 'Network is unreachable'."))


# A client retransmits an unanswered SYN or ClientHello after about a second (Linux's initial
# RTO; RFC 6298 allows up to 3 s): a capture that ends sooner after a single try cannot show
# that the answer was missing, only that it had not come yet.
FIRST_RETRY = 1.0


def _capture_went_on(f: Facts) -> Optional[float]:
    """Seconds the capture ran after this connection's last packet; None when the connection
    was not cut by the capture's end (it closed, or idled out while the capture went on)."""
    c = f.c
    if not c.partial:
        return None
    after = c.extra.get("capture_after_last_packet")
    return float(after) if after is not None else None


def _cut_before_answer(f: Facts, tries: list[float]) -> Optional[Candidate]:
    """An `incomplete` verdict when the capture ends less than FIRST_RETRY after a single,
    unanswered try (times ``tries``): no retransmission could show the answer missing."""
    after = _capture_went_on(f)
    if after is None or len(tries) != 1 or f.c.end_time + after - tries[0] >= FIRST_RETRY:
        return None
    waited = f.c.end_time + after - tries[0]
    what = "SYN" if f.c.client_stats.bytes == 0 else "ClientHello"
    return candidate("incomplete", "unknown", "possible", failure_point=next_step(f), how="capture_ended",
                     aborted_by="unknown",
                     evidence=[make_evidence(f"The capture ends {waited * 1000:.0f} ms after the client's only {what}.",
                                             [f.c.last_frame])],
                     explanation=(f"The capture ends {waited * 1000:.0f} ms after the client's {what}, before the "
                                  "server's answer (or a retransmission showing it missing) could appear; nothing "
                                  "shows a failure. Capture longer to see the answer."))


def no_client_hello_seen(f: Facts) -> Optional[Candidate]:
    """No ClientHello in the capture: it starts mid-connection (after tcp_connect_failed)."""
    if f.hellos()[0] is not None:
        return None
    c = f.c
    close = c.tcp_close
    lost = next((a for a in c.anomalies if a.info.get("name") == "encapsulation_lost" and a.sender == "client"), None)
    if lost is not None:  # the ClientHello rode in a framing that could not be read (tlsdissect.framing)
        return candidate("incomplete", "unknown", "possible", failure_point="client_hello",
                         how="capture_ended" if c.partial else (close.how if close else None),
                         aborted_by=close.by if close else None,
                         evidence=[make_evidence(f"The client's {c.encapsulation} framing could not be read on: "
                                                 f"{lost.info.get('detail')}.", [lost.frame])],
                         explanation="The client's ClientHello could not be read from the framing it rode in.")
    explanation = "The capture does not contain this connection's ClientHello (it starts mid-connection)."
    hidden_alert = next((a for a in c.alerts if a.code is None), None)
    if hidden_alert is not None:
        # (HIDDEN_ALERT tries this rule first: an encrypted alert of a handshake the capture lacks)
        explanation += (f" The {hidden_alert.sender}'s encrypted alert is most likely the close_notify that ends a "
                        "connection set up before the capture began; without the handshake nothing says more.")
    return candidate("incomplete", "unknown", "possible", failure_point="client_hello",
                     how="capture_ended" if c.partial else (close.how if close else None),
                     aborted_by=close.by if close else None, explanation=explanation)


# -- a middlebox ---------------------------------------------------------------------------
def _middlebox_signs(f: Facts) -> Optional[tuple[str, Evidence]]:
    """Why the resets look like a middlebox's (and the line that shows it): resets both ways
    at once, a reset whose IP TTL differs from the endpoint's, a reset in the middle of a record."""
    c = f.c
    rsts = f.by_type.get("rst", _NONE)
    if not rsts:
        return None
    senders = {e.sender for e in rsts}
    if len(senders) == 2 and not (c.established and _resets_carry_own_ttls(c)):
        # (After the handshake, two endpoints that each reset with their own TTL may simply cross.)
        t = [e.time for e in rsts]
        if max(t) - min(t) < 0.002:
            frames = [e.frame for e in rsts]
            return ("both sides got a reset at the same moment, which neither endpoint would do itself.",
                    make_evidence("Both directions receive a reset within 2 ms of each other.", frames))
    for side, frame in (c.extra.get("sent_after_own_reset") or {}).items():
        rst = next(e for e in rsts if e.sender == side)
        return (f"the {side} went on sending after the reset in its name, which an endpoint that resets never "
                "does (its connection is gone): the reset was forged on the path.",
                make_evidence(f"The reset 'from the {side}' (frame {rst.frame}) is followed by more packets from the "
                              f"{side} (frame {frame} first).", [rst.frame, frame]))
    ttl = c.extra.get("ttl") or {}
    rst_ttl = ttl.get("rst") or {}
    for side, value in rst_ttl.items():
        earlier = ttl.get(side) or []
        if earlier and value is not None and all(abs(value - x) > 2 for x in earlier):
            frame = next(e.frame for e in rsts if e.sender == side)
            return (f"the reset claiming to come from the {side} has a different IP TTL than the {side}'s own packets.",
                    make_evidence(f"The reset 'from the {side}' has IP TTL {value}, while the {side}'s own packets had TTL "
                                  f"{', '.join(map(str, earlier))}.", [frame]))
    for e in rsts:  # a reset for a connection that does not exist, from a server that had one
        # (the server's only: scanners' own TCP stacks reset their side without ACK)
        if e.sender == "server" and e.info.get("no_ack") and f.first_event("fin", "server") is None \
                and _had_the_connection(f, e):
            return (("the reset claiming to come from the server carries no ACK flag: it is the reset TCP sends "
                     "for a connection it does not know (RFC 9293 3.10.7.1), while the server had accepted this "
                     "one (its SYN-ACK). An endpoint that aborts its own connection acknowledges what it "
                     "received (Linux, Windows and the BSDs set ACK); a firewall rejecting the packet with a reset "
                     "does not (or the host lost the connection: rebooted, its state flushed)."),
                    make_evidence("The reset 'from the server' has no ACK flag although the server had accepted the "
                                  "connection: a reset for a connection it does not know.",
                                  [e.frame]))
    # A reset in the middle of a record: no TLS stack stops mid-record without an alert.
    # (Before the handshake's end only: after it, an application may abort a write mid-record.)
    mid = {} if c.established else (c.extra.get("rst_mid_record") or {})
    for side, missing in mid.items():
        frame = next(e.frame for e in rsts if e.sender == side)
        return ((f"the reset claiming to come from the {side} cut its own TLS record in the middle, which a TLS "
                 "endpoint never does (it finishes the record or sends an alert)."),
                make_evidence(f"The reset 'from the {side}' arrives while the {side}'s TLS record is unfinished ({missing} "
                              "bytes still to come).", [frame]))
    return None


def _resets_carry_own_ttls(c: Connection) -> bool:
    """Both sides' resets have the IP TTL of that side's own packets (within 2)."""
    ttl = c.extra.get("ttl") or {}
    rst_ttl = ttl.get("rst") or {}
    return all(rst_ttl.get(side) is not None and any(abs(rst_ttl[side] - x) <= 2 for x in ttl.get(side) or [])
               for side in ("client", "server"))


def _had_the_connection(f: Facts, rst: Event) -> bool:
    """Whether the server had accepted the connection (its SYN-ACK) before ``rst``."""
    first = f.first_event("syn_ack", "server")
    return first is not None and first.frame < rst.frame


def middlebox_reset(f: Facts) -> Optional[Candidate]:
    """Resets that the endpoints did not send (see _middlebox_signs)."""
    if "rst" not in f.by_type:
        return None
    signs = _middlebox_signs(f)
    if signs is None:
        return None
    reason, line = signs
    first_rst = f.by_type["rst"][0]
    if f.hellos()[1] is not None:
        phase = phase_at(f, first_rst.frame, other_side(first_rst.sender))
    else:
        # The server had started its answer (a partial ServerHello) or not at all.
        phase = "server_hello" if f.c.server_stats.bytes else "client_hello"
    if f.c.established:
        phase = "application_data"
    return candidate("established" if f.c.established else "failed", "middlebox_reset", "likely",
                     failure_point=phase, aborted_by="middlebox", how="rst",
                     evidence=[line],
                     explanation="The connection was reset by something on the path, not by the endpoints: " + reason)


# -- no answer to the ClientHello -----------------------------------------------------------
def _hello_unanswered(f: Facts) -> bool:
    """No ServerHello, and nothing TLS from the server at all."""
    return f.hellos()[1] is None and not f.sent("server", _SERVER_TLS)


def capture_ends_after_hello(f: Facts) -> Optional[Candidate]:
    """The capture ends within a second of an unanswered ClientHello, with no close."""
    if f.c.tcp_close is not None or not f.c.partial or not _hello_unanswered(f):
        return None  # (not partial: it idled out while the capture went on)
    after = _capture_went_on(f) or 0.0
    if f.c.end_time + after - _client_hello(f).time >= FIRST_RETRY:
        return None
    return candidate("incomplete", "unknown", "possible", failure_point=next_step(f), how="capture_ended",
                     aborted_by="unknown",
                     explanation=("The capture ends right after the ClientHello, before the server "
                                  "could answer; nothing shows a failure."))


def hello_never_answered(f: Facts) -> Optional[Candidate]:
    """The ClientHello gets no answer; the capture ends or the client gives up with a FIN."""
    close = f.c.tcp_close
    if (close is not None and (close.by != "client" or close.how != "fin")) or not _hello_unanswered(f):
        return None
    ch = _client_hello(f)
    if close is None:
        lost = _answer_not_captured(f, ch)
        if lost is not None:
            return lost
    waited = ""
    evidence = []
    if close is not None:
        waited = f" The client gave up after {close.time - ch.time:.1f} s."
        evidence.append(make_evidence("The client closes the connection.", [close.frame]))
    return candidate("incomplete", "server_no_response", "certain" if close else "likely",
                     failure_point="client_hello", aborted_by="client" if close else None,
                     how="no_response", evidence=evidence,
                     explanation=f"The server accepted the TCP connection but never answered the ClientHello.{waited}")


def _answer_not_captured(f: Facts, ch: Event) -> Optional[Candidate]:
    """A ClientHello that nothing acknowledged and the client never sent again, while time went
    on: TCP retransmits unacknowledged data within seconds, so the capture is missing this
    connection's packets (a filtered capture or an export), not showing a silent server."""
    c = f.c
    went_on = _capture_went_on(f)
    if c.server_stats.packets or c.client_stats.retransmissions or (c.partial and (went_on or 0.0) < FIRST_RETRY):
        return None
    line = make_evidence("Nothing acknowledges the ClientHello, and the client never sends it again.", [ch.frame])
    return candidate("incomplete", "unknown", "possible", failure_point="client_hello", how="capture_ended",
                     aborted_by="unknown", evidence=[line],
                     explanation=("The capture holds no packet of the server's for this connection, not even an "
                                  "acknowledgement, yet the client never retransmits its ClientHello as TCP would: "
                                  "the capture lacks part of this connection's traffic (a capture filter, an export "
                                  "of selected packets, or a one-way tap), so whether the server answered cannot "
                                  "be told. Capture both directions on one interface to see the answer."))


def _hello_the_server_refuses(f: Facts, line: Evidence) -> Optional[Candidate]:
    """What a server that closes on the ClientHello without a word most likely refused, when the
    hello itself says it: an obsolete protocol only, one list much narrower than what common
    servers accept, or TLS 1.3 alone. (Such servers close instead of alerting: h2o, lighttpd
    with GnuTLS, and others that drop what they cannot serve; the alert-path rules read the same
    lists, rules/hello_rejected.py.)"""
    ch = f.c.client_hello
    if ch is None:
        return None
    hello = f.has("client_hello", "client")
    frames = [hello.frame] if hello else []
    said = "The server closed the connection in answer to the ClientHello, without a TLS alert"
    max_v = ch.max_version
    if max_v is not None and 0x0300 <= max_v < 0x0303:
        return candidate("failed", "legacy_protocol_rejected", "likely", failure_point="client_hello",
                         aborted_by="server", how="fin", alternatives=["server_closed_without_alert"],
                         evidence=[line, make_evidence(f"The client offers at most {tables.version_name(max_v)}.",
                                                       frames)],
                         explanation=(f"{said}. The client offers at most {tables.version_name(max_v)}, an obsolete "
                                      "protocol most servers no longer accept."))
    readings = read_lists(ch)
    lines = [line] + [make_evidence(r.line(), frames) for r in readings]
    narrow = [r for r in readings if r.narrow]
    if narrow and (len(narrow) == 1 or narrow[0].narrowness > narrow[1].narrowness):
        top = narrow[0]
        return candidate("failed", top.cause, "likely", failure_point="client_hello", aborted_by="server", how="fin",
                         alternatives=[r.cause for r in readings if r is not top] + ["server_closed_without_alert"],
                         evidence=lines,
                         explanation=(f"{said}. Of the client's lists, the {top.what} are the narrow one next to what "
                                      "common servers accept: most likely the server accepts none of them and "
                                      "closes rather than alerting."))
    if not narrow and offers_only_tls13(ch):
        return candidate("failed", "protocol_version_mismatch", "possible", failure_point="client_hello",
                         aborted_by="server", how="fin",
                         alternatives=["server_closed_without_alert"] + [r.cause for r in readings],
                         evidence=lines + [make_evidence("The ClientHello's supported_versions lists TLS 1.3 only, "
                                                         "and all of its cipher suites are TLS 1.3 suites.", frames)],
                         explanation=(f"{said}. The client offers only TLS 1.3, with lists any TLS 1.3 server "
                                      "accepts: a server limited to TLS 1.2 finds nothing it can use in it."))
    return None


def closed_on_hello(f: Facts) -> Optional[Candidate]:
    """The ClientHello gets no answer but a reset or a close (after hello_never_answered)."""
    close = f.c.tcp_close
    if close is None or not _hello_unanswered(f):
        return None
    line = make_evidence(f"The {close.by} {'resets' if close.how == 'rst' else 'closes'} the connection.", [close.frame])
    if close.by == "server" and close.how == "fin":
        refused = _hello_the_server_refuses(f, line)
        if refused is not None:
            return refused
    if close.by == "server":
        if close.how == "rst":
            return candidate("failed", "connection_reset", "likely", failure_point="client_hello",
                             aborted_by="server", how="rst", alternatives=["middlebox_reset", "sni_rejected"],
                             evidence=[line],
                             explanation="The server reset the connection in answer to the ClientHello, without a TLS alert.")
        return candidate("failed", "server_closed_without_alert", "likely", failure_point="client_hello",
                         aborted_by="server", how="fin", alternatives=["sni_rejected", "no_shared_cipher"],
                         evidence=[line],
                         explanation="The server closed the connection in answer to the ClientHello, without a TLS alert.")
    return candidate("failed", "connection_reset", "possible", failure_point="client_hello",
                     aborted_by=close.by, how=close.how, evidence=[line],
                     explanation="The client reset the connection before the server answered.")


# -- the handshake got somewhere and stopped ----------------------------------------------
def _unanswered_flight(f: Facts) -> Optional[tuple[Event, str]]:
    """The client's last handshake flight got no answer at all, and the client waited
    (at least a second) before closing: the server (or the path) went silent."""
    c = f.c
    # (The tests that need no scan of the timeline first.)
    if c.server_stats.bytes == 0:
        return None  # nothing at all from the server: handled as "no answer to the ClientHello"
    close = c.tcp_close
    if close is not None and close.by != "client":
        return None
    for last in reversed(c.events):  # the client's last handshake step
        if last.sender == "client" and last.type in ("handshake", "encrypted_record", "change_cipher_spec"):
            break
    else:
        return None
    if f.sent("server", ("handshake", "encrypted_record", "alert", "not_tls"), after=last.frame):
        return None
    if close is not None and close.time - last.time < 1.0:
        return None
    if close is None and c.end_time - last.time < 1.0:
        return None
    names = f.names("client")
    phase = "finished" if ("client_key_exchange" in names or "finished" in names or
                           f.first_event("change_cipher_spec", "client") is not None) else "key_exchange"
    return last, phase


def flight_never_answered(f: Facts) -> Optional[Candidate]:
    """The server goes silent after the client's later flight (see _unanswered_flight)."""
    waited = _unanswered_flight(f)
    if waited is None:
        return None
    last_client, phase = waited
    close = f.c.tcp_close
    evidence = []
    if close is not None:
        evidence.append(make_evidence(
            f"The server sends nothing after the client's {last_client.info.get('message', 'flight')}; "
            f"the client gives up {close.time - last_client.time:.1f} s later.", [last_client.frame, close.frame]))
    return candidate("incomplete", "server_no_response", "likely", failure_point=phase,
                     aborted_by="client" if close is not None else None, how="no_response",
                     alternatives=["middlebox_reset"], evidence=evidence,
                     explanation=("The client sent its part of the handshake and the server never answered it"
                                  + (f"; the client gave up after {close.time - last_client.time:.1f} s." if close else ".")
                                  + " A server that hangs, or a device on the path that drops the server's "
                                  "packets, looks like this."))


def capture_ends_mid_handshake(f: Facts) -> Optional[Candidate]:
    """No close: the capture ends before the handshake does."""
    if f.c.tcp_close is not None:
        return None
    step = next_step(f)
    return candidate("incomplete", "unknown", "possible", failure_point=step,
                     how="capture_ended", aborted_by="unknown",
                     explanation=(f"The capture ends before the handshake does (the next step, "
                                  f"{step.replace('_', ' ')}, is not in it). Nothing shows a failure; "
                                  "capture longer or with a larger buffer to see the end."))


def _probable_alert_before_close(f: Facts) -> Optional[tuple[Event, list[Evidence], list[str]]]:
    """TLS 1.3 without keys: a small protected record from the side that closes, right before
    its close; the line that says so and what is hidden."""
    close = f.c.tcp_close
    if close is None:
        return None
    probable = f.probable_alert(close.by, close.frame)
    if probable is None:
        return None
    line = make_evidence(f"The {close.by} sends a {probable.info.get('length')}-byte encrypted record right before "
                         "closing: the size of an encrypted alert.", [probable.frame])
    return probable, [line], ["the alert's description (TLS 1.3 encrypts it); " + f.keys_hint()]


def _probable_alert_then_peer_close(f: Facts, side: str) -> Optional[tuple[Event, list[Evidence], list[str]]]:
    """TLS 1.3 without keys: ``side``'s last protected record before the close is alert-sized and
    the *other* side closed right after it: that close answers the alert (NSS and Erlang clients
    send theirs and the server's FIN can win the race to the capture)."""
    close = f.c.tcp_close
    if close is None or close.by == side:
        return None
    probable = f.probable_alert(side, close.frame)
    if probable is None:
        return None
    if side == "client" and any(e.sender == "server" and probable.frame < e.frame <= close.frame for e in f.enc):
        return None  # (the server went on after it: no refusal; a client's request may cross a server's alert)
    line = make_evidence(f"The {side} sends a {probable.info.get('length')}-byte encrypted record, the size of an "
                         f"encrypted alert; the {close.by} closes the connection after it.", [probable.frame, close.frame])
    return probable, [line], ["the alert's description (TLS 1.3 encrypts it); " + f.keys_hint()]


def alert_of_probable(sender: str, probable: Event) -> Alert:
    """The deciding alert for an encrypted record only the size of one (``probable``)."""
    return Alert(probable.frame, probable.time, sender, None, None, None, True,
                 probable.info.get("length", 0), probable=True)


def client_probable_alert(f: Facts) -> Optional[Candidate]:
    """The client closes right after a probable encrypted alert: most often it refused the
    server's certificate (which TLS 1.3 encrypts too)."""
    close = f.c.tcp_close
    found = _probable_alert_before_close(f) if close is not None and close.by == "client" else None
    if found is None:
        found = _probable_alert_then_peer_close(f, "client")
        sh = f.hellos()[1]
        if found is None or sh is None or f.protected("client", sh.frame, found[0].frame)[:1] != [found[0]]:
            return None  # (the alert must be the client's first protected record: its answer to the server's flight)
    probable, evidence, hidden = found
    hidden.append("the server's certificate (TLS 1.3 encrypts it); " + f.keys_hint())
    return candidate("failed", "server_cert_rejected", "possible", failure_point="server_certificate",
                     aborted_by="client", how="alert", alert=alert_of_probable("client", probable),
                     alternatives=["server_chain_incomplete", "server_cert_untrusted", "server_cert_hostname_mismatch",
                                   "server_cert_expired"], evidence=evidence, hidden=hidden,
                     explanation=("Right after the server's encrypted handshake flight the client sent a probable "
                                  "encrypted alert and closed: most often the client refused the server's "
                                  "certificate. The certificate and the alert are encrypted in TLS 1.3; supply "
                                  "the client's key log to see which."))


def _early_server_abort(f: Facts, probable: Event, evidence: list[Evidence], hidden: list[str]) -> Candidate:
    """The server's probable alert came before the client sent anything protected: no client
    Certificate can have been refused, the server gave up while building its own flight."""
    ch = f.c.client_hello
    offered = ch.alpn if ch is not None else []
    alert = alert_of_probable("server", probable)
    hidden.append("which step of its flight the server gave up at (EncryptedExtensions with the ALPN choice, "
                  "Certificate, CertificateVerify are encrypted in TLS 1.3); the key log would tell")
    if offered:
        evidence.append(make_evidence(f"The client offers ALPN {', '.join(offered)}; the server answers before the "
                                      "client could send any certificate.", [_client_hello(f).frame]))
        return candidate("failed", "alpn_mismatch", "possible", failure_point="server_hello", aborted_by="server",
                         how="alert", alert=alert, alternatives=["peer_internal_error", "no_common_signature_scheme"],
                         evidence=evidence, hidden=hidden,
                         explanation=("Right after its ServerHello, before the client sent anything encrypted, the "
                                      "server sent a probable encrypted alert and closed: it gave up while building "
                                      "its own flight, not over a client certificate. The client offered ALPN, and a "
                                      "server that speaks none of the offered protocols refuses at this point "
                                      "(Go's crypto/tls picks the protocol while writing EncryptedExtensions, after "
                                      "the ServerHello). The alert is encrypted; the key log would tell."))
    return candidate("failed", "peer_internal_error", "possible", failure_point="server_hello", aborted_by="server",
                     how="alert", alert=alert, alternatives=["no_common_signature_scheme"], evidence=evidence,
                     hidden=hidden,
                     explanation=("Right after its ServerHello, before the client sent anything encrypted, the server "
                                  "sent a probable encrypted alert and closed: it gave up while building its own "
                                  "flight (its certificate or key, a callback), not over a client certificate. The "
                                  "alert is encrypted; the key log would tell."))


def server_probable_alert(f: Facts) -> Optional[Candidate]:
    """The server (the side that is not the client) closes right after a probable encrypted alert:
    after the client's encrypted flight, it wanted a client certificate and did not get one (or
    rejected it, when the client's flight was large); before any such flight, it gave up on its
    own flight (an ALPN refusal when the client offered ALPN)."""
    close = f.c.tcp_close
    found = _probable_alert_before_close(f) if close is not None and close.by != "client" else None
    if found is None:
        found = _probable_alert_then_peer_close(f, "server")
        if found is None or not f.protected("client", 0, found[0].frame):
            return None  # (the server's alert answers the client's flight, which came first)
    probable, evidence, hidden = found
    client_flight = f.protected("client", 0, probable.frame)
    if not client_flight:
        return _early_server_abort(f, probable, evidence, hidden)
    shown = f.client_certificate()
    big_flight = shown == "sent" if shown is not None else sum(e.info.get("length", 0) for e in client_flight) > 300
    if shown == "empty":
        evidence.append(make_evidence(
            f"The client's first encrypted record after the ServerHello is {f.protected('client', 0)[0].info.get('length')} "
            "bytes, the size of an empty Certificate message, and its Finished follows: the server asked for a "
            "client certificate (an encrypted CertificateRequest) and the client had none to send.",
            [f.protected("client", 0)[0].frame]))
    else:
        hidden.append("whether the server sent a CertificateRequest (encrypted in TLS 1.3)")
    return candidate("failed", "client_cert_rejected" if big_flight else "client_cert_missing",
                     "likely" if shown == "empty" else "possible",
                     failure_point="client_certificate", aborted_by="server", how="alert",
                     alert=alert_of_probable("server", probable),
                     alternatives=["client_cert_missing" if big_flight else "client_cert_rejected"],
                     evidence=evidence, hidden=hidden,
                     explanation=("Right after the client's encrypted flight the server sent a probable encrypted "
                                  "alert and closed: typical of a server that requires a client certificate and "
                                  + ("rejects the one it got." if big_flight else "did not get one.")
                                  + " The CertificateRequest, if any, is encrypted too; supply the key log to read "
                                  "the alert."))


def _abandoned(f: Facts, close: TcpClose, line: Evidence) -> Optional[Candidate]:
    """The client closes less than FIRST_RETRY after its ClientHello, before any answer: it
    abandoned the attempt (a browser closing the spare connections it raced or opened ahead, a
    cancelled request), which says nothing against the server."""
    ch = f.hellos()[0]
    if ch is None or close.time - ch.time >= FIRST_RETRY:
        return None
    answered_later = f.sent("server", _SERVER_TLS)
    how = "resets" if close.how == "rst" else "closes"
    return candidate("failed", "connection_reset" if close.how == "rst" else "client_closed_without_alert", "likely",
                     failure_point="client_hello", aborted_by="client", how=close.how, evidence=[line],
                     explanation=(f"The client {how} the connection {(close.time - ch.time) * 1000:.0f} ms after its "
                                  "ClientHello, before the server's answer "
                                  + ("arrived (it came after the close)" if answered_later else "could arrive")
                                  + ": the client abandoned this attempt itself (a browser closing spare connections "
                                  "it opened in parallel or ahead of time, a cancelled request, a very short "
                                  "timeout), not a refusal by the server. Its other connections to this server in "
                                  "the capture show whether it got through."))


def closed_without_alert(f: Facts) -> Candidate:
    """A reset or a close with no alert before it (always applies: after capture_ends_mid_handshake
    there is a close)."""
    close = f.c.tcp_close
    assert close is not None
    by = close.by
    phase = phase_at(f, close.frame, by)
    if f.tls13 and phase == "server_certificate" and f.has("certificate", "server") is None:
        phase = "server_hello"  # the rest of the server's flight is encrypted: we only saw its hello
    line = make_evidence(f"The {by} {'resets' if close.how == 'rst' else 'closes'} the connection without a TLS alert.",
                         [close.frame])
    if by == "client" and phase == "client_hello":
        abandoned = _abandoned(f, close, line)
        if abandoned is not None:
            return abandoned
    if close.how == "rst":
        return candidate("failed", "connection_reset", "likely", failure_point=phase, aborted_by=by, how="rst",
                         alternatives=["middlebox_reset"], evidence=[line],
                         explanation=f"The {by} reset the connection during {phase.replace('_', ' ')} without a TLS alert.")
    cause = "client_closed_without_alert" if by == "client" else "server_closed_without_alert"
    return candidate("failed", cause, "likely", failure_point=phase, aborted_by=by, how="fin", evidence=[line],
                     explanation=f"The {by} closed the connection during {phase.replace('_', ' ')} without a TLS alert.")
