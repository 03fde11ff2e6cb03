"""TLS 1.3 key schedule and record decryption against RFC 8448 section 3 (Simple 1-RTT).

Every expected value is transcribed from the RFC into tests/data/rfc8448/; the
GCM tags make a transcription slip in a record fail loudly rather than pass.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tlsdissect.keys.decrypt import DecryptionError, DirectionDecryptor
from tlsdissect.keys.schedule import (
    derive_secret,
    hkdf_expand_label,
    hkdf_extract,
    tls13_next_traffic_secret,
    tls13_traffic_keys,
)

DATA = Path(__file__).parent / "data" / "rfc8448" / "simple_1rtt.txt"
AES_128_GCM_SHA256 = 0x1301


def _load(path: Path) -> dict[str, bytes]:
    entries: dict[str, list[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith(":"):
            current = line[:-1]
            entries[current] = []
        else:
            assert current is not None, line
            entries[current].append(line)
    return {k: bytes.fromhex("".join(v)) for k, v in entries.items()}


V = _load(DATA)


def _split(record: bytes) -> tuple[int, int, bytes]:
    """Record header walk: (type, version, fragment); the length must match exactly."""
    assert int.from_bytes(record[3:5], "big") == len(record) - 5
    return record[0], int.from_bytes(record[1:3], "big"), record[5:]


def test_transcription_lengths_match_the_rfc() -> None:
    assert len(V["server_handshake_record"]) == 679
    assert len(V["new_session_ticket_record"]) == 227
    assert len(V["client_finished_record"]) == 58
    assert len(V["certificate"]) == 445
    assert len(V["certificate_verify"]) == 136
    assert len(V["new_session_ticket"]) == 205
    assert V["empty_hash"] == hashlib.sha256(b"").digest()


def test_hkdf_extract_handshake_secret() -> None:
    assert hkdf_extract(V["hs_salt"], V["hs_ikm"]) == V["handshake_secret"]


def test_derive_handshake_traffic_secrets() -> None:
    hs = V["handshake_secret"]
    assert derive_secret(hs, "c hs traffic", V["hello_hash"]) == V["client_handshake_traffic_secret"]
    assert derive_secret(hs, "s hs traffic", V["hello_hash"]) == V["server_handshake_traffic_secret"]
    assert derive_secret(hs, "derived", V["empty_hash"]) == V["derived_for_master"]


def test_derive_application_traffic_secrets() -> None:
    ms = V["master_secret"]
    assert derive_secret(ms, b"c ap traffic", V["server_finished_hash"]) == V["client_application_traffic_secret_0"]
    assert derive_secret(ms, b"s ap traffic", V["server_finished_hash"]) == V["server_application_traffic_secret_0"]


def test_hkdf_label_encoding_matches_published_info() -> None:
    # The RFC prints the HkdfLabel ("info") it fed to HKDF-Expand: rebuild the
    # same expansion with plain HMAC from that info and compare.
    import hmac

    secret = V["server_handshake_traffic_secret"]
    t1 = hmac.new(secret, V["key_info"] + b"\x01", "sha256").digest()
    assert t1[:16] == V["server_handshake_key"] == hkdf_expand_label(secret, "key", b"", 16)
    t1 = hmac.new(V["handshake_secret"], V["c_hs_info"] + b"\x01", "sha256").digest()
    assert t1 == V["client_handshake_traffic_secret"]


@pytest.mark.parametrize(
    "secret,key,iv",
    [
        ("server_handshake_traffic_secret", "server_handshake_key", "server_handshake_iv"),
        ("client_handshake_traffic_secret", "client_handshake_key", "client_handshake_iv"),
        ("server_application_traffic_secret_0", "server_application_key", "server_application_iv"),
        ("client_application_traffic_secret_0", "client_application_key", "client_application_iv"),
    ],
)
def test_traffic_key_and_iv(secret: str, key: str, iv: str) -> None:
    assert tls13_traffic_keys(V[secret], 16, 12) == (V[key], V[iv])
    d = DirectionDecryptor.for_tls13(AES_128_GCM_SHA256, V[secret])
    assert (d.key, d.iv) == (V[key], V[iv])


def test_decrypt_server_handshake_flight() -> None:
    d = DirectionDecryptor.for_tls13(AES_128_GCM_SHA256, V["server_handshake_traffic_secret"])
    ct, plain = d.decrypt(*_split(V["server_handshake_record"]))
    assert ct == 22  # handshake, from the inner type
    assert plain == V["encrypted_extensions"] + V["certificate"] + V["certificate_verify"] + V["server_finished"]
    assert d.sequence == 1


def test_decrypt_client_finished() -> None:
    d = DirectionDecryptor.for_tls13(AES_128_GCM_SHA256, V["client_handshake_traffic_secret"])
    assert d.decrypt(*_split(V["client_finished_record"])) == (22, V["client_finished"])


def test_decrypt_server_application_records_in_order() -> None:
    # The ticket uses sequence 0 and the data sequence 1: exercises iv XOR seq.
    d = DirectionDecryptor.for_tls13(AES_128_GCM_SHA256, V["server_application_traffic_secret_0"])
    assert d.decrypt(*_split(V["new_session_ticket_record"])) == (22, V["new_session_ticket"])
    rec = d.decrypt_record(*_split(V["server_application_record"]))
    assert (rec.content_type, rec.plaintext, rec.sequence) == (23, V["application_payload"], 1)


def test_decrypt_client_application_record() -> None:
    d = DirectionDecryptor.for_tls13(AES_128_GCM_SHA256, V["client_application_traffic_secret_0"])
    assert d.decrypt(*_split(V["client_application_record"])) == (23, V["application_payload"])


def test_wrong_sequence_fails_authentication() -> None:
    d = DirectionDecryptor.for_tls13(AES_128_GCM_SHA256, V["server_application_traffic_secret_0"])
    with pytest.raises(DecryptionError) as err:
        d.decrypt(*_split(V["server_application_record"]))  # skipped the ticket: seq 0 instead of 1
    assert err.value.reason == "bad_record_mac" and err.value.sequence == 0


def test_wrong_direction_key_fails() -> None:
    d = DirectionDecryptor.for_tls13(AES_128_GCM_SHA256, V["client_application_traffic_secret_0"])
    with pytest.raises(DecryptionError):
        d.decrypt(*_split(V["server_application_record"]))


def test_tampered_header_fails() -> None:
    # The 5-byte header is the additional data: changing the version breaks the tag.
    ct, _, frag = _split(V["client_application_record"])
    d = DirectionDecryptor.for_tls13(AES_128_GCM_SHA256, V["client_application_traffic_secret_0"])
    with pytest.raises(DecryptionError):
        d.decrypt(ct, 0x0301, frag)


def test_key_update_follows_the_traffic_upd_label() -> None:
    # RFC 8446 7.2: secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length).
    # RFC 8448 has no KeyUpdate, so rebuild that expansion from the label rule with plain HMAC.
    import hmac

    s0 = V["server_application_traffic_secret_0"]
    info = (32).to_bytes(2, "big") + bytes([len(b"tls13 traffic upd")]) + b"tls13 traffic upd" + b"\x00"
    expected = hmac.new(s0, info + b"\x01", "sha256").digest()
    assert tls13_next_traffic_secret(s0) == expected
    d = DirectionDecryptor.for_tls13(AES_128_GCM_SHA256, s0)
    d.decrypt(*_split(V["new_session_ticket_record"]))
    d.key_update()
    assert d.traffic_secret == expected and d.sequence == 0 and d.key_updates == 1
    assert (d.key, d.iv) == tls13_traffic_keys(expected, 16, 12)


def test_key_phases_follow_the_rfc8448_server_direction() -> None:
    """The server's records in order: handshake flight, then ticket and data under application keys."""
    from tlsdissect.keys.phases import Tls13KeyPhases

    phases = Tls13KeyPhases(
        DirectionDecryptor.for_tls13(AES_128_GCM_SHA256, V["server_handshake_traffic_secret"]),
        DirectionDecryptor.for_tls13(AES_128_GCM_SHA256, V["server_application_traffic_secret_0"]),
    )
    assert phases.phase == "handshake"
    assert phases(*_split(V["server_handshake_record"]))[0] == 22
    assert phases.phase == "application"
    assert phases(*_split(V["new_session_ticket_record"])) == (22, V["new_session_ticket"])
    assert phases(*_split(V["server_application_record"])) == (23, V["application_payload"])
