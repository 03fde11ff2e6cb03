"""Failures that are UDP's own (issue 20, item 4), and QUIC connections followed by their
connection IDs.

Expectations: the bytes of ICMP errors built with scapy (RFC 792, RFC 1191, RFC 4443 layouts);
tshark's listing of the lab captures (tests/data/udpfail, made by lab/quic/make_udpfail.py with
aioquic, ngtcp2, openssl, gnutls and curl on loopback, iptables making the path fail): which
frames are ICMP errors, each datagram's UDP length, the Retry and Version Negotiation packets,
the TCP SYNs, the client's ports; and each scenario's set-up (what its iptables rule or missing
server does) for the cause.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tlsdissect
from tlsdissect.capture.packet import UDP_ICMP_ERROR, decode_flow, decode_tcp, flow_key
from tlsdissect.quic.flows import QuicFlows

scapy_all = pytest.importorskip("scapy.all")
from scapy.layers.inet import ICMP, IP, UDP  # noqa: E402
from scapy.layers.inet6 import ICMPv6DestUnreach, ICMPv6PacketTooBig, IPv6  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "tests" / "data" / "udpfail"
C4, S4, R4 = "192.0.2.10", "198.51.100.20", "203.0.113.1"
C6, S6, R6 = "2001:db8::10", "2001:db8:1::20", "2001:db8:2::1"
DCID = bytes.fromhex("8394c8f03e515708")


def _initial(dcid: bytes = DCID, scid: bytes = b"\x11" * 8, size: int = 1200) -> bytes:
    """A QUIC v1 long header (Initial type) padded to ``size``: what the quoted datagram holds."""
    head = b"\xc0\x00\x00\x00\x01" + bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid + b"\x00"
    body = size - len(head) - 2
    return head + bytes([0x40 | body >> 8, body & 0xFF]) + b"\x5a" * body


def _sidecar(name: str) -> dict[str, Any]:
    return json.loads((LAB / name / "expected.json").read_text())


def _tuning() -> list[str]:
    return sorted(p.name for p in LAB.iterdir() if not _sidecar(p.name)["held_out"])


def _held_out() -> list[str]:
    return sorted(p.name for p in LAB.iterdir() if _sidecar(p.name)["held_out"])


def _rows(name: str) -> list[list[str]]:
    """tshark's listing: frame, ip.src, ip.dst, udp.srcport, udp.dstport, udp.length, icmp.type,
    icmp.code, quic.long.packet_type, quic.version, quic.supported_version, tcp.flags."""
    return [line.split("|") for line in _sidecar(name)["observed"]["tshark"]]


def _flows(name: str) -> list[Any]:
    report = tlsdissect.analyze(LAB / name / "capture.pcap")
    return list(report.quic) + list(report.dtls)


# -- ICMP errors quoting a UDP datagram (capture.packet) ------------------------------------------

@pytest.mark.parametrize("icmp, version, kind, mtu", [
    (lambda q: Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=S4, dst=C4) / ICMP(type=3, code=3) / q, 4, "port_unreachable", 0),
    (lambda q: Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=R4, dst=C4) / ICMP(type=3, code=1) / q, 4, "host_unreachable", 0),
    (lambda q: Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=R4, dst=C4) / ICMP(type=3, code=13) / q, 4, "prohibited", 0),
    (lambda q: Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=R4, dst=C4) / ICMP(type=3, code=4, nexthopmtu=1180) / q, 4, "too_big", 1180),
])
def test_icmp_error_quoting_udp_names_the_flow_and_the_error(icmp: Any, version: int, kind: str, mtu: int) -> None:
    quoted = bytes(IP(src=C4, dst=S4) / UDP(sport=50123, dport=443) / Raw(_initial()))[:576 - 28]
    seg = decode_flow(1, bytes(icmp(Raw(quoted))))
    assert seg is not None
    key, error, _, flags, payload, _, _ = seg
    assert key is None and flags == UDP_ICMP_ERROR
    assert error.key == flow_key(bytes([192, 0, 2, 10]), bytes([198, 51, 100, 20]), 50123, 443)
    assert (error.version, error.kind, error.mtu, error.quoted_length) == (version, kind, mtu, 1208)
    assert payload == _initial()[:len(quoted) - 28]  # the quoted UDP payload, as far as quoted
    assert decode_tcp(1, bytes(icmp(Raw(quoted)))) is None  # (no TCP segment for the TCP stage)


@pytest.mark.parametrize("icmp, kind, mtu", [
    (lambda q: Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=S6, dst=C6) / ICMPv6DestUnreach(code=4) / q, "port_unreachable", 0),
    (lambda q: Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=R6, dst=C6) / ICMPv6DestUnreach(code=3) / q, "host_unreachable", 0),
    (lambda q: Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=R6, dst=C6) / ICMPv6PacketTooBig(mtu=1240) / q, "too_big", 1240),
])
def test_icmpv6_error_quoting_udp(icmp: Any, kind: str, mtu: int) -> None:
    quoted = bytes(IPv6(src=C6, dst=S6) / UDP(sport=50123, dport=443) / Raw(_initial()))[:1280 - 48]
    seg = decode_flow(1, bytes(icmp(Raw(quoted))))
    assert seg is not None and seg[3] == UDP_ICMP_ERROR
    error = seg[1]
    assert (error.version, error.kind, error.mtu, error.quoted_length) == (6, kind, mtu, 1208)
    assert error.name.startswith("ICMPv6 ")


def test_icmp_quote_cut_before_the_udp_ports_is_no_error() -> None:
    quoted = bytes(IP(src=C4, dst=S4) / UDP(sport=50123, dport=443) / Raw(_initial()))[:24]
    assert decode_flow(1, bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=S4, dst=C4) / ICMP(type=3, code=3) / Raw(quoted))) is None


_ICMP_FRAME = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=S4, dst=C4) / ICMP(type=3, code=3))  # 14 + 20 + 8 bytes
_QUOTED_HEADERS = bytes(IP(src=C4, dst=S4) / UDP(sport=1, dport=2))[:28]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120), st.integers(0, 255), st.integers(0, 255))
def test_hostile_icmp_quotes_never_raise(tail: bytes, icmp_type: int, code: int) -> None:
    body = _QUOTED_HEADERS + tail
    ip = bytearray(_ICMP_FRAME[14:34])
    ip[2:4] = (20 + 8 + len(body)).to_bytes(2, "big")
    frame = _ICMP_FRAME[:14] + bytes(ip) + bytes([icmp_type, code]) + _ICMP_FRAME[36:42] + body
    seg = decode_flow(1, frame)
    flows = QuicFlows()
    flows.datagram(1, 0.0, flow_key(bytes([192, 0, 2, 10]), bytes([198, 51, 100, 20]), 1, 2), _initial())
    if seg is not None and seg[3] == UDP_ICMP_ERROR:
        flows.icmp_error(2, 0.1, seg[1], seg[4])
        _ = seg[1].name
    for q in flows.results():
        q.to_dict()


# -- QUIC connections followed by their connection IDs (quic.flows) ------------------------------

def test_a_new_client_port_carrying_a_known_connection_id_stays_the_same_connection() -> None:
    """NAT rebinding (RFC 9000 §9.3): the client's datagrams come from a new port, with the
    Destination Connection ID the server gave in its long header's Source Connection ID."""
    c, s = bytes([192, 0, 2, 10]), bytes([198, 51, 100, 20])
    client_scid, server_scid = b"\x11" * 8, b"\x22" * 8
    flows = QuicFlows()
    flows.datagram(1, 0.0, flow_key(c, s, 50000, 443), _initial(scid=client_scid))
    server_initial = _initial(dcid=client_scid, scid=server_scid)
    flows.datagram(2, 0.1, flow_key(s, c, 443, 50000), server_initial)
    flows.datagram(3, 1.0, flow_key(c, s, 61000, 443), b"\x41" + server_scid + b"\x00" * 30)  # short header
    flows.datagram(4, 1.1, flow_key(s, c, 443, 61000), b"\x41" + client_scid + b"\x00" * 30)
    flows.datagram(5, 1.2, flow_key(c, s, 62000, 443), b"\x41" + b"\x33" * 8 + b"\x00" * 30)  # unknown ID
    (q,) = flows.results()
    assert q.last_frame == 4 and q.packets["client"]["1rtt"] == 1 and q.packets["server"]["1rtt"] == 1
    assert q.path.addresses == [(1, "192.0.2.10:50000"), (3, "192.0.2.10:61000")]
    assert [(x.side, x.frame) for x in q.path.log] == [("client", 1), ("server", 2), ("client", 3), ("server", 4)]


