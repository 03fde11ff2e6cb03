"""TLS protocol constants: the IANA TLS registries plus the facts we derive from them.

Why this module exists: every other part of tlsdissect needs to turn wire codes
(cipher suite 0xC02F, alert 47, group 29, ...) into the names people search for,
and the diagnosis needs to know what a negotiated cipher suite *means* (key
exchange, bulk cipher, whether it is weak).  Keeping every table here, as literal
dicts, means one place to update and an import that costs nothing but parsing
this file.

Sources: the registry rows below were taken from IANA CSV snapshots kept in
tests/data/iana/ (see the README there for where each came from and when);
tests/test_tables.py re-reads those snapshots and checks every registered value
is here with the same name.  Names are the registry's spelling, except that
"(renamed from ...)" notes are dropped.  Values that are not (or not yet, in our
snapshot) in a registry but do show up in real captures are kept in separate
``_EXTRA_*`` dicts so the difference stays visible.

Cipher-suite facts (key exchange, authentication, cipher, mode, hash, weakness)
are derived by parsing the registry names on first use (``suite_info``), not
typed in by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

# ---------------------------------------------------------------------------
# Registry tables (from the IANA snapshots in tests/data/iana/)
# ---------------------------------------------------------------------------

# TLS Cipher Suites (tls-parameters-4)
_IANA_CIPHER_SUITES: dict[int, str] = {
    0x0000: 'TLS_NULL_WITH_NULL_NULL',
    0x0001: 'TLS_RSA_WITH_NULL_MD5',
    0x0002: 'TLS_RSA_WITH_NULL_SHA',
    0x0003: 'TLS_RSA_EXPORT_WITH_RC4_40_MD5',
    0x0004: 'TLS_RSA_WITH_RC4_128_MD5',
    0x0005: 'TLS_RSA_WITH_RC4_128_SHA',
    0x0006: 'TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5',
    0x0007: 'TLS_RSA_WITH_IDEA_CBC_SHA',
    0x0008: 'TLS_RSA_EXPORT_WITH_DES40_CBC_SHA',
    0x0009: 'TLS_RSA_WITH_DES_CBC_SHA',
    0x000A: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
    0x000B: 'TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA',
    0x000C: 'TLS_DH_DSS_WITH_DES_CBC_SHA',
    0x000D: 'TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA',
    0x000E: 'TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA',
    0x000F: 'TLS_DH_RSA_WITH_DES_CBC_SHA',
    0x0010: 'TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA',
    0x0011: 'TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA',
    0x0012: 'TLS_DHE_DSS_WITH_DES_CBC_SHA',
    0x0013: 'TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA',
    0x0014: 'TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA',
    0x0015: 'TLS_DHE_RSA_WITH_DES_CBC_SHA',
    0x0016: 'TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA',
    0x0017: 'TLS_DH_anon_EXPORT_WITH_RC4_40_MD5',
    0x0018: 'TLS_DH_anon_WITH_RC4_128_MD5',
    0x0019: 'TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA',
    0x001A: 'TLS_DH_anon_WITH_DES_CBC_SHA',
    0x001B: 'TLS_DH_anon_WITH_3DES_EDE_CBC_SHA',
    0x001E: 'TLS_KRB5_WITH_DES_CBC_SHA',
    0x001F: 'TLS_KRB5_WITH_3DES_EDE_CBC_SHA',
    0x0020: 'TLS_KRB5_WITH_RC4_128_SHA',
    0x0021: 'TLS_KRB5_WITH_IDEA_CBC_SHA',
    0x0022: 'TLS_KRB5_WITH_DES_CBC_MD5',
    0x0023: 'TLS_KRB5_WITH_3DES_EDE_CBC_MD5',
    0x0024: 'TLS_KRB5_WITH_RC4_128_MD5',
    0x0025: 'TLS_KRB5_WITH_IDEA_CBC_MD5',
    0x0026: 'TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA',
    0x0027: 'TLS_KRB5_EXPORT_WITH_RC2_CBC_40_SHA',
    0x0028: 'TLS_KRB5_EXPORT_WITH_RC4_40_SHA',
    0x0029: 'TLS_KRB5_EXPORT_WITH_DES_CBC_40_MD5',
    0x002A: 'TLS_KRB5_EXPORT_WITH_RC2_CBC_40_MD5',
    0x002B: 'TLS_KRB5_EXPORT_WITH_RC4_40_MD5',
    0x002C: 'TLS_PSK_WITH_NULL_SHA',
    0x002D: 'TLS_DHE_PSK_WITH_NULL_SHA',
    0x002E: 'TLS_RSA_PSK_WITH_NULL_SHA',
    0x002F: 'TLS_RSA_WITH_AES_128_CBC_SHA',
    0x0030: 'TLS_DH_DSS_WITH_AES_128_CBC_SHA',
    0x0031: 'TLS_DH_RSA_WITH_AES_128_CBC_SHA',
    0x0032: 'TLS_DHE_DSS_WITH_AES_128_CBC_SHA',
    0x0033: 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA',
    0x0034: 'TLS_DH_anon_WITH_AES_128_CBC_SHA',
    0x0035: 'TLS_RSA_WITH_AES_256_CBC_SHA',
    0x0036: 'TLS_DH_DSS_WITH_AES_256_CBC_SHA',
    0x0037: 'TLS_DH_RSA_WITH_AES_256_CBC_SHA',
    0x0038: 'TLS_DHE_DSS_WITH_AES_256_CBC_SHA',
    0x0039: 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA',
    0x003A: 'TLS_DH_anon_WITH_AES_256_CBC_SHA',
    0x003B: 'TLS_RSA_WITH_NULL_SHA256',
    0x003C: 'TLS_RSA_WITH_AES_128_CBC_SHA256',
    0x003D: 'TLS_RSA_WITH_AES_256_CBC_SHA256',
    0x003E: 'TLS_DH_DSS_WITH_AES_128_CBC_SHA256',
    0x003F: 'TLS_DH_RSA_WITH_AES_128_CBC_SHA256',
    0x0040: 'TLS_DHE_DSS_WITH_AES_128_CBC_SHA256',
    0x0041: 'TLS_RSA_WITH_CAMELLIA_128_CBC_SHA',
    0x0042: 'TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA',
    0x0043: 'TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA',
    0x0044: 'TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA',
    0x0045: 'TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA',
    0x0046: 'TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA',
    0x0067: 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256',
    0x0068: 'TLS_DH_DSS_WITH_AES_256_CBC_SHA256',
    0x0069: 'TLS_DH_RSA_WITH_AES_256_CBC_SHA256',
    0x006A: 'TLS_DHE_DSS_WITH_AES_256_CBC_SHA256',
    0x006B: 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256',
    0x006C: 'TLS_DH_anon_WITH_AES_128_CBC_SHA256',
    0x006D: 'TLS_DH_anon_WITH_AES_256_CBC_SHA256',
    0x006E: 'TLS_ASCONAEAD128_ASCONHASH256',
    0x006F: 'TLS_ASCONAEAD128_SHA256',
    0x0070: 'TLS_AES_128_GCM_ASCONHASH256',
    0x0071: 'TLS_AES_128_CCM_ASCONHASH256',
    0x0084: 'TLS_RSA_WITH_CAMELLIA_256_CBC_SHA',
    0x0085: 'TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA',
    0x0086: 'TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA',
    0x0087: 'TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA',
    0x0088: 'TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA',
    0x0089: 'TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA',
    0x008A: 'TLS_PSK_WITH_RC4_128_SHA',
    0x008B: 'TLS_PSK_WITH_3DES_EDE_CBC_SHA',
    0x008C: 'TLS_PSK_WITH_AES_128_CBC_SHA',
    0x008D: 'TLS_PSK_WITH_AES_256_CBC_SHA',
    0x008E: 'TLS_DHE_PSK_WITH_RC4_128_SHA',
    0x008F: 'TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA',
    0x0090: 'TLS_DHE_PSK_WITH_AES_128_CBC_SHA',
    0x0091: 'TLS_DHE_PSK_WITH_AES_256_CBC_SHA',
    0x0092: 'TLS_RSA_PSK_WITH_RC4_128_SHA',
    0x0093: 'TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA',
    0x0094: 'TLS_RSA_PSK_WITH_AES_128_CBC_SHA',
    0x0095: 'TLS_RSA_PSK_WITH_AES_256_CBC_SHA',
    0x0096: 'TLS_RSA_WITH_SEED_CBC_SHA',
    0x0097: 'TLS_DH_DSS_WITH_SEED_CBC_SHA',
    0x0098: 'TLS_DH_RSA_WITH_SEED_CBC_SHA',
    0x0099: 'TLS_DHE_DSS_WITH_SEED_CBC_SHA',
    0x009A: 'TLS_DHE_RSA_WITH_SEED_CBC_SHA',
    0x009B: 'TLS_DH_anon_WITH_SEED_CBC_SHA',
    0x009C: 'TLS_RSA_WITH_AES_128_GCM_SHA256',
    0x009D: 'TLS_RSA_WITH_AES_256_GCM_SHA384',
    0x009E: 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
    0x009F: 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
    0x00A0: 'TLS_DH_RSA_WITH_AES_128_GCM_SHA256',
    0x00A1: 'TLS_DH_RSA_WITH_AES_256_GCM_SHA384',
    0x00A2: 'TLS_DHE_DSS_WITH_AES_128_GCM_SHA256',
    0x00A3: 'TLS_DHE_DSS_WITH_AES_256_GCM_SHA384',
    0x00A4: 'TLS_DH_DSS_WITH_AES_128_GCM_SHA256',
    0x00A5: 'TLS_DH_DSS_WITH_AES_256_GCM_SHA384',
    0x00A6: 'TLS_DH_anon_WITH_AES_128_GCM_SHA256',
    0x00A7: 'TLS_DH_anon_WITH_AES_256_GCM_SHA384',
    0x00A8: 'TLS_PSK_WITH_AES_128_GCM_SHA256',
    0x00A9: 'TLS_PSK_WITH_AES_256_GCM_SHA384',
    0x00AA: 'TLS_DHE_PSK_WITH_AES_128_GCM_SHA256',
    0x00AB: 'TLS_DHE_PSK_WITH_AES_256_GCM_SHA384',
    0x00AC: 'TLS_RSA_PSK_WITH_AES_128_GCM_SHA256',
    0x00AD: 'TLS_RSA_PSK_WITH_AES_256_GCM_SHA384',
    0x00AE: 'TLS_PSK_WITH_AES_128_CBC_SHA256',
    0x00AF: 'TLS_PSK_WITH_AES_256_CBC_SHA384',
    0x00B0: 'TLS_PSK_WITH_NULL_SHA256',
    0x00B1: 'TLS_PSK_WITH_NULL_SHA384',
    0x00B2: 'TLS_DHE_PSK_WITH_AES_128_CBC_SHA256',
    0x00B3: 'TLS_DHE_PSK_WITH_AES_256_CBC_SHA384',
    0x00B4: 'TLS_DHE_PSK_WITH_NULL_SHA256',
    0x00B5: 'TLS_DHE_PSK_WITH_NULL_SHA384',
    0x00B6: 'TLS_RSA_PSK_WITH_AES_128_CBC_SHA256',
    0x00B7: 'TLS_RSA_PSK_WITH_AES_256_CBC_SHA384',
    0x00B8: 'TLS_RSA_PSK_WITH_NULL_SHA256',
    0x00B9: 'TLS_RSA_PSK_WITH_NULL_SHA384',
    0x00BA: 'TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256',
    0x00BB: 'TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA256',
    0x00BC: 'TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA256',
    0x00BD: 'TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256',
    0x00BE: 'TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256',
    0x00BF: 'TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256',
    0x00C0: 'TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256',
    0x00C1: 'TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA256',
    0x00C2: 'TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA256',
    0x00C3: 'TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256',
    0x00C4: 'TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256',
    0x00C5: 'TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256',
    0x00C6: 'TLS_SM4_GCM_SM3',
    0x00C7: 'TLS_SM4_CCM_SM3',
    0x00FF: 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV',
    0x1301: 'TLS_AES_128_GCM_SHA256',
    0x1302: 'TLS_AES_256_GCM_SHA384',
    0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
    0x1304: 'TLS_AES_128_CCM_SHA256',
    0x1305: 'TLS_AES_128_CCM_8_SHA256',
    0x1306: 'TLS_AEGIS_256_SHA512',
    0x1307: 'TLS_AEGIS_128L_SHA256',
    0x5600: 'TLS_FALLBACK_SCSV',
    0xC001: 'TLS_ECDH_ECDSA_WITH_NULL_SHA',
    0xC002: 'TLS_ECDH_ECDSA_WITH_RC4_128_SHA',
    0xC003: 'TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA',
    0xC004: 'TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA',
    0xC005: 'TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA',
    0xC006: 'TLS_ECDHE_ECDSA_WITH_NULL_SHA',
    0xC007: 'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA',
    0xC008: 'TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA',
    0xC009: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
    0xC00A: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
    0xC00B: 'TLS_ECDH_RSA_WITH_NULL_SHA',
    0xC00C: 'TLS_ECDH_RSA_WITH_RC4_128_SHA',
    0xC00D: 'TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA',
    0xC00E: 'TLS_ECDH_RSA_WITH_AES_128_CBC_SHA',
    0xC00F: 'TLS_ECDH_RSA_WITH_AES_256_CBC_SHA',
    0xC010: 'TLS_ECDHE_RSA_WITH_NULL_SHA',
    0xC011: 'TLS_ECDHE_RSA_WITH_RC4_128_SHA',
    0xC012: 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA',
    0xC013: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
    0xC014: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
    0xC015: 'TLS_ECDH_anon_WITH_NULL_SHA',
    0xC016: 'TLS_ECDH_anon_WITH_RC4_128_SHA',
    0xC017: 'TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA',
    0xC018: 'TLS_ECDH_anon_WITH_AES_128_CBC_SHA',
    0xC019: 'TLS_ECDH_anon_WITH_AES_256_CBC_SHA',
    0xC01A: 'TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA',
    0xC01B: 'TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA',
    0xC01C: 'TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA',
    0xC01D: 'TLS_SRP_SHA_WITH_AES_128_CBC_SHA',
    0xC01E: 'TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA',
    0xC01F: 'TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA',
    0xC020: 'TLS_SRP_SHA_WITH_AES_256_CBC_SHA',
    0xC021: 'TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA',
    0xC022: 'TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA',
    0xC023: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256',
    0xC024: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384',
    0xC025: 'TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256',
    0xC026: 'TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384',
    0xC027: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
    0xC028: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384',
    0xC029: 'TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256',
    0xC02A: 'TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384',
    0xC02B: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
    0xC02C: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
    0xC02D: 'TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256',
    0xC02E: 'TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384',
    0xC02F: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
    0xC030: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    0xC031: 'TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256',
    0xC032: 'TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384',
    0xC033: 'TLS_ECDHE_PSK_WITH_RC4_128_SHA',
    0xC034: 'TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA',
    0xC035: 'TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA',
    0xC036: 'TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA',
    0xC037: 'TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256',
    0xC038: 'TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384',
    0xC039: 'TLS_ECDHE_PSK_WITH_NULL_SHA',
    0xC03A: 'TLS_ECDHE_PSK_WITH_NULL_SHA256',
    0xC03B: 'TLS_ECDHE_PSK_WITH_NULL_SHA384',
    0xC03C: 'TLS_RSA_WITH_ARIA_128_CBC_SHA256',
    0xC03D: 'TLS_RSA_WITH_ARIA_256_CBC_SHA384',
    0xC03E: 'TLS_DH_DSS_WITH_ARIA_128_CBC_SHA256',
    0xC03F: 'TLS_DH_DSS_WITH_ARIA_256_CBC_SHA384',
    0xC040: 'TLS_DH_RSA_WITH_ARIA_128_CBC_SHA256',
    0xC041: 'TLS_DH_RSA_WITH_ARIA_256_CBC_SHA384',
    0xC042: 'TLS_DHE_DSS_WITH_ARIA_128_CBC_SHA256',
    0xC043: 'TLS_DHE_DSS_WITH_ARIA_256_CBC_SHA384',
    0xC044: 'TLS_DHE_RSA_WITH_ARIA_128_CBC_SHA256',
    0xC045: 'TLS_DHE_RSA_WITH_ARIA_256_CBC_SHA384',
    0xC046: 'TLS_DH_anon_WITH_ARIA_128_CBC_SHA256',
    0xC047: 'TLS_DH_anon_WITH_ARIA_256_CBC_SHA384',
    0xC048: 'TLS_ECDHE_ECDSA_WITH_ARIA_128_CBC_SHA256',
    0xC049: 'TLS_ECDHE_ECDSA_WITH_ARIA_256_CBC_SHA384',
    0xC04A: 'TLS_ECDH_ECDSA_WITH_ARIA_128_CBC_SHA256',
    0xC04B: 'TLS_ECDH_ECDSA_WITH_ARIA_256_CBC_SHA384',
    0xC04C: 'TLS_ECDHE_RSA_WITH_ARIA_128_CBC_SHA256',
    0xC04D: 'TLS_ECDHE_RSA_WITH_ARIA_256_CBC_SHA384',
    0xC04E: 'TLS_ECDH_RSA_WITH_ARIA_128_CBC_SHA256',
    0xC04F: 'TLS_ECDH_RSA_WITH_ARIA_256_CBC_SHA384',
    0xC050: 'TLS_RSA_WITH_ARIA_128_GCM_SHA256',
    0xC051: 'TLS_RSA_WITH_ARIA_256_GCM_SHA384',
    0xC052: 'TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256',
    0xC053: 'TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384',
    0xC054: 'TLS_DH_RSA_WITH_ARIA_128_GCM_SHA256',
    0xC055: 'TLS_DH_RSA_WITH_ARIA_256_GCM_SHA384',
    0xC056: 'TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256',
    0xC057: 'TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384',
    0xC058: 'TLS_DH_DSS_WITH_ARIA_128_GCM_SHA256',
    0xC059: 'TLS_DH_DSS_WITH_ARIA_256_GCM_SHA384',
    0xC05A: 'TLS_DH_anon_WITH_ARIA_128_GCM_SHA256',
    0xC05B: 'TLS_DH_anon_WITH_ARIA_256_GCM_SHA384',
    0xC05C: 'TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256',
    0xC05D: 'TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384',
    0xC05E: 'TLS_ECDH_ECDSA_WITH_ARIA_128_GCM_SHA256',
    0xC05F: 'TLS_ECDH_ECDSA_WITH_ARIA_256_GCM_SHA384',
    0xC060: 'TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256',
    0xC061: 'TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384',
    0xC062: 'TLS_ECDH_RSA_WITH_ARIA_128_GCM_SHA256',
    0xC063: 'TLS_ECDH_RSA_WITH_ARIA_256_GCM_SHA384',
    0xC064: 'TLS_PSK_WITH_ARIA_128_CBC_SHA256',
    0xC065: 'TLS_PSK_WITH_ARIA_256_CBC_SHA384',
    0xC066: 'TLS_DHE_PSK_WITH_ARIA_128_CBC_SHA256',
    0xC067: 'TLS_DHE_PSK_WITH_ARIA_256_CBC_SHA384',
    0xC068: 'TLS_RSA_PSK_WITH_ARIA_128_CBC_SHA256',
    0xC069: 'TLS_RSA_PSK_WITH_ARIA_256_CBC_SHA384',
    0xC06A: 'TLS_PSK_WITH_ARIA_128_GCM_SHA256',
    0xC06B: 'TLS_PSK_WITH_ARIA_256_GCM_SHA384',
    0xC06C: 'TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256',
    0xC06D: 'TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384',
    0xC06E: 'TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256',
    0xC06F: 'TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384',
    0xC070: 'TLS_ECDHE_PSK_WITH_ARIA_128_CBC_SHA256',
    0xC071: 'TLS_ECDHE_PSK_WITH_ARIA_256_CBC_SHA384',
    0xC072: 'TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256',
    0xC073: 'TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384',
    0xC074: 'TLS_ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256',
    0xC075: 'TLS_ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384',
    0xC076: 'TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256',
    0xC077: 'TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384',
    0xC078: 'TLS_ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256',
    0xC079: 'TLS_ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384',
    0xC07A: 'TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256',
    0xC07B: 'TLS_RSA_WITH_CAMELLIA_256_GCM_SHA384',
    0xC07C: 'TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256',
    0xC07D: 'TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384',
    0xC07E: 'TLS_DH_RSA_WITH_CAMELLIA_128_GCM_SHA256',
    0xC07F: 'TLS_DH_RSA_WITH_CAMELLIA_256_GCM_SHA384',
    0xC080: 'TLS_DHE_DSS_WITH_CAMELLIA_128_GCM_SHA256',
    0xC081: 'TLS_DHE_DSS_WITH_CAMELLIA_256_GCM_SHA384',
    0xC082: 'TLS_DH_DSS_WITH_CAMELLIA_128_GCM_SHA256',
    0xC083: 'TLS_DH_DSS_WITH_CAMELLIA_256_GCM_SHA384',
    0xC084: 'TLS_DH_anon_WITH_CAMELLIA_128_GCM_SHA256',
    0xC085: 'TLS_DH_anon_WITH_CAMELLIA_256_GCM_SHA384',
    0xC086: 'TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256',
    0xC087: 'TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384',
    0xC088: 'TLS_ECDH_ECDSA_WITH_CAMELLIA_128_GCM_SHA256',
    0xC089: 'TLS_ECDH_ECDSA_WITH_CAMELLIA_256_GCM_SHA384',
    0xC08A: 'TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256',
    0xC08B: 'TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384',
    0xC08C: 'TLS_ECDH_RSA_WITH_CAMELLIA_128_GCM_SHA256',
    0xC08D: 'TLS_ECDH_RSA_WITH_CAMELLIA_256_GCM_SHA384',
    0xC08E: 'TLS_PSK_WITH_CAMELLIA_128_GCM_SHA256',
    0xC08F: 'TLS_PSK_WITH_CAMELLIA_256_GCM_SHA384',
    0xC090: 'TLS_DHE_PSK_WITH_CAMELLIA_128_GCM_SHA256',
    0xC091: 'TLS_DHE_PSK_WITH_CAMELLIA_256_GCM_SHA384',
    0xC092: 'TLS_RSA_PSK_WITH_CAMELLIA_128_GCM_SHA256',
    0xC093: 'TLS_RSA_PSK_WITH_CAMELLIA_256_GCM_SHA384',
    0xC094: 'TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256',
    0xC095: 'TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384',
    0xC096: 'TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256',
    0xC097: 'TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384',
    0xC098: 'TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256',
    0xC099: 'TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384',
    0xC09A: 'TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256',
    0xC09B: 'TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384',
    0xC09C: 'TLS_RSA_WITH_AES_128_CCM',
    0xC09D: 'TLS_RSA_WITH_AES_256_CCM',
    0xC09E: 'TLS_DHE_RSA_WITH_AES_128_CCM',
    0xC09F: 'TLS_DHE_RSA_WITH_AES_256_CCM',
    0xC0A0: 'TLS_RSA_WITH_AES_128_CCM_8',
    0xC0A1: 'TLS_RSA_WITH_AES_256_CCM_8',
    0xC0A2: 'TLS_DHE_RSA_WITH_AES_128_CCM_8',
    0xC0A3: 'TLS_DHE_RSA_WITH_AES_256_CCM_8',
    0xC0A4: 'TLS_PSK_WITH_AES_128_CCM',
    0xC0A5: 'TLS_PSK_WITH_AES_256_CCM',
    0xC0A6: 'TLS_DHE_PSK_WITH_AES_128_CCM',
    0xC0A7: 'TLS_DHE_PSK_WITH_AES_256_CCM',
    0xC0A8: 'TLS_PSK_WITH_AES_128_CCM_8',
    0xC0A9: 'TLS_PSK_WITH_AES_256_CCM_8',
    0xC0AA: 'TLS_PSK_DHE_WITH_AES_128_CCM_8',
    0xC0AB: 'TLS_PSK_DHE_WITH_AES_256_CCM_8',
    0xC0AC: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM',
    0xC0AD: 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM',
    0xC0AE: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
    0xC0AF: 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8',
    0xC0B0: 'TLS_ECCPWD_WITH_AES_128_GCM_SHA256',
    0xC0B1: 'TLS_ECCPWD_WITH_AES_256_GCM_SHA384',
    0xC0B2: 'TLS_ECCPWD_WITH_AES_128_CCM_SHA256',
    0xC0B3: 'TLS_ECCPWD_WITH_AES_256_CCM_SHA384',
    0xC0B4: 'TLS_SHA256_SHA256',
    0xC0B5: 'TLS_SHA384_SHA384',
    0xC100: 'TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC',
    0xC101: 'TLS_GOSTR341112_256_WITH_MAGMA_CTR_OMAC',
    0xC102: 'TLS_GOSTR341112_256_WITH_28147_CNT_IMIT',
    0xC103: 'TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L',
    0xC104: 'TLS_GOSTR341112_256_WITH_MAGMA_MGM_L',
    0xC105: 'TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_S',
    0xC106: 'TLS_GOSTR341112_256_WITH_MAGMA_MGM_S',
    0xCCA8: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
    0xCCA9: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
    0xCCAA: 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
    0xCCAB: 'TLS_PSK_WITH_CHACHA20_POLY1305_SHA256',
    0xCCAC: 'TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256',
    0xCCAD: 'TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256',
    0xCCAE: 'TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256',
    0xD001: 'TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256',
    0xD002: 'TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384',
    0xD003: 'TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256',
    0xD005: 'TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256',
}

# TLS ContentType (tls-parameters-5)
CONTENT_TYPES: dict[int, str] = {
    20: 'change_cipher_spec',
    21: 'alert',
    22: 'handshake',
    23: 'application_data',
    24: 'heartbeat',
    25: 'tls12_cid',
    26: 'ack',
    27: 'return_routability_check',
}

# TLS Alerts (tls-parameters-6)
ALERT_DESCRIPTIONS: dict[int, str] = {
    0: 'close_notify',
    10: 'unexpected_message',
    20: 'bad_record_mac',
    21: 'decryption_failed_RESERVED',
    22: 'record_overflow',
    30: 'decompression_failure_RESERVED',
    40: 'handshake_failure',
    41: 'no_certificate_RESERVED',
    42: 'bad_certificate',
    43: 'unsupported_certificate',
    44: 'certificate_revoked',
    45: 'certificate_expired',
    46: 'certificate_unknown',
    47: 'illegal_parameter',
    48: 'unknown_ca',
    49: 'access_denied',
    50: 'decode_error',
    51: 'decrypt_error',
    52: 'too_many_cids_requested',
    60: 'export_restriction_RESERVED',
    70: 'protocol_version',
    71: 'insufficient_security',
    80: 'internal_error',
    86: 'inappropriate_fallback',
    90: 'user_canceled',
    100: 'no_renegotiation_RESERVED',
    109: 'missing_extension',
    110: 'unsupported_extension',
    111: 'certificate_unobtainable_RESERVED',
    112: 'unrecognized_name',
    113: 'bad_certificate_status_response',
    114: 'bad_certificate_hash_value_RESERVED',
    115: 'unknown_psk_identity',
    116: 'certificate_required',
    117: 'general_error',
    120: 'no_application_protocol',
    121: 'ech_required',
}

# TLS HandshakeType (tls-parameters-7)
_IANA_HANDSHAKE_TYPES: dict[int, str] = {
    0: 'hello_request_RESERVED',
    1: 'client_hello',
    2: 'server_hello',
    3: 'hello_verify_request_RESERVED',
    4: 'new_session_ticket',
    5: 'end_of_early_data',
    6: 'hello_retry_request_RESERVED',
    8: 'encrypted_extensions',
    9: 'RequestConnectionId',
    10: 'NewConnectionId',
    11: 'certificate',
    12: 'server_key_exchange_RESERVED',
    13: 'certificate_request',
    14: 'server_hello_done_RESERVED',
    15: 'certificate_verify',
    16: 'client_key_exchange_RESERVED',
    20: 'finished',
    21: 'certificate_url_RESERVED',
    22: 'certificate_status_RESERVED',
    23: 'supplemental_data_RESERVED',
    24: 'key_update',
    25: 'compressed_certificate',
    26: 'ekt_key',
    254: 'message_hash',
}

# TLS Supported Groups (tls-parameters-8)
SUPPORTED_GROUPS: dict[int, str] = {
    1: 'sect163k1',
    2: 'sect163r1',
    3: 'sect163r2',
    4: 'sect193r1',
    5: 'sect193r2',
    6: 'sect233k1',
    7: 'sect233r1',
    8: 'sect239k1',
    9: 'sect283k1',
    10: 'sect283r1',
    11: 'sect409k1',
    12: 'sect409r1',
    13: 'sect571k1',
    14: 'sect571r1',
    15: 'secp160k1',
    16: 'secp160r1',
    17: 'secp160r2',
    18: 'secp192k1',
    19: 'secp192r1',
    20: 'secp224k1',
    21: 'secp224r1',
    22: 'secp256k1',
    23: 'secp256r1',
    24: 'secp384r1',
    25: 'secp521r1',
    26: 'brainpoolP256r1',
    27: 'brainpoolP384r1',
    28: 'brainpoolP512r1',
    29: 'x25519',
    30: 'x448',
    31: 'brainpoolP256r1tls13',
    32: 'brainpoolP384r1tls13',
    33: 'brainpoolP512r1tls13',
    34: 'GC256A',
    35: 'GC256B',
    36: 'GC256C',
    37: 'GC256D',
    38: 'GC512A',
    39: 'GC512B',
    40: 'GC512C',
    41: 'curveSM2',
    256: 'ffdhe2048',
    257: 'ffdhe3072',
    258: 'ffdhe4096',
    259: 'ffdhe6144',
    260: 'ffdhe8192',
    512: 'MLKEM512',
    513: 'MLKEM768',
    514: 'MLKEM1024',
    4587: 'SecP256r1MLKEM768',
    4588: 'X25519MLKEM768',
    4589: 'SecP384r1MLKEM1024',
    25497: 'X25519Kyber768Draft00 (OBSOLETE)',
    25498: 'SecP256r1Kyber768Draft00 (OBSOLETE)',
    65281: 'arbitrary_explicit_prime_curves',
    65282: 'arbitrary_explicit_char2_curves',
}

# TLS EC Point Formats (tls-parameters-9)
EC_POINT_FORMATS: dict[int, str] = {
    0: 'uncompressed',
    1: 'ansiX962_compressed_prime',
    2: 'ansiX962_compressed_char2',
}

# TLS EC Curve Types (tls-parameters-10)
EC_CURVE_TYPES: dict[int, str] = {
    1: 'explicit_prime',
    2: 'explicit_char2',
    3: 'named_curve',
}

# TLS ClientCertificateType Identifiers (tls-parameters-2)
CLIENT_CERTIFICATE_TYPES: dict[int, str] = {
    1: 'rsa_sign',
    2: 'dss_sign',
    3: 'rsa_fixed_dh',
    4: 'dss_fixed_dh',
    5: 'rsa_ephemeral_dh_RESERVED',
    6: 'dss_ephemeral_dh_RESERVED',
    20: 'fortezza_dms_RESERVED',
    64: 'ecdsa_sign',
    65: 'rsa_fixed_ecdh',
    66: 'ecdsa_fixed_ecdh',
    67: 'gost_sign256',
    68: 'gost_sign512',
}

# TLS HashAlgorithm, TLS 1.2 (tls-parameters-18)
HASH_ALGORITHMS: dict[int, str] = {
    0: 'none',
    1: 'md5',
    2: 'sha1',
    3: 'sha224',
    4: 'sha256',
    5: 'sha384',
    6: 'sha512',
    8: 'Intrinsic',
}

# TLS SignatureAlgorithm, TLS 1.2 (tls-parameters-16)
SIGNATURE_ALGORITHMS: dict[int, str] = {
    0: 'anonymous',
    1: 'rsa',
    2: 'dsa',
    3: 'ecdsa',
    7: 'ed25519',
    8: 'ed448',
    64: 'gostr34102012_256',
    65: 'gostr34102012_512',
}

# TLS SignatureScheme (tls-signaturescheme)
SIGNATURE_SCHEMES: dict[int, str] = {
    0x0201: 'rsa_pkcs1_sha1',
    0x0203: 'ecdsa_sha1',
    0x0401: 'rsa_pkcs1_sha256',
    0x0403: 'ecdsa_secp256r1_sha256',
    0x0420: 'rsa_pkcs1_sha256_legacy',
    0x0501: 'rsa_pkcs1_sha384',
    0x0503: 'ecdsa_secp384r1_sha384',
    0x0520: 'rsa_pkcs1_sha384_legacy',
    0x0601: 'rsa_pkcs1_sha512',
    0x0603: 'ecdsa_secp521r1_sha512',
    0x0620: 'rsa_pkcs1_sha512_legacy',
    0x0704: 'eccsi_sha256',
    0x0705: 'iso_ibs1',
    0x0706: 'iso_ibs2',
    0x0707: 'iso_chinese_ibs',
    0x0708: 'sm2sig_sm3',
    0x0709: 'gostr34102012_256a',
    0x070A: 'gostr34102012_256b',
    0x070B: 'gostr34102012_256c',
    0x070C: 'gostr34102012_256d',
    0x070D: 'gostr34102012_512a',
    0x070E: 'gostr34102012_512b',
    0x070F: 'gostr34102012_512c',
    0x0804: 'rsa_pss_rsae_sha256',
    0x0805: 'rsa_pss_rsae_sha384',
    0x0806: 'rsa_pss_rsae_sha512',
    0x0807: 'ed25519',
    0x0808: 'ed448',
    0x0809: 'rsa_pss_pss_sha256',
    0x080A: 'rsa_pss_pss_sha384',
    0x080B: 'rsa_pss_pss_sha512',
    0x081A: 'ecdsa_brainpoolP256r1tls13_sha256',
    0x081B: 'ecdsa_brainpoolP384r1tls13_sha384',
    0x081C: 'ecdsa_brainpoolP512r1tls13_sha512',
    0x0904: 'mldsa44',
    0x0905: 'mldsa65',
    0x0906: 'mldsa87',
}

# TLS ExtensionType Values (tls-extensiontype-values-1)
_IANA_EXTENSION_TYPES: dict[int, str] = {
    0: 'server_name',
    1: 'max_fragment_length',
    2: 'client_certificate_url',
    3: 'trusted_ca_keys',
    4: 'truncated_hmac',
    5: 'status_request',
    6: 'user_mapping',
    7: 'client_authz',
    8: 'server_authz',
    9: 'cert_type',
    10: 'supported_groups',
    11: 'ec_point_formats',
    12: 'srp',
    13: 'signature_algorithms',
    14: 'use_srtp',
    15: 'heartbeat',
    16: 'application_layer_protocol_negotiation',
    17: 'status_request_v2',
    18: 'signed_certificate_timestamp',
    19: 'client_certificate_type',
    20: 'server_certificate_type',
    21: 'padding',
    22: 'encrypt_then_mac',
    23: 'extended_master_secret',
    24: 'token_binding',
    25: 'cached_info',
    26: 'tls_lts',
    27: 'compress_certificate',
    28: 'record_size_limit',
    29: 'pwd_protect',
    30: 'pwd_clear',
    31: 'password_salt',
    32: 'ticket_pinning',
    33: 'tls_cert_with_extern_psk',
    34: 'delegated_credentials',
    35: 'session_ticket',
    36: 'TLMSP',
    37: 'TLMSP_proxying',
    38: 'TLMSP_delegate',
    39: 'supported_ekt_ciphers',
    41: 'pre_shared_key',
    42: 'early_data',
    43: 'supported_versions',
    44: 'cookie',
    45: 'psk_key_exchange_modes',
    47: 'certificate_authorities',
    48: 'oid_filters',
    49: 'post_handshake_auth',
    50: 'signature_algorithms_cert',
    51: 'key_share',
    52: 'transparency_info',
    53: 'connection_id (deprecated)',
    54: 'connection_id',
    55: 'external_id_hash',
    56: 'external_session_id',
    57: 'quic_transport_parameters',
    58: 'ticket_request',
    59: 'dnssec_chain',
    65281: 'renegotiation_info',
}

# TLS Heartbeat Message Types
HEARTBEAT_MESSAGE_TYPES: dict[int, str] = {
    1: 'heartbeat_request',
    2: 'heartbeat_response',
}

# TLS PskKeyExchangeMode
PSK_KEY_EXCHANGE_MODES: dict[int, str] = {
    0: 'psk_ke',
    1: 'psk_dhe_ke',
}

# TLS Certificate Status Types
CERTIFICATE_STATUS_TYPES: dict[int, str] = {
    1: 'ocsp',
    2: 'ocsp_multi_RESERVED',
}

# TLS Compression Method Identifiers (comp-meth-ids-2)
COMPRESSION_METHODS: dict[int, str] = {
    0: 'NULL',
    1: 'DEFLATE',
    64: 'LZS',
}

# IANA "Recommended" column (RFC 8447, RFC 9847): Y = recommended, D = discouraged.
# Everything else registered is N (not evaluated / not recommended).
RECOMMENDED_CIPHER_SUITES: frozenset[int] = frozenset({
    0x009E, 0x009F, 0x00AA, 0x00AB, 0x1301, 0x1302, 0x1303, 0x1304, 0xC02B, 0xC02C, 0xC02F,
    0xC030, 0xC09E, 0xC09F, 0xC0A6, 0xC0A7, 0xCCA8, 0xCCA9, 0xCCAA, 0xCCAC, 0xCCAD, 0xD001,
    0xD002, 0xD005,
})
DISCOURAGED_CIPHER_SUITES: frozenset[int] = frozenset({
    0x001E, 0x0020, 0x0021, 0x0022, 0x0024, 0x0025, 0x0026, 0x0027, 0x0028, 0x0029, 0x002A,
    0x002B, 0x002C, 0x008A, 0x00B0, 0x00B1, 0xC006, 0xC007, 0xC010, 0xC011, 0xC033, 0xC039,
    0xC03A, 0xC03B, 0xC0B4, 0xC0B5,
})
RECOMMENDED_SUPPORTED_GROUPS: frozenset[int] = frozenset({23, 24, 29, 30})
DISCOURAGED_SUPPORTED_GROUPS: frozenset[int] = frozenset({
    1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17, 18, 19, 20, 21,
})
RECOMMENDED_SIGNATURE_SCHEMES: frozenset[int] = frozenset({
    0x0401, 0x0403, 0x0501, 0x0503, 0x0601, 0x0603, 0x0804, 0x0805, 0x0806, 0x0807, 0x0808,
    0x0809, 0x080A, 0x080B,
})

# ---------------------------------------------------------------------------
# Values outside our registry snapshots that real captures contain
# ---------------------------------------------------------------------------

# Cipher suites never registered (or only "reserved to avoid conflicts") but
# sent by deployed stacks; names as those stacks / Wireshark spell them.
_EXTRA_CIPHER_SUITES: dict[int, str] = {
    0x001C: 'SSL_FORTEZZA_KEA_WITH_NULL_SHA',  # SSLv3 spec; registry: reserved for SSLv3
    0x001D: 'SSL_FORTEZZA_KEA_WITH_FORTEZZA_CBC_SHA',  # SSLv3 spec
    0x0060: 'TLS_RSA_EXPORT1024_WITH_RC4_56_MD5',  # draft-ietf-tls-56-bit-ciphersuites
    0x0061: 'TLS_RSA_EXPORT1024_WITH_RC2_CBC_56_MD5',
    0x0062: 'TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA',
    0x0063: 'TLS_DHE_DSS_EXPORT1024_WITH_DES_CBC_SHA',
    0x0064: 'TLS_RSA_EXPORT1024_WITH_RC4_56_SHA',
    0x0065: 'TLS_DHE_DSS_EXPORT1024_WITH_RC4_56_SHA',
    0x0066: 'TLS_DHE_DSS_WITH_RC4_128_SHA',
    0x0080: 'TLS_GOSTR341094_WITH_28147_CNT_IMIT',  # draft-chudov-cryptopro-cptls
    0x0081: 'TLS_GOSTR341001_WITH_28147_CNT_IMIT',
    0x0082: 'TLS_GOSTR341094_WITH_NULL_GOSTR3411',
    0x0083: 'TLS_GOSTR341001_WITH_NULL_GOSTR3411',
    0xC0FF: 'TLS_ECJPAKE_WITH_AES_128_CCM_8',  # draft-cragie-tls-ecjpake (Thread)
    0xCC13: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD',  # pre-RFC 7905 code points
    0xCC14: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256_OLD',
    0xCC15: 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD',
    0xFEFE: 'SSL_RSA_FIPS_WITH_DES_CBC_SHA',  # NSS; registry: reserved for these
    0xFEFF: 'SSL_RSA_FIPS_WITH_3DES_EDE_CBC_SHA',
    0xFFE0: 'SSL_RSA_FIPS_WITH_3DES_EDE_CBC_SHA',  # older NSS, private-use range
    0xFFE1: 'SSL_RSA_FIPS_WITH_DES_CBC_SHA',
    0xFF85: 'TLS_GOSTR341112_256_WITH_28147_CNT_IMIT_LEGACY',  # gost-engine code point before RFC 9189 (0xC102)
}

CIPHER_SUITES: dict[int, str] = {**_IANA_CIPHER_SUITES, **_EXTRA_CIPHER_SUITES}

_EXTRA_EXTENSION_TYPES: dict[int, str] = {
    # Registered after our extension-registry snapshot was taken.
    60: 'sequence_number_encryption_algorithms',  # draft-pismenny-tls-dtls-plaintext-sequence-number
    61: 'rrc',  # draft-ietf-tls-dtls-rrc
    62: 'tls_flags',  # draft-ietf-tls-tlsflags
    64768: 'ech_outer_extensions',  # RFC 9849
    65037: 'encrypted_client_hello',  # RFC 9849
    # Registry says only "Reserved"; TLS 1.3 drafts used them.
    40: 'key_share_draft',  # key_share in TLS 1.3 drafts <= 22
    46: 'ticket_early_data_info_draft',  # TLS 1.3 drafts
    # Never registered, common in captures.
    13172: 'next_protocol_negotiation',  # draft-agl-tls-nextprotoneg (NPN)
    17513: 'application_settings_old',  # ALPS, first Chrome code point
    17613: 'application_settings',  # ALPS, current Chrome code point
    30031: 'channel_id_old',  # Chrome Channel ID
    30032: 'channel_id',
    65445: 'quic_transport_parameters_draft',  # QUIC drafts, private-use range
    65486: 'encrypted_server_name',  # draft-ietf-tls-esni <= 02, private-use range
}

EXTENSION_TYPES: dict[int, str] = {**_IANA_EXTENSION_TYPES, **_EXTRA_EXTENSION_TYPES}

_EXTRA_HANDSHAKE_TYPES: dict[int, str] = {
    67: 'next_protocol',  # NPN's NextProtocol message, draft-agl-tls-nextprotoneg
}

HANDSHAKE_TYPES: dict[int, str] = {**_IANA_HANDSHAKE_TYPES, **_EXTRA_HANDSHAKE_TYPES}

# RFC 8446 section 6 / RFC 5246 section 7.2: AlertLevel is not an IANA registry.
ALERT_LEVELS: dict[int, str] = {
    1: 'warning',
    2: 'fatal',
}

# SSLv2 CIPHER-KINDs (3 bytes) as they appear in SSLv2-compatible ClientHellos.
# 0x01..0x07 from the SSL 2.0 spec (draft-hickman-netscape-ssl-00); 0x080080 is
# OpenSSL's SSL2_CK_RC4_64_WITH_MD5.  A kind whose first byte is 0x00 is a TLS
# cipher suite (look it up in CIPHER_SUITES with the low 16 bits).
SSL2_CIPHER_KINDS: dict[int, str] = {
    0x010080: 'SSL_CK_RC4_128_WITH_MD5',
    0x020080: 'SSL_CK_RC4_128_EXPORT40_WITH_MD5',
    0x030080: 'SSL_CK_RC2_128_CBC_WITH_MD5',
    0x040080: 'SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5',
    0x050080: 'SSL_CK_IDEA_128_CBC_WITH_MD5',
    0x060040: 'SSL_CK_DES_64_CBC_WITH_MD5',
    0x0700C0: 'SSL_CK_DES_192_EDE3_CBC_WITH_MD5',
    0x080080: 'SSL_CK_RC4_64_WITH_MD5',
}

# ---------------------------------------------------------------------------
# GREASE (RFC 8701) and protocol versions
# ---------------------------------------------------------------------------

# RFC 8701 section 2: sixteen 16-bit values 0x?A?A (both bytes equal) for cipher
# suites, extensions, groups, signature algorithms and versions ...
GREASE_VALUES: tuple[int, ...] = tuple(0x0A0A + 0x1010 * i for i in range(16))
# ... and eight single-byte values for PskKeyExchangeMode.
GREASE_PSK_MODES: tuple[int, ...] = tuple(0x0B + 0x1F * i for i in range(8))


def is_grease(value: int) -> bool:
    """True for the RFC 8701 16-bit GREASE values (0x0A0A, 0x1A1A, ... 0xFAFA)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFF:
        return False
    return (value & 0x0F0F) == 0x0A0A and (value >> 8) == (value & 0xFF)


