"""Captures that start after the ClientHello (Wireshark's "Export Specified Packets", a ring
buffer that rotated, a capture started late): the server's answer is still there, and with it
the certificate chain and the step each side had reached. Made from the lab's own captures by
keeping the frames from the server's first handshake message on (a pcap slicer here, no
tshark); what the verdict must say comes from the lab's ground truth (expected.json: the
peers' own errors), not from our output on the whole capture."""

from __future__ import annotations

import json
from pathlib import Path

import dpkt
import pytest

import tlsdissect
from tlsdissect.diagnosis.causes import CAUSES

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def _sidecars() -> list:
    cases = []
    for sidecar in sorted(CAPTURES.glob("*/expected.json")):
        top = json.loads(sidecar.read_text())
        expected = top.get("expected") or {}
        alert = expected.get("alert") or {}
        # Scenarios decided by an alert in clear after the server's first flight: TLS 1.2, or a
        # TLS 1.3 alert the client sent before its keys (the tuning and Apache sets only: the
        # held-out ones are a check, not a test to pass).
        if top.get("held_out") or expected.get("held_out") or alert.get("encrypted") is not False \
                or expected.get("failure_point") not in ("server_certificate", "key_exchange", "client_certificate"):
            continue
        cases.append(pytest.param(sidecar, id=sidecar.parent.name))
    return cases or [pytest.param(None, marks=pytest.mark.skip(reason="no lab captures"))]


def _cut(src: Path, dst: Path, first_frame: int) -> None:
    """``src`` without its frames before ``first_frame`` (1-based), same link type and times."""
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        reader = dpkt.pcap.Reader(fin)
        writer = dpkt.pcap.Writer(fout, linktype=reader.datalink(), snaplen=reader.snaplen,
                                  nano=reader.nano if hasattr(reader, "nano") else False)
        for number, (ts, buf) in enumerate(reader, start=1):
            if number >= first_frame:
                writer.writepkt(buf, ts=ts)


@pytest.mark.parametrize("sidecar", _sidecars())
def test_the_verdict_survives_losing_the_client_hello(sidecar: Path, tmp_path: Path) -> None:
    top = json.loads(sidecar.read_text())
    expected = top["expected"]
    capture = sidecar.parent / "capture.pcap"
    whole = tlsdissect.analyze(capture)
    stream = top.get("stream", expected.get("stream", 0))
    conn = next((c for c in whole.connections if c.stream == stream), whole.connections[0])
    first_answer = next(e.frame for e in conn.events if e.type == "handshake" and e.sender == "server")
    cut = tmp_path / "cut.pcap"
    _cut(capture, cut, first_answer)
    found = [c for c in tlsdissect.analyze(cut).connections if (c.client, c.server) == (conn.client, conn.server)]
    assert len(found) == 1
    d = found[0].diagnosis
    assert found[0].client_hello is None  # (the cut did remove it)
    want = expected.get("refined_cause") or expected["cause"]
    assert d.failure_point == expected["failure_point"], d.verdict
    assert (d.alert.sender, d.alert.code) == (expected["alert"]["sender"], expected["alert"]["code"])
    if expected.get("version") == "TLSv1.3" or expected["cause"] == "handshake_signature_invalid":
        # TLS 1.3 encrypts the certificate; a ServerKeyExchange signature covers the client's
        # random, which was in the ClientHello: the family is what is left to go by.
        family = expected.get("cause_family") or CAUSES[expected["cause"]].family
        assert CAUSES[d.cause].family == family, d.verdict
    elif expected["cause"] == "server_cert_hostname_mismatch":
        # The name asked for was in the ClientHello: without it, a certificate the client refused.
        assert CAUSES[d.cause].family == CAUSES[want].family, d.verdict
    else:
        assert d.cause == want, d.verdict


def test_a_short_snap_length_is_named(tmp_path: Path) -> None:
    """A capture made with `tcpdump -s 128` (its file header says 128, its frames are cut
    there): the report warns that the TLS messages are incomplete and why, with the snap length
    the header gives; a capture made with the full snap length gets no such warning."""
    source = CAPTURES / "tls12_expired_curl" / "capture.pcap"
    if not source.exists():
        pytest.skip("no lab captures")
    short = tmp_path / "short.pcap"
    with open(source, "rb") as fin, open(short, "wb") as fout:
        reader = dpkt.pcap.Reader(fin)
        writer = dpkt.pcap.Writer(fout, linktype=reader.datalink(), snaplen=128)
        for ts, buf in reader:
            writer.writepkt(buf[:128], ts=ts)
    assert int.from_bytes(short.read_bytes()[16:20], "little") == 128  # (the pcap header's snaplen)
    warnings = tlsdissect.analyze(short).warnings
    assert any("snap length of 128 bytes" in w for w in warnings), warnings
    assert not any("snap length" in w for w in tlsdissect.analyze(source).warnings)