def test_an_icmp_error_finds_its_connection_by_the_quoted_connection_id() -> None:
    """After a NAT the quoted 4-tuple is not the one the capture saw; the quoted header's
    Destination Connection ID still names the connection."""
    c, s = bytes([10, 0, 0, 10]), bytes([198, 51, 100, 20])
    flows = QuicFlows()
    flows.datagram(1, 0.0, flow_key(c, s, 50000, 443), _initial())
    quoted = bytes(IP(src="192.0.2.99", dst=S4) / UDP(sport=40000, dport=443) / Raw(_initial()))[:548]
    seg = decode_flow(1, bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=S4, dst="192.0.2.99") / ICMP(type=3, code=3) / Raw(quoted)))
    assert seg is not None
    flows.icmp_error(2, 0.01, seg[1], seg[4])
    (q,) = flows.results()
    (notice,) = q.path.icmp
    assert (notice.frame, notice.about, notice.kind, notice.from_peer) == (2, "client", "port_unreachable", True)
    assert q.outcome() == "failed"


# -- the lab, against tshark -------------------------------------------------------------------

@pytest.mark.parametrize("name", _tuning())
def test_lab_icmp_errors_and_datagram_sizes_equal_tsharks(name: str) -> None:
    rows = _rows(name)
    flows = _flows(name)
    icmp_frames = {int(r[0]) for r in rows if r[6]}
    ours = {n.frame for f in flows for n in f.path.icmp}
    assert ours == icmp_frames or (len(ours) == 16 and ours < icmp_frames)
    length = {int(r[0]): int(r[5].split(",")[0]) for r in rows if r[5] and not r[6]}
    for f in flows:
        for sent in f.path.log:
            assert sent.size == length[sent.frame] - 8, (name, sent)