def is_grease_psk_mode(value: int) -> bool:
    """True for the RFC 8701 GREASE values of the 8-bit PskKeyExchangeMode."""
    return isinstance(value, int) and not isinstance(value, bool) and value in GREASE_PSK_MODES


VERSIONS: dict[int, str] = {
    0x0002: 'SSLv2',
    0x0300: 'SSLv3',
    0x0301: 'TLSv1.0',
    0x0302: 'TLSv1.1',
    0x0303: 'TLSv1.2',
    0x0304: 'TLSv1.3',
    0xFEFF: 'DTLSv1.0',
    0xFEFD: 'DTLSv1.2',
    0xFEFC: 'DTLSv1.3',
    # TLS 1.3 drafts announced themselves as 0x7F00 + draft number.
    **{0x7F00 + n: f'TLSv1.3-draft-{n}' for n in range(1, 29)},
    # Facebook's fizz used 0xFB00 + draft number for the drafts it shipped.
    0xFB17: 'TLSv1.3-fizz-draft-23',
    0xFB1A: 'TLSv1.3-fizz-draft-26',
    **{g: 'GREASE' for g in GREASE_VALUES},
}

# ---------------------------------------------------------------------------
# Name lookups
# ---------------------------------------------------------------------------


def _check_code(code: int) -> int:
    if not isinstance(code, int) or isinstance(code, bool):
        raise TypeError(f'protocol code must be an int, got {type(code).__name__}: {code!r}')
    return code


