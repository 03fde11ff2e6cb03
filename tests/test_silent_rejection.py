"""A client that rejects the server's certificate without an alert (rules/silent_rejection.py),
and a server alert after the client's close that is a reaction, not the cause (ranking).

Real captures: the wide lab's Node.js client against lighttpd (the client printed
UNABLE_TO_GET_ISSUER_CERT_LOCALLY; lighttpd answered the bare FIN with an encrypted
decode_error, which tshark decoded with the key log: its tshark.txt), and the Apache lab's
client that reads the server's flight and closes 300 ms later for no reason of the certificate
(its sidecar: a scanner-like client). Variants are generated from the Apache lab's self-signed
capture (curl's ClientHello and Apache's flight with its self-signed certificate, pulled out with
tests/segmenting.py): the client's unknown_ca alert left out, and its close made early or late.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tlsdissect
from tests.hostile.tcp_hostile_pcaps import ACK, FIN, PSH, RST, SYN, pcap
from tests.segmenting import extract_conversations

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
NODE = CAPTURES / "wide_node_rejects_cert_fin_lighttpd"
ABANDONS = CAPTURES / "client_abandons_after_server_hello"
SELF_SIGNED = CAPTURES / "tls12_self_signed_curl"

pytestmark = pytest.mark.skipif(not (NODE / "capture.pcap").exists(), reason="lab captures missing")


def _one(path: object, keylog: object = None) -> tlsdissect.Connection:
    report = tlsdissect.analyze(path, keylog=None if keylog is None else str(keylog))
    assert len(report.connections) == 1
    return report.connections[0]


@pytest.mark.parametrize("with_keys", [False, True])
def test_node_closing_on_the_certificate_is_a_silent_rejection(with_keys: bool) -> None:
    conn = _one(NODE / "capture.pcap", NODE / "keylog.txt" if with_keys else None)
    g = conn.diagnosis
    assert (g.cause, g.outcome, g.aborted_by, g.how, g.failure_point) == (
        "client_rejected_cert_silently", "failed", "client", "fin", "server_certificate")
    assert g.alert is None  # lighttpd's decode_error (frame 9, tshark.txt) does not decide
    assert any("Node.js" in e.text and 8 in e.frames for e in g.evidence)
    if with_keys:
        assert "frame 9 127.0.0.1:20900->127.0.0.1:57060 fatal decode_error (50)" in (NODE / "expected.json").read_text()
        assert [(a.frame, a.name) for a in conn.alerts] == [(9, "decode_error")]
        assert any("reaction" in e.text and e.frames == [9] for e in g.evidence)
        assert "CN=Rogue Root CA" in g.explanation  # where the chain ends: what the client did not trust
    else:
        assert any("TLS 1.3 encrypts" in h for h in g.hidden)


def test_a_client_that_leaves_300_ms_later_only_closed() -> None:
    g = _one(ABANDONS / "capture.pcap").diagnosis
    assert g.cause == "client_closed_without_alert"


# -- generated from the self-signed capture ------------------------------------------------------

def _self_signed(close_after: float, how: int = FIN) -> bytes:
    conv = extract_conversations(SELF_SIGNED / "capture.pcap")[0]
    hello = conv.flights[0].data
    flight = conv.flights[1].data
    client, server = bytes([10, 1, 0, 1]), bytes([10, 0, 0, 1])
    cp, sp, ci, si = 40000, 443, 1000, 900000
    t = 1_700_000_000.0
    c_next, s_next = ci + 1 + len(hello), si + 1 + len(flight)
    return pcap([
        (t, client, server, cp, sp, ci, 0, SYN, b""),
        (t + 0.0001, server, client, sp, cp, si, ci + 1, SYN | ACK, b""),
        (t + 0.0002, client, server, cp, sp, ci + 1, si + 1, ACK, b""),
        (t + 0.001, client, server, cp, sp, ci + 1, si + 1, PSH | ACK, hello),
        (t + 0.002, server, client, sp, cp, si + 1, c_next, PSH | ACK, flight),
        (t + 0.0021, client, server, cp, sp, c_next, s_next, ACK, b""),
        (t + 0.002 + close_after, client, server, cp, sp, c_next, s_next, how | ACK, b""),
    ])


@pytest.mark.parametrize("how", [FIN, RST])
def test_a_prompt_close_on_a_self_signed_certificate_names_it(how: int) -> None:
    conn = _one(_self_signed(0.005, how))
    g = conn.diagnosis
    assert conn.version == "TLSv1.2" and not conn.alerts
    assert (g.cause, g.confidence, g.how, g.failure_point) == (
        "client_rejected_cert_silently", "likely", "fin" if how == FIN else "rst", "server_certificate")
    assert g.alternatives[0] == "server_cert_self_signed"
    assert "self-signed" in g.explanation


def test_a_late_close_is_no_rejection() -> None:
    g = _one(_self_signed(2.0)).diagnosis
    assert g.cause == "client_closed_without_alert"


def test_silent_stacks_come_from_the_alert_model() -> None:
    from tlsdissect.diagnosis.alerts import silent_on_server_certificate

    habits = silent_on_server_certificate()
    assert "nodejs" in {h.stack for h in habits}
    assert all(h.alert is None and h.role == "client" and h.source for h in habits)
