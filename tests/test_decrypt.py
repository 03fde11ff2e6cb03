"""Record decryption against real OpenSSL connections made in memory.

Each case runs a TLS connection between two Python ssl endpoints over
MemoryBIOs (see tests/tlspair.py), with the client writing an NSS key log.
The test walks the raw bytes each side wrote into records itself, decrypts
them with tlsdissect using only the key log and the hello randoms, and
compares with what the test sent: OpenSSL's plaintext is the truth.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tlspair
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsdissect.keys.cipherparams import SUPPORTED_SUITES, UnsupportedCipherSuite, suite_params
from tlsdissect.keys.decrypt import DecryptionError, DirectionDecryptor
from tlsdissect.keys.keylog import KeyLog
from tlsdissect.keys.schedule import prf_tls12

CLIENT_MESSAGES = [
    b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".hex(),
    bytes(range(256)).hex() * 80,  # 20480 bytes: more than one 16 KiB record
    b"x".hex(),
]
SERVER_MESSAGES = [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".hex(), (b"\x00" * 5000).hex()]


# ------------------------------------------------------------- wire helpers
def split_records(stream: bytes) -> list[tuple[int, int, bytes]]:
    """Walk 5-byte record headers: [(content type, version, fragment)]."""
    out, pos = [], 0
    while pos < len(stream):
        length = int.from_bytes(stream[pos + 3 : pos + 5], "big")
        out.append((stream[pos], int.from_bytes(stream[pos + 1 : pos + 3], "big"), stream[pos + 5 : pos + 5 + length]))
        pos += 5 + length
    assert pos == len(stream), "stream does not end on a record boundary"
    return out


def hello_fields(fragment: bytes) -> tuple[int, bytes, int | None, set[int], bytes]:
    """(legacy version, random, cipher suite or None, extension types, supported_versions data)."""
    body = fragment[4 : 4 + int.from_bytes(fragment[1:4], "big")]
    version, random = int.from_bytes(body[:2], "big"), body[2:34]
    pos = 35 + body[34]
    if fragment[0] == 2:  # ServerHello: one suite, one compression method
        suite = int.from_bytes(body[pos : pos + 2], "big")
        pos += 3
    else:  # ClientHello: suite list, compression list
        suite = None
        pos += 2 + int.from_bytes(body[pos : pos + 2], "big")
        pos += 1 + body[pos]
    exts, supported = set(), b""
    end = pos + 2 + int.from_bytes(body[pos : pos + 2], "big") if pos < len(body) else pos
    pos += 2
    while pos < end:
        etype, elen = int.from_bytes(body[pos : pos + 2], "big"), int.from_bytes(body[pos + 2 : pos + 4], "big")
        exts.add(etype)
        if etype == 0x002B:
            supported = body[pos + 4 : pos + 4 + elen]
        pos += 4 + elen
    return version, random, suite, exts, supported


def handshake_types(data: bytes) -> list[int]:
    types, pos = [], 0
    while pos + 4 <= len(data):
        types.append(data[pos])
        pos += 4 + int.from_bytes(data[pos + 1 : pos + 4], "big")
    return types


def decrypt_tls12(run: tlspair.PairRun, side: str) -> list[tuple[int, bytes]]:
    """Decrypt everything ``side`` sent after its ChangeCipherSpec."""
    crecs = split_records(bytes.fromhex(run.client_bytes))
    srecs = split_records(bytes.fromhex(run.server_bytes))
    _, cr, _, cexts, _ = hello_fields(crecs[0][2])
    version, sr, suite, sexts, _ = hello_fields(srecs[0][2])
    etm = 0x0016 in cexts and 0x0016 in sexts
    master = KeyLog.from_text(run.keylog).master_secret_for(cr)
    assert master is not None
    d = DirectionDecryptor.for_tls12(version, suite, master, cr, sr, side, encrypt_then_mac=etm)
    out, after_ccs = [], False
    for ct, ver, frag in crecs if side == "client" else srecs:
        if ct == 20 and not after_ccs:
            after_ccs = True
        elif after_ccs:
            out.append(d.decrypt(ct, ver, frag))
    return out


def decrypt_tls13(run: tlspair.PairRun, side: str) -> list[tuple[int, bytes]]:
    """Decrypt a TLS 1.3 direction, switching from handshake to application keys after Finished."""
    crecs = split_records(bytes.fromhex(run.client_bytes))
    srecs = split_records(bytes.fromhex(run.server_bytes))
    _, cr, _, _, _ = hello_fields(crecs[0][2])
    _, _, suite, _, supported = hello_fields(srecs[0][2])
    assert supported == b"\x03\x04"
    secrets = KeyLog.from_text(run.keylog).secrets_for(cr)
    label = side.upper()
    d = DirectionDecryptor.for_tls13(suite, secrets[f"{label}_HANDSHAKE_TRAFFIC_SECRET"])
    in_handshake, out = True, []
    for ct, ver, frag in (crecs if side == "client" else srecs)[1:]:
        if ct == 20:
            assert d.decrypt(ct, ver, frag) == (20, frag)  # middlebox CCS passes through
            continue
        inner, plain = d.decrypt(ct, ver, frag)
        out.append((inner, plain))
        if in_handshake and inner == 22 and 20 in handshake_types(plain):
            d = DirectionDecryptor.for_tls13(suite, secrets[f"{label}_TRAFFIC_SECRET_0"])
            in_handshake = False
        elif inner == 22 and 24 in handshake_types(plain):
            d.key_update()
    return out


def check_directions(run: tlspair.PairRun, decrypt) -> None:
    for side, sent in (("client", run.client_sent), ("server", run.server_sent)):
        records = decrypt(run, side)
        app = b"".join(p for ct, p in records if ct == 23)
        assert app == b"".join(bytes.fromhex(m) for m in sent), side
        assert any(ct == 22 and handshake_types(p)[:1] == [20] for ct, p in records), f"{side} Finished"
        assert records[-1] == (21, b"\x01\x00"), f"{side} close_notify alert"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[tuple[str, str]]]:
    folder = tmp_path_factory.mktemp("pair")
    return str(folder), tlspair.write_certificates(folder)


# ----------------------------------------------------------------- TLS 1.2
TLS12_CASES = [
    # (version, OpenSSL cipher string, IANA code we expect on the wire, extra options)
    ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", 0xC02F, 0),
    ("TLSv1.2", "AES256-GCM-SHA384", 0x009D, 0),
    ("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384", 0xC02C, 0),
    ("TLSv1.2", "ECDHE-RSA-CHACHA20-POLY1305", 0xCCA8, 0),
    ("TLSv1.2", "ECDHE-ECDSA-AES128-CCM8", 0xC0AE, 0),
    ("TLSv1.2", "ECDHE-ECDSA-AES256-CCM", 0xC0AD, 0),
    ("TLSv1.2", "AES128-CCM", 0xC09C, 0),
    ("TLSv1.2", "AES128-SHA", 0x002F, 0),  # OpenSSL negotiates encrypt-then-MAC
    ("TLSv1.2", "AES128-SHA", 0x002F, tlspair.SSL_OP_NO_ENCRYPT_THEN_MAC),
    ("TLSv1.2", "AES256-SHA256", 0x003D, 0),
    ("TLSv1.2", "ECDHE-ECDSA-AES256-SHA384", 0xC024, 0),
    ("TLSv1.2", "ECDHE-RSA-AES256-SHA384", 0xC028, tlspair.SSL_OP_NO_ENCRYPT_THEN_MAC),
    ("TLSv1.2", "CAMELLIA128-SHA:@SECLEVEL=0", 0x0041, 0),
    ("TLSv1.2", "NULL-SHA256:@SECLEVEL=0", 0x003B, 0),
    ("TLSv1.1", "AES256-SHA:@SECLEVEL=0", 0x0035, 0),
    ("TLSv1.1", "AES256-SHA:@SECLEVEL=0", 0x0035, tlspair.SSL_OP_NO_ENCRYPT_THEN_MAC),
    ("TLSv1", "AES128-SHA:@SECLEVEL=0", 0x002F, 0),  # chained IV + encrypt-then-MAC
    ("TLSv1", "ECDHE-RSA-AES256-SHA:@SECLEVEL=0", 0xC014, tlspair.SSL_OP_NO_ENCRYPT_THEN_MAC),
]


@pytest.mark.parametrize("version,ciphers,code,options", TLS12_CASES)
def test_tls12_openssl_connection(certs, version: str, ciphers: str, code: int, options: int) -> None:
    folder, pairs = certs
    try:
        run = tlspair.run_pair(folder, pairs, version, ciphers, CLIENT_MESSAGES, SERVER_MESSAGES, options)
    except Exception as exc:  # the local OpenSSL may not offer old versions or suites
        pytest.skip(f"local OpenSSL cannot run {version} {ciphers}: {exc}")
    _, _, suite, sexts, _ = hello_fields(split_records(bytes.fromhex(run.server_bytes))[0][2])
    assert suite == code, f"server chose 0x{suite:04x}"
    if options & tlspair.SSL_OP_NO_ENCRYPT_THEN_MAC:
        assert 0x0016 not in sexts
    check_directions(run, decrypt_tls12)


def test_tls12_wrong_master_secret_is_a_decryption_error(certs) -> None:
    folder, pairs = certs
    run = tlspair.run_pair(folder, pairs, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", CLIENT_MESSAGES[:1])
    bad = run.keylog.replace("CLIENT_RANDOM ", "CLIENT_RANDOM_X ")  # hide the real line
    crecs = split_records(bytes.fromhex(run.client_bytes))
    srecs = split_records(bytes.fromhex(run.server_bytes))
    _, cr, _, _, _ = hello_fields(crecs[0][2])
    _, sr, _, _, _ = hello_fields(srecs[0][2])
    assert KeyLog.from_text(bad).master_secret_for(cr) is None
    d = DirectionDecryptor.for_tls12(0x0303, 0xC02F, b"\x01" * 48, cr, sr, "client")
    ct, ver, frag = [r for r in crecs if r[0] in (22, 23)][-1]
    with pytest.raises(DecryptionError) as err:
        d.decrypt(ct, ver, frag)
    assert err.value.reason == "bad_record_mac"


def test_tls12_cbc_tampering_is_detected(certs) -> None:
    folder, pairs = certs
    for options in (0, tlspair.SSL_OP_NO_ENCRYPT_THEN_MAC):
        run = tlspair.run_pair(folder, pairs, "TLSv1.2", "AES128-SHA", CLIENT_MESSAGES[:1], [], options)
        stream = bytearray.fromhex(run.client_bytes)
        stream[-40] ^= 0x01  # inside the last record (the close_notify alert)
        run.client_bytes = stream.hex()
        with pytest.raises(DecryptionError) as err:
            decrypt_tls12(run, "client")
        assert err.value.reason in ("bad_record_mac", "bad_padding")


# ----------------------------------------------------------------- TLS 1.3
def test_tls13_default_suite_in_process(certs) -> None:
    folder, pairs = certs
    run = tlspair.run_pair(folder, pairs, "TLSv1.3", None, CLIENT_MESSAGES, SERVER_MESSAGES)
    assert run.version == "TLSv1.3"
    check_directions(run, decrypt_tls13)


@pytest.mark.parametrize(
    "suite_name,code",
    [
        ("TLS_AES_128_GCM_SHA256", 0x1301),
        ("TLS_AES_256_GCM_SHA384", 0x1302),
        ("TLS_CHACHA20_POLY1305_SHA256", 0x1303),
        ("TLS_AES_128_CCM_SHA256", 0x1304),
        ("TLS_AES_128_CCM_8_SHA256", 0x1305),
    ],
)
def test_tls13_each_suite(certs, tmp_path: Path, suite_name: str, code: int) -> None:
    # Python cannot choose TLS 1.3 suites; an OpenSSL config in a child process can.
    folder, pairs = certs
    conf = tmp_path / "openssl.cnf"
    conf.write_text(
        "openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n"
        "[ssl_sect]\nsystem_default = sd\n[sd]\nCiphersuites = " + suite_name + "\n"
    )
    args = {
        "folder": str(tmp_path),
        "certs": pairs,
        "version": "TLSv1.3",
        "client_messages": CLIENT_MESSAGES,
        "server_messages": SERVER_MESSAGES,
    }
    proc = subprocess.run(
        [sys.executable, str(Path(tlspair.__file__)), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "OPENSSL_CONF": str(conf)},
    )
    if proc.returncode != 0:
        pytest.skip(f"OpenSSL could not run {suite_name}: {proc.stderr[-300:]}")
    run = tlspair.PairRun(**json.loads(proc.stdout))
    if run.cipher != suite_name:
        pytest.skip(f"OPENSSL_CONF not honoured here (got {run.cipher})")
    _, _, suite, _, _ = hello_fields(split_records(bytes.fromhex(run.server_bytes))[0][2])
    assert suite == code
    check_directions(run, decrypt_tls13)


# --------------------------------------------------------- errors and table
def test_prf_tls12_sha256_known_answer() -> None:
    # Published TLS 1.2 PRF test vector (IETF TLS WG; also in mbedTLS' self-test).
    out = prf_tls12(
        bytes.fromhex("9bbe436ba940f017b17652849a71db35"),
        b"test label",
        bytes.fromhex("a0ba9f936cda311827a6f796ffd5198c"),
        100,
        "SHA256",
    )
    assert out.hex() == (
        "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af"
        "0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
        "87347b66"
    )


def test_prf_tls12_sha384_known_answer() -> None:
    out = prf_tls12(
        bytes.fromhex("b80b733d6ceefcdc71566ea48e5567df"),
        b"test label",
        bytes.fromhex("cd665cf6a8447dd6ff8b27555edb7465"),
        148,
        "SHA384",
    )
    assert out.hex() == (
        "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0"
        "e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
        "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e099070"
        "3d73e56f"
    )


def test_unsupported_suite_names_it() -> None:
    with pytest.raises(UnsupportedCipherSuite, match="0xc03c"):
        suite_params(0xC03C)  # ARIA
    with pytest.raises(UnsupportedCipherSuite, match="0xfefe"):
        DirectionDecryptor.for_tls13(0xFEFE, b"\x00" * 32)
    with pytest.raises(UnsupportedCipherSuite, match="TLS 1.3 suite"):
        DirectionDecryptor.for_tls12(0x0303, 0x1301, b"\x00" * 48, b"\x00" * 32, b"\x00" * 32, "client")
    with pytest.raises(UnsupportedCipherSuite, match="not a TLS 1.3 suite"):
        DirectionDecryptor.for_tls13(0xC02F, b"\x00" * 32)


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="side"):
        DirectionDecryptor.for_tls12(0x0303, 0xC02F, b"\x00" * 48, b"\x00" * 32, b"\x00" * 32, "middle")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="48 bytes"):
        DirectionDecryptor.for_tls12(0x0303, 0xC02F, b"\x00" * 47, b"\x00" * 32, b"\x00" * 32, "client")
    with pytest.raises(ValueError, match="TLS 1.3"):
        DirectionDecryptor.for_tls12(0x0303, 0xC02F, b"\x00" * 48, b"\x00" * 32, b"\x00" * 32, "client").key_update()


def test_table_is_consistent() -> None:
    for code, p in SUPPORTED_SUITES.items():
        assert p.code == code
        if p.kind == "aead":
            assert p.mac is None and p.tag_len in (8, 16)
            assert p.fixed_iv_len == (12 if p.tls13 or p.cipher == "CHACHA20" else 4)
        else:
            assert p.mac_len in (16, 20, 32, 48) and not p.tls13
        if p.kind == "block":
            assert p.fixed_iv_len == p.block_size


# Decryptors for a few kinds; garbage must give DecryptionError, never anything else.
_FUZZ_SUITES = [0x1301, 0x1303, 0x1305, 0xC02F, 0xCCA8, 0xC0AE, 0x002F, 0x003D, 0x000A, 0x0005, 0x0002]


@settings(max_examples=60, deadline=None)
@given(
    suite=st.sampled_from(_FUZZ_SUITES),
    version=st.sampled_from([0x0300, 0x0301, 0x0302, 0x0303]),
    etm=st.booleans(),
    content_type=st.sampled_from([21, 22, 23]),
    payload=st.binary(max_size=300),
)
def test_garbage_records_raise_decryption_error_only(suite, version, etm, content_type, payload) -> None:
    if SUPPORTED_SUITES[suite].tls13:
        d = DirectionDecryptor.for_tls13(suite, b"\x11" * 32)
    else:
        d = DirectionDecryptor.for_tls12(
            version, suite, b"\x22" * 48, b"\x33" * 32, b"\x44" * 32, "server", encrypt_then_mac=etm
        )
    try:
        ct, plain = d.decrypt(content_type, 0x0303, payload)
    except DecryptionError:
        pass
    else:  # only a suite without encryption... and a forged MAC is 2^-160 unlikely
        raise AssertionError(f"garbage decrypted under 0x{suite:04x}: {ct} {plain[:20]!r}")
    assert d.sequence == 1


# ------------------------------------------------ whole-session construction
def _handshake_bytes_before_ccs(records: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray()
    for ct, _, frag in records:
        if ct == 20:
            break
        if ct == 22:
            out += frag
    return bytes(out)


@pytest.mark.parametrize(
    "ciphers,code,options",
    [
        ("AES128-GCM-SHA256", 0x009C, 0),  # extended master secret, SHA-256 session hash
        ("AES256-GCM-SHA384", 0x009D, 0),  # extended master secret, SHA-384 session hash
        ("AES128-SHA", 0x002F, tlspair.SSL_OP_NO_EXTENDED_MASTER_SECRET),  # classic master secret
    ],
)
def test_rsa_premaster_key_log_line(certs, ciphers: str, code: int, options: int) -> None:
    """An `RSA` key log line gives the same master secret OpenSSL logged, and decrypts."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    from tlsdissect.keys.decrypt import session_decryptors
    from tlsdissect.keys.schedule import extended_master_secret, master_secret

    folder, pairs = certs
    run = tlspair.run_pair(folder, pairs, "TLSv1.2", ciphers, CLIENT_MESSAGES[:1], SERVER_MESSAGES[:1], options)
    crecs = split_records(bytes.fromhex(run.client_bytes))
    srecs = split_records(bytes.fromhex(run.server_bytes))
    _, cr, _, cexts, _ = hello_fields(crecs[0][2])
    _, sr, suite, sexts, _ = hello_fields(srecs[0][2])
    assert suite == code
    client_hs = _handshake_bytes_before_ccs(crecs)
    server_hs = _handshake_bytes_before_ccs(srecs)
    # The server's first flight ends with ServerHelloDone; a NewSessionTicket may follow, after CKE.
    pos = 0
    while server_hs[pos] != 14:
        pos += 4 + int.from_bytes(server_hs[pos + 1 : pos + 4], "big")
    server_hs = server_hs[: pos + 4]
    # ClientKeyExchange follows the ClientHello in the client's handshake bytes.
    ch_len = 4 + int.from_bytes(client_hs[1:4], "big")
    cke = client_hs[ch_len:]
    assert cke[0] == 16
    encrypted = cke[6 : 4 + int.from_bytes(cke[1:4], "big")]  # after the 2-byte length
    key = serialization.load_pem_private_key(Path(pairs[0][1]).read_bytes(), None)
    pms = key.decrypt(encrypted, padding.PKCS1v15())
    assert len(pms) == 48 and pms[:2] == b"\x03\x03"

    ems = 0x0017 in cexts and 0x0017 in sexts
    assert ems == (options == 0)
    prf_hash = "SHA384" if code == 0x009D else "SHA256"
    session_hash = hashlib.new(prf_hash.lower(), client_hs[:ch_len] + server_hs + cke).digest() if ems else None
    logged = KeyLog.from_text(run.keylog).master_secret_for(cr)
    if ems:
        assert extended_master_secret(0x0303, pms, session_hash, prf_hash) == logged
    else:
        assert master_secret(0x0303, pms, cr, sr, prf_hash) == logged

    rsa_log = KeyLog.from_text(f"RSA {encrypted[:8].hex()} {pms.hex()}\n")
    etm = 0x0016 in cexts and 0x0016 in sexts
    sd = session_decryptors(
        rsa_log, 0x0303, suite, cr, sr, encrypt_then_mac=etm, encrypted_premaster=encrypted, session_hash=session_hash
    )
    assert sd.master_secret_source == "RSA" and sd.complete and sd.missing == []
    for side, d, recs, sent in (
        ("client", sd.client, crecs, run.client_sent),
        ("server", sd.server, srecs, run.server_sent),
    ):
        idx = next(i for i, r in enumerate(recs) if r[0] == 20)
        plain = [d.decrypt(*r) for r in recs[idx + 1 :]]
        assert b"".join(p for ct, p in plain if ct == 23) == bytes.fromhex(sent[0]), side