def name_of(table: Mapping[int, str], code: int, width: int = 4) -> str:
    """Registry name of ``code`` in ``table``; unknown codes come back as hex.

    16-bit GREASE values (width 4) are reported as "GREASE" rather than hex,
    because they are deliberate noise, not unknown values.
    """
    if type(code) is not int:  # the common case (a plain int) skips the full check
        _check_code(code)
    name = table.get(code)
    if name is not None:
        return name
    if width == 4 and is_grease(code):
        return 'GREASE'
    if code < 0:
        return f'-0x{-code:0{width}x}'
    return f'0x{code:0{width}x}'


def version_name(code: int) -> str:
    """'TLSv1.2' for 0x0303; unknown versions as '0x0305'."""
    name = VERSIONS.get(code) if type(code) is int else None  # fast path: a known version
    return name if name is not None else name_of(VERSIONS, code, 4)


def cipher_name(code: int) -> str:
    """IANA name of a cipher suite, e.g. 'TLS_AES_128_GCM_SHA256'; unknown as hex."""
    name = CIPHER_SUITES.get(code) if type(code) is int else None  # fast path: a known suite
    return name if name is not None else name_of(CIPHER_SUITES, code, 4)


def alert_name(code: int) -> str:
    """IANA alert description name, e.g. 'illegal_parameter'; unknown as 'unknown_0x7f'."""
    _check_code(code)
    name = ALERT_DESCRIPTIONS.get(code)
    return name if name is not None else f'unknown_0x{code:02x}'


