"""The JSON forms of the handshake messages a connection's result carries (docs/schema.md).

The message classes (tls.handshake) hand these out through their ``json_form`` methods, so that
the result model can write a connection out without knowing the TLS stage's classes.
"""

from __future__ import annotations

from typing import Any

from tlsdissect.results import jsontext
from tlsdissect.tls import tables
from tlsdissect.tls.extensions import json_forms

# Cipher-suite lists as names, keyed by the codes: clients repeat their list byte for byte, so
# most connections of a capture map the same few dozen codes. The value: the names, and a
# one-slot list for the (names, codes) pair serialised once for the JSON output, kept embedded
# (see Connection.json_value: the same Fragment objects go into every result that lists
# them). Bounded: cleared when full.
_SUITE_NAMES_MAX = 4096
_suite_names: dict[tuple[int, ...], tuple[tuple[str, ...], list[Any]]] = {}


def _suite_name(c: int) -> str:
    return tables.cipher_name(c) if c <= 0xFFFF else f"SSLv2:0x{c:06x}"


def _suite_entry(codes: list[int]) -> tuple[tuple[str, ...], list[Any]]:
    key = tuple(codes)
    entry = _suite_names.get(key)
    if entry is None:
        entry = (tuple([_suite_name(c) for c in key]), [])
        if len(_suite_names) >= _SUITE_NAMES_MAX:
            _suite_names.clear()
        _suite_names[key] = entry
    return entry


def _cipher_suite_names(codes: list[int]) -> list[str]:
    return list(_suite_entry(codes)[0])  # a fresh list per result: callers may mutate it


def hello_dict(h: Any, client: bool, shared: bool = False) -> dict[str, Any]:
    """A ClientHello's (``client``) or ServerHello's JSON form; ``shared``: see
    results.model.Connection.json_value."""
    d: dict[str, Any] = {
        "legacy_version": tables.version_name(h.legacy_version),
        "random": h.random.hex(),
        "session_id": h.session_id.hex(),
        # (shared: the whole list as one embedded text, from each extension's shared form)
        "extensions": (jsontext.embed_list(json_forms(h.extensions)) if shared
                       else [e.to_dict() for e in h.extensions]),
    }
    if client:
        if shared:
            names, slot = _suite_entry(h.cipher_suites)
            if not slot:
                slot += [jsontext.embed(jsontext.shared(list(names))), jsontext.embed(jsontext.shared(h.cipher_suites))]
            d["cipher_suites"], d["cipher_suite_codes"] = slot
        else:
            d["cipher_suites"] = _cipher_suite_names(h.cipher_suites)
            d["cipher_suite_codes"] = h.cipher_suites
        d["compression_methods"] = h.compression_methods
        d["sslv2_format"] = h.sslv2
    else:
        d["cipher_suite"] = tables.cipher_name(h.cipher_suite)
        d["cipher_suite_code"] = h.cipher_suite
        d["compression_method"] = h.compression_method
    return d


def certificate_request_dict(r: Any) -> dict[str, Any]:
    return {
        "certificate_types": r.certificate_types,
        "signature_algorithms": [tables.name_of(tables.SIGNATURE_SCHEMES, a) for a in r.signature_algorithms],
        "certificate_authorities_der": [n.hex() for n in r.certificate_authorities],
        "tls13": r.tls13,
    }
