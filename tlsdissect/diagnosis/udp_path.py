"""Failures of the path under a UDP handshake (QUIC, DTLS), read from a flow's path evidence
(capture.udp_path.UdpPath): what an ICMP error quoting the client's datagrams says, which
datagram sizes got through and which did not, and a client that turned to TCP instead.

Each reading returns a PathReading (cause, confidence, explanation, evidence lines with frame
numbers) or None; diagnosis.quic and diagnosis.dtls decide where in their order they come.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from tlsdissect.diagnosis.udp_verdict import UdpDiagnosis

# RFC 9000 §14: a QUIC path must carry UDP payloads of 1200 bytes; the client pads its Initials to it.
QUIC_MIN_PAYLOAD = 1200
# The order in which ICMP errors about the client's datagrams decide (the most specific first).
ICMP_ORDER = ("port_unreachable", "too_big", "prohibited", "host_unreachable", "time_exceeded")
MAX_FRAMES_LISTED = 6


@dataclass
class PathReading:
    cause: str
    confidence: str  # certain | likely | possible
    explanation: str
    evidence: list[tuple[str, list[int]]]  # (text, frames)
    alternatives: list[str] = field(default_factory=list)


def _frames(items: Any) -> list[int]:
    return [x.frame for x in items][:MAX_FRAMES_LISTED]


def _port(endpoint: str) -> str:
    return endpoint.rsplit(":", 1)[-1]


def _host(endpoint: str) -> str:
    return endpoint.rsplit(":", 1)[0]


def _sizes(sizes: list[int]) -> str:
    if not sizes:
        return "no"
    if len(sizes) == 1:
        return f"{sizes[0]}-byte"
    return f"{sizes[0]}- to {sizes[-1]}-byte"


def icmp_reading(path: Any, server: str, what: str) -> Optional[PathReading]:
    """An ICMP error about the client's datagrams (``what``: "QUIC Initial", "DTLS ClientHello")
    names the failure: nothing listens on the port, the host cannot be reached, the datagram is too
    big for a link on the way."""
    about_client = [n for n in path.icmp if n.about == "client"] if path is not None else []
    if not about_client:
        return None
    kind = min((n.kind for n in about_client),
               key=lambda k: ICMP_ORDER.index(k) if k in ICMP_ORDER else len(ICMP_ORDER))
    same = [n for n in about_client if n.kind == kind]
    first = same[0]
    port = _port(server)
    by = "the server's host" if first.from_peer else f"{first.sender}, not the server's address,"
    line = (f"{len(same)} {first.name} from {first.sender} quoting the client's {first.quoted_size - 8}-byte "
            f"{what} datagram(s) to UDP port {port}.", _frames(same))
    answered = path.datagrams["server"] > 0
    if kind == "port_unreachable":
        text = (f"{by[0].upper() + by[1:]} answered the client's {what} with ICMP port unreachable: nothing "
                f"listens on UDP port {port} at {_host(server)} (the service is not running, or listens on another "
                "port or address).")
        sure = "certain" if first.from_peer and not answered else "likely"
        return PathReading("udp_port_unreachable", sure, text, [line], [] if first.from_peer else ["host_unreachable"])
    if kind == "too_big":
        fits = first.mtu - (48 if ":" in _host(server) else 28)
        text = (f"A router on the path ({first.sender}) answered {first.name}: the client's "
                f"{first.quoted_size - 8}-byte datagrams do not fit a link whose MTU is {first.mtu}")
        if what.startswith("QUIC") and fits < QUIC_MIN_PAYLOAD:
            text += (f", which carries at most {fits}-byte UDP payloads; QUIC needs a path that carries "
                     f"{QUIC_MIN_PAYLOAD}-byte ones (RFC 9000 §14) and cannot shrink its Initials below that.")
        else:
            text += "; the client must send smaller datagrams (or the link's MTU be raised)."
        return PathReading("path_mtu_blackhole", "likely", text, [line], ["packets_dropped_on_path"])
    if kind in ("prohibited", "host_unreachable"):
        why = ("a firewall there rejects the traffic" if kind == "prohibited"
               else "no route to it, or its address does not answer on its link")
        text = f"{first.sender} answered the client's {what} with {first.name}: the server cannot be reached ({why})."
        return PathReading("host_unreachable", "certain" if not answered else "likely", text, [line],
                           ["udp_port_unreachable"] if first.from_peer else [])
    text = (f"{first.sender} answered the client's {what} with {first.name}: the datagrams do not reach the "
            "server (a routing loop, or too small a hop limit).")
    return PathReading("packets_dropped_on_path", "possible", text, [line])


def sizes_line(path: Any, side: str) -> str:
    """``side``'s datagrams in a few words: how many, of what sizes."""
    n = path.datagrams[side]
    return f"{n} datagram(s) of {_sizes(path.sizes(side))} UDP payload" if n else "no datagram"