@pytest.mark.parametrize("name", [n for n in _tuning() if _sidecar(n)["expected"]["protocol"] == "quic"])
def test_lab_retry_version_negotiation_and_tcp_equal_tsharks(name: str) -> None:
    rows = _rows(name)
    report = tlsdissect.analyze(LAB / name / "capture.pcap")
    retries = [int(r[0]) for r in rows if r[8] and r[8].split(",")[0] == "3" and r[9].split(",")[0] != "0x00000000"]
    assert [f for q in report.quic for f in q.path.retry_frames] == retries
    vn = [r for r in rows if r[9].split(",")[0] == "0x00000000"]
    for q in report.quic:
        if vn:
            assert q.path.version_negotiation_frame == int(vn[0][0])
            assert [f"0x{v:08x}" for v in q.version_negotiation] == vn[0][10].split(",")
        else:
            assert not q.version_negotiation
    syns = [int(r[0]) for r in rows if r[11] == "0x0002"]
    assert [t.frame for t in report.quic[0].path.tcp] == syns[:8]


def test_lab_rebinding_is_one_connection_on_two_ports() -> None:
    name = "udp_quic_ng_nat_rebinding"
    rows = _rows(name)
    client_ports = [r[3] for r in rows if r[4] == "4433"]
    changes = [int(r[0]) for i, r in enumerate(rows) if r[4] == "4433" and (i == 0 or r[3] != client_ports[0])]
    (q,) = tlsdissect.analyze(LAB / name / "capture.pcap").quic
    assert [f for f, _ in q.path.addresses] == [1, changes[1]]
    assert q.last_frame == int(rows[-1][0]) and q.outcome() == "established"


@pytest.mark.parametrize("name", _tuning())
def test_tuning_lab_causes(name: str) -> None:
    """The cause each scenario's set-up makes (the rules were written on these)."""
    want = _sidecar(name)["expected"]
    flows = _flows_of(name, want)
    flow = flows[want["flow"]]
    d = flow.diagnosis
    cause = "ok" if d is None and flow.outcome() == "established" else (d.cause if hasattr(d, "cause") else d["cause"])
    assert cause == want["cause"], (name, d.to_dict() if hasattr(d, "to_dict") else d)
    assert (flow.outcome() == "established") == (want["cause"] == "ok")


def _flows_of(name: str, want: dict[str, Any]) -> list[Any]:
    report = tlsdissect.analyze(LAB / name / "capture.pcap")
    return list(report.quic if want["protocol"] == "quic" else report.dtls)


def test_port_unreachable_in_the_text_view() -> None:
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "tlsdissect.cli", "--no-color",
                          str(LAB / "udp_quic_port_unreachable" / "capture.pcap")], capture_output=True, text=True,
                         cwd=ROOT)
    assert run.returncode == 1
    assert "nothing listens on UDP port 4433 at 127.0.0.1" in run.stdout


