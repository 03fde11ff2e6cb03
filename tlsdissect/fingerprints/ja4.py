"""JA4 and JA4S (FoxIO, technical_details/JA4.md and JA4S.md), written from the specification.

JA4 = a_b_c: a = transport (t TCP, q QUIC, d DTLS), version, d/i (SNI present or not), the
cipher and extension counts (GREASE left out, at most 99), the first ALPN's first and last
characters; b = the first 12 hex of SHA-256 over the sorted cipher list; c = the same over the
sorted extension list without SNI and ALPN, ``_``, the signature algorithms in the order sent.
JA4S = transport, version, extension count, selected ALPN _ cipher _ hash of the extensions in
the order sent. The ``_r`` forms show the lists instead of their hashes; the ``_o`` forms keep
the client's original order.

One point where FoxIO's implementations differ from its specification: a first ALPN name
whose first or last byte is not ASCII alphanumeric. The specification says the first and last
characters of its hex form, with examples (``0xab 0xcd`` -> ``ad``); FoxIO's Python and Rust
code write ``99`` for a first byte above 0x7f (so its test vector tls-non-ascii-alpn.pcapng,
``0xba 0xad``, holds ``99`` where the specification gives ``bd``). We follow the specification
(docs/fingerprints.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from tlsdissect.fingerprints.hellofields import (
    ALPN, SERVER_NAME, ClientFields, ServerFields, client_fields, server_fields)

EMPTY_HASH = "000000000000"  # the specification's value for an empty list

# The version characters: TLS and SSL by their wire values, DTLS by theirs.
VERSION_CHARS: dict[int, str] = {
    0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3", 0x0002: "s2",
    0xFEFF: "d1", 0xFEFD: "d2", 0xFEFC: "d3",
}


@dataclass(frozen=True, slots=True)
class Ja4:
    ja4: str
    ja4_r: str
    ja4_o: str
    ja4_ro: str


@dataclass(frozen=True, slots=True)
class Ja4s:
    ja4s: str
    ja4s_r: str


def _hash12(s: str) -> str:
    return hashlib.sha256(s.encode("ascii")).hexdigest()[:12] if s else EMPTY_HASH


def _hex4(values: Any) -> list[str]:
    return [f"{v:04x}" for v in values]


def alpn_chars(name: Optional[bytes]) -> str:
    """The two ALPN characters: '00' without ALPN or with an empty first name; the first and
    last byte (a single byte twice) when both are ASCII alphanumeric; otherwise the first and
    last characters of the name's hex form (``0xab 0xcd`` -> ``ad``)."""
    if not name:
        return "00"
    first, last = name[0], name[-1]
    if _alnum(first) and _alnum(last):
        return chr(first) + chr(last)
    h = name.hex()
    return h[0] + h[-1]


def _alnum(b: int) -> bool:
    return 0x30 <= b <= 0x39 or 0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A


def _with_sigs(exts: str, sigs: str) -> str:
    # "if there are no signature algorithms in the Hello packet, then the string ends without
    # an underscore"
    return f"{exts}_{sigs}" if sigs else exts


@lru_cache(maxsize=4096)
def ja4_of_fields(f: ClientFields, transport: str = "t") -> Ja4:
    """JA4 of the hello's fields. The version is the highest supported_versions entry when
    the extension is there, else the legacy version."""
    exts = f.extensions
    version = max(f.versions) if f.versions else f.legacy_version
    head = (f"{transport}{VERSION_CHARS.get(version, '00')}{'d' if SERVER_NAME in exts else 'i'}"
            f"{min(len(f.ciphers), 99):02d}{min(len(exts), 99):02d}{alpn_chars(f.first_alpn)}")
    sigs = ",".join(_hex4(f.signature_algorithms))
    rest = [e for e in exts if e != SERVER_NAME and e != ALPN]
    sorted_ciphers = ",".join(sorted(_hex4(f.ciphers)))
    original_ciphers = ",".join(_hex4(f.ciphers))
    # The original-order form keeps SNI and ALPN in the list, as the reference does.
    sorted_exts = _with_sigs(",".join(sorted(_hex4(rest))), sigs)
    original_exts = _with_sigs(",".join(_hex4(exts)), sigs)
    return Ja4(
        ja4=f"{head}_{_hash12(sorted_ciphers)}_{_hash12(sorted_exts) if rest else EMPTY_HASH}",
        ja4_r=f"{head}_{sorted_ciphers}_{sorted_exts}",
        ja4_o=f"{head}_{_hash12(original_ciphers)}_{_hash12(original_exts) if exts else EMPTY_HASH}",
        ja4_ro=f"{head}_{original_ciphers}_{original_exts}",
    )


@lru_cache(maxsize=4096)
def ja4s_of_fields(f: ServerFields, transport: str = "t") -> Ja4s:
    exts = f.extensions  # (a server sends no GREASE; the reference keeps all)
    version = f.selected_version if f.selected_version is not None else f.legacy_version
    head = (f"{transport}{VERSION_CHARS.get(version, '00')}{min(len(exts), 99):02d}{alpn_chars(f.alpn)}"
            f"_{f.cipher:04x}")
    listed = ",".join(_hex4(exts))
    return Ja4s(ja4s=f"{head}_{_hash12(listed)}", ja4s_r=f"{head}_{listed}")


def ja4(ch: Any, transport: str = "t") -> Optional[Ja4]:
    """The JA4 forms of a ClientHello; None for an SSLv2-format hello (its cipher specs are not
    TLS cipher suites)."""
    if ch is None or ch.sslv2:
        return None
    return ja4_of_fields(client_fields(ch), transport)


def ja4s(sh: Any, transport: str = "t") -> Optional[Ja4s]:
    """The JA4S forms of a ServerHello-type message (see fingerprints_of for which)."""
    if sh is None:
        return None
    return ja4s_of_fields(server_fields(sh), transport)