def alert_level_name(code: int) -> str:
    """'warning' / 'fatal'; anything else as hex."""
    return name_of(ALERT_LEVELS, code, 2)


def extension_name(code: int) -> str:
    """TLS extension name, e.g. 'server_name'; GREASE as 'GREASE'; unknown as hex."""
    return name_of(EXTENSION_TYPES, code, 4)


def group_name(code: int) -> str:
    """Supported-group name, e.g. 'x25519'; GREASE as 'GREASE'; unknown as hex."""
    return name_of(SUPPORTED_GROUPS, code, 4)


def handshake_type_name(code: int) -> str:
    """Handshake message type name, e.g. 'client_hello'; unknown as hex."""
    return name_of(HANDSHAKE_TYPES, code, 2)


def content_type_name(code: int) -> str:
    """Record content type name, e.g. 'handshake'; unknown as hex."""
    return name_of(CONTENT_TYPES, code, 2)


def signature_scheme_name(code: int) -> str:
    """SignatureScheme name, e.g. 'rsa_pss_rsae_sha256'.

    TLS 1.2 clients also send (hash, signature) pairs that TLS 1.3 left
    "reserved for backward compatibility", such as 0x0202 (sha1, dsa); those are
    named from the TLS 1.2 HashAlgorithm/SignatureAlgorithm registries as
    'dsa_sha1'.  Anything else comes back as hex (or 'GREASE').
    """
    _check_code(code)
    name = SIGNATURE_SCHEMES.get(code)
    if name is not None:
        return name
    hash_id, sig_id = code >> 8, code & 0xFF
    if 0 <= code <= 0xFFFF and hash_id in HASH_ALGORITHMS and sig_id in SIGNATURE_ALGORITHMS \
            and hash_id not in (0, 8) and sig_id != 0:
        return f'{SIGNATURE_ALGORITHMS[sig_id]}_{HASH_ALGORITHMS[hash_id]}'
    return name_of(SIGNATURE_SCHEMES, code, 4)