def test_session_decryptors_tls13_and_missing_labels(certs) -> None:
    from tlsdissect.keys.decrypt import session_decryptors

    folder, pairs = certs
    run = tlspair.run_pair(folder, pairs, "TLSv1.3", None, CLIENT_MESSAGES[:1], SERVER_MESSAGES[:1])
    crecs = split_records(bytes.fromhex(run.client_bytes))
    srecs = split_records(bytes.fromhex(run.server_bytes))
    _, cr, _, _, _ = hello_fields(crecs[0][2])
    _, sr, suite, _, _ = hello_fields(srecs[0][2])
    full = KeyLog.from_text(run.keylog)
    sd = session_decryptors(full, 0x0304, suite, cr, sr)
    assert sd.complete and sd.missing == [] and sd.client_early is None
    ct, ver, frag = [r for r in crecs if r[0] == 23][0]
    inner, plain = sd.client_handshake.decrypt(ct, ver, frag)
    assert inner == 22 and plain[0] == 20  # the client's first protected record is its Finished

    partial = KeyLog.from_text("\n".join(line for line in run.keylog.splitlines() if "HANDSHAKE" in line))
    sd = session_decryptors(partial, 0x0304, suite, cr, sr)
    assert not sd.complete and sd.client_application is None
    assert sd.missing == ["CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"]

    sd = session_decryptors(KeyLog(), 0x0303, 0xC02F, cr, sr)
    assert sd.missing == ["CLIENT_RANDOM"] and not sd.complete and sd.client is None


