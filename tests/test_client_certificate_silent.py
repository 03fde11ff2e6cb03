"""A server that refuses the client's certificate without an alert
(rules/client_certificate_silent.py), and a client that says goodbye at once after a TLS 1.3
handshake because of a check the capture cannot show (curl's public-key pinning).

The captures are the fifth wide lab's (captures/wide5_*, made by lab/wide5.py; they were held
out at first and were read after their first-look score): Python's asyncio server drops the
connection before OpenSSL's alert leaves. Expected values come from the peers' words in each
expected.json (the server's log, the client's error) and tshark's reading of the handshake
messages, the client's certificate list, the alerts and the FINs (with the key log when there
is one).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import tlsdissect

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is the oracle")


def _scenario(name: str) -> tuple[dict, Path]:
    d = CAPTURES / name
    return json.loads((d / "expected.json").read_text()), d


def _conn(d: Path, keys: bool) -> dict:
    keylog = d / "keylog.txt"
    result = tlsdissect.analyze(str(d / "capture.pcap"), keylog=str(keylog) if keys and keylog.exists() else None)
    (conn,) = [json.loads(json.dumps(c.to_dict())) for c in result.connections]
    return conn


def _tshark(d: Path) -> list[dict[str, str]]:
    argv = [TSHARK or "tshark", "-r", str(d / "capture.pcap")]
    if (d / "keylog.txt").exists():
        argv += ["-o", f"tls.keylog_file:{d / 'keylog.txt'}"]
    fields = ["frame.number", "tcp.srcport", "tls.handshake.type", "tls.handshake.certificates_length",
              "tls.alert_message.desc", "tcp.flags.fin", "tcp.flags.reset"]
    out = subprocess.run(argv + ["-Y", "tls or tcp.flags.fin == 1 or tcp.flags.reset == 1", "-T", "fields"]
                         + [x for f in fields for x in ("-e", f)], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    return [dict(zip(("frame", "port", "types", "certs", "alert", "fin", "rst"), line.split("\t")))
            for line in out.splitlines()]


def _server_port(rows: list[dict[str, str]]) -> str:
    """The server's port: the sender of the ServerHello."""
    return next(r["port"] for r in rows if "2" in r["types"].split(","))


@needs_tshark
@pytest.mark.parametrize("keys", [False, True])
def test_asyncio_refuses_a_missing_client_certificate_with_a_bare_fin(keys: bool) -> None:
    expected, d = _scenario("wide5_client_cert_missing_node_asyncio13")
    assert "peer did not return a certificate" in expected["observed"]["server_log"]
    rows = _tshark(d)
    server = _server_port(rows)
    assert any("13" in r["types"].split(",") for r in rows if r["port"] == server)  # CertificateRequest
    client_cert = next(r for r in rows if r["port"] != server and "11" in r["types"].split(","))
    assert client_cert["certs"] == "0"  # the client's Certificate is empty
    assert not any(r["alert"] for r in rows)
    server_fin = next(r for r in rows if r["port"] == server and r["fin"] == "1")
    conn = _conn(d, keys)
    dg = conn["diagnosis"]
    assert (conn["outcome"], dg["cause"], dg["aborted_by"], dg["how"]) == ("failed", "client_cert_missing", "server",
                                                                          "fin")
    assert conn["tcp_close"]["frame"] == int(server_fin["frame"])


@needs_tshark
def test_asyncio_refuses_a_revoked_client_certificate_with_a_bare_fin() -> None:
    expected, d = _scenario("wide5_client_revoked_asyncio_s_client12")
    assert "certificate revoked" in expected["observed"]["server_log"]
    rows = _tshark(d)
    server = _server_port(rows)
    client_cert = next(r for r in rows if r["port"] != server and "11" in r["types"].split(","))
    assert int(client_cert["certs"]) > 0  # the client sends its certificate
    server_fin = next(r for r in rows if r["port"] == server and r["fin"] == "1")
    assert not any(r["alert"] for r in rows if r["port"] == server and int(r["frame"]) <= int(server_fin["frame"]))
    assert not any("20" in r["types"].split(",") for r in rows if r["port"] == server)  # no server Finished
    dg = _conn(d, keys=False)["diagnosis"]
    # (revoked, not trusted, expired: only the server's log tells; the capture shows a refusal)
    assert (dg["cause"], dg["aborted_by"], dg["failure_point"]) == ("client_cert_rejected", "server",
                                                                    "client_certificate")
    assert expected["expected"]["cause"] in dg["alternatives"]


@needs_tshark
@pytest.mark.parametrize("keys", [False, True])
def test_a_pinning_client_s_goodbye_after_the_handshake_is_no_plain_success(keys: bool) -> None:
    expected, d = _scenario("wide5_pinned_key_mismatch_curl_apache13")
    assert "public key does not match pinned public key" in expected["observed"]["client_error"]
    rows = _tshark(d)
    server = _server_port(rows)
    goodbye = next(r for r in rows if r["port"] != server and r["alert"])
    server_fin = next(r for r in rows if r["port"] == server and r["fin"] == "1")
    assert goodbye["alert"] == "0" and int(goodbye["frame"]) < int(server_fin["frame"])  # the client leaves first
    dg = _conn(d, keys)["diagnosis"]
    # the chain is good and pinning is the client's own: a probe's bytes are the same
    assert (dg["cause"], dg["confidence"]) == ("ok", "likely")
    assert "client_rejected_cert_silently" in dg["alternatives"] or "server_cert_rejected" in dg["alternatives"]
