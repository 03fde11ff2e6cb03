"""Which list of a refused ClientHello is the narrow one: its cipher suites, its groups or its
signature schemes, each compared with what the common stacks enable by default
(:mod:`tlsdissect.diagnosis.stack_defaults`).

A server that answers a ClientHello with handshake_failure found nothing acceptable in one of
its lists; the capture does not say which. An ordinary client offers what every common server
accepts in all three; a client configured by hand (``--curves P-256``, ``-sigalgs rsa_...``,
``--ciphers ONE-SUITE``) leaves one list much narrower than the others, and that list is the
likely reason. Each list gets a narrowness in [0, 1] (the share of what every common stack
accepts that it leaves out), and the evidence line names what it holds, by name.

What tells for sure, when the capture has it: the group a HelloRetryRequest asks for (not in the
client's list: no group in common), and the key type of the server's certificate seen on another
connection to the same server (no offered scheme can sign with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from tlsdissect.diagnosis import stack_defaults as sd
from tlsdissect.tls import tables

NARROW = 0.5  # a narrowness from this on makes a list "narrow"
SCSVS = frozenset({0x00FF, 0x5600})  # TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV
TLS13 = 0x0304
_SHOWN = 8  # names listed in an evidence line before "..."

CAUSE_OF = {"cipher suites": "no_shared_cipher", "supported groups": "no_common_group",
            "signature algorithms": "no_common_signature_scheme"}


@dataclass(frozen=True)
class ListReading:
    """One list of the ClientHello: what it holds and how narrow it is next to common servers."""

    what: str  # "cipher suites", "supported groups", "signature algorithms"
    offered: tuple[str, ...]  # the names, in the client's order (GREASE left out)
    narrowness: float  # 0: offers everything every common stack accepts; 1: nothing of it
    why: str  # the sentence that says so

    @property
    def cause(self) -> str:
        return CAUSE_OF[self.what]

    @property
    def narrow(self) -> bool:
        return self.narrowness >= NARROW

    def line(self) -> str:
        shown = ", ".join(self.offered[:_SHOWN]) + (f", ... ({len(self.offered)} in all)"
                                                    if len(self.offered) > _SHOWN else "")
        return f"The client's {self.what}: {shown or 'none'}. {self.why}"


def ext_list(ch: Any, ext_type: int, key: str) -> Optional[list[int]]:
    """A list extension's codes, GREASE left out; None when the extension is absent."""
    e = ch.ext(ext_type)
    if e is None:
        return None
    view = e._view() or {}
    return [v for v in view.get(key, []) if not tables.is_grease(v)]


def offered_versions(ch: Any) -> list[int]:
    return [v for v in (ch.supported_versions or [ch.legacy_version]) if not tables.is_grease(v)]


def read_suites(ch: Any) -> ListReading:
    suites = [s for s in ch.cipher_suites if not tables.is_grease(s) and s not in SCSVS]
    names = tuple(tables.cipher_name(s) for s in suites)
    versions = offered_versions(ch)
    t13 = {s for s in suites if 0x1301 <= s <= 0x1305}
    legacy = [s for s in suites if s not in t13]
    parts: list[tuple[float, str]] = []
    if TLS13 in versions:
        common = t13 & sd.UNIVERSAL_TLS13_SUITES
        parts.append((1 - len(common) / len(sd.UNIVERSAL_TLS13_SUITES),
                      f"{len(common)} of the {len(sd.UNIVERSAL_TLS13_SUITES)} TLS 1.3 suites every common stack "
                      "enables"))
    if any(v < TLS13 for v in versions):
        auths = set()
        for s in legacy:
            info = tables.suite_info(s)
            if info is not None and info.auth in sd.COMMON_KEY_TYPES:
                auths.add(info.auth)
        # One or two suites, or suites for one certificate key type only, where a default
        # client offers some thirty for both.
        score = max(1 - min(len(legacy), 6) / 6, 1 - len(auths) / len(sd.COMMON_KEY_TYPES))
        parts.append((score, f"{len(legacy)} TLS 1.2 suite(s) for {' and '.join(sorted(auths)) or 'no common'} "
                             "certificate keys, where a default client offers some thirty for RSA and ECDSA"))
    score, why = max(parts) if parts else (1.0, "no suite")
    return ListReading("cipher suites", names, round(score, 3), why[:1].upper() + why[1:] + ".")


