"""Checks tlsdissect.tls.tables against the IANA registry snapshots and the RFCs.

The expected values come from tests/data/iana/*.csv (IANA registry content, see
the README there), from RFC text quoted by section below, and, where tshark is
installed, from Wireshark's own tables.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tlsdissect.tls import tables as T

IANA = Path(__file__).parent / "data" / "iana"


# ---------------------------------------------------------------------------
# Reading the snapshots
# ---------------------------------------------------------------------------


def _registry(filename: str) -> dict[int, str]:
    """Registered single values of one IANA CSV: code -> name.

    Rows that span ranges ("0x00,0x1C-1D", "42-255", "0x01-09,*") and rows that
    only reserve or leave a value unassigned carry no name, so they are left out;
    "(renamed from ...)" notes are dropped, as tables.py does.
    """
    out: dict[int, str] = {}
    with open(IANA / filename, newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            value, name = row[0].strip(), row[1].strip()
            if "-" in value or "*" in value:
                continue
            if name.startswith(("Unassigned", "Reserved")):
                continue
            if "," in value:
                hi, lo = value.split(",")
                code = int(hi, 16) << 8 | int(lo, 16)
            else:
                code = int(value, 0)
            assert code not in out, f"{filename}: {value} listed twice"
            out[code] = re.sub(r"\s*\(renamed from [^)]*\)", "", name).strip()
    return out


# Values we carry on purpose although the registry snapshot has no name for them.
EXTRA_CIPHER_SUITES = {
    0x001C, 0x001D,  # SSLv3 FORTEZZA (registry: reserved to avoid conflicts with SSLv3)
    0x0060, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066,  # EXPORT1024 drafts
    0x0080, 0x0081, 0x0082, 0x0083,  # CryptoPro GOST drafts
    0xC0FF,  # ECJPAKE (Thread)
    0xCC13, 0xCC14, 0xCC15,  # ChaCha20 before RFC 7905
    0xFEFE, 0xFEFF, 0xFFE0, 0xFFE1,  # NSS FIPS suites
    0xFF85,  # gost-engine GOST2012-GOST8912-GOST8912 before RFC 9189
}
EXTRA_EXTENSION_TYPES = {
    60, 61, 62, 64768, 65037,  # registered after the snapshot
    40, 46,  # registry "Reserved", used by TLS 1.3 drafts
    13172, 17513, 17613, 30031, 30032, 65445, 65486,  # never registered, seen in captures
}
EXTRA_HANDSHAKE_TYPES = {67}  # NPN NextProtocol

CASES = [
    ("tls-parameters-4.csv", "CIPHER_SUITES", EXTRA_CIPHER_SUITES),
    ("tls-parameters-5.csv", "CONTENT_TYPES", set()),
    ("tls-parameters-6.csv", "ALERT_DESCRIPTIONS", set()),
    ("tls-parameters-7.csv", "HANDSHAKE_TYPES", EXTRA_HANDSHAKE_TYPES),
    ("tls-parameters-8.csv", "SUPPORTED_GROUPS", set()),
    ("tls-parameters-9.csv", "EC_POINT_FORMATS", set()),
    ("tls-parameters-10.csv", "EC_CURVE_TYPES", set()),
    ("tls-parameters-2.csv", "CLIENT_CERTIFICATE_TYPES", set()),
    ("tls-parameters-18.csv", "HASH_ALGORITHMS", set()),
    ("tls-parameters-16.csv", "SIGNATURE_ALGORITHMS", set()),
    ("tls-signaturescheme.csv", "SIGNATURE_SCHEMES", set()),
    ("tls-extensiontype-values-1.csv", "EXTENSION_TYPES", EXTRA_EXTENSION_TYPES),
    ("heartbeat-message-types.csv", "HEARTBEAT_MESSAGE_TYPES", set()),
    ("tls-pskkeyexchangemode.csv", "PSK_KEY_EXCHANGE_MODES", set()),
    ("certificate-status.csv", "CERTIFICATE_STATUS_TYPES", set()),
    ("comp-meth-ids-2.csv", "COMPRESSION_METHODS", set()),
]


@pytest.mark.parametrize("filename,table_name,extras", CASES, ids=[c[1] for c in CASES])
def test_table_matches_registry(filename: str, table_name: str, extras: set[int]) -> None:
    registry = _registry(filename)
    table = getattr(T, table_name)
    assert registry, f"nothing parsed from {filename}"
    missing = {hex(c): n for c, n in registry.items() if c not in table}
    assert not missing, f"{table_name} lacks registered values: {missing}"
    renamed = {hex(c): (table[c], n) for c, n in registry.items() if table[c] != n}
    assert not renamed, f"{table_name} names differ from registry (ours, IANA): {renamed}"
    unexpected = {hex(c): table[c] for c in table if c not in registry and c not in extras}
    assert not unexpected, f"{table_name} has values the registry lacks: {unexpected}"
    # Every declared extra really is an extra, and really is in the table.
    assert not extras & registry.keys()
    assert extras <= table.keys()


def _recommended_column(filename: str) -> dict[int, str]:
    """Registered values of a CSV with a Recommended column -> 'Y' / 'N' / 'D'."""
    names = _registry(filename)
    out: dict[int, str] = {}
    with open(IANA / filename, newline="") as fh:
        reader = csv.reader(fh)
        col = next(reader).index("Recommended")
        for row in reader:
            value = row[0].strip()
            if "-" in value or "*" in value:
                continue
            if "," in value:
                hi, lo = value.split(",")
                code = int(hi, 16) << 8 | int(lo, 16)
            else:
                code = int(value, 0)
            if code in names:
                out[code] = row[col]
    return out


@pytest.mark.parametrize("filename,prefix", [
    ("tls-parameters-4.csv", "CIPHER_SUITES"),
    ("tls-parameters-8.csv", "SUPPORTED_GROUPS"),
    ("tls-signaturescheme.csv", "SIGNATURE_SCHEMES"),
])
def test_recommended_sets_match_registry(filename: str, prefix: str) -> None:
    column = _recommended_column(filename)
    assert set(column.values()) <= {"Y", "N", "D"}
    assert getattr(T, "RECOMMENDED_" + prefix) == {c for c, r in column.items() if r == "Y"}
    discouraged: frozenset[int] = getattr(T, "DISCOURAGED_" + prefix, frozenset())
    assert discouraged == {c for c, r in column.items() if r == "D"}


def test_suite_info_carries_recommended_column() -> None:
    column = _recommended_column("tls-parameters-4.csv")
    for code, rec in column.items():
        info = T.suite_info(code)
        assert info is not None and info.recommended == rec, hex(code)
    for code in EXTRA_CIPHER_SUITES:
        info = T.suite_info(code)
        assert info is not None and info.recommended == ""
    # RFC 8447 / RFC 9847 examples: TLS 1.3 GCM suites are Y, TLS_RSA_* N, ECDHE RC4 D.
    assert T.suite_info(0x1301).recommended == "Y"  # type: ignore[union-attr]
    assert T.suite_info(0x002F).recommended == "N"  # type: ignore[union-attr]
    assert T.suite_info(0xC011).recommended == "D"  # type: ignore[union-attr]


def test_snapshot_parser_sees_range_rows_as_non_entries() -> None:
    # tls-parameters-4: "0x00,0x1C-1D" is a reserved range, 0x0A0A a GREASE
    # reservation, 0xFF00-FFFF private use: none may come back as assignments.
    registry = _registry("tls-parameters-4.csv")
    assert 0x001C not in registry and 0x0A0A not in registry and 0xFF00 not in registry
    assert registry[0x00FF] == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"
    assert registry[0x5600] == "TLS_FALLBACK_SCSV"


# ---------------------------------------------------------------------------
# Spot checks from the RFCs
# ---------------------------------------------------------------------------


def test_rfc8446_appendix_b_values() -> None:
    # RFC 8446 B.3 HandshakeType
    for code, name in {1: "client_hello", 2: "server_hello", 4: "new_session_ticket",
                       5: "end_of_early_data", 8: "encrypted_extensions", 11: "certificate",
                       13: "certificate_request", 15: "certificate_verify", 20: "finished",
                       24: "key_update", 254: "message_hash"}.items():
        assert T.HANDSHAKE_TYPES[code] == name
    # RFC 8446 4.2 ExtensionType
    for code, name in {0: "server_name", 1: "max_fragment_length", 5: "status_request",
                       10: "supported_groups", 13: "signature_algorithms", 14: "use_srtp",
                       15: "heartbeat", 16: "application_layer_protocol_negotiation",
                       18: "signed_certificate_timestamp", 19: "client_certificate_type",
                       20: "server_certificate_type", 21: "padding", 41: "pre_shared_key",
                       42: "early_data", 43: "supported_versions", 44: "cookie",
                       45: "psk_key_exchange_modes", 47: "certificate_authorities",
                       48: "oid_filters", 49: "post_handshake_auth",
                       50: "signature_algorithms_cert", 51: "key_share"}.items():
        assert T.EXTENSION_TYPES[code] == name
    # RFC 8446 4.2.7 NamedGroup
    for code, name in {0x0017: "secp256r1", 0x0018: "secp384r1", 0x0019: "secp521r1",
                       0x001D: "x25519", 0x001E: "x448", 0x0100: "ffdhe2048",
                       0x0101: "ffdhe3072", 0x0102: "ffdhe4096", 0x0103: "ffdhe6144",
                       0x0104: "ffdhe8192"}.items():
        assert T.SUPPORTED_GROUPS[code] == name
    # RFC 8446 4.2.3 SignatureScheme
    for code, name in {0x0401: "rsa_pkcs1_sha256", 0x0501: "rsa_pkcs1_sha384",
                       0x0601: "rsa_pkcs1_sha512", 0x0403: "ecdsa_secp256r1_sha256",
                       0x0503: "ecdsa_secp384r1_sha384", 0x0603: "ecdsa_secp521r1_sha512",
                       0x0804: "rsa_pss_rsae_sha256", 0x0805: "rsa_pss_rsae_sha384",
                       0x0806: "rsa_pss_rsae_sha512", 0x0807: "ed25519", 0x0808: "ed448",
                       0x0809: "rsa_pss_pss_sha256", 0x080A: "rsa_pss_pss_sha384",
                       0x080B: "rsa_pss_pss_sha512", 0x0201: "rsa_pkcs1_sha1",
                       0x0203: "ecdsa_sha1"}.items():
        assert T.SIGNATURE_SCHEMES[code] == name
    # RFC 8446 B.2 AlertDescription
    for code, name in {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
                       22: "record_overflow", 40: "handshake_failure", 42: "bad_certificate",
                       47: "illegal_parameter", 48: "unknown_ca", 50: "decode_error",
                       70: "protocol_version", 80: "internal_error", 86: "inappropriate_fallback",
                       90: "user_canceled", 109: "missing_extension", 112: "unrecognized_name",
                       116: "certificate_required", 120: "no_application_protocol"}.items():
        assert T.ALERT_DESCRIPTIONS[code] == name
    # RFC 8446 B.1 ContentType, 4.2.9 PskKeyExchangeMode
    assert {c: T.CONTENT_TYPES[c] for c in range(20, 24)} == {
        20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}
    assert T.PSK_KEY_EXCHANGE_MODES == {0: "psk_ke", 1: "psk_dhe_ke"}


def test_historic_values_keep_registry_spelling() -> None:
    assert T.ALERT_DESCRIPTIONS[41] == "no_certificate_RESERVED"
    assert T.ALERT_DESCRIPTIONS[21] == "decryption_failed_RESERVED"
    assert T.HANDSHAKE_TYPES[6] == "hello_retry_request_RESERVED"
    assert T.HANDSHAKE_TYPES[0] == "hello_request_RESERVED"
    assert T.HANDSHAKE_TYPES[16] == "client_key_exchange_RESERVED"
    assert T.EXTENSION_TYPES[35] == "session_ticket"  # registry notes the rename; we drop the note
    assert T.ALERT_LEVELS == {1: "warning", 2: "fatal"}  # RFC 5246 7.2
    assert T.CONTENT_TYPES[24] == "heartbeat"  # RFC 6520 section 3
    assert T.HEARTBEAT_MESSAGE_TYPES == {1: "heartbeat_request", 2: "heartbeat_response"}


def test_extras_do_not_shadow_registered_values() -> None:
    assert not T._EXTRA_CIPHER_SUITES.keys() & T._IANA_CIPHER_SUITES.keys()
    assert not T._EXTRA_EXTENSION_TYPES.keys() & T._IANA_EXTENSION_TYPES.keys()
    assert not T._EXTRA_HANDSHAKE_TYPES.keys() & T._IANA_HANDSHAKE_TYPES.keys()


# ---------------------------------------------------------------------------
# GREASE, versions, name fallbacks
# ---------------------------------------------------------------------------

RFC8701_GREASE = [0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A, 0x5A5A, 0x6A6A, 0x7A7A,
                  0x8A8A, 0x9A9A, 0xAAAA, 0xBABA, 0xCACA, 0xDADA, 0xEAEA, 0xFAFA]
RFC8701_GREASE_PSK_MODES = [0x0B, 0x2A, 0x49, 0x68, 0x87, 0xA6, 0xC5, 0xE4]


def test_is_grease_exactly_rfc8701_values() -> None:
    assert [v for v in range(0x10000) if T.is_grease(v)] == RFC8701_GREASE
    for bad in (-1, 0x10A0A, 0x0A1A, 0x1A0A, 0x0A0B, None, "0x0a0a", 2570.0, True):
        assert not T.is_grease(bad)  # type: ignore[arg-type]


def test_is_grease_psk_mode() -> None:
    assert [v for v in range(256) if T.is_grease_psk_mode(v)] == RFC8701_GREASE_PSK_MODES
    assert not T.is_grease_psk_mode(0) and not T.is_grease_psk_mode(1)


def test_grease_is_not_a_registered_name() -> None:
    for table in (T.CIPHER_SUITES, T.EXTENSION_TYPES, T.SUPPORTED_GROUPS, T.SIGNATURE_SCHEMES):
        assert not set(RFC8701_GREASE) & table.keys()
    assert T.cipher_name(0x2A2A) == "GREASE"
    assert T.extension_name(0xFAFA) == "GREASE"
    assert T.group_name(0x0A0A) == "GREASE"
    assert T.signature_scheme_name(0x5A5A) == "GREASE"


def test_versions() -> None:
    assert T.version_name(0x0002) == "SSLv2"
    assert T.version_name(0x0300) == "SSLv3"
    assert T.version_name(0x0301) == "TLSv1.0"
    assert T.version_name(0x0302) == "TLSv1.1"
    assert T.version_name(0x0303) == "TLSv1.2"
    assert T.version_name(0x0304) == "TLSv1.3"
    # RFC 6347 4.1 / RFC 9147 5.3: DTLS versions are the 1's complement of x.y
    assert T.version_name(0xFEFF) == "DTLSv1.0"
    assert T.version_name(0xFEFD) == "DTLSv1.2"
    assert T.version_name(0xFEFC) == "DTLSv1.3"
    # draft-ietf-tls-tls13-28 4.2.1: drafts use 0x7f00 | draft number
    assert T.version_name(0x7F12) == "TLSv1.3-draft-18"
    assert T.version_name(0x7F1C) == "TLSv1.3-draft-28"
    assert T.version_name(0x7F01) == "TLSv1.3-draft-1"
    assert T.version_name(0x7F1D) == "0x7f1d"
    assert T.version_name(0xFB17) == "TLSv1.3-fizz-draft-23"
    assert T.version_name(0xFB1A) == "TLSv1.3-fizz-draft-26"
    assert T.version_name(0x0305) == "0x0305"
    assert T.version_name(0x0000) == "0x0000"
    for g in RFC8701_GREASE:
        assert T.VERSIONS[g] == "GREASE"


def test_name_of_fallbacks() -> None:
    assert T.name_of(T.CIPHER_SUITES, 0x1301) == "TLS_AES_128_GCM_SHA256"
    assert T.name_of(T.CIPHER_SUITES, 0x1399) == "0x1399"
    assert T.name_of(T.CIPHER_SUITES, 0x0A0A) == "GREASE"
    assert T.name_of(T.ALERT_DESCRIPTIONS, 200, width=2) == "0xc8"
    assert T.name_of(T.PSK_KEY_EXCHANGE_MODES, 0x0A, width=2) == "0x0a"  # no 16-bit GREASE at width 2
    assert T.name_of({}, 5, width=6) == "0x000005"
    assert T.cipher_name(0x5600) == "TLS_FALLBACK_SCSV"
    assert T.cipher_name(0x00FF) == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"
    assert T.cipher_name(0xFF42) == "0xff42"
    assert T.alert_name(47) == "illegal_parameter"
    assert T.alert_name(121) == "ech_required"  # RFC 9849
    assert T.alert_name(200) == "unknown_0xc8"
    assert T.alert_name(1) == "unknown_0x01"
    assert T.alert_level_name(2) == "fatal"
    assert T.alert_level_name(3) == "0x03"
    assert T.extension_name(0) == "server_name"
    assert T.extension_name(0xFE0D) == "encrypted_client_hello"
    assert T.extension_name(0x1234) == "0x1234"
    assert T.group_name(29) == "x25519"
    assert T.group_name(23) == "secp256r1"
    assert T.handshake_type_name(1) == "client_hello"
    assert T.handshake_type_name(99) == "0x63"
    assert T.content_type_name(22) == "handshake"
    assert T.content_type_name(99) == "0x63"


@pytest.mark.parametrize("bad", ["0x13", None, 1.5, b"\x13\x01"])
def test_lookups_reject_non_int_codes_clearly(bad: object) -> None:
    for fn in (T.cipher_name, T.version_name, T.alert_name, T.suite_info):
        with pytest.raises(TypeError, match="must be an int"):
            fn(bad)  # type: ignore[arg-type]


def test_signature_scheme_name_tls12_pairs() -> None:
    # RFC 5246 7.4.1.4.1: SignatureAndHashAlgorithm is (hash, signature).
    assert T.signature_scheme_name(0x0804) == "rsa_pss_rsae_sha256"
    assert T.signature_scheme_name(0x0201) == "rsa_pkcs1_sha1"  # registered name wins
    assert T.signature_scheme_name(0x0202) == "dsa_sha1"  # (sha1=2, dsa=2)
    assert T.signature_scheme_name(0x0301) == "rsa_sha224"  # (sha224=3, rsa=1)
    assert T.signature_scheme_name(0x0303) == "ecdsa_sha224"
    assert T.signature_scheme_name(0x0101) == "rsa_md5"
    assert T.signature_scheme_name(0x0400) == "0x0400"  # anonymous(0) never appears in the list
    assert T.signature_scheme_name(0x0E0E) == "0x0e0e"


def test_ssl2_cipher_kinds() -> None:
    # SSL 2.0 spec (draft-hickman-netscape-ssl-00), appendix A.
    assert T.SSL2_CIPHER_KINDS[0x010080] == "SSL_CK_RC4_128_WITH_MD5"
    assert T.SSL2_CIPHER_KINDS[0x020080] == "SSL_CK_RC4_128_EXPORT40_WITH_MD5"
    assert T.SSL2_CIPHER_KINDS[0x030080] == "SSL_CK_RC2_128_CBC_WITH_MD5"
    assert T.SSL2_CIPHER_KINDS[0x040080] == "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5"
    assert T.SSL2_CIPHER_KINDS[0x050080] == "SSL_CK_IDEA_128_CBC_WITH_MD5"
    assert T.SSL2_CIPHER_KINDS[0x060040] == "SSL_CK_DES_64_CBC_WITH_MD5"
    assert T.SSL2_CIPHER_KINDS[0x0700C0] == "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"
    # In an SSLv2-compatible ClientHello, 0x00XXYY carries TLS suite XXYY (RFC 5246 E.2).
    assert T.ssl2_cipher_kind_name(0x00002F) == "TLS_RSA_WITH_AES_128_CBC_SHA"
    assert T.ssl2_cipher_kind_name(0x0A0B0C) == "0x0a0b0c"


# ---------------------------------------------------------------------------
# Cipher-suite facts
# ---------------------------------------------------------------------------


def _facts(code: int) -> tuple[str, str, str, str, str]:
    info = T.suite_info(code)
    assert info is not None
    return info.kx, info.auth, info.cipher, info.mode, info.mac


def test_every_known_suite_parses() -> None:
    for code, name in T.CIPHER_SUITES.items():
        info = T.suite_info(code)
        assert info is not None and info.code == code and info.name == name


def test_suite_facts_from_the_rfcs() -> None:
    # RFC 8446 B.4: TLS 1.3 suites are AEAD + HKDF hash, no key exchange in the name.
    info = T.suite_info(0x1301)
    assert info is not None
    assert (info.is_tls13, info.cipher, info.mode, info.mac, info.is_aead, info.is_weak) == \
        (True, "AES_128", "GCM", "SHA256", True, False)
    assert _facts(0x1302)[2:] == ("AES_256", "GCM", "SHA384")
    assert _facts(0x1303)[2:] == ("CHACHA20", "CHACHA20_POLY1305", "SHA256")
    assert _facts(0x1304)[2:] == ("AES_128", "CCM", "SHA256")
    assert _facts(0x1305)[2:] == ("AES_128", "CCM_8", "SHA256")
    # RFC 5289 section 3.2
    assert _facts(0xC02F) == ("ECDHE", "RSA", "AES_128", "GCM", "SHA256")
    assert _facts(0xC02C) == ("ECDHE", "ECDSA", "AES_256", "GCM", "SHA384")
    assert _facts(0xC027) == ("ECDHE", "RSA", "AES_128", "CBC", "SHA256")
    # RFC 5246 A.5
    assert _facts(0x002F) == ("RSA", "RSA", "AES_128", "CBC", "SHA1")
    assert _facts(0x0004) == ("RSA", "RSA", "RC4_128", "STREAM", "MD5")
    assert _facts(0x0001) == ("RSA", "RSA", "NULL", "NULL", "MD5")
    assert _facts(0x000A) == ("RSA", "RSA", "3DES_EDE", "CBC", "SHA1")
    assert _facts(0x0033) == ("DHE", "RSA", "AES_128", "CBC", "SHA1")
    assert _facts(0x0034) == ("DH", "anon", "AES_128", "CBC", "SHA1")
    assert _facts(0x0000) == ("NULL", "NULL", "NULL", "NULL", "NULL")
    # RFC 5288
    assert _facts(0x009E) == ("DHE", "RSA", "AES_128", "GCM", "SHA256")
    # RFC 7905
    assert _facts(0xCCA8) == ("ECDHE", "RSA", "CHACHA20", "CHACHA20_POLY1305", "SHA256")
    # RFC 6655 / RFC 7251: CCM suites use the SHA-256 PRF although the name has no hash
    assert _facts(0xC09C) == ("RSA", "RSA", "AES_128", "CCM", "SHA256")
    assert _facts(0xC0AE) == ("ECDHE", "ECDSA", "AES_128", "CCM_8", "SHA256")
    assert _facts(0xC0AA)[:2] == ("DHE_PSK", "PSK")  # TLS_PSK_DHE_... spelling
    # RFC 4279 / RFC 5489
    assert _facts(0x008C) == ("PSK", "PSK", "AES_128", "CBC", "SHA1")
    assert _facts(0xC035) == ("ECDHE_PSK", "PSK", "AES_128", "CBC", "SHA1")
    # RFC 5054 SRP
    assert _facts(0xC01E)[:2] == ("SRP", "RSA")
    # RFC 9150: integrity-only TLS 1.3 suites
    info = T.suite_info(0xC0B4)
    assert info is not None and info.is_tls13 and info.cipher == "NULL" and info.is_weak
    # RFC 9367: GOST suites for TLS 1.3 keep a _WITH_ form
    info = T.suite_info(0xC103)
    assert info is not None and info.is_tls13 and info.mode == "MGM" and info.is_aead


def test_weakness() -> None:
    weak = {
        0x0004: {"rc4", "md5_mac"},  # RFC 7465 bans RC4; MD5 MAC
        0x0003: {"export", "rc4", "md5_mac"},  # RFC 4346 EXPORT
        0x0008: {"export", "des"},
        0x0009: {"des"},  # RFC 8996 / RFC 5469
        0x000A: {"3des"},  # Sweet32; 64-bit block
        0x0018: {"anonymous", "rc4", "md5_mac"},
        0x0001: {"null_encryption", "md5_mac"},
        0x0002: {"null_encryption"},
        0x0000: {"null_encryption", "anonymous"},
        0xC015: {"null_encryption", "anonymous"},  # ECDH_anon_WITH_NULL_SHA
        0x0007: {"idea"},
        0x0006: {"export", "rc2", "md5_mac"},
    }
    for code, reasons in weak.items():
        info = T.suite_info(code)
        assert info is not None and info.is_weak and set(info.weak_reasons) == reasons, hex(code)
        assert T.is_weak_suite(code)
    for code in (0x1301, 0x1302, 0x1303, 0xC02F, 0xC030, 0xCCA8, 0xCCA9, 0x009E, 0x002F, 0x00FF, 0x5600):
        assert not T.is_weak_suite(code), hex(code)
    assert not T.is_weak_suite(0x1399)  # unknown code: nothing to say


def test_flags_agree_with_name_text() -> None:
    for code, name in T.CIPHER_SUITES.items():
        info = T.suite_info(code)
        assert info is not None
        assert info.is_export == ("_EXPORT" in name), name
        assert info.is_scsv == name.endswith("_SCSV"), name
        if "_anon_" in name:
            assert info.is_anonymous and info.is_weak, name
        for word, reason in (("_RC4_", "rc4"), ("_MD5", "md5_mac"), ("_3DES_", "3des")):
            if word in name:
                assert reason in info.weak_reasons, name
        if "_WITH_" not in name and not info.is_scsv:
            assert info.is_tls13 and info.kx == "TLS13", name
        if name.startswith(("TLS_ECDHE_", "TLS_DHE_")):
            assert info.forward_secrecy, name
        if name.startswith("TLS_RSA_WITH_"):
            assert not info.forward_secrecy and info.kx == "RSA", name
        assert info.is_aead == (info.mode in {"GCM", "CCM", "CCM_8", "CHACHA20_POLY1305",
                                              "MGM", "AEGIS", "ASCON"})
        if info.mode == "CBC":
            assert "_CBC_" in name
        assert info.key_bits >= 0


def test_scsv_and_unknown_suites() -> None:
    for code in (0x00FF, 0x5600):
        info = T.suite_info(code)
        assert info is not None and info.is_scsv and not info.is_weak
    assert T.suite_info(0x0A0A) is None  # GREASE
    assert T.suite_info(0x1399) is None


def test_parse_suite_name_rejects_garbage() -> None:
    for bad in ("", "HELLO", "TLS_FOO_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_BLOWFISH_SHA"):
        with pytest.raises(ValueError):
            T.parse_suite_name(0, bad)


# ---------------------------------------------------------------------------
# Cross-check with Wireshark's tables (an independent implementation)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wireshark_values() -> dict[str, dict[int, str]]:
    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.skip("tshark not installed")
    out = subprocess.run([tshark, "-G", "values"], capture_output=True,
                         timeout=120, check=False).stdout
    fields: dict[str, dict[int, str]] = {}
    for raw in out.split(b"\n"):
        if not raw.startswith(b"V\ttls."):  # value strings of the TLS dissector only
            continue
        parts = raw.decode("utf-8", "replace").split("\t")
        if len(parts) >= 4:
            fields.setdefault(parts[1], {})[int(parts[2], 0)] = parts[3]
    if "tls.handshake.ciphersuite" not in fields:
        pytest.skip("tshark printed no TLS value strings")
    return fields


def test_cipher_suite_names_agree_with_wireshark(wireshark_values: dict[str, dict[int, str]]) -> None:
    ws = wireshark_values["tls.handshake.ciphersuite"]
    ours = {c: re.sub(r"_(OLD|LEGACY)$", "", n) for c, n in T.CIPHER_SUITES.items()}
    common = ours.keys() & ws.keys()
    assert len(common) > 300
    differ = {hex(c): (ours[c], ws[c]) for c in common if ours[c] != ws[c]}
    assert not differ


def test_ssl2_kinds_agree_with_wireshark(wireshark_values: dict[str, dict[int, str]]) -> None:
    ws = wireshark_values["tls.handshake.cipherspec"]
    for kind, name in T.SSL2_CIPHER_KINDS.items():
        # Wireshark spells SSL_CK_X as SSL2_X
        assert ws[kind] == "SSL2_" + name.removeprefix("SSL_CK_")


def test_extension_names_agree_with_wireshark(wireshark_values: dict[str, dict[int, str]]) -> None:
    ws = wireshark_values["tls.handshake.extension.type"]
    registry = _registry("tls-extensiontype-values-1.csv")
    common = registry.keys() & ws.keys()
    assert len(common) > 40
    assert {c: T.EXTENSION_TYPES[c] for c in common} == {c: ws[c] for c in common}


def test_module_stays_cheap_to_import() -> None:
    # Every part of tlsdissect imports this module; it must only need the
    # standard library and do no file or registry parsing at import time.
    import ast

    tree = ast.parse(Path(T.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert imported <= {"__future__", "re", "collections.abc", "dataclasses", "functools"}
    assert "open(" not in Path(T.__file__).read_text()