def ssl2_cipher_kind_name(kind: int) -> str:
    """Name of a 3-byte SSLv2 CIPHER-KIND; kinds 0x00XXXX are TLS suites."""
    _check_code(kind)
    name = SSL2_CIPHER_KINDS.get(kind)
    if name is not None:
        return name
    if 0 <= kind <= 0xFFFF:
        return cipher_name(kind)
    return f'0x{kind:06x}'


# ---------------------------------------------------------------------------
# Cipher-suite facts, derived from the names
# ---------------------------------------------------------------------------

AEAD_MODES = frozenset({'GCM', 'CCM', 'CCM_8', 'CHACHA20_POLY1305', 'MGM', 'AEGIS', 'ASCON'})


@dataclass(frozen=True)
class CipherSuiteInfo:
    """What a cipher suite code stands for, as its registry name spells it.

    kx: key exchange ('RSA', 'DHE', 'ECDHE', 'DH', 'ECDH', 'PSK', 'DHE_PSK',
        'ECDHE_PSK', 'RSA_PSK', 'KRB5', 'SRP', 'ECCPWD', 'GOST', 'FORTEZZA',
        'ECJPAKE', 'NULL', 'TLS13' for TLS 1.3 suites, 'SCSV' for signalling values).
    auth: authentication ('RSA', 'DSS', 'ECDSA', 'anon', 'PSK', 'RSA_PSK', 'KRB5',
        'SRP', 'ECCPWD', 'GOST', 'FORTEZZA', 'ECJPAKE', 'NULL', 'TLS13', 'SCSV');
        TLS 1.3 suites do not fix authentication, the certificate does.
    cipher: bulk cipher with key size, e.g. 'AES_128', '3DES_EDE', 'RC4_40', 'NULL'.
    mode: 'GCM', 'CCM', 'CCM_8', 'CBC', 'CHACHA20_POLY1305', 'STREAM', 'NULL',
        'MGM', 'CTR_OMAC', 'CNT_IMIT', 'AEGIS', 'ASCON' (or 'NONE' for SCSVs).
    mac: MAC hash for CBC/stream suites, PRF/HKDF hash for AEAD suites
        ('MD5', 'SHA1', 'SHA256', 'SHA384', 'SHA512', 'SM3', ...).
    key_bits: nominal secret key size of the bulk cipher (0 for NULL).
    weak_reasons: why the suite is weak ('export', 'null_encryption',
        'anonymous', 'rc4', 'des', '3des', 'rc2', 'idea', 'skipjack',
        'md5_mac'); empty when none apply.
    recommended: the registry's "Recommended" column: 'Y', 'N', 'D'
        (discouraged), or '' for a suite the registry does not list.
    """

    code: int
    name: str
    kx: str
    auth: str
    cipher: str
    mode: str
    mac: str
    key_bits: int
    is_tls13: bool
    is_export: bool
    is_scsv: bool
    forward_secrecy: bool
    weak_reasons: tuple[str, ...]
    recommended: str = ''

    @property
    def is_anonymous(self) -> bool:
        """No peer authentication at all (anon or NULL authentication)."""
        return self.auth in ('anon', 'NULL')

    @property
    def is_aead(self) -> bool:
        return self.mode in AEAD_MODES

    @property
    def is_weak(self) -> bool:
        return bool(self.weak_reasons)


