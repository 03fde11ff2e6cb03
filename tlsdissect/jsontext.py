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
    """``value`` for a part that many connections repeat (an extension, a cipher-suite list):
    serialised once as an orjson Fragment that ``dumps`` copies in as it is. Only for values
    handed straight to ``dumps`` (a Fragment is not a dict or list); without orjson, the value."""
    if orjson is not None:
        return orjson.Fragment(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))
    return value


def dumps(value: Any) -> str:
    """One JSON text for ``value`` (dicts may have int keys, written as strings)."""
    if orjson is not None:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    return _stdlib_dumps(value)


def dumps_bytes(value: Any) -> bytes:
    """``dumps(value)`` as UTF-8 bytes, for writing to a byte stream without a decode and an
    encode of every connection's text."""
    if orjson is not None:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    return _stdlib_dumps(value).encode("utf-8")


def _stdlib_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
