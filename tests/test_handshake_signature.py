"""The ServerKeyExchange signature checked with the leaf certificate's key, on real capture bytes.

The oracles are the peers: a client that completed a TLS <= 1.2 handshake accepted the
server's ServerKeyExchange signature, so every such signature in the lab's and the shared
captures must verify; in captures/wide_ske_signature_flipped_relay_curl a relay flips the last
bit of the ServerKeyExchange on the client's leg (stream 0) and forwards it unchanged on the
server's leg (stream 1), and curl reports "rsa routines::last octet invalid" and sends
decrypt_error (its sidecar and tshark say so). The security levels are checked against the
numbers of OpenSSL's SSL_CTX_set_security_level(3).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tlsdissect
from tlsdissect.x509.handshake_signature import check_server_key_exchange, signed_parts
from tlsdissect.x509.security_levels import (
    SECURITY_LEVELS, level_refusing_ecc, level_refusing_modulus, level_refusing_signature_hash, weak_dh_group_finding)

from tests.shared_captures import shared_captures

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
FLIPPED = CAPTURES / "wide_ske_signature_flipped_relay_curl" / "capture.pcap"


def _check(conn: tlsdissect.Connection, leaf_der: bytes | None = None, body: bytes | None = None):
    cr, sr, signed_body = conn.server_key_exchange_signed
    ske = conn.server_key_exchange
    return check_server_key_exchange(signed_body if body is None else body, ske.signature_algorithm,
                                     ske.signature_length, conn.version_code, cr, sr,
                                     conn.server_certificates_der[0] if leaf_der is None else leaf_der)


def _streams(path: Path) -> dict[int, tlsdissect.Connection]:
    return {c.stream: c for c in tlsdissect.analyze(path).connections}


def test_flipped_relay_leg_fails_and_the_server_leg_verifies() -> None:
    legs = _streams(FLIPPED)
    client_leg, server_leg = legs[0], legs[1]
    # The two legs carry the same randoms and the same message but for the relay's one bit.
    a, b = client_leg.server_key_exchange_signed, server_leg.server_key_exchange_signed
    assert a[0] == b[0] and a[1] == b[1]
    assert len(a[2]) == len(b[2]) and a[2][:-1] == b[2][:-1] and a[2][-1] ^ b[2][-1] == 1
    good, bad = _check(server_leg), _check(client_leg)
    assert good.verified is True and good.scheme == "rsa_pss_rsae_sha256" and good.key == "RSA 2048-bit"
    assert bad.verified is False


def test_one_flipped_bit_anywhere_in_the_signed_params_fails() -> None:
    conn = _streams(CAPTURES / "tls12_success" / "capture.pcap")[0]
    body = conn.server_key_exchange_signed[2]
    assert _check(conn).verified is True
    params, _sig = signed_parts(body, conn.server_key_exchange.signature_algorithm,
                                conn.server_key_exchange.signature_length, True)
    for i in (0, 4, len(params) - 1, len(body) - 1):  # curve type, public key, its end, the signature's last byte
        flipped = bytearray(body)
        flipped[i] ^= 0x01
        assert _check(conn, body=bytes(flipped)).verified is False, i


def test_another_certificates_key_does_not_verify() -> None:
    conn = _streams(CAPTURES / "tls12_success" / "capture.pcap")[0]
    other = _streams(CAPTURES / "mtls_success_tls12" / "capture.pcap")[0].client_certificates_der[0]
    assert _check(conn, leaf_der=other).verified is False


def test_no_signature_tail_cannot_be_checked() -> None:
    conn = _streams(CAPTURES / "tls12_success" / "capture.pcap")[0]
    result = _check(conn, body=conn.server_key_exchange_signed[2] + b"\x00")  # a byte after the signature
    assert result.verified is None and "located" in result.reason


def _accepted_signatures(paths: list[Path]) -> list[tuple[str, int, object]]:
    out = []
    for path in paths:
        for conn in tlsdissect.analyze(path).connections:
            if conn.established and conn.server_key_exchange_signed and conn.server_certificates_der \
                    and conn.version_code is not None and conn.version_code <= 0x0303:
                out.append((path.name, conn.stream, _check(conn)))
    return out


def test_every_signature_a_lab_client_accepted_verifies() -> None:
    paths = [CAPTURES / n / "capture.pcap" for n in ("tls12_success", "tls12_success_nginx", "mtls_success_tls12",
                                                     "tls12_resumption_openssl", "wide_haproxy_success_go")]
    found = _accepted_signatures([p for p in paths if p.exists()])
    assert len(found) >= 3
    assert [(n, s, r.reason) for n, s, r in found if r.verified is not True] == []


def test_every_signature_a_client_accepted_in_the_shared_captures_verifies() -> None:
    caps = [c.path for c in shared_captures()]
    if not caps:
        pytest.skip("no shared captures")
    found = _accepted_signatures(caps)
    # RSA PKCS#1 and PSS, ECDSA, DSA, and the TLS 1.0/1.1 constructions are all among them.
    schemes = {r.scheme for _n, _s, r in found}
    assert {"rsa_pkcs1_sha256", "ecdsa_secp256r1_sha256", "rsa_md5_sha1 / ecdsa_sha1 (TLS 1.0/1.1)"} <= schemes
    failed = [(n, s, r.scheme, r.reason) for n, s, r in found if r.verified is False]
    assert failed == []
    assert sum(r.verified is True for _n, _s, r in found) >= 100


def test_the_verdict_and_the_json_of_the_flipped_capture() -> None:
    report = tlsdissect.analyze(FLIPPED)
    conn = next(c for c in report.connections if c.stream == 0)
    d = conn.diagnosis
    assert (d.cause, d.failure_point, d.aborted_by, d.alert.code) == ("handshake_signature_invalid", "key_exchange",
                                                                         "client", 51)
    line = next(e for e in d.evidence if "does not verify" in e.text)
    ske_frame = next(e.frame for e in conn.events if e.info.get("message") == "server_key_exchange")
    assert ske_frame in line.frames
    [sig] = conn.to_dict()["handshake_signatures"]
    assert sig["verified"] is False and sig["frame"] == ske_frame and sig["sender"] == "server"


def test_a_verified_signature_is_said_when_the_alert_could_mean_corruption() -> None:
    conn = _streams(FLIPPED)[1]  # the server's leg: the relay forwards curl's decrypt_error
    assert any("verifies with the public key" in e.text for e in conn.diagnosis.evidence)
    assert conn.diagnosis.cause != "handshake_signature_invalid"


def test_established_connections_carry_no_signature_check() -> None:
    conn = _streams(CAPTURES / "tls12_success" / "capture.pcap")[0]
    assert "handshake_signatures" not in conn.to_dict()


def test_openssl_security_levels() -> None:
    # SSL_CTX_set_security_level(3): levels 1..5 floor RSA/DSA/DH at 1024, 2048, 3072, 7680, 15360
    # bits and ECC at 160, 224, 256, 384, 512.
    assert [lv.min_rsa_dsa_dh_bits for lv in SECURITY_LEVELS] == [0, 1024, 2048, 3072, 7680, 15360]
    assert [lv.min_ecc_bits for lv in SECURITY_LEVELS] == [0, 160, 224, 256, 384, 512]
    assert [lv.security_bits for lv in SECURITY_LEVELS] == [0, 80, 112, 128, 192, 256]
    assert level_refusing_modulus(1024) == 2 and level_refusing_modulus(768) == 1
    assert level_refusing_modulus(2048) == 3 and level_refusing_modulus(16384) is None
    assert level_refusing_ecc(256) == 4 and level_refusing_ecc(192) == 2
    assert level_refusing_signature_hash("sha1") == 1 and level_refusing_signature_hash("md5") == 1
    assert level_refusing_signature_hash("sha256") is None
    assert weak_dh_group_finding(2048, None) is None
    now, y2012 = 1.8e9, 1.33e9  # 2027, 2012: before Logjam a 1024-bit (even a 768-bit) group was still accepted
    assert weak_dh_group_finding(1024, now)[0] == "error" and "1024-bit" in weak_dh_group_finding(1024, now)[1]
    assert weak_dh_group_finding(1024, y2012)[0] == "warning" and weak_dh_group_finding(768, y2012)[0] == "warning"


def test_tls13_leaf_staple_is_read_from_the_certificate_entry() -> None:
    from tlsdissect.tls.handshake import tls13_leaf_status

    # RFC 8446 §4.4.2: context<0..255>, CertificateEntry list<24>: cert_data<24>, extensions<16>;
    # status_request (5) carries a CertificateStatus (RFC 6066 §8): status_type 1, OCSPResponse<24>.
    ocsp = b"\x30\x03\x0a\x01\x00"
    status = b"\x01" + len(ocsp).to_bytes(3, "big") + ocsp
    ext = (5).to_bytes(2, "big") + len(status).to_bytes(2, "big") + status
    der = b"\x30\x00"
    entry = len(der).to_bytes(3, "big") + der + len(ext).to_bytes(2, "big") + ext
    body = b"\x00" + len(entry).to_bytes(3, "big") + entry
    found = tls13_leaf_status(body)
    assert found is not None and found.status_type == 1 and found.ocsp_response == ocsp
    no_ext = len(der).to_bytes(3, "big") + der + b"\x00\x00"
    assert tls13_leaf_status(b"\x00" + len(no_ext).to_bytes(3, "big") + no_ext) is None
    assert tls13_leaf_status(body[:-2]) is None  # cut short: no staple, no exception


_TLS13_ACCEPTED = ("tls13_success", "tls13_hello_retry_success", "mtls_success_tls13", "tls13_success_openssl",
                   "tls13_resumption_openssl", "wide_haproxy_success_go")


def _tls13_signed(name: str) -> list[tlsdissect.Connection]:
    folder = CAPTURES / name
    report = tlsdissect.analyze(folder / "capture.pcap", keylog=str(folder / "keylog.txt"))
    return [c for c in report.connections if c.server_certificate_verify_signed is not None]


def test_tls13_certificate_verify_a_client_accepted_verifies() -> None:
    from tlsdissect.x509.handshake_signature import check_certificate_verify

    checked = 0
    for name in _TLS13_ACCEPTED:  # (tls13_hello_retry_success: the transcript's message_hash)
        for conn in _tls13_signed(name):
            assert conn.established
            th, scheme, sig = conn.server_certificate_verify_signed
            assert len(th) in (32, 48)
            result = check_certificate_verify(th, scheme, sig, conn.server_certificates_der[0])
            assert result.verified is True, (name, result.reason)
            # one bit changed in the transcript (any handshake byte) or in the signature: no longer
            assert check_certificate_verify(bytes([th[0] ^ 1]) + th[1:], scheme, sig,
                                            conn.server_certificates_der[0]).verified is False
            assert check_certificate_verify(th, scheme, sig[:-1] + bytes([sig[-1] ^ 1]),
                                            conn.server_certificates_der[0]).verified is False
            checked += 1
    assert checked >= 6


def test_tls13_transcript_needs_the_key_log() -> None:
    conns = tlsdissect.analyze(CAPTURES / "tls13_success" / "capture.pcap").connections
    assert all(c.server_certificate_verify_signed is None for c in conns)



def test_the_transcript_is_dropped_at_finished_without_a_certificate_verify() -> None:
    from types import SimpleNamespace

    from tlsdissect.tls.transcript import collect

    s = SimpleNamespace(transcript13=None, tls13=True, server_hello_dir=1, cipher=0x1301,
                        server_certificate_verify_signed=None)
    collect(s, 0, 1, 3, b"abc", False)  # ClientHello
    collect(s, 1, 2, 3, b"def", False)  # ServerHello (TLS 1.3, PSK: no Certificate, no CertificateVerify)
    assert isinstance(s.transcript13, list) and len(s.transcript13) == 2
    collect(s, 1, 20, 32, bytes(32), False)  # the server's Finished
    assert s.transcript13 is False and s.server_certificate_verify_signed is None
    collect(s, 1, 4, 3, b"nst", False)  # NewSessionTicket: nothing kept any more
    assert s.transcript13 is False