_KX_AUTH: dict[str, tuple[str, str]] = {
    'NULL': ('NULL', 'NULL'),
    'RSA': ('RSA', 'RSA'),
    'RSA_FIPS': ('RSA', 'RSA'),
    'DH_DSS': ('DH', 'DSS'),
    'DH_RSA': ('DH', 'RSA'),
    'DHE_DSS': ('DHE', 'DSS'),
    'DHE_RSA': ('DHE', 'RSA'),
    'DH_anon': ('DH', 'anon'),
    'ECDH_ECDSA': ('ECDH', 'ECDSA'),
    'ECDH_RSA': ('ECDH', 'RSA'),
    'ECDHE_ECDSA': ('ECDHE', 'ECDSA'),
    'ECDHE_RSA': ('ECDHE', 'RSA'),
    'ECDH_anon': ('ECDH', 'anon'),
    'PSK': ('PSK', 'PSK'),
    'DHE_PSK': ('DHE_PSK', 'PSK'),
    'PSK_DHE': ('DHE_PSK', 'PSK'),  # RFC 6655 spells 0xC0AA/0xC0AB this way round
    'ECDHE_PSK': ('ECDHE_PSK', 'PSK'),
    'RSA_PSK': ('RSA_PSK', 'RSA_PSK'),
    'KRB5': ('KRB5', 'KRB5'),
    'SRP_SHA': ('SRP', 'SRP'),
    'SRP_SHA_RSA': ('SRP', 'RSA'),
    'SRP_SHA_DSS': ('SRP', 'DSS'),
    'ECCPWD': ('ECCPWD', 'ECCPWD'),
    'GOSTR341112_256': ('GOST', 'GOST'),
    'GOSTR341094': ('GOST', 'GOST'),
    'GOSTR341001': ('GOST', 'GOST'),
    'FORTEZZA_KEA': ('FORTEZZA', 'FORTEZZA'),
    'ECJPAKE': ('ECJPAKE', 'ECJPAKE'),
}

