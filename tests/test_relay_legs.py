"""The legs of a relayed connection (tcp/relays.py, pipeline/relays.py, rules/transport.py).

The real capture is the wide lab's relay that resets both legs (a Python relay between a Node.js
client and a Go server, resetting both TCP connections when the client's request arrives): tshark
(its tshark.txt) shows the same-length ClientHello on both legs and the two resets 34 µs apart;
that the two legs carry the very same bytes is checked with dpkt (tests/segmenting.py), not with
tlsdissect. Variants are generated around the ClientHello and server flight of another lab
capture: resets far apart, a different ClientHello, legs far apart in the order connections end.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tlsdissect
from tests.hostile.tcp_hostile_pcaps import ACK, PSH, RST, SYN, pcap
from tests.segmenting import extract_conversations
from tlsdissect.pipeline.analyzer import iter_shard
from tlsdissect.tcp.relays import RELAY_WINDOW, RelayIndex

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
RELAY = CAPTURES / "wide_relay_resets_both_legs_node"
SOURCE = CAPTURES / "wide_path_mtu_blackhole_nginx_curl"  # a ClientHello and a server flight to reuse

pytestmark = pytest.mark.skipif(not (RELAY / "capture.pcap").exists(), reason="lab captures missing")


def test_the_lab_relay_s_legs_are_linked_and_its_resets_are_one_middlebox_reset() -> None:
    legs = extract_conversations(RELAY / "capture.pcap")
    # dpkt: the same ClientHello and the same server flight on both legs
    assert len(legs) == 2 and legs[0].flights[0].data == legs[1].flights[0].data
    assert legs[0].flights[1].data == legs[1].flights[1].data and legs[0].flights[1].direction == 1
    rows = {int(m.group(1)): line for line in (RELAY / "tshark.txt").read_text().splitlines()
            if (m := re.match(r"\s*(\d+)\s", line))}
    assert "[RST, ACK]" in rows[17] and "[RST, ACK]" in rows[18]
    report = tlsdissect.analyze(RELAY / "capture.pcap")
    by_stream = {c.stream: c for c in report.connections}
    assert by_stream[0].extra["relay_legs"] == [
        {"stream": 1, "reset_frame": 18, "reset_time": by_stream[0].extra["relay_legs"][0]["reset_time"]}]
    assert by_stream[1].extra["relay_legs"][0]["stream"] == 0
    assert by_stream[1].extra["relay_legs"][0]["reset_frame"] == 17
    for conn in by_stream.values():
        g = conn.diagnosis
        assert (g.cause, g.aborted_by, g.how) == ("middlebox_reset", "middlebox", "rst"), conn.stream
        assert any("legs of one relayed connection" in e.text for e in g.evidence)
    assert by_stream[0].diagnosis.outcome == "established"
    assert by_stream[0].diagnosis.failure_point == "application_data"
    assert "reset_frame" in by_stream[0].to_dict()["relay_legs"][0]


def test_a_sharded_run_links_the_legs_as_one_process_does() -> None:
    single = {c.stream: c.extra.get("relay_legs") for c in tlsdissect.analyze(RELAY / "capture.pcap").connections}
    sharded = {}
    for k in range(2):
        for item in iter_shard(str(RELAY / "capture.pcap"), (k, 2)):
            sharded[item.connection.stream] = item.connection.extra.get("relay_legs")
    assert sharded == single and all(single.values())


# -- generated -----------------------------------------------------------------------------------

def _flights() -> tuple[bytes, bytes]:
    conv = extract_conversations(SOURCE / "capture.pcap")[0]
    return conv.stream(0), conv.stream(1)


CLIENT, RELAY_IP, SERVER = bytes([10, 1, 0, 1]), bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1])


def _leg(t: float, src: bytes, sport: int, dst: bytes, hello: bytes, flight: bytes, reset_at: float,
         reset_by_server: bool) -> list[tuple]:
    ci, si = 1000 + sport, 900000 + sport
    c_next, s_next = ci + 1 + len(hello), si + 1 + len(flight)
    rst = ((t + reset_at, dst, src, 443, sport, s_next, c_next, RST | ACK, b"") if reset_by_server else
           (t + reset_at, src, dst, sport, 443, c_next, s_next, RST | ACK, b""))
    return [
        (t, src, dst, sport, 443, ci, 0, SYN, b""),
        (t + 0.0001, dst, src, 443, sport, si, ci + 1, SYN | ACK, b""),
        (t + 0.0002, src, dst, sport, 443, ci + 1, si + 1, ACK, b""),
        (t + 0.001, src, dst, sport, 443, ci + 1, si + 1, PSH | ACK, hello),
        (t + 0.002, dst, src, 443, sport, si + 1, c_next, PSH | ACK, flight),
        rst,
    ]


def _relayed(apart: float, other_hello: bool = False) -> list[tlsdissect.Connection]:
    hello, flight = _flights()
    second = hello[:20] + bytes(b ^ 0xFF for b in hello[20:30]) + hello[30:] if other_hello else hello
    t = 1_700_000_000.0
    packets = _leg(t, CLIENT, 40000, RELAY_IP, hello, flight, 0.05, True)
    packets += _leg(t + 0.0005, RELAY_IP, 50000, SERVER, second, flight, 0.05 + apart, False)
    packets.sort(key=lambda p: p[0])
    return tlsdissect.analyze(pcap(packets)).connections


def test_resets_within_milliseconds_on_both_legs_are_the_relay_s() -> None:
    conns = _relayed(0.0002)
    assert [c.extra["relay_legs"][0]["stream"] for c in conns] == [1, 0]
    assert [c.diagnosis.cause for c in conns] == ["middlebox_reset", "middlebox_reset"]
    assert [c.diagnosis.aborted_by for c in conns] == ["middlebox", "middlebox"]


def test_resets_far_apart_are_each_leg_s_own() -> None:
    conns = _relayed(0.5)
    assert all(c.extra.get("relay_legs") for c in conns)  # still one relayed connection
    assert [c.diagnosis.cause for c in conns] == ["connection_reset", "connection_reset"]
    assert [c.diagnosis.aborted_by for c in conns] == ["server", "client"]


def test_another_client_hello_is_another_connection() -> None:
    conns = _relayed(0.0002, other_hello=True)
    assert not any(c.extra.get("relay_legs") for c in conns)
    assert all(c.diagnosis.cause != "middlebox_reset" or "legs" not in c.diagnosis.explanation for c in conns)


def test_the_index_forgets_what_no_held_connection_can_match() -> None:
    index = RelayIndex()
    for seq in range(10 * RELAY_WINDOW):
        index.register(seq, (bytes([seq % 7]) * 48, None), seq, 0.0, 1.0, None)
        index.prune(seq - 2 * RELAY_WINDOW)
    assert len(index.entries) <= 2 * RELAY_WINDOW + 1
    assert sum(len(v) for v in index.by_opening.values()) == len(index.entries)
    # Only the legs within the window count:
    legs = index.legs(10 * RELAY_WINDOW - 1, -1, (bytes([(10 * RELAY_WINDOW - 1) % 7]) * 48, None), 0.0, 1.0)
    assert legs and all(abs(leg.stream - (10 * RELAY_WINDOW - 1)) <= RELAY_WINDOW for leg in legs)


# -- a relay that changes bytes ------------------------------------------------------------------

FLIPPED = ["wide_record_flipped_relay_curl", "wide_record_flipped_relay_stunnel13",
           "wide_ske_signature_flipped_relay_curl", "wide_ske_signature_flipped_relay_gnutls"]


def _first_difference(a: bytes, b: bytes) -> int | None:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)


@pytest.mark.parametrize("name", FLIPPED)
def test_where_the_relay_changed_bytes_is_found_on_both_legs(name: str) -> None:
    """The lab's relays flip one bit (the sidecar's description says where); dpkt's reassembly of
    both legs says at which byte: each leg's ``bytes_differ`` names that side and a block holding
    that byte, the other side none, and a sharded run says the same."""
    capture = CAPTURES / name / "capture.pcap"
    legs = extract_conversations(capture)
    assert len(legs) == 2
    flipped = {}
    for d in (0, 1):
        at = _first_difference(legs[0].stream(d), legs[1].stream(d))
        if at is not None:
            flipped[d] = at
    assert len(flipped) == 1  # one side's bytes changed, one bit
    ((d, at),) = flipped.items()
    conns = tlsdissect.analyze(capture).connections
    for conn in conns:
        side = ("client", "server")[d]  # (direction 0 sent the SYN: the client on both legs)
        (leg,) = conn.extra["relay_legs"]
        assert list(leg["bytes_differ"]) == [side]
        where = leg["bytes_differ"][side]
        assert where["from_byte"] <= at < where["to_byte"]
    sharded = {}
    for k in range(2):
        for item in iter_shard(str(capture), (k, 2)):
            sharded[item.connection.stream] = item.connection.extra["relay_legs"]
    assert sharded == {c.stream: c.extra["relay_legs"] for c in conns}


@pytest.mark.parametrize("name", ["wide_record_flipped_relay_curl", "wide_record_flipped_relay_stunnel13"])
def test_a_record_changed_after_the_handshake_reads_as_corrupted_in_transit_without_keys(name: str) -> None:
    expected = __import__("json").loads((CAPTURES / name / "expected.json").read_text())["expected"]
    conns = tlsdissect.analyze(CAPTURES / name / "capture.pcap").connections
    assert [c.diagnosis.cause for c in conns] == [expected["cause"]] * 2  # both legs, no key log


def test_legs_with_the_same_bytes_differ_nowhere_and_a_changed_flight_is_found() -> None:
    hello, flight = _flights()
    t = 1_700_000_000.0
    same = _leg(t, CLIENT, 40000, RELAY_IP, hello, flight, 0.05, True)
    same += _leg(t + 0.0005, RELAY_IP, 50000, SERVER, hello, flight, 0.0502, False)
    same.sort(key=lambda p: p[0])
    for conn in tlsdissect.analyze(pcap(same)).connections:
        assert "bytes_differ" not in conn.extra["relay_legs"][0]
    at = len(flight) - 100
    changed = flight[:at] + bytes([flight[at] ^ 0x01]) + flight[at + 1:]
    packets = _leg(t, CLIENT, 40000, RELAY_IP, hello, flight, 0.05, True)
    packets += _leg(t + 0.0005, RELAY_IP, 50000, SERVER, hello, changed, 0.0502, False)
    packets.sort(key=lambda p: p[0])
    for conn in tlsdissect.analyze(pcap(packets)).connections:
        where = conn.extra["relay_legs"][0]["bytes_differ"]["server"]
        assert where["from_byte"] <= at < where["to_byte"]
