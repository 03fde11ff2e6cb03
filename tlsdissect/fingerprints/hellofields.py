"""The few hello fields every fingerprint reads, gathered once into a hashable tuple.

A client program sends the same lists on every connection, so the fingerprints are worked out
once per distinct tuple (bounded caches in ja3/ja4) and looked up after that: a capture of a
busy front end pays for formatting and hashing a few times, not once per connection.

GREASE values (RFC 8701) are random per connection; JA3 and JA4 leave them out of every list,
so they are left out here already (which keeps the cache keys stable too)."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

SERVER_NAME = 0
SUPPORTED_GROUPS = 10
EC_POINT_FORMATS = 11
SIGNATURE_ALGORITHMS = 13
ALPN = 16
SUPPORTED_VERSIONS = 43

GREASE = frozenset(0x0A0A + 0x1010 * i for i in range(16))


class ClientFields(NamedTuple):
    legacy_version: int
    ciphers: tuple[int, ...]  # GREASE left out, in the order sent
    extensions: tuple[int, ...]  # types, GREASE left out, in the order sent
    groups: tuple[int, ...]  # supported_groups, GREASE left out
    point_formats: tuple[int, ...]
    signature_algorithms: tuple[int, ...]  # as sent (the JA4 reference keeps the list whole)
    versions: tuple[int, ...]  # supported_versions, GREASE left out
    first_alpn: Optional[bytes]


class ServerFields(NamedTuple):
    legacy_version: int
    cipher: int
    extensions: tuple[int, ...]  # types in the order sent
    selected_version: Optional[int]
    alpn: Optional[bytes]


def _ints(d: Optional[dict[str, Any]], key: str) -> tuple[int, ...]:
    v = d.get(key) if d else None
    return tuple([x for x in v if type(x) is int and x not in GREASE]) if type(v) is list else ()


def _first_alpn(d: Optional[dict[str, Any]]) -> Optional[bytes]:
    """The first protocol name's bytes; names that are not ASCII from ``protocols_hex``, since
    ``protocols`` holds them with replacement characters."""
    names = d.get("protocols") if d else None
    if type(names) is not list or not names:
        return None
    raw = d.get("protocols_hex") if d else None
    if type(raw) is list and raw:
        try:
            return bytes.fromhex(raw[0])
        except (TypeError, ValueError):
            return None
    first = names[0]
    return first.encode("ascii", "replace") if type(first) is str else None


def client_fields(ch: Any) -> ClientFields:
    types = []
    groups: tuple[int, ...] = ()
    formats: tuple[int, ...] = ()
    sigs: tuple[int, ...] = ()
    versions: tuple[int, ...] = ()
    alpn: Optional[bytes] = None
    seen: set[int] = set()
    for e in ch.extensions:
        t = e.type
        if t in GREASE:
            continue
        types.append(t)
        if t in seen:
            continue  # (a repeated extension: the first one counts, as everywhere else)
        seen.add(t)
        if t == SUPPORTED_GROUPS:
            groups = _ints(e._view(), "groups")
        elif t == EC_POINT_FORMATS:
            formats = _ints(e._view(), "formats")
        elif t == SIGNATURE_ALGORITHMS:
            d = e._view()
            v = d.get("algorithms") if d else None
            sigs = tuple([x for x in v if type(x) is int]) if type(v) is list else ()
        elif t == SUPPORTED_VERSIONS:
            versions = _ints(e._view(), "versions")
        elif t == ALPN:
            alpn = _first_alpn(e._view())
    ciphers = tuple([c for c in ch.cipher_suites if c not in GREASE])
    return ClientFields(ch.legacy_version, ciphers, tuple(types), groups, formats, sigs, versions, alpn)


def server_fields(sh: Any) -> ServerFields:
    types = []
    selected: Optional[int] = None
    alpn: Optional[bytes] = None
    for e in sh.extensions:
        t = e.type
        types.append(t)
        if t == SUPPORTED_VERSIONS and selected is None:
            d = e._view()
            v = d.get("selected_version") if d else None
            selected = v if type(v) is int else None
        elif t == ALPN and alpn is None:
            alpn = _first_alpn(e._view())
    return ServerFields(sh.legacy_version, sh.cipher_suite, tuple(types), selected, alpn)