_HASHES: dict[str, str] = {
    'MD5': 'MD5', 'SHA': 'SHA1', 'SHA256': 'SHA256', 'SHA384': 'SHA384',
    'SHA512': 'SHA512', 'SM3': 'SM3', 'ASCONHASH256': 'ASCONHASH256',
    'GOSTR3411': 'GOSTR3411', 'NULL': 'NULL',
}

# Nominal key sizes for ciphers whose name carries no bit count.
_KEY_BITS: dict[str, int] = {
    'NULL': 0, '3DES_EDE': 168, 'DES': 56, 'DES40': 40, 'IDEA': 128, 'SEED': 128,
    'CHACHA20': 256, 'SM4': 128, 'KUZNYECHIK': 256, 'MAGMA': 256, 'GOST28147': 256,
    'FORTEZZA': 80, 'AEGIS_128L': 128, 'ASCONAEAD128': 128,
}

_FORWARD_SECRET_KX = frozenset({'DHE', 'ECDHE', 'DHE_PSK', 'ECDHE_PSK', 'TLS13', 'ECCPWD', 'ECJPAKE'})

_TRAILING_NUMBER = re.compile(r'_(\d+)$')


def _parse_bulk(tokens: list[str]) -> tuple[str, str, int]:
    """(cipher, mode, key_bits) from the cipher part of a suite name, e.g. AES_128_GCM."""
    toks = list(tokens)
    if not toks:
        raise ValueError('empty cipher part')
    if toks[0] in _HASHES:  # RFC 9150 integrity-only suites: TLS_SHA256_SHA256
        return 'NULL', 'NULL', 0
    mode = ''
    if 'GCM' in toks:
        mode = 'GCM'
        toks.remove('GCM')
    elif 'CCM' in toks:
        i = toks.index('CCM')
        if toks[i + 1:i + 2] == ['8']:
            mode = 'CCM_8'
            del toks[i:i + 2]
        else:
            mode = 'CCM'
            del toks[i]
    elif 'POLY1305' in toks:
        mode = 'CHACHA20_POLY1305'
        toks.remove('POLY1305')
    elif 'MGM' in toks:
        mode = 'MGM'
        toks = toks[:toks.index('MGM')]  # drop the _L/_S variant letter too
    elif toks[-2:] == ['CTR', 'OMAC']:
        mode = 'CTR_OMAC'
        toks = toks[:-2]
    elif toks[-2:] == ['CNT', 'IMIT']:
        mode = 'CNT_IMIT'
        toks = toks[:-2]
    elif 'CBC' in toks:
        mode = 'CBC'
        toks.remove('CBC')
    elif toks[0] == 'RC4':
        mode = 'STREAM'
    elif toks == ['NULL']:
        mode = 'NULL'
    elif toks[0] == 'AEGIS':
        mode = 'AEGIS'
    elif toks[0] == 'ASCONAEAD128':
        mode = 'ASCON'
    else:
        raise ValueError(f'unrecognised cipher part {"_".join(tokens)!r}')
    cipher = '_'.join(toks)
    cipher = {'DES_40': 'DES40', '28147': 'GOST28147'}.get(cipher, cipher)
    if cipher in _KEY_BITS:
        bits = _KEY_BITS[cipher]
    else:
        m = _TRAILING_NUMBER.search(cipher)
        if m is None:
            raise ValueError(f'no key size for cipher {cipher!r}')
        bits = int(m.group(1))
    return cipher, mode, bits


