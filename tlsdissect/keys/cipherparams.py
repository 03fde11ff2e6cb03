"""Record-protection parameters of the cipher suites we can decrypt.

The table is written as IANA suite names and the parameters are read off the
name (bulk cipher, key size, mode, MAC / PRF hash), so each row can be checked
against the IANA registry by eye.  Only what record decryption needs is here:
names for display live with the handshake parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tlsdissect.errors import TlsDissectError

__all__ = ["SuiteParams", "UnsupportedCipherSuite", "suite_params", "SUPPORTED_SUITES", "LEFT_OUT_SUITES"]

Kind = Literal["aead", "block", "stream", "null"]


class UnsupportedCipherSuite(TlsDissectError):
    """The negotiated cipher suite is not one we can decrypt."""

    def __init__(self, code: int, reason: str = "") -> None:
        self.code = code
        self.reason = reason or LEFT_OUT_SUITES.get(code, "not in the decryption table")
        super().__init__(f"cannot decrypt cipher suite 0x{code:04x}: {self.reason}")


@dataclass(frozen=True)
class SuiteParams:
    """How records of one suite are protected.

    ``fixed_iv_len`` is what the key block (TLS <= 1.2) or the traffic secret
    (TLS 1.3) supplies: the 4-byte GCM/CCM salt, the 12-byte ChaCha20 /
    TLS 1.3 IV, or a CBC initial IV (used by SSL 3.0 and TLS 1.0 only).
    ``explicit_nonce_len`` is carried in each TLS 1.2 AEAD record (8 for
    GCM/CCM, 0 for ChaCha20).  ``key_material_len`` differs from ``key_len``
    only for export suites, whose short key block key is expanded.
    """

    code: int
    name: str
    kind: Kind
    cipher: str  # AES, CHACHA20, 3DES, DES, RC4, RC2, CAMELLIA, SEED, IDEA, NULL
    mode: str  # GCM, CCM, CCM_8, POLY1305, CBC, STREAM, NULL
    key_len: int
    fixed_iv_len: int
    explicit_nonce_len: int
    block_size: int
    tag_len: int
    mac: str | None  # MD5, SHA1, SHA256, SHA384 (HMAC) or None for AEAD
    mac_len: int
    prf_hash: str  # SHA256 or SHA384 (TLS 1.2 PRF / TLS 1.3 HKDF hash)
    tls13: bool = False
    export: bool = False
    key_material_len: int = 0

    @property
    def is_aead(self) -> bool:
        return self.kind == "aead"


_TLS13 = {
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0x1304: "TLS_AES_128_CCM_SHA256",
    0x1305: "TLS_AES_128_CCM_8_SHA256",
}

_TLS12 = {
    # NULL encryption
    0x0001: "TLS_RSA_WITH_NULL_MD5",
    0x0002: "TLS_RSA_WITH_NULL_SHA",
    0x002C: "TLS_PSK_WITH_NULL_SHA",
    0x002D: "TLS_DHE_PSK_WITH_NULL_SHA",
    0x002E: "TLS_RSA_PSK_WITH_NULL_SHA",
    0x003B: "TLS_RSA_WITH_NULL_SHA256",
    0x00B0: "TLS_PSK_WITH_NULL_SHA256",
    0x00B1: "TLS_PSK_WITH_NULL_SHA384",
    0x00B4: "TLS_DHE_PSK_WITH_NULL_SHA256",
    0x00B5: "TLS_DHE_PSK_WITH_NULL_SHA384",
    0x00B8: "TLS_RSA_PSK_WITH_NULL_SHA256",
    0x00B9: "TLS_RSA_PSK_WITH_NULL_SHA384",
    0xC001: "TLS_ECDH_ECDSA_WITH_NULL_SHA",
    0xC006: "TLS_ECDHE_ECDSA_WITH_NULL_SHA",
    0xC00B: "TLS_ECDH_RSA_WITH_NULL_SHA",
    0xC010: "TLS_ECDHE_RSA_WITH_NULL_SHA",
    0xC015: "TLS_ECDH_anon_WITH_NULL_SHA",
    0xC039: "TLS_ECDHE_PSK_WITH_NULL_SHA",
    0xC03A: "TLS_ECDHE_PSK_WITH_NULL_SHA256",
    0xC03B: "TLS_ECDHE_PSK_WITH_NULL_SHA384",
    # Export suites (40-bit keys expanded from the randoms)
    0x0003: "TLS_RSA_EXPORT_WITH_RC4_40_MD5",
    0x0006: "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5",
    0x0008: "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA",
    0x000B: "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA",
    0x000E: "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA",
    0x0011: "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA",
    0x0014: "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA",
    0x0017: "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5",
    0x0019: "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA",
    # RC4
    0x0004: "TLS_RSA_WITH_RC4_128_MD5",
    0x0005: "TLS_RSA_WITH_RC4_128_SHA",
    0x0018: "TLS_DH_anon_WITH_RC4_128_MD5",
    0x008A: "TLS_PSK_WITH_RC4_128_SHA",
    0x008E: "TLS_DHE_PSK_WITH_RC4_128_SHA",
    0x0092: "TLS_RSA_PSK_WITH_RC4_128_SHA",
    0xC002: "TLS_ECDH_ECDSA_WITH_RC4_128_SHA",
    0xC007: "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    0xC00C: "TLS_ECDH_RSA_WITH_RC4_128_SHA",
    0xC011: "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    0xC016: "TLS_ECDH_anon_WITH_RC4_128_SHA",
    0xC033: "TLS_ECDHE_PSK_WITH_RC4_128_SHA",
    # IDEA, single DES
    0x0007: "TLS_RSA_WITH_IDEA_CBC_SHA",
    0x0009: "TLS_RSA_WITH_DES_CBC_SHA",
    0x000C: "TLS_DH_DSS_WITH_DES_CBC_SHA",
    0x000F: "TLS_DH_RSA_WITH_DES_CBC_SHA",
    0x0012: "TLS_DHE_DSS_WITH_DES_CBC_SHA",
    0x0015: "TLS_DHE_RSA_WITH_DES_CBC_SHA",
    0x001A: "TLS_DH_anon_WITH_DES_CBC_SHA",
    # 3DES
    0x000A: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    0x000D: "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA",
    0x0010: "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA",
    0x0013: "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",
    0x0016: "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
    0x001B: "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA",
    0x008B: "TLS_PSK_WITH_3DES_EDE_CBC_SHA",
    0x008F: "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA",
    0x0093: "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA",
    0xC003: "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA",
    0xC008: "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
    0xC00D: "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA",
    0xC012: "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    0xC017: "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA",
    0xC01A: "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA",
    0xC01B: "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA",
    0xC01C: "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA",
    0xC034: "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA",
    # AES-CBC
    0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA",
    0x0030: "TLS_DH_DSS_WITH_AES_128_CBC_SHA",
    0x0031: "TLS_DH_RSA_WITH_AES_128_CBC_SHA",
    0x0032: "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
    0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    0x0034: "TLS_DH_anon_WITH_AES_128_CBC_SHA",
    0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
    0x0036: "TLS_DH_DSS_WITH_AES_256_CBC_SHA",
    0x0037: "TLS_DH_RSA_WITH_AES_256_CBC_SHA",
    0x0038: "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",
    0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    0x003A: "TLS_DH_anon_WITH_AES_256_CBC_SHA",
    0x003C: "TLS_RSA_WITH_AES_128_CBC_SHA256",
    0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",
    0x003E: "TLS_DH_DSS_WITH_AES_128_CBC_SHA256",
    0x003F: "TLS_DH_RSA_WITH_AES_128_CBC_SHA256",
    0x0040: "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
    0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    0x0068: "TLS_DH_DSS_WITH_AES_256_CBC_SHA256",
    0x0069: "TLS_DH_RSA_WITH_AES_256_CBC_SHA256",
    0x006A: "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
    0x006B: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    0x006C: "TLS_DH_anon_WITH_AES_128_CBC_SHA256",
    0x006D: "TLS_DH_anon_WITH_AES_256_CBC_SHA256",
    0x008C: "TLS_PSK_WITH_AES_128_CBC_SHA",
    0x008D: "TLS_PSK_WITH_AES_256_CBC_SHA",
    0x0090: "TLS_DHE_PSK_WITH_AES_128_CBC_SHA",
    0x0091: "TLS_DHE_PSK_WITH_AES_256_CBC_SHA",
    0x0094: "TLS_RSA_PSK_WITH_AES_128_CBC_SHA",
    0x0095: "TLS_RSA_PSK_WITH_AES_256_CBC_SHA",
    0x00AE: "TLS_PSK_WITH_AES_128_CBC_SHA256",
    0x00AF: "TLS_PSK_WITH_AES_256_CBC_SHA384",
    0x00B2: "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256",
    0x00B3: "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384",
    0x00B6: "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256",
    0x00B7: "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384",
    0xC004: "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA",
    0xC005: "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA",
    0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    0xC00E: "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA",
    0xC00F: "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA",
    0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    0xC018: "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",
    0xC019: "TLS_ECDH_anon_WITH_AES_256_CBC_SHA",
    0xC01D: "TLS_SRP_SHA_WITH_AES_128_CBC_SHA",
    0xC01E: "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA",
    0xC01F: "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA",
    0xC020: "TLS_SRP_SHA_WITH_AES_256_CBC_SHA",
    0xC021: "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA",
    0xC022: "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA",
    0xC023: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    0xC024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    0xC025: "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256",
    0xC026: "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384",
    0xC027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    0xC028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    0xC029: "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256",
    0xC02A: "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384",
    0xC035: "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA",
    0xC036: "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA",
    0xC037: "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
    0xC038: "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384",
    # CAMELLIA-CBC
    0x0041: "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA",
    0x0042: "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA",
    0x0043: "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA",
    0x0044: "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA",
    0x0045: "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA",
    0x0046: "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA",
    0x0084: "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA",
    0x0085: "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA",
    0x0086: "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA",
    0x0087: "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA",
    0x0088: "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA",
    0x0089: "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA",
    0x00BA: "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    0x00BB: "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA256",
    0x00BC: "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    0x00BD: "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256",
    0x00BE: "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    0x00BF: "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256",
    0x00C0: "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256",
    0x00C1: "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA256",
    0x00C2: "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA256",
    0x00C3: "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256",
    0x00C4: "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256",
    0x00C5: "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256",
    0xC072: "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",
    0xC073: "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",
    0xC074: "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",
    0xC075: "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",
    0xC076: "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    0xC077: "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384",
    0xC078: "TLS_ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    0xC079: "TLS_ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384",
    # SEED-CBC
    0x0096: "TLS_RSA_WITH_SEED_CBC_SHA",
    0x0097: "TLS_DH_DSS_WITH_SEED_CBC_SHA",
    0x0098: "TLS_DH_RSA_WITH_SEED_CBC_SHA",
    0x0099: "TLS_DHE_DSS_WITH_SEED_CBC_SHA",
    0x009A: "TLS_DHE_RSA_WITH_SEED_CBC_SHA",
    0x009B: "TLS_DH_anon_WITH_SEED_CBC_SHA",
    # AES-GCM
    0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256",
    0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",
    0x009E: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    0x009F: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    0x00A0: "TLS_DH_RSA_WITH_AES_128_GCM_SHA256",
    0x00A1: "TLS_DH_RSA_WITH_AES_256_GCM_SHA384",
    0x00A2: "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",
    0x00A3: "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
    0x00A4: "TLS_DH_DSS_WITH_AES_128_GCM_SHA256",
    0x00A5: "TLS_DH_DSS_WITH_AES_256_GCM_SHA384",
    0x00A6: "TLS_DH_anon_WITH_AES_128_GCM_SHA256",
    0x00A7: "TLS_DH_anon_WITH_AES_256_GCM_SHA384",
    0x00A8: "TLS_PSK_WITH_AES_128_GCM_SHA256",
    0x00A9: "TLS_PSK_WITH_AES_256_GCM_SHA384",
    0x00AA: "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256",
    0x00AB: "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384",
    0x00AC: "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256",
    0x00AD: "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384",
    0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    0xC02D: "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256",
    0xC02E: "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384",
    0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    0xC031: "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256",
    0xC032: "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384",
    0xD001: "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256",
    0xD002: "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384",
    # AES-CCM (RFC 6655, RFC 7251, RFC 8442)
    0xC09C: "TLS_RSA_WITH_AES_128_CCM",
    0xC09D: "TLS_RSA_WITH_AES_256_CCM",
    0xC09E: "TLS_DHE_RSA_WITH_AES_128_CCM",
    0xC09F: "TLS_DHE_RSA_WITH_AES_256_CCM",
    0xC0A0: "TLS_RSA_WITH_AES_128_CCM_8",
    0xC0A1: "TLS_RSA_WITH_AES_256_CCM_8",
    0xC0A2: "TLS_DHE_RSA_WITH_AES_128_CCM_8",
    0xC0A3: "TLS_DHE_RSA_WITH_AES_256_CCM_8",
    0xC0A4: "TLS_PSK_WITH_AES_128_CCM",
    0xC0A5: "TLS_PSK_WITH_AES_256_CCM",
    0xC0A6: "TLS_DHE_PSK_WITH_AES_128_CCM",
    0xC0A7: "TLS_DHE_PSK_WITH_AES_256_CCM",
    0xC0A8: "TLS_PSK_WITH_AES_128_CCM_8",
    0xC0A9: "TLS_PSK_WITH_AES_256_CCM_8",
    0xC0AA: "TLS_PSK_DHE_WITH_AES_128_CCM_8",
    0xC0AB: "TLS_PSK_DHE_WITH_AES_256_CCM_8",
    0xC0AC: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
    0xC0AD: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
    0xC0AE: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
    0xC0AF: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
    0xD003: "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256",
    0xD005: "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256",
    # ChaCha20-Poly1305 (RFC 7905)
    0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAA: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAB: "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAC: "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAD: "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAE: "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256",
}

#: Suites deliberately not in the table, and why (shown in UnsupportedCipherSuite).
LEFT_OUT_SUITES: dict[int, str] = {
    0x0000: "TLS_NULL_WITH_NULL_NULL: records are not protected, nothing to decrypt",
    0xCC13: "pre-RFC 7905 ChaCha20-Poly1305 draft suite (different nonce and AAD)",
    0xCC14: "pre-RFC 7905 ChaCha20-Poly1305 draft suite (different nonce and AAD)",
    0xCC15: "pre-RFC 7905 ChaCha20-Poly1305 draft suite (different nonce and AAD)",
    0xC0B4: "TLS_SHA256_SHA256 (RFC 9150 integrity-only TLS 1.3): not supported",
    0xC0B5: "TLS_SHA384_SHA384 (RFC 9150 integrity-only TLS 1.3): not supported",
    0x00C6: "TLS_SM4_GCM_SM3 (RFC 8998): not implemented (no published trace to test against)",
    0x00C7: "TLS_SM4_CCM_SM3 (RFC 8998): the cryptography package has no SM4-CCM",
}
for _code in list(range(0xC03C, 0xC072)) + list(range(0xC07A, 0xC094)):
    LEFT_OUT_SUITES[_code] = "ARIA and CAMELLIA-GCM suites: the cryptography package has no ARIA or Camellia-GCM"
for _code in (0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0026, 0x0027, 0x0028, 0x0029, 0x002A, 0x002B):
    LEFT_OUT_SUITES[_code] = "Kerberos / 1024-bit export draft suite: not supported"
for _code in range(0x001E, 0x0026):
    LEFT_OUT_SUITES[_code] = "Kerberos (KRB5) suite: not supported"

_BLOCK = {"AES": 16, "CAMELLIA": 16, "SEED": 16, "3DES": 8, "DES": 8, "DES40": 8, "IDEA": 8, "RC2": 8}
_MAC_LEN = {"MD5": 16, "SHA1": 20, "SHA256": 32, "SHA384": 48}
_BULK = re.compile(r"_WITH_(?P<bulk>.+?)_(?P<hash>MD5|SHA|SHA256|SHA384)$|_WITH_(?P<ccm>AES_(?:128|256)_CCM(?:_8)?)$")


def _parse(code: int, name: str, tls13: bool) -> SuiteParams:
    """Read the record-protection parameters off an IANA suite name."""
    export = "_EXPORT_" in name
    if tls13:
        m = re.match(r"TLS_(?P<bulk>.+)_(?P<hash>SHA256|SHA384)$", name)
    else:
        m = _BULK.search(name)
    if m is None:
        raise ValueError(f"cannot parse suite name {name}")
    if m.groupdict().get("ccm"):
        bulk, hash_part = m.group("ccm"), "SHA256"
    else:
        bulk, hash_part = m.group("bulk"), m.group("hash")
    hash_name = "SHA1" if hash_part == "SHA" else hash_part

    aead = re.fullmatch(r"AES_(128|256)_(GCM|CCM_8|CCM)", bulk)
    if aead:
        key_len = int(aead.group(1)) // 8
        mode = aead.group(2)
        tag = 8 if mode == "CCM_8" else 16
        return SuiteParams(
            code,
            name,
            "aead",
            "AES",
            mode,
            key_len,
            12 if tls13 else 4,
            0 if tls13 else 8,
            16,
            tag,
            None,
            0,
            hash_name if hash_name != "SHA1" else "SHA256",
            tls13,
        )
    if bulk == "CHACHA20_POLY1305":
        return SuiteParams(code, name, "aead", "CHACHA20", "POLY1305", 32, 12, 0, 1, 16, None, 0, "SHA256", tls13)
    # Not AEAD: the trailing hash is the HMAC; the TLS 1.2 PRF is SHA-384 only for *_SHA384.
    prf_hash = "SHA384" if hash_name == "SHA384" else "SHA256"
    mac_len = _MAC_LEN[hash_name]
    if bulk == "NULL":
        return SuiteParams(code, name, "null", "NULL", "NULL", 0, 0, 0, 1, 0, hash_name, mac_len, prf_hash)
    rc4 = re.fullmatch(r"RC4_(128|40)", bulk)
    if rc4:
        material = 5 if rc4.group(1) == "40" else 16
        return SuiteParams(
            code,
            name,
            "stream",
            "RC4",
            "STREAM",
            16,
            0,
            0,
            1,
            0,
            hash_name,
            mac_len,
            prf_hash,
            export=export,
            key_material_len=material,
        )
    cbc = re.fullmatch(r"(AES|CAMELLIA)_(128|256)_CBC|(3DES)_EDE_CBC|(DES40|DES|SEED|IDEA)_CBC|(RC2)_CBC_40", bulk)
    if cbc:
        cipher = cbc.group(1) or cbc.group(3) or cbc.group(4) or cbc.group(5)
        key_len = {"3DES": 24, "DES": 8, "DES40": 8, "SEED": 16, "IDEA": 16, "RC2": 16}.get(cipher) or int(
            cbc.group(2)
        ) // 8
        block = _BLOCK[cipher]
        material = 5 if cipher in ("DES40", "RC2") else key_len
        return SuiteParams(
            code,
            name,
            "block",
            "DES" if cipher == "DES40" else cipher,
            "CBC",
            key_len,
            block,
            0,
            block,
            0,
            hash_name,
            mac_len,
            prf_hash,
            export=export,
            key_material_len=material,
        )
    raise ValueError(f"no parameters for bulk cipher {bulk} in {name}")


def _build() -> dict[int, SuiteParams]:
    table: dict[int, SuiteParams] = {}
    for names, tls13 in ((_TLS13, True), (_TLS12, False)):
        for code, name in names.items():
            p = _parse(code, name, tls13)
            if p.key_material_len == 0 and p.key_len:
                p = SuiteParams(**{**p.__dict__, "key_material_len": p.key_len})
            table[code] = p
    return table


SUPPORTED_SUITES: dict[int, SuiteParams] = _build()


def suite_params(code: int) -> SuiteParams:
    """Parameters for a suite code; raises UnsupportedCipherSuite naming it otherwise."""
    try:
        return SUPPORTED_SUITES[code]
    except KeyError:
        raise UnsupportedCipherSuite(code) from None
