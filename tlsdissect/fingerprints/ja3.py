"""JA3 and JA3S (Salesforce, 2017): the hellos' fields in decimal, MD5 of the string.

JA3 = SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats, values joined by
``-``, GREASE left out of every list; JA3S = SSLVersion,Cipher,Extensions of the ServerHello.
The version is the hello's legacy_version (771 for TLS 1.2 and 1.3 alike): that is what the
reference implementation reads, and what every published JA3 value was computed from.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any, Optional

from tlsdissect.fingerprints.hellofields import GREASE, ClientFields, ServerFields, client_fields, server_fields


def _dashed(values: tuple[int, ...]) -> str:
    return "-".join(map(str, values))


def _md5(s: str) -> str:
    return hashlib.md5(s.encode("ascii"), usedforsecurity=False).hexdigest()


@lru_cache(maxsize=4096)
def ja3_of_fields(f: ClientFields) -> tuple[str, str]:
    s = ",".join((str(f.legacy_version), _dashed(f.ciphers), _dashed(f.extensions), _dashed(f.groups),
                  _dashed(f.point_formats)))
    return _md5(s), s


@lru_cache(maxsize=4096)
def ja3s_of_fields(f: ServerFields) -> tuple[str, str]:
    s = ",".join((str(f.legacy_version), str(f.cipher), _dashed(tuple(t for t in f.extensions if t not in GREASE))))
    return _md5(s), s


def ja3(ch: Any) -> Optional[tuple[str, str]]:
    """(MD5, full string) of a ClientHello; None for an SSLv2-format hello (JA3 reads TLS
    handshake records only)."""
    if ch is None or ch.sslv2:
        return None
    return ja3_of_fields(client_fields(ch))


def ja3s(sh: Any) -> Optional[tuple[str, str]]:
    """(MD5, full string) of a ServerHello-type message (see fingerprints_of for which)."""
    if sh is None:
        return None
    return ja3s_of_fields(server_fields(sh))
