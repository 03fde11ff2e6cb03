"""A flight retransmitted and never acknowledged: the TCP stage's stall (tcp/stall.py) and the
diagnosis it leads to (rules/transport.py).

The real capture is the wide lab's path-MTU black hole (nginx and curl, an iptables rule
dropping the server's packets of 1200 bytes or more); what it shows is checked against tshark's
reading of the same capture (its tshark.txt: which frames are retransmissions, which ACK is a
duplicate). The variants are generated packet by packet around the real ClientHello and server
flight of that capture (pulled out with tests/segmenting.py, which reads the capture with dpkt,
not with tlsdissect): the expectation is how each capture was built (which segments the peer
acknowledged, which sizes it never got).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tlsdissect
from tests.hostile.tcp_hostile_pcaps import ACK, FIN, PSH, SYN, pcap
from tests.segmenting import extract_conversations

LAB = Path(__file__).resolve().parent.parent / "captures" / "wide_path_mtu_blackhole_nginx_curl"
CLIENT = bytes([10, 1, 0, 1])
SERVER = bytes([10, 0, 0, 1])
CPORT, SPORT = 40000, 443
CISN, SISN = 1000, 900000

pytestmark = pytest.mark.skipif(not (LAB / "capture.pcap").exists(), reason="lab capture missing")


def _tshark_rows() -> list[tuple[int, str]]:
    rows = []
    for line in (LAB / "tshark.txt").read_text().splitlines():
        m = re.match(r"\s*(\d+)\s", line)
        if m:
            rows.append((int(m.group(1)), line))
    return rows


def test_the_lab_black_hole_is_a_stall_of_the_server_as_tshark_reads_it() -> None:
    rows = _tshark_rows()
    retx_1448 = [n for n, line in rows if "[TCP Retransmission]" in line and "Len=1448" in line]
    retx_small = [n for n, line in rows if "[TCP Retransmission]" in line and "Len=718" in line]
    dup_acks = [n for n, line in rows if "[TCP Dup ACK" in line]
    assert retx_1448 and retx_small and dup_acks  # (the oracle's file is what we think it is)
    conn = tlsdissect.analyze(LAB / "capture.pcap").connections[0]
    stall = conn.extra["stalled"]["server"]
    assert "client" not in conn.extra["stalled"]
    assert stall["lost_from"] == 0
    assert stall["first_frame"] == 6  # the server's flight: tshark's "Server Hello, Certificate, ..."
    assert any(n == 6 and "Server Hello" in line for n, line in rows)
    assert stall["retransmission_frames"] == retx_1448
    assert stall["lost_sizes"] == [1448]
    assert stall["delivered_frames"] == retx_small and stall["delivered_sizes"] == [718]
    assert stall["answer_frames"] == dup_acks
    g = conn.diagnosis
    assert (g.cause, g.confidence, g.outcome, g.aborted_by, g.how, g.failure_point) == (
        "path_mtu_blackhole", "likely", "incomplete", "client", "no_response", "server_hello")
    frames = {n for e in g.evidence for n in e.frames}
    assert set(retx_1448) <= frames and set(dup_acks) <= frames and 6 in frames
    assert any("718 bytes" in e.text and "duplicate ACK" in e.text for e in g.evidence)
    assert any("MSS" in h for h in g.hidden)
    assert g.remedy and "MSS" in " ".join(g.remedy)


# -- generated variants ------------------------------------------------------------------------

def _lab_flights() -> tuple[bytes, bytes]:
    conv = extract_conversations(LAB / "capture.pcap")[0]
    return conv.stream(0), conv.stream(1)


def _build(server_segments: list[tuple[float, int, int, bool]], retransmit: list[tuple[float, int, int]],
           client_closes_at: float = 4.0) -> bytes:
    """A conversation: the lab's ClientHello, the server's flight cut into ``server_segments``
    (time, offset, length, whether the client got it) and ``retransmit`` (time, offset, length:
    never acknowledged), the client's ACKs for what it got (cumulative, or duplicate when a hole
    comes before), and the client's FIN."""
    hello, flight = _lab_flights()
    t = 1_700_000_000.0
    c_next = CISN + 1 + len(hello)
    packets = [
        (t, CLIENT, SERVER, CPORT, SPORT, CISN, 0, SYN, b""),
        (t + 0.0001, SERVER, CLIENT, SPORT, CPORT, SISN, CISN + 1, SYN | ACK, b""),
        (t + 0.0002, CLIENT, SERVER, CPORT, SPORT, CISN + 1, SISN + 1, ACK, b""),
        (t + 0.001, CLIENT, SERVER, CPORT, SPORT, CISN + 1, SISN + 1, PSH | ACK, hello),
        (t + 0.0011, SERVER, CLIENT, SPORT, CPORT, SISN + 1, c_next, ACK, b""),
    ]
    acked = 0  # what the client has acknowledged of the server's stream
    for when, off, n, got in server_segments:
        packets.append((t + when, SERVER, CLIENT, SPORT, CPORT, SISN + 1 + off, c_next, PSH | ACK, flight[off:off + n]))
        if got:
            if off == acked:
                acked = off + n
            packets.append((t + when + 0.00005, CLIENT, SERVER, CPORT, SPORT, c_next, SISN + 1 + acked, ACK, b""))
    for when, off, n in retransmit:
        packets.append((t + when, SERVER, CLIENT, SPORT, CPORT, SISN + 1 + off, c_next, PSH | ACK, flight[off:off + n]))
    packets.append((t + client_closes_at, CLIENT, SERVER, CPORT, SPORT, c_next, SISN + 1 + acked, FIN | ACK, b""))
    return pcap(packets)


