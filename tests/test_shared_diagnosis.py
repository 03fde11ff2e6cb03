"""Diagnoses on the public captures: every failing handshake names the alert and the side
the bytes show (tshark is the independent reader), and no TLS connection is left without
an outcome."""

from __future__ import annotations

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
