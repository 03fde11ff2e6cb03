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



_SET = ("1", "True")


def _stream_packets(path: str) -> tuple[dict[str, list[list[str]]], float]:
    """tshark's packets of each TCP stream, each [time, source, destination, syn, ack, fin, tcp
    payload length, handshake types, alert descriptions, record content types], and the capture's last frame time. Packets inside
    tunnels and ICMP quotes (several addresses in one field) are left out."""
    tshark = to.require_tshark()
    out = subprocess.run(
        [tshark, "-n", "-r", path, "-T", "fields", "-E", "separator=|", "-e", "frame.time_epoch", "-e", "tcp.stream",
         "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
         "-e", "tcp.flags.syn", "-e", "tcp.flags.ack", "-e", "tcp.flags.fin", "-e", "tcp.len",
         "-e", "tls.handshake.type", "-e", "tls.alert_message.desc", "-e", "tls.record.content_type"],
        capture_output=True, text=True, timeout=120).stdout
    streams: dict[str, list[list[str]]] = {}
    last = 0.0
    for line in out.splitlines():
        f = line.split("|")
        if len(f) < 15 or not f[0]:
            continue
        last = max(last, float(f[0]))
        if f[1] and not any("," in x for x in f[1:8]):
            streams.setdefault(f[1], []).append([f[0], to.endpoint(f[2] or f[3], f[4]), to.endpoint(f[5] or f[6], f[7]),
                                                 f[8], f[9], f[10], f[11], f[12], f[13], f[14]])
    return streams, last


@pytest.mark.parametrize("capture", _ids())
def test_silence_is_claimed_only_from_packets_that_show_it(capture: sc.CaptureFile) -> None:
    """What tshark lists of each TCP stream bounds what a verdict may claim:
    - a stream in which no SYN appears started before the capture: whatever it shows (a lone
      reset, a FIN, data) is never a refused or unanswered TCP connect; one that shows no
      ClientHello (nor a readable alert) either, not even an encrypted alert makes it `failed`:
      nothing says which handshake, if any, failed;
    - a stream of which the capture holds one packet, a second or more before its end: TCP
      would have sent that SYN or ClientHello again had it gone unanswered, so the capture lacks
      packets (a filter, an export, Happy Eyeballs' dropped attempt). It is never a certain
      `server_no_response`, and a lone ClientHello is not `server_no_response` at all."""
    streams, last = _stream_packets(str(capture.path))
    no_syn = {frozenset(p[1] for p in pkts) | frozenset(p[2] for p in pkts)
              for pkts in streams.values() if not any(p[3] in _SET for p in pkts)}
    no_hello = {frozenset(p[1] for p in pkts) | frozenset(p[2] for p in pkts)
                for pkts in streams.values()
                if not any(p[3] in _SET or "1" in p[7].split(",") or p[8] for p in pkts)}
    lone = {(p[1], p[2]): p for p in (pkts[0] for pkts in streams.values() if len(pkts) == 1)
            if last - float(p[0]) >= 1.0}
    if not no_syn and not lone:
        pytest.skip("every stream shows its SYN and more than one packet")
    report = tlsdissect.analyze(capture.path, include_all=True)
    for conn in report.connections:
        d = conn.diagnosis
        if d is None:
            continue
        if frozenset((conn.client, conn.server)) in no_syn:
            assert d.failure_point != "tcp_connect", (conn.stream, d.verdict)
        if frozenset((conn.client, conn.server)) in no_hello:
            assert d.outcome != "failed", (conn.stream, d.verdict)
        packet = lone.get((conn.client, conn.server))
        if packet is None:
            continue
        if packet[3] in _SET and packet[4] not in _SET:  # a bare SYN
            assert not (d.cause == "server_no_response" and d.confidence == "certain"), (conn.stream, d.verdict)
        elif conn.client_hello is not None:
            assert d.cause != "server_no_response" and d.outcome == "incomplete", (conn.stream, d.verdict)