def read_groups(ch: Any, hrr_group: Optional[int] = None) -> Optional[ListReading]:
    groups = ext_list(ch, 10, "groups")
    tls13 = TLS13 in offered_versions(ch)
    if groups is None:
        if not tls13:
            return None  # TLS 1.2 without the extension: the server picks its default curve
        return ListReading("supported groups", (), 1.0, "A TLS 1.3 ClientHello without supported_groups.")
    names = tuple(tables.group_name(g) for g in groups)
    if hrr_group is not None and hrr_group not in groups:
        return ListReading("supported groups", names, 1.0,
                           f"The server's HelloRetryRequest asks for {tables.group_name(hrr_group)}, which is not "
                           "among them: no group in common.")
    common = set(groups) & sd.UNIVERSAL_GROUPS
    accepting = sd.stacks_accepting("groups", frozenset(groups))
    score = 1 - len(common) / len(sd.UNIVERSAL_GROUPS)
    why = (f"{len(common)} of the {len(sd.UNIVERSAL_GROUPS)} groups every common stack enables "
           f"({', '.join(tables.group_name(g) for g in sorted(sd.UNIVERSAL_GROUPS))})")
    if len(accepting) < len(sd.STACK_DEFAULTS):
        why += f"; only {', '.join(accepting) or 'no stack'} accept(s) any of them by default"
    return ListReading("supported groups", names, round(score, 3), why[:1].upper() + why[1:] + ".")


def _key_coverage(schemes: list[int]) -> tuple[float, list[str], set[Optional[str]]]:
    """How narrow a scheme list is (the share of the common key types it cannot serve), the
    common key types it serves, and every key type it serves."""
    keys = {sd.SCHEME_KEY_TYPES.get(s) for s in schemes}
    covered = [k for k in sd.COMMON_KEY_TYPES if k in keys]
    return 1 - len(covered) / len(sd.COMMON_KEY_TYPES), covered, keys


def _coverage_text(covered: list[str], what: str) -> str:
    if len(covered) == len(sd.COMMON_KEY_TYPES):
        return f"{what} suit RSA and ECDSA certificate keys."
    missing = [k for k in sd.COMMON_KEY_TYPES if k not in covered]
    return (f"{what} suit {' and '.join(covered) or 'neither RSA nor ECDSA'} certificate keys only: a server "
            f"whose certificate has an {' or '.join(missing)} key cannot sign for this client.")


def read_schemes(ch: Any, server_key: Optional[str] = None) -> Optional[ListReading]:
    """signature_algorithms, and signature_algorithms_cert when the client sends it (the
    schemes it accepts in the server's certificates: a chain signed otherwise is refused)."""
    schemes = ext_list(ch, 13, "algorithms")
    if schemes is None:
        if TLS13 in offered_versions(ch):
            return ListReading("signature algorithms", (), 1.0, "A TLS 1.3 ClientHello without signature_algorithms.")
        return None  # TLS 1.2 without the extension: SHA-1 defaults (RFC 5246 7.4.1.4.1)
    names = tuple(tables.signature_scheme_name(s) for s in schemes)
    score, covered, keys = _key_coverage(schemes)
    if server_key is not None and server_key not in keys:
        return ListReading("signature algorithms", names, 1.0,
                           f"The server's certificate has an {server_key} key (seen on another connection to it), "
                           "and none of them can sign with it.")
    why = _coverage_text(covered, "They")
    for_certs = ext_list(ch, 50, "algorithms")
    if for_certs is not None:
        cert_score, cert_covered, _keys = _key_coverage(for_certs)
        why += (" Its signature_algorithms_cert (for the certificates' own signatures): "
                + ", ".join(tables.signature_scheme_name(s) for s in for_certs[:_SHOWN])
                + ("" if len(for_certs) <= _SHOWN else ", ...") + "; " + _coverage_text(cert_covered, "they"))
        score = max(score, cert_score)
    return ListReading("signature algorithms", names, round(score, 3), why)


def read_lists(ch: Any, hrr_group: Optional[int] = None, server_key: Optional[str] = None) -> list[ListReading]:
    """The three lists of ``ch``, the narrowest first (ties keep suites, groups, schemes)."""
    found = [read_suites(ch), read_groups(ch, hrr_group), read_schemes(ch, server_key)]
    readings = [r for r in found if r is not None]
    return sorted(readings, key=lambda r: -r.narrowness)


def offers_only_tls13(ch: Any) -> bool:
    """The ClientHello offers TLS 1.3 alone: supported_versions without an older version and no
    cipher suite an older version could use (TLS 1.3's suites are 0x13xx)."""
    versions = [v for v in (ch.supported_versions or ()) if not tables.is_grease(v)]
    suites = [s for s in ch.cipher_suites if not tables.is_grease(s) and s not in SCSVS]
    return bool(versions) and min(versions) >= 0x0304 and bool(suites) and all(s >> 8 == 0x13 for s in suites)