def _weak_reasons(is_export: bool, auth: str, cipher: str, mac: str) -> tuple[str, ...]:
    reasons: list[str] = []
    if is_export:
        reasons.append('export')
    if cipher == 'NULL':
        reasons.append('null_encryption')
    if auth in ('anon', 'NULL'):
        reasons.append('anonymous')
    if cipher.startswith('RC4'):
        reasons.append('rc4')
    if cipher in ('DES', 'DES40'):
        reasons.append('des')
    if cipher == '3DES_EDE':
        reasons.append('3des')
    if cipher.startswith('RC2'):
        reasons.append('rc2')
    if cipher == 'IDEA':
        reasons.append('idea')
    if cipher == 'FORTEZZA':
        reasons.append('skipjack')
    if mac == 'MD5':
        reasons.append('md5_mac')
    return tuple(reasons)


def parse_suite_name(code: int, name: str) -> CipherSuiteInfo:
    """Derive the facts of a cipher suite from its registry-style name.

    Raises ValueError for a name that does not follow the TLS naming scheme.
    """
    if name.endswith('_SCSV'):
        return CipherSuiteInfo(code, name, 'SCSV', 'SCSV', 'NONE', 'NONE', 'NONE', 0,
                               is_tls13=False, is_export=False, is_scsv=True,
                               forward_secrecy=False, weak_reasons=(),
                               recommended=_recommended(code, name))
    base = re.sub(r'_(OLD|LEGACY)$', '', name)  # pre-standard code points of a registered suite
    prefix, _, body = base.partition('_')
    if prefix not in ('TLS', 'SSL') or not body:
        raise ValueError(f'not a TLS cipher suite name: {name!r}')
    kx_part, with_, cipher_part = body.partition('_WITH_')
    is_export = False
    if with_:
        for suffix in ('_EXPORT1024', '_EXPORT'):
            if kx_part.endswith(suffix):
                kx_part = kx_part[:-len(suffix)]
                is_export = True
                break
        if kx_part not in _KX_AUTH:
            raise ValueError(f'unknown key exchange {kx_part!r} in {name!r}')
        kx, auth = _KX_AUTH[kx_part]
        tokens = cipher_part.split('_')
    else:  # TLS 1.3 style: TLS_<AEAD>_<HASH>, no key exchange in the name
        kx, auth = 'TLS13', 'TLS13'
        tokens = body.split('_')
    if tokens[-1] in _HASHES:
        mac = _HASHES[tokens.pop()]
    else:
        mac = ''
    cipher, mode, bits = _parse_bulk(tokens)
    if mode == 'MGM':  # RFC 9367: GOST suites for TLS 1.3 keep the _WITH_ form
        kx, auth = 'TLS13', 'TLS13'
    if not mac:
        if mode in ('CCM', 'CCM_8'):
            mac = 'SHA256'  # RFC 6655 / RFC 7251: TLS 1.2 PRF with SHA-256
        elif kx == 'GOST' or mode == 'MGM':
            # RFC 9189 / RFC 9367 suites use Streebog-256; the older CryptoPro
            # draft suites use GOST R 34.11-94.
            mac = 'GOSTR341112_256' if 'GOSTR341112' in name else 'GOSTR3411'
        elif mode in ('AEGIS', 'ASCON'):
            raise ValueError(f'no hash in {name!r}')
        else:
            raise ValueError(f'no MAC hash in {name!r}')
    is_tls13 = kx == 'TLS13'
    return CipherSuiteInfo(
        code=code, name=name, kx=kx, auth=auth, cipher=cipher, mode=mode, mac=mac,
        key_bits=bits, is_tls13=is_tls13, is_export=is_export, is_scsv=False,
        forward_secrecy=kx in _FORWARD_SECRET_KX or auth == 'anon' and kx in ('DH', 'ECDH'),
        weak_reasons=_weak_reasons(is_export, auth, cipher, mac),
        recommended=_recommended(code, name),
    )


def _recommended(code: int, name: str) -> str:
    if _IANA_CIPHER_SUITES.get(code) != name:
        return ''
    if code in RECOMMENDED_CIPHER_SUITES:
        return 'Y'
    return 'D' if code in DISCOURAGED_CIPHER_SUITES else 'N'


def suite_info(code: int) -> CipherSuiteInfo | None:
    """Facts about a cipher suite code, or None if we do not know the code (or it is GREASE)."""
    _check_code(code)
    if code not in CIPHER_SUITES:  # unknown codes are not cached: captures choose them
        return None
    return _known_suite_info(code)


@cache
def _known_suite_info(code: int) -> CipherSuiteInfo:
    return parse_suite_name(code, CIPHER_SUITES[code])


def is_weak_suite(code: int) -> bool:
    """True for a known weak suite (export, NULL, anon, RC4, DES, 3DES, MD5 MAC, ...)."""
    info = suite_info(code)
    return info is not None and info.is_weak