def test_table_names_match_the_iana_registry() -> None:
    """The parameters are read off the suite names, so each code's name must be IANA's."""
    import csv

    path = Path(__file__).parent / "data" / "iana" / "tls-parameters-4.csv"
    if not path.exists():
        pytest.skip("IANA cipher suite snapshot not present")
    iana = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            value = row["Value"].replace('"', "")
            if "-" in value or "*" in value:
                continue  # ranges
            hi, lo = (int(x, 16) for x in value.split(","))
            iana[(hi << 8) | lo] = row["Description"]
    wrong = {f"0x{c:04x}": (p.name, iana.get(c)) for c, p in SUPPORTED_SUITES.items() if iana.get(c) != p.name}
    assert wrong == {}


@pytest.mark.parametrize(
    "version,ciphers,options,flip",
    [
        ("TLSv1", "AES128-SHA:@SECLEVEL=0", 0, -1),  # EtM: flip a MAC byte
        ("TLSv1", "AES128-SHA:@SECLEVEL=0", tlspair.SSL_OP_NO_ENCRYPT_THEN_MAC, 0),  # first block
        ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", 0, -1),  # GCM tag
        ("TLSv1.2", "ECDHE-RSA-CHACHA20-POLY1305", 0, -1),
    ],
)
def test_a_failed_record_still_advances_the_state(certs, version: str, ciphers: str, options: int, flip: int) -> None:
    """Sequence number (and the TLS 1.0 chained IV) move on past a record that fails,
    as the sender's did, so the records after it still decrypt."""
    folder, pairs = certs
    try:
        run = tlspair.run_pair(folder, pairs, version, ciphers, CLIENT_MESSAGES, [], options)
    except Exception as exc:
        pytest.skip(f"local OpenSSL cannot run {version} {ciphers}: {exc}")
    crecs = split_records(bytes.fromhex(run.client_bytes))
    idx = next(i for i, r in enumerate(crecs) if r[0] == 20) + 2  # the first application data record
    ct, ver, frag = crecs[idx]
    assert ct == 23
    tampered = bytearray(frag)
    tampered[flip] ^= 0x80
    crecs[idx] = (ct, ver, bytes(tampered))
    run.client_bytes = b"".join(
        bytes([c]) + v.to_bytes(2, "big") + len(f).to_bytes(2, "big") + f for c, v, f in crecs
    ).hex()
    with pytest.raises(DecryptionError) as err:
        decrypt_tls12(run, "client")
    assert err.value.sequence == 1  # Finished was 0
    # Now decrypt record by record, carrying on past the failure.
    _, cr, _, cexts, _ = hello_fields(crecs[0][2])
    _, sr, suite, sexts, _ = hello_fields(split_records(bytes.fromhex(run.server_bytes))[0][2])
    master = KeyLog.from_text(run.keylog).master_secret_for(cr)
    d = DirectionDecryptor.for_tls12(
        hello_fields(split_records(bytes.fromhex(run.server_bytes))[0][2])[0],
        suite,
        master,
        cr,
        sr,
        "client",
        encrypt_then_mac=0x16 in cexts and 0x16 in sexts,
    )
    results = []
    for rec in crecs[idx - 1 :]:
        try:
            results.append(d.decrypt(*rec))
        except DecryptionError:
            results.append(None)
    assert results[1] is None and None not in results[2:] and results[0][0] == 22
    later = b"".join(p for c, p in results[2:] if c == 23)
    assert bytes.fromhex(CLIENT_MESSAGES[2]) in later or later.endswith(bytes.fromhex(CLIENT_MESSAGES[2]))
    assert results[-1] == (21, b"\x01\x00")