def _diagnose(data: bytes) -> tlsdissect.Connection:
    report = tlsdissect.analyze(data)
    assert len(report.connections) == 1
    return report.connections[0]


def test_only_the_big_segments_lost_is_a_path_mtu_black_hole() -> None:
    _, flight = _lab_flights()
    tail = len(flight) - 1400
    conn = _diagnose(_build([(0.01, 0, 1400, False), (0.0101, 1400, tail, True)],
                            [(0.2, 0, 1400), (0.6, 0, 1400), (1.4, 0, 1400)]))
    stall = conn.extra["stalled"]["server"]
    assert stall["lost_sizes"] == [1400] and stall["delivered_sizes"] == [tail]
    assert stall["retransmission_frames"] == [9, 10, 11]  # 6: the lost segment, 7: the tail, 8: dup ACK
    assert stall["answer_frames"] == [8] and stall["delivered_frames"] == [7] and stall["first_frame"] == 6
    g = conn.diagnosis
    assert (g.cause, g.confidence, g.aborted_by, g.how) == ("path_mtu_blackhole", "likely", "client", "no_response")
    assert g.alternatives == ["packets_dropped_on_path"]


def test_every_size_lost_is_packets_dropped_on_the_path() -> None:
    _, flight = _lab_flights()
    cuts = [(0.01 + i * 0.0001, off, min(600, len(flight) - off), False) for i, off in
            enumerate(range(0, len(flight), 600))]
    conn = _diagnose(_build(cuts, [(0.2, 0, 600), (0.6, 0, 600), (1.4, 0, 600)]))
    stall = conn.extra["stalled"]["server"]
    assert stall["lost_sizes"] == [600] and stall["delivered_sizes"] == []
    g = conn.diagnosis
    assert (g.cause, g.outcome, g.aborted_by, g.how) == ("packets_dropped_on_path", "incomplete", "client", "no_response")
    assert "path_mtu_blackhole" in g.alternatives


def test_a_big_segment_that_got_through_rules_out_a_size_limit() -> None:
    _, flight = _lab_flights()
    # The first 1400 bytes arrive and are acknowledged; the next 1400-byte segment never does.
    rest = len(flight) - 1400
    conn = _diagnose(_build([(0.01, 0, 1400, True), (0.0102, 1400, rest, False)],
                            [(0.2, 1400, rest), (0.6, 1400, rest), (1.4, 1400, rest)]))
    stall = conn.extra["stalled"]["server"]
    assert stall["lost_from"] == 1400 and stall["delivered_sizes"] == [1400]
    assert conn.diagnosis.cause == "packets_dropped_on_path"


def test_one_retransmission_is_no_stall() -> None:
    _, flight = _lab_flights()
    tail = len(flight) - 1400
    conn = _diagnose(_build([(0.01, 0, 1400, False), (0.0101, 1400, tail, True)], [(0.2, 0, 1400)]))
    assert "stalled" not in conn.extra
    assert conn.diagnosis.cause != "path_mtu_blackhole"


def test_a_server_that_never_answers_is_not_a_stall() -> None:
    conn = _diagnose(_build([], []))
    assert "stalled" not in conn.extra
    assert conn.diagnosis.cause == "server_no_response"


FIREWALL = Path(__file__).resolve().parent.parent / "captures" / "wide2_firewall_drops_server_flight_nginx_go"


@pytest.mark.skipif(not (FIREWALL / "capture.pcap").exists(), reason="lab capture missing")
def test_lost_acks_make_a_filter_not_a_black_hole() -> None:
    """A filter drops everything the server sends after its SYN-ACK (the wide2 lab, captured
    before the filter): the server's flight is one big segment, so its size alone cannot tell
    a black hole from a wall, but the Go client sends its ClientHello again after the server
    had acknowledged it: tshark's spurious retransmissions, the frames the stall names."""
    rows = [line for line in (FIREWALL / "tshark.txt").read_text().splitlines()]
    spurious = [int(line.split()[0]) for line in rows if "[TCP Spurious Retransmission]" in line]
    assert spurious  # (the oracle's file is what we think it is)
    conn = tlsdissect.analyze(FIREWALL / "capture.pcap").connections[0]
    stall = conn.extra["stalled"]["server"]
    assert stall["unheard_ack_frames"] == spurious
    g = conn.diagnosis
    assert (g.cause, g.confidence, g.outcome, g.failure_point) == (
        "packets_dropped_on_path", "likely", "incomplete", "server_hello")
    assert "path_mtu_blackhole" in g.alternatives
    # The black hole's own server ACKs reached curl: nothing unheard there.
    assert tlsdissect.analyze(LAB / "capture.pcap").connections[0].extra["stalled"]["server"]["unheard_ack_frames"] == []
