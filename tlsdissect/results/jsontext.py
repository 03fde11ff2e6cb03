"""JSON text for the command line's machine output: compact, UTF-8, and fast.

Encoding is a large share of ``--json``/``--jsonl`` on captures of many short connections
(a connection is ~460 values), so orjson is used when installed (it is a dependency; about
4x faster than the standard library's C encoder here). Without it the standard library
writes the same text: no spaces after separators, non-ASCII characters as they are.
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - exercised by test_jsontext with orjson hidden
    orjson = None  # type: ignore[assignment]


def shared(value: Any) -> Any:
    """``value`` for a part that many connections repeat (an extension, a cipher-suite list, a
    certificate), serialised once: its JSON bytes (plain data, so results holding it can be
    pickled), or the value itself without orjson. ``embed`` makes it ready for ``dumps``."""
    if orjson is not None:
        return _orjson_dumps(value)
    return value


def shared_list(items: list[Any]) -> Any:
    """The ``shared`` form of a list whose items are ``shared`` forms."""
    if orjson is not None:
        return b"[" + b",".join(items) + b"]"
    return list(items)


def embed_list(items: list[Any]) -> Any:
    """``embed(shared_list(items))`` in one call (a hello's extensions: a few per connection)."""
    form = shared_list(items)
    return orjson.Fragment(form) if orjson is not None else form


def embed(form: Any) -> Any:
    """A ``shared`` form as a value ``dumps`` copies in as it is (an orjson Fragment); only for
    values handed straight to ``dumps``."""
    if orjson is not None and type(form) is bytes:
        return orjson.Fragment(form)
    return form


def dumps(value: Any) -> str:
    """One JSON text for ``value`` (dicts may have int keys, written as strings)."""
    if orjson is not None:
        return _orjson_dumps(value).decode("utf-8")
    return _stdlib_dumps(value)


def dumps_bytes(value: Any) -> bytes:
    """``dumps(value)`` as UTF-8 bytes, for writing to a byte stream without a decode and an
    encode of every connection's text."""
    if orjson is not None:
        return _orjson_dumps(value)
    return _stdlib_dumps(value).encode("utf-8")


def _orjson_dumps(value: Any) -> bytes:
    """orjson's text for ``value``, int keys written as strings. OPT_NON_STR_KEYS makes orjson
    take its slow path for every dict (about half the encoding time of a connection), and int
    keys are rare: so without it first, and with it only when orjson refused a key (any
    other refusal is raised again by the second call)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def _stdlib_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