def test_held_out_lab_score() -> None:
    """The held-out scenarios (``held_out``: made after the rules, by other stacks or set-ups, and
    never tuned on). Their first run named 7 of 8 causes exactly; the routed IPv6 "packet too big"
    scenario, added later, too (8 of 9). The count must not fall."""
    exact = 0
    for name in _held_out():
        want = _sidecar(name)["expected"]
        flows = _flows_of(name, want)
        if len(flows) <= want["flow"]:
            continue
        flow = flows[want["flow"]]
        d = flow.diagnosis
        cause = "ok" if d is None and flow.outcome() == "established" else (
            None if d is None else d.cause if hasattr(d, "cause") else d["cause"])
        exact += cause == want["cause"]
    assert len(_held_out()) == 9 and exact >= 8


def _retry(dcid: bytes, scid: bytes, token: bytes) -> bytes:
    """A QUIC v1 Retry (RFC 9000 §17.2.5): type bits 3, token, 16-byte integrity tag."""
    return b"\xf0\x00\x00\x00\x01" + bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid + token + b"\x00" * 16


def _initial_with_token(dcid: bytes, scid: bytes, token: bytes) -> bytes:
    head = b"\xc0\x00\x00\x00\x01" + bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid
    head += bytes([len(token)]) + token
    body = 1200 - len(head) - 2
    return head + bytes([0x40 | body >> 8, body & 0xFF]) + b"\x5a" * body


@pytest.mark.parametrize("second, confidence, words", [
    ("retry", "likely", "sent Retry 2 times"),
    ("silence", "likely", "got no answer"),
    ("no_token", "likely", "do not carry the Retry's token"),
])
def test_retry_that_never_validates(second: str, confidence: str, words: str) -> None:
    """A second Retry for one connection, the token-bearing Initials unanswered, or Initials
    without the token: address validation never completes (RFC 9000 §8.1.2, §17.2.5)."""
    from tlsdissect.diagnosis.quic import diagnose_quic

    c, s = bytes([192, 0, 2, 10]), bytes([198, 51, 100, 20])
    up, down = flow_key(c, s, 50000, 443), flow_key(s, c, 443, 50000)
    client_scid, token = b"\x11" * 8, b"T" * 40
    flows = QuicFlows()
    flows.datagram(1, 0.0, up, _initial(scid=client_scid))
    flows.datagram(2, 0.01, down, _retry(client_scid, b"\x44" * 8, token))
    sent = _initial_with_token(b"\x44" * 8, client_scid, b"" if second == "no_token" else token)
    flows.datagram(3, 0.02, up, sent)
    if second == "retry":
        flows.datagram(4, 0.03, down, _retry(client_scid, b"\x55" * 8, b"U" * 40))
    flows.datagram(5, 1.0, up, sent)
    (q,) = flows.results()
    assert q.path.retry_frames == ([2, 4] if second == "retry" else [2])
    assert (q.path.initials_after_retry, q.path.initials_with_token) == (2, 0 if second == "no_token" else 2)
    d = diagnose_quic(q)
    assert (d.cause, d.confidence) == ("quic_address_validation_failed", confidence) and words in d.explanation


def test_a_server_well_under_three_times_is_no_amplification_stall() -> None:
    """Amplification: the server's bytes near 3 x the client's (RFC 9000 §8.1), not any silence."""
    from tlsdissect.diagnosis.quic import diagnose_quic

    c, s = bytes([192, 0, 2, 10]), bytes([198, 51, 100, 20])
    up, down = flow_key(c, s, 50000, 443), flow_key(s, c, 443, 50000)
    for server_sizes, cause in (([1200, 1200, 1200], "amplification_limit_stall"), ([1200], "unknown")):
        flows = QuicFlows()
        flows.datagram(1, 0.0, up, _initial(scid=b"\x11" * 8))
        for i, size in enumerate(server_sizes):
            flows.datagram(2 + i, 0.01, down, _initial(dcid=b"\x11" * 8, scid=b"\x22" * 8, size=size))
        for i in range(3):
            flows.datagram(10 + i, 1.0 + i, up, _initial(scid=b"\x11" * 8))
        (q,) = flows.results()
        assert diagnose_quic(q).cause == cause
