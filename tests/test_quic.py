"""QUIC handshakes from their Initial packets: keys, header protection, CRYPTO reassembly,
CONNECTION_CLOSE, and the TLS alert a CRYPTO_ERROR carries.

Expectations: the test vectors of RFC 9001 Appendix A (QUIC v1) and RFC 9369 Appendix A (v2);
FoxIO's expected JA4 and server name for its Chrome-to-Cloudflare capture (a real QUIC
ClientHello decrypted and parsed); tshark's reading of the CONNECTION_CLOSE frames of the lab
captures (tests/data/quic, made by lab/quic/make_captures.py with aioquic peers).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tlsdissect
from tests.shared_captures import shared_captures_dir
from tlsdissect.quic.initial import initial_keys, open_packet
from tlsdissect.quic.packets import parse_long_header
from tlsdissect.quic.session import QuicSession

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "tests" / "data" / "quic"
RFC_DCID = bytes.fromhex("8394c8f03e515708")


@pytest.mark.parametrize("version, server, key, iv, hp", [
    # RFC 9001 A.1
    (1, False, "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"),
    (1, True, "cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"),
    # RFC 9369 A.1
    (0x6B3343CF, False, "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f",
     "45b95e15235d6f45a6b19cbcb0294ba9"),
    (0x6B3343CF, True, "82db637861d55e1d011f19ea71d5d2a7", "dd13c276499c0249d3310652",
     "edf6d05c83121201b436e16877593c3a"),
])
def test_initial_keys_equal_the_rfc_vectors(version: int, server: bool, key: str, iv: str, hp: str) -> None:
    keys = initial_keys(RFC_DCID, version, server)
    assert keys is not None
    assert (keys.key.hex(), keys.iv.hex(), keys.hp.hex()) == (key, iv, hp)


def test_rfc9001_server_initial_opens() -> None:
    """RFC 9001 A.3: the protected server Initial and the frames it carries (an ACK and the
    CRYPTO frame with the ServerHello)."""
    packet = bytes.fromhex(
        "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a5816b6394100f37a1c69797554780bb38cc5"
        "a99f5ede4cf73c3ec2493a1839b3dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84022f8ef4"
        "cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc42158407dd074ee")
    header = parse_long_header(packet, 0)
    assert header.kind == "initial" and header.scid.hex() == "f067a5502a4262b5"
    keys = initial_keys(RFC_DCID, 1, True)
    assert keys is not None
    pn, payload = open_packet(packet, header, keys)
    assert pn == 1
    assert payload.hex() == (
        "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5430b9a045a1200130100"
        "002e00330024001d00209d3c940d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00020304")


def test_chrome_to_cloudflare_clienthello() -> None:
    path = shared_captures_dir() / "FoxIO-LLC+ja4/pcap/chrome-cloudflare-quic-with-secrets.pcapng"
    if not path.is_file():
        pytest.skip("shared captures not available")
    (q,) = tlsdissect.analyze(path).quic
    assert q.server_name == "cloudflare-quic.com"  # FoxIO's expected server name
    assert q.fingerprints["ja4"] == "q13d0310h3_55b375c5d22e_cd85d2d88918"  # FoxIO's expected JA4
    assert q.server_hello is not None and q.outcome() == "established"


def _tshark_close(name: str) -> tuple[int, int, str]:
    (line,) = json.loads((LAB / name / "expected.json").read_text())["observed"]["tshark_connection_close"]
    frame, code, reason = line.split("\t")
    return int(frame), int(code), reason


@pytest.mark.parametrize("name, sender, alert", [
    ("quic_alpn_mismatch", "server", "no_application_protocol"),
    ("quic_untrusted_server", "client", "bad_certificate"),
])
def test_lab_closes_equal_tsharks(name: str, sender: str, alert: str) -> None:
    frame, code, reason = _tshark_close(name)
    (q,) = tlsdissect.analyze(LAB / name / "capture.pcap").quic
    d = q.to_dict()
    assert d["outcome"] == "failed"
    close = d["close"]
    assert (close["frame"], close["error_code"], close["reason"]) == (frame, code, reason)
    assert close["sender"] == sender
    assert close["tls_alert"] == {"code": code - 0x100, "name": alert}


def test_lab_success_is_established() -> None:
    (q,) = tlsdissect.analyze(LAB / "quic_success" / "capture.pcap").quic
    assert q.outcome() == "established" and q.close is None and q.server_name == "www.lab.test"


def test_cli_text_and_exit_status() -> None:
    run = subprocess.run([sys.executable, "-m", "tlsdissect.cli", "--no-color",
                          str(LAB / "quic_alpn_mismatch" / "capture.pcap")], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1
    assert "CRYPTO_ERROR (0x178) = TLS alert no_application_protocol (120)" in run.stdout
    assert "hq-interop" in run.stdout  # what the client offered


def test_json_has_quic_only_when_there_is_quic() -> None:
    plain = subprocess.run([sys.executable, "-m", "tlsdissect.cli", "--json",
                            str(ROOT / "captures" / "tls13_success" / "capture.pcap")], capture_output=True, text=True)
    assert "quic" not in json.loads(plain.stdout)
    quic = subprocess.run([sys.executable, "-m", "tlsdissect.cli", "--json",
                           str(LAB / "quic_untrusted_server" / "capture.pcap")], capture_output=True, text=True)
    assert json.loads(quic.stdout)["quic"][0]["close"]["error_name"] == "CRYPTO_ERROR (0x12a)"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=1400), min_size=1, max_size=6))
def test_hostile_datagrams_never_raise(datagrams: list[bytes]) -> None:
    """Any bytes, long header or not: read or noted as a problem, never an exception."""
    s = QuicSession("a", "c", "s", 1, 0.0)
    for i, d in enumerate(datagrams):
        s.datagram("a" if i % 2 == 0 else "b", i + 1, float(i), bytes([0xC0]) + b"\x00\x00\x00\x01" + d)
        s.datagram("b", i + 1, float(i), d)
    s.result.to_dict()
