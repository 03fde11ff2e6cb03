"""Decrypting the public captures that ship with key logs.

The expected plaintext comes from the captures themselves: these sessions are
HTTP(S) exchanges (ssldump's samples, Wireshark developer Peter Wu's cipher
suite dumps), so every decrypted client stream must start with an HTTP
request and every server stream must contain an HTTP response; a wrong key,
nonce, IV or MAC would give random bytes or an authentication failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from capturewalk import SSL2_HELLO, Connection, Record, connections, ssl2_client_random
from shared_captures import shared_captures_dir
from test_decrypt import hello_fields

from tlsdissect.keys.cipherparams import UnsupportedCipherSuite
from tlsdissect.keys.decrypt import DecryptionError, session_decryptors
from tlsdissect.keys.keylog import KeyLog
from tlsdissect.keys.phases import direction_decryptor

CAPTURES = shared_captures_dir()  # TLSDISSECT_SHARED_CAPTURES / TLSDISSECT_CAPTURES, else ../shared/captures
SSLDUMP = CAPTURES / "adulau+ssldump" / "samples"
WIRESHARK_NOTES = CAPTURES / "Lekensteyn+wireshark-notes"

needs_captures = pytest.mark.skipif(
    not CAPTURES.exists(), reason=f"shared captures not at {CAPTURES}; set TLSDISSECT_SHARED_CAPTURES"
)


def server_compression(fragment: bytes) -> int:
    """The compression method byte of a ServerHello handshake message."""
    body = fragment[4:]
    return body[35 + body[34] + 2]


def _decrypt_direction(records: list[Record], version: int, decrypt) -> list[tuple[int, bytes]]:
    """Decrypted records of one direction: TLS 1.3 application_data records, or all after CCS."""
    out: list[tuple[int, bytes]] = []
    after_ccs = False
    for ct, ver, frag in records:
        if version == 0x0304:
            if ct == 23:  # hellos and the middlebox CCS are in the clear
                out.append(decrypt(ct, ver, frag))
        elif ct == 20 and not after_ccs:
            after_ccs = True
        elif after_ccs:
            out.append(decrypt(ct, ver, frag))
    return out


def decrypt_connection(conn: Connection, keylog: KeyLog):
    """(suite, version, client records, server records, key updates) of a TLS connection,
    through the library's own session_decryptors / direction_decryptor."""
    first = conn.client_records[0]
    if first[0] == SSL2_HELLO:
        cr, cexts = ssl2_client_random(first[2]), set()
    else:
        _, cr, _, cexts, _ = hello_fields(first[2])
    legacy, sr, suite, sexts, supported = hello_fields(conn.server_records[0][2])
    version = 0x0304 if supported == b"\x03\x04" else legacy
    session = session_decryptors(
        keylog,
        version,
        suite,
        cr,
        sr,
        encrypt_then_mac=0x0016 in cexts and 0x0016 in sexts,
        compression=server_compression(conn.server_records[0][2]),
    )
    cdec, sdec = direction_decryptor(session, "client"), direction_decryptor(session, "server")
    c = _decrypt_direction(conn.client_records, version, cdec)
    s = _decrypt_direction(conn.server_records, version, sdec)
    updates = sum(getattr(d, "key_updates", 0) for d in (cdec, sdec))
    return suite, version, c, s, updates


def app_data(records: list[tuple[int, bytes]]) -> bytes:
    return b"".join(p for ct, p in records if ct == 23)


# Expected plaintext per direction: what tshark 4 shows for these files with the
# same key log (tshark -o tls.keylog_file:log.txt -q -z follow,tls,raw,0).
# curl_google is HTTP/2: the client must open with the RFC 9113 preface.
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


@needs_captures
@pytest.mark.parametrize(
    "name,suite,client_text,server_text,key_updates",
    [
        ("tls1.2_aes256.pcap", 0xC02C, b"hello tls12\nbye\n", b"hello tls12\nbye\n", 0),
        ("tls1.3_aes128.pcap", 0x1301, b"hello\nbye\nkill\n", b"hello\nbye\n", 0),
        (
            "tls1.3_aes256gcm.pcap",
            0x1302,
            b"hello\nkeyupdate\nhello\nbyte\nkill\n",
            b"hello\nkeyupdate\nhello\nbyte\n",
            2,
        ),
        ("tls1.3_ccm.pcap", 0x1304, b"heelo\nkill\n", b"heelo\n", 0),
        ("tls1.3_ccm8.pcap", 0x1305, b"hello\nbye\n", b"hello\nbye\n", 0),
        ("tls1.3_chacha.pcap", 0x1303, b"hello\nbye\nkill\n", b"hello\nbye\n", 0),
        ("tls1.3_curl_google.pcap", 0x1302, _H2_PREFACE, None, 0),
        (
            "tls1.3_keyupdates_aes256.pcap",
            0x1302,
            b"hello\nkeyupdate\nhello\nbye\nkill\n",
            b"hello\nkeyupdate\nhello\nbye\n",
            2,
        ),
        ("tls1.3_session_resumption.pcap", 0x1302, b"hello\nkill\n", b"hello\n", 0),
    ],
)
def test_ssldump_samples(
    name: str, suite: int, client_text: bytes, server_text: bytes | None, key_updates: int
) -> None:
    keylog = KeyLog.from_file(SSLDUMP / "log.txt")
    (conn,) = connections(SSLDUMP / name)
    got_suite, version, client, server, updates = decrypt_connection(conn, keylog)
    assert got_suite == suite
    assert version == (0x0303 if "1.2" in name else 0x0304)
    if server_text is None:
        assert app_data(client).startswith(client_text)
        assert app_data(server)[3] == 4  # an HTTP/2 SETTINGS frame first
    else:
        assert (app_data(client), app_data(server)) == (client_text, server_text)
    assert updates == key_updates


