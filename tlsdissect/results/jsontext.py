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
    if not _has_small_float(value):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    # A float below 1e-4 (a gap of microseconds): Python writes 1.6e-05 where orjson writes
    # 0.000016, and 1e-07 where it writes 1e-7. The pure encoder takes a float formatter; the C
    # one does not, so only such values pay for the slower path.
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
    iterencode = json.encoder._make_iterencode(  # type: ignore[attr-defined]
        {}, encoder.default, json.encoder.py_encode_basestring, None, _float_text, ":", ",", False, False, True)
    return "".join(iterencode(value, 0))


def _float_text(x: float) -> str:
    """A float as orjson writes it: Python's shortest repr, except that an exponent of -5 is
    written out (0.000016) and negative exponents have no leading zero (1e-7)."""
    text = float.__repr__(x)
    if "e-" not in text:
        return text
    mantissa, exponent = text.split("e-")
    if exponent == "05":
        sign = "-" if mantissa.startswith("-") else ""
        return f"{sign}0.0000{mantissa.lstrip('-').replace('.', '')}"
    return f"{mantissa}e-{exponent.lstrip('0')}"


def _has_small_float(value: Any) -> bool:
    """Whether ``value`` holds a float whose repr has a negative exponent."""
    if type(value) is float:
        return value != 0.0 and abs(value) < 1e-4
    if type(value) is dict:
        return any(_has_small_float(v) for v in value.values())
    if type(value) is list or type(value) is tuple:
        return any(_has_small_float(v) for v in value)
    return False