@pytest.mark.parametrize("name", ["pinterest.pcap", "reddit.pcap"])
def test_a_client_that_leaves_before_the_answer_abandoned_the_attempt(name: str) -> None:
    """nDPI's browser captures: tshark shows clients closing (FIN) within a second of their
    ClientHello and before the server's first handshake message. The client gave up on that
    attempt; the verdict says so and does not blame the server."""
    path = sc.shared_captures_dir() / "ntop+nDPI/tests/cfgs/default/pcap" / name
    if not path.exists():
        pytest.skip("shared captures not available")
    streams, _ = _stream_packets(str(path))
    report = tlsdissect.analyze(path)
    ours = {c.client: c for c in report.connections}
    seen = 0
    for pkts in streams.values():
        hello = next((p for p in pkts if p[7].split(",")[0] == "1"), None)
        if hello is None:
            continue
        client = hello[1]
        fin = next((p for p in pkts if p[1] == client and p[5] in _SET), None)
        answer = next((p for p in pkts if p[1] != client and p[7]), None)
        if fin is None or answer is None or float(fin[0]) > float(answer[0]) or float(fin[0]) - float(hello[0]) >= 1:
            continue
        seen += 1
        d = ours[client].diagnosis
        assert (d.aborted_by, d.failure_point) == ("client", "client_hello"), d.verdict
        assert "abandoned" in d.explanation and d.cause == "client_closed_without_alert", d.explanation
    assert seen >= 3


@pytest.mark.parametrize("pair", ["tls_1.2_unidirectional_{}.pcapng", "tls_1.2_unidirectional_{}_no_cert.pcapng",
                                  "tls_1.3_unidirectional_{}.pcapng"])
def test_a_one_way_capture_is_not_a_silent_peer(pair: str) -> None:
    """nDPI keeps each direction of the same connections in two files (`..._client`, only the
    client's packets; `..._server`, only the server's). Each file alone is a one-way capture:
    the verdict says so and blames nobody, and the bytes it says the missing side sent are at
    most what the other file holds of that side (tshark's tcp.len sum), most of it."""
    base = sc.shared_captures_dir() / "ntop+nDPI/tests/cfgs/default/pcap"
    if not (base / pair.format("client")).exists():
        pytest.skip("shared captures not available")
    tshark = to.require_tshark()
    for kept, missing in (("client", "server"), ("server", "client")):
        other = base / pair.format(missing)
        out = subprocess.run([tshark, "-n", "-r", str(other), "-T", "fields", "-e", "tcp.len", "-Y", "tcp"],
                             capture_output=True, text=True, timeout=60).stdout
        sent = sum(int(x) for x in out.split() if x.isdigit())
        conns = tlsdissect.analyze(base / pair.format(kept)).connections
        assert len(conns) == 1
        c = conns[0]
        d = c.diagnosis
        assert (d.outcome, d.cause, d.how, d.aborted_by) == ("incomplete", "unknown", "one_way", None), d.verdict
        acked = c.extra["acked_not_captured"][missing]
        assert 0.9 * sent <= acked <= sent, (acked, sent)


@pytest.mark.parametrize("name", ["tls1.3_aes128.pcap", "tls1.3_ccm.pcap", "tls1.3_ccm8.pcap", "tls1.3_chacha.pcap",
                                  "tls1.3_aes256gcm.pcap"])
def test_a_tls13_finished_is_known_by_its_size_under_every_suite(name: str) -> None:
    """ssldump's TLS 1.3 samples with their key log: tshark reads the client's Finished
    (handshake type 20). Without the key log the record's size must still pass for a Finished —
    under TLS_AES_128_CCM_8_SHA256 too, whose 8-byte tag makes it 45 bytes, not 53."""
    base = sc.shared_captures_dir() / "adulau+ssldump/samples"
    if not (base / name).exists():
        pytest.skip("shared captures not available")
    tshark = to.require_tshark()
    out = subprocess.run([tshark, "-n", "-r", str(base / name), "-o", f"tls.keylog_file:{base / 'log.txt'}",
                          "-T", "fields", "-E", "separator=|", "-e", "tcp.srcport", "-e", "tls.handshake.type",
                          "-Y", "tls.handshake.type == 20"], capture_output=True, text=True, timeout=60).stdout
    (conn,) = tlsdissect.analyze(base / name).connections
    client_port = conn.client.rsplit(":", 1)[1]
    assert any(line.split("|")[0] == client_port for line in out.splitlines()), out  # the client's Finished
    assert conn.established and conn.diagnosis.outcome == "established", conn.diagnosis.verdict