def test_tls13_secret_of_the_wrong_length_is_a_decryption_error() -> None:
    # TLS_AES_256_GCM_SHA384 needs 48-byte secrets (SHA-384); a 32-byte one is from another session.
    with pytest.raises(DecryptionError) as err:
        DirectionDecryptor.for_tls13(0x1302, b"\x00" * 32)
    assert err.value.reason == "wrong_secret_length"


def test_deflate_records_are_capped() -> None:
    """A NULL-cipher DEFLATE record that inflates past 2^14 bytes is refused, not inflated."""
    import hmac as hmac_mod
    import zlib

    d = DirectionDecryptor.for_tls12(
        0x0303, 0x0002, b"\x01" * 48, b"\x02" * 32, b"\x03" * 32, "client", compression=1
    )  # TLS_RSA_WITH_NULL_SHA: the record is content + HMAC-SHA1 in the clear
    comp = zlib.compressobj()
    small = comp.compress(b"hello") + comp.flush(zlib.Z_SYNC_FLUSH)
    big = comp.compress(b"\x00" * 100_000) + comp.flush(zlib.Z_SYNC_FLUSH)

    def record(seq: int, content: bytes) -> bytes:
        header = seq.to_bytes(8, "big") + bytes([23]) + (0x0303).to_bytes(2, "big") + len(content).to_bytes(2, "big")
        return content + hmac_mod.new(d._mac_key, header + content, "sha1").digest()

    assert d.decrypt(23, 0x0303, record(0, small)) == (23, b"hello")
    with pytest.raises(DecryptionError) as err:
        d.decrypt(23, 0x0303, record(1, big))
    assert err.value.reason == "too_long"
    with pytest.raises(ValueError, match="compression"):
        DirectionDecryptor.for_tls12(0x0303, 0x0002, b"\x01" * 48, b"\x02" * 32, b"\x03" * 32, "client", compression=64)


def test_session_versions() -> None:
    from tlsdissect.keys.decrypt import session_decryptors

    log = KeyLog.from_text(f"SERVER_TRAFFIC_SECRET_0 {'11' * 32} {'22' * 32}\n")
    sd = session_decryptors(log, 0x7F1C, 0x1301, b"\x11" * 32, b"\x00" * 32)  # TLS 1.3 draft 28
    assert sd.version == 0x0304 and sd.server_application is not None
    with pytest.raises(DecryptionError) as err:
        session_decryptors(log, 0x0002, 0x002F, b"\x11" * 32, b"\x00" * 32)  # SSL 2.0
    assert err.value.reason == "unsupported_version"