def size_reading(path: Any, what: str) -> Optional[PathReading]:
    """Large datagrams lost while small ones pass: the client's (or the server's) datagrams go
    unanswered only above the sizes that got an answer, in this flow or in another flow between
    the same two hosts."""
    if path is None:
        return None
    for side, other in (("client", "server"), ("server", "client")):
        tail = path.unanswered_tail(side)
        largest = path.largest_answered(side)
        if len(tail) < 2 or largest is None or min(s.size for s in tail) <= largest.size:
            continue
        text = (f"The {other} answered the {side}'s datagrams of up to {largest.size} bytes (frame {largest.frame}); "
                f"the {side}'s later {_sizes(sorted({s.size for s in tail}))} datagrams, sent {len(tail)} times, got "
                "no answer: only the smaller datagrams pass, the path drops the large ones.")
        return PathReading("path_mtu_blackhole", "likely", text,
                           [(f"The {side}'s last answered datagram: {largest.size} bytes.", [largest.frame]),
                            (f"Unanswered: {len(tail)} datagram(s) of {_sizes(sorted({s.size for s in tail}))} "
                             "payload.", _frames(tail))], ["packets_dropped_on_path"])
    elsewhere = path.answered_elsewhere
    sent = path.sizes("client")
    if path.datagrams["server"] == 0 and elsewhere is not None and sent and min(sent) > elsewhere.size:
        text = (f"Nothing answered the client's {_sizes(sent)} {what} datagrams, while a {elsewhere.size}-byte "
                f"datagram from the same client to the same server host was answered on another flow (frame "
                f"{elsewhere.frame}): the path drops datagrams above some size between {elsewhere.size} and "
                f"{min(sent)} bytes.")
        return PathReading("path_mtu_blackhole", "likely", text,
                           [(f"The client sent {sizes_line(path, 'client')}, unanswered.", _frames(path.log)),
                            (f"A {elsewhere.size}-byte datagram between the same hosts was answered.",
                             [elsewhere.frame])], ["packets_dropped_on_path", "server_no_response"])
    return None


def fallback_reading(path: Any, server: str, first_frame: int, what: str) -> Optional[PathReading]:
    """The server never answered over UDP and the same client opened TCP connections to the same
    server host: UDP is blocked (or the server does not speak QUIC there) and the client fell back."""
    if path is None or path.datagrams["server"] or not path.tcp or path.icmp:
        return None
    port = _port(server)
    tcp = path.tcp[0]
    after = tcp.frame > first_frame
    text = (f"The client's {what} datagrams to UDP port {port} got no answer, and the same client "
            f"{'then ' if after else ''}opened a TCP connection to port {tcp.port} of the same server (frame "
            f"{tcp.frame}): UDP {port} is blocked or the server does not speak HTTP/3; the client fell back to TCP.")
    return PathReading("quic_fell_back_to_tcp", "likely", text,
                       [(f"The client sent {sizes_line(path, 'client')} to UDP port {port}; nothing came back.",
                         _frames(path.log)),
                        (f"TCP connection(s) from the same client to {_host(server)}: port(s) "
                         f"{', '.join(sorted({str(t.port) for t in path.tcp}))}.", [t.frame for t in path.tcp][:4])],
                       ["server_no_response"])


def dtls_path_reading(a: Any) -> Optional["UdpDiagnosis"]:
    """What the path says of a DTLS association that failed before the server answered (an ICMP
    error quoting the client's datagrams; datagrams unanswered above the sizes that got through),
    as diagnosis.dtls gives a failure (a diagnosis.udp_verdict.UdpDiagnosis)."""
    from tlsdissect.diagnosis.causes import remedy_lines
    from tlsdissect.diagnosis.udp_verdict import UdpDiagnosis

    path = getattr(a, "path", None)
    if path is None or a.established_frame is not None or a.server_hello is not None:
        return None
    reading = icmp_reading(path, a.server, "DTLS ClientHello")
    if reading is None and a.failure is not None and a.failure.kind == "no_answer":
        reading = size_reading(path, "DTLS ClientHello")
    if reading is None:
        return None
    return UdpDiagnosis("failed", reading.cause, reading.confidence, "client_hello", None, None, reading.explanation,
                        [{"text": text, "frames": frames} for text, frames in reading.evidence],
                        list(reading.alternatives), remedy_lines(reading.cause),
                        candidates=[{"cause": c, "likelihood": "possible"} for c in reading.alternatives],
                        likelihood=reading.confidence, protocol="DTLS")