@needs_captures
def test_wireshark_notes_cipher_suite_zoo() -> None:
    """73 HTTPS sessions, one per suite (RC4, 3DES, DES, IDEA, SEED, CAMELLIA, RC2/RC4/DES export,
    CBC, GCM), DEFLATE-compressed, SSL 2.0-format ClientHellos among them."""
    keylog = KeyLog.from_file(WIRESHARK_NOTES / "all" / "premaster.txt")
    decrypted, unsupported, failures = set(), set(), []
    for conn in connections(WIRESHARK_NOTES / "all" / "dump.pcapng"):
        try:
            suite, _, client, server, _ = decrypt_connection(conn, keylog)
        except UnsupportedCipherSuite as exc:
            unsupported.add(exc.code)
            continue
        except DecryptionError as exc:
            failures.append(f"{conn.client}: {exc}")
            continue
        if app_data(client).startswith(b"GET ") and b"HTTP/1." in app_data(server):
            decrypted.add(suite)
        else:
            failures.append(f"0x{suite:04x}: no HTTP in plaintext")
    assert failures == [] and unsupported == set()
    assert len(decrypted) == 73


@needs_captures
def test_wireshark_notes_ssl3() -> None:
    keylog = KeyLog.from_file(WIRESHARK_NOTES / "ssl3" / "premaster.txt")
    done, failures = 0, []
    for conn in connections(WIRESHARK_NOTES / "ssl3" / "dump.pcapng"):
        if not conn.server_records or conn.client_records[0][0] != 22:
            continue
        try:
            suite, version, client, server, _ = decrypt_connection(conn, keylog)
        except (DecryptionError, UnsupportedCipherSuite) as exc:
            failures.append(f"{conn.client}: {exc}")
            continue
        assert version == 0x0300
        if app_data(client).startswith(b"GET ") and b"HTTP/1." in app_data(server):
            done += 1
        else:
            failures.append(f"0x{suite:04x}: no HTTP")
    assert failures == [] and done == 39


# ----------------------------------------------------------------- 0-RTT
ZERO_RTT = Path(__file__).parent / "data" / "zero_rtt"
EARLY = b"GET /early-data HTTP/1.0\r\nHost: localhost\r\n\r\n"  # what s_client sent as 0-RTT data


def test_zero_rtt_accepted() -> None:
    keylog = KeyLog.from_file(ZERO_RTT / "accepted_keylog.txt")
    first, resumed = connections(ZERO_RTT / "accepted.pcap")
    *_, client, server, _ = decrypt_connection(first, keylog)
    assert app_data(client) == b"first connection\n"
    suite, version, client, server, _ = decrypt_connection(resumed, keylog)
    assert (suite, version) == (0x1302, 0x0304)
    # 0-RTT data, then EndOfEarlyData (handshake type 5) under the early key, then Finished.
    assert client[0] == (23, EARLY)
    assert [p[0] for ct, p in client if ct == 22][:2] == [5, 20]
    assert app_data(client) == EARLY + b"after handshake\n"


def test_zero_rtt_rejected() -> None:
    keylog = KeyLog.from_file(ZERO_RTT / "rejected_keylog.txt")
    first, second = connections(ZERO_RTT / "rejected.pcap")
    _, cr, *_ = hello_fields(first.client_records[0][2])
    _, sr, suite, *_ = hello_fields(first.server_records[0][2])
    missing = session_decryptors(keylog, 0x0304, suite, cr, sr)
    assert missing.missing == [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
    ]
    assert direction_decryptor(missing, "client") is None
    # The server ignored the 0-RTT record; it still opens under the early key, and the
    # client's Finished after it opens under the handshake key at sequence 0.
    _, _, client, server, _ = decrypt_connection(second, keylog)
    assert client[0] == (23, EARLY)
    assert [p[0] for ct, p in client if ct == 22] == [20]
    assert app_data(client) == EARLY + b"after handshake\n"


def _pcapng_dsbs(path: Path) -> list[tuple[int, bytes]]:
    """(secrets type, secrets data) of every Decryption Secrets Block (pcapng block type 0x0A)."""
    data = path.read_bytes()
    assert data[:4] == b"\x0a\x0d\x0d\x0a"
    endian = "little" if data[8:12] == b"\x4d\x3c\x2b\x1a" else "big"
    out, pos = [], 0
    while pos + 12 <= len(data):
        btype = int.from_bytes(data[pos : pos + 4], endian)
        blen = int.from_bytes(data[pos + 4 : pos + 8], endian)
        if btype == 0x0A:
            stype = int.from_bytes(data[pos + 8 : pos + 12], endian)
            slen = int.from_bytes(data[pos + 12 : pos + 16], endian)
            out.append((stype, data[pos + 16 : pos + 16 + slen]))
        pos += blen
    return out


def test_keys_from_an_editcap_decryption_secrets_block() -> None:
    """editcap --inject-secrets wrote the key log into the capture; it alone decrypts it."""
    from tlsdissect.keys.keylog import keylog_from_dsb

    (dsb,) = _pcapng_dsbs(ZERO_RTT / "accepted-dsb.pcapng")
    keylog = keylog_from_dsb(*dsb)
    assert keylog is not None and keylog.malformed == []
    reference = KeyLog.from_file(ZERO_RTT / "accepted_keylog.txt")
    assert {cr: keylog.secrets_for(cr) for cr in keylog.client_randoms()} == {
        cr: reference.secrets_for(cr) for cr in reference.client_randoms()
    }
    _, resumed = connections(ZERO_RTT / "accepted-dsb.pcapng")
    *_, client, _, _ = decrypt_connection(resumed, keylog)
    assert app_data(client) == EARLY + b"after handshake\n"
