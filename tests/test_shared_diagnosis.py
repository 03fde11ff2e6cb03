"""Diagnoses on the public captures: every failing handshake names the alert and the side
the bytes show (tshark is the independent reader), and no TLS connection is left without
an outcome."""

from __future__ import annotations

import subprocess

import pytest

import tlsdissect
import tlsdissect.diagnosis.causes
from tests import shared_captures as sc
from tests import tshark_oracle as to

CAPTURES = sc.shared_captures()


def _ids() -> list:
    return [pytest.param(c, id=c.relpath) for c in CAPTURES] or [
        pytest.param(None, marks=pytest.mark.skip(reason="shared captures not available"))]


@pytest.mark.parametrize("capture", _ids())
def test_fatal_alerts_are_named_with_their_sender(capture: sc.CaptureFile) -> None:
    to.require_tshark()
    oracle = to.oracle(str(capture.path))
    report = tlsdissect.analyze(capture.path)
    ours = {frozenset((c.client, c.server)): c for c in report.connections}
    for st in oracle.streams.values():
        fatal = sorted(
            (e.frame, sender, e.code)
            for sender, evs in st.events.items() for e in evs
            if e.kind == "alert" and e.level == 2
        )
        if not fatal:
            continue
        frame, sender, code = fatal[0]
        conn = ours.get(frozenset((st.client, st.server)))
        assert conn is not None, f"tcp.stream {st.stream}: no connection reported"
        d = conn.diagnosis
        side = "client" if sender == st.client else "server"
        assert d.alert is not None, (st.stream, d.verdict)
        assert (d.alert.code, d.alert.sender, d.alert.frame) == (code, side, frame), (st.stream, d.alert)
        assert d.aborted_by == side and d.how == "alert"
        assert d.outcome == "failed"


@pytest.mark.parametrize("capture", _ids())
def test_every_tls_connection_gets_an_outcome(capture: sc.CaptureFile) -> None:
    report = tlsdissect.analyze(capture.path)
    for conn in report.connections:
        d = conn.diagnosis
        assert d is not None
        assert d.outcome in ("established", "failed", "incomplete", "not_tls")
        assert d.cause in tlsdissect.diagnosis.causes.CAUSES
        assert d.explanation
        if d.outcome != "established":
            assert d.cause == "ok" or d.failure_point or d.outcome == "not_tls", (conn.stream, d.verdict)


def test_named_examples() -> None:
    """The two failing public captures the issue names, against their upstream facts."""
    base = sc.shared_captures_dir()
    if not base.is_dir():
        pytest.skip("shared captures not available")
    # ja4's badcurveball.pcap: the client rejects the CurveBall certificate (MANIFEST: plaintext
    # alert fatal:certificate_unknown; frame 9 carries 15 03 03 00 02 02 2e).
    d = tlsdissect.analyze(base / "FoxIO-LLC+ja4/pcap/badcurveball.pcap").connections[0].diagnosis
    assert (d.alert.name, d.alert.sender, d.failure_point) == ("certificate_unknown", "client", "server_certificate")
    # nDPI's tls_alert.pcap: a TLS 1.0-only client refused with protocol_version by the server.
    conns = tlsdissect.analyze(base / "ntop+nDPI/tests/cfgs/default/pcap/tls_alert.pcap").connections
    d = conns[0].diagnosis
    assert (d.alert.name, d.alert.sender, d.cause) == ("protocol_version", "server", "legacy_protocol_rejected")


def _lone_packets(path: str) -> tuple[list[tuple[str, str, bool]], float]:
    """tshark's view of the TCP streams of one capture that hold a single packet: (source
    endpoint, destination endpoint, is a bare SYN) for each whose packet came at least a second
    before the capture's last frame; and the capture's last frame time."""
    tshark = to.require_tshark()
    out = subprocess.run(
        [tshark, "-n", "-r", path, "-T", "fields", "-E", "separator=|", "-e", "frame.time_epoch", "-e", "tcp.stream",
         "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
         "-e", "tcp.flags.syn", "-e", "tcp.flags.ack", "-e", "tcp.len"],
        capture_output=True, text=True, timeout=120).stdout
    streams: dict[str, list[list[str]]] = {}
    last = 0.0
    for line in out.splitlines():
        f = line.split("|")
        if len(f) < 11 or not f[0]:
            continue
        last = max(last, float(f[0]))
        if f[1]:
            streams.setdefault(f[1], []).append(f)
    lone = []
    for pkts in streams.values():
        if len(pkts) != 1 or any("," in x for x in pkts[0][1:8]) or last - float(pkts[0][0]) < 1.0:
            continue  # (a comma: a tunnel, or an ICMP error quoting the stream, not one plain packet)
        f = pkts[0]
        src, dst = to.endpoint(f[2] or f[3], f[4]), to.endpoint(f[5] or f[6], f[7])
        bare_syn = f[8] in ("1", "True") and f[9] in ("0", "False")
        lone.append((src, dst, bare_syn))
    return lone, last


@pytest.mark.parametrize("capture", _ids())
def test_a_lone_packet_is_not_proof_of_a_silent_server(capture: sc.CaptureFile) -> None:
    """A TCP stream of which the capture holds one packet, a second or more before its end
    (tshark's listing): TCP would have sent that SYN or ClientHello again had it gone
    unanswered, so the capture lacks packets (a filter, an export, Happy Eyeballs' dropped
    attempt). Such a stream is never a certain `server_no_response`, and a lone ClientHello is
    not `server_no_response` at all: the server's answer may simply not be in the file."""
    lone, _ = _lone_packets(str(capture.path))
    if not lone:
        pytest.skip("no TCP stream with a single packet")
    report = tlsdissect.analyze(capture.path, include_all=True)
    ours = {(c.client, c.server): c for c in report.connections}
    for src, dst, bare_syn in lone:
        conn = ours.get((src, dst))
        if conn is None or conn.diagnosis is None:
            continue
        d = conn.diagnosis
        if bare_syn:
            assert not (d.cause == "server_no_response" and d.confidence == "certain"), (src, dst, d.verdict)
        elif conn.client_hello is not None:
            assert d.cause != "server_no_response" and d.outcome == "incomplete", (src, dst, d.verdict)
