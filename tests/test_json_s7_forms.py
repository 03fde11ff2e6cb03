"""The JSON side's one-call forms: _plain_dict (a copy of __dict__, only bytes replaced) and
jsontext.embed_list (embed of shared_list), against what they stand for."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tlsdissect.results import jsontext
from tlsdissect.results.model import _plain_dict


class _Obj:
    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)


class _Bytes(bytes):
    pass


def _reference(obj: Any) -> Any:
    """_plain_dict as it was: key by key, bytes and bytearray (and their subclasses) as hex."""
    if obj is None:
        return None
    return {k: v.hex() if isinstance(v, (bytes, bytearray)) else v for k, v in obj.__dict__.items()}


def test_plain_dict_matches_reference() -> None:
    rng = random.Random(7)
    pool: list[Any] = [0, 1, -5, 2**70, "", "x", None, True, False, 1.5, b"", b"\x00\xff", bytearray(b"ab"),
                       _Bytes(b"\x01"), [1, 2], {"k": b"v"}, (b"t",)]
    assert _plain_dict(None) is None
    assert _plain_dict(_Obj()) == {}
    for _ in range(500):
        fields = {f"f{i}": rng.choice(pool) for i in range(rng.randrange(0, 9))}
        obj = _Obj(**fields)
        got = _plain_dict(obj)
        want = _reference(obj)
        assert got == want and list(got) == list(want)
        assert [type(v) for v in got.values()] == [type(v) for v in want.values()]
        assert obj.__dict__ == fields  # the object itself is left alone
        assert got is not obj.__dict__


def test_embed_list_is_embed_of_shared_list(monkeypatch: pytest.MonkeyPatch) -> None:
    values = [{"a": 1}, [1, 2], "x", None]
    forms = [jsontext.shared(v) for v in values]
    assert jsontext.dumps(jsontext.embed_list(forms)) == jsontext.dumps(jsontext.embed(jsontext.shared_list(forms)))
    assert jsontext.dumps({"k": jsontext.embed_list([])}) == '{"k":[]}'
    monkeypatch.setattr(jsontext, "orjson", None)
    forms = [jsontext.shared(v) for v in values]
    assert jsontext.embed_list(forms) == values
    assert jsontext.dumps(jsontext.embed_list(forms)) == jsontext.dumps(values)
