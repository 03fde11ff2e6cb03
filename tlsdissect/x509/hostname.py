"""Server name versus certificate identity matching (RFC 6125 / RFC 9525 rules).

Kept apart from certificate parsing because the matching rules are subtle and
tested on their own against the RFC examples.

Decisions, documented here because RFCs leave room:

* A wildcard is honoured only when it is the whole left-most label ("*.example.com").
  Partial wildcards ("f*.example.com", "*oo.example.com", "w*w.example.com") never
  match: RFC 6125 section 6.4.3 lets a client choose to accept them, but RFC 9525
  section 6.3 (which obsoletes RFC 6125) and the CA/Browser Forum rules forbid them,
  and browsers reject them, so a capture showing one explains a failure.
* A wildcard matches exactly one label: "*.example.com" matches "foo.example.com",
  not "bar.foo.example.com" nor "example.com".
* A wildcard pattern needs at least two labels after the "*" ("*.com" matches
  nothing).  No public suffix list is consulted, so "*.co.uk" is accepted.
* Comparison is ASCII case-insensitive and ignores one trailing dot on either side.
  A non-ASCII server name is converted to its A-label (IDNA) form first.
* An IP-literal server name matches only iPAddress SAN entries (never dNSName or CN).
* The subject CN is consulted only when the certificate has no dNSName SAN at all.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HostnameMatch:
    """Outcome of matching one server name against a certificate's identities."""

    server_name: str
    matched: bool
    matched_identity: str | None  # the SAN/CN entry that matched
    checked_identities: tuple[str, ...] = field(default_factory=tuple)
    used_common_name: bool = False  # True when CN was the identity source (no DNS SAN)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "server_name": self.server_name,
            "matched": self.matched,
            "matched_identity": self.matched_identity,
            "checked_identities": list(self.checked_identities),
            "used_common_name": self.used_common_name,
            "reason": self.reason,
        }


def parse_ip_literal(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return the address if ``name`` is an IPv4/IPv6 literal (brackets allowed), else None."""
    text = name.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def normalize_dns_name(name: str) -> str | None:
    """Lower-case A-label form without trailing dot; None when the name is not usable."""
    text = name.strip()
    text = text.removesuffix(".")
    if not text:
        return None
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except (UnicodeError, ValueError):
            return None
    text = text.lower()
    if any(label == "" for label in text.split(".")):
        return None
    return text


def dns_pattern_matches(pattern: str, server_name: str) -> bool:
    """True when one presented DNS identity (maybe a wildcard) covers ``server_name``."""
    host = normalize_dns_name(server_name)
    return host is not None and _pattern_matches(pattern, host)


def _pattern_matches(pattern: str, host: str) -> bool:
    """``host`` is already normalized (lower-case A-labels, no trailing dot)."""
    pat = pattern.strip()
    pat = pat.removesuffix(".")
    if not pat or not pat.isascii():
        return False
    pat = pat.lower()
    pat_labels = pat.split(".")
    if any(label == "" for label in pat_labels):
        return False
    if "*" not in pat:
        return pat == host
    # Wildcard: only "*" as the complete left-most label, nowhere else.
    if pat_labels[0] != "*" or any("*" in label for label in pat_labels[1:]):
        return False
    if len(pat_labels) < 3:
        return False
    host_labels = host.split(".")
    if len(host_labels) != len(pat_labels):
        return False
    return host_labels[1:] == pat_labels[1:] and host_labels[0] != ""


def match_hostname(
    server_name: str,
    *,
    dns_names: Sequence[str],
    ip_addresses: Sequence[str],
    common_name: str | None,
) -> HostnameMatch:
    """Check ``server_name`` against a certificate's SAN dNSName/iPAddress entries and CN."""
    return _match_cached(server_name, tuple(dns_names), tuple(ip_addresses), common_name)


_MATCH_CACHE_MAX = 4096  # (name, certificate identities) pairs remembered, least recently used dropped


@functools.lru_cache(maxsize=_MATCH_CACHE_MAX)
def _match_cached(
    server_name: str, dns_names: tuple[str, ...], ip_addresses: tuple[str, ...], common_name: str | None
) -> HostnameMatch:
    """Cached because the same certificate meets the same name on every connection."""
    ip = parse_ip_literal(server_name)
    if ip is not None:
        for entry in ip_addresses:
            try:
                if ipaddress.ip_address(entry) == ip:
                    return HostnameMatch(server_name, True, entry, tuple(ip_addresses))
            except ValueError:
                continue
        reason = (
            "the certificate has no IP address SAN entries"
            if not ip_addresses
            else "no IP address SAN entry equals " + str(ip)
        )
        return HostnameMatch(server_name, False, None, tuple(ip_addresses), reason=reason)

    host = normalize_dns_name(server_name)
    if host is None:
        return HostnameMatch(server_name, False, None, reason="the server name is not a valid DNS name")

    used_cn = False
    identities: tuple[str, ...] = tuple(dns_names)
    if not identities and common_name:
        identities = (common_name,)
        used_cn = True
    for identity in identities:
        if _pattern_matches(identity, host):
            return HostnameMatch(server_name, True, identity, identities, used_cn)
    if not identities:
        reason = "the certificate has neither a DNS SAN entry nor a common name"
    elif any(_is_partial_wildcard(i) for i in identities):
        reason = "no entry matches (partial wildcards such as f*.example.com are not accepted)"
    else:
        reason = "no entry matches"
    return HostnameMatch(server_name, False, None, identities, used_cn, reason)


def _is_partial_wildcard(pattern: str) -> bool:
    first = pattern.split(".", 1)[0]
    return "*" in first and first != "*"
