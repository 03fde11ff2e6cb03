"""Fast paths of the JSON stage: orjson first without OPT_NON_STR_KEYS (int keys retried
with it), and round6's float-only exact path."""

from __future__ import annotations

import json
import random

import pytest

from tlsdissect.results import jsontext
from tlsdissect.results.model import round6


@pytest.mark.skipif(jsontext.orjson is None, reason="orjson not installed")
def test_int_keys_are_written_as_strings() -> None:
    value = {"a": [1, {"b": {3: "x", "4": None}}], "c": {}}
    nested_int = {"outer": {"inner": {7: [1, 2]}}}
    for v in (value, nested_int, {1: 2}, {"plain": "str keys only"}):
        assert jsontext.dumps(v) == jsontext._stdlib_dumps(v)
        assert jsontext.dumps_bytes(v) == jsontext._stdlib_dumps(v).encode("utf-8")
        assert jsontext.shared(v) == jsontext.dumps_bytes(v)


@pytest.mark.skipif(jsontext.orjson is None, reason="orjson not installed")
def test_other_refusals_still_raise() -> None:
    with pytest.raises(TypeError):
        jsontext.dumps_bytes({"x": object()})
    with pytest.raises(TypeError):
        jsontext.dumps_bytes({1: object()})


def test_round6_is_round() -> None:
    r = random.Random(7)
    for i in range(200_000):
        t = 1.7e9 + r.random() * 1e8 if i % 3 else r.uniform(0, 4e9)
        if i % 5 == 0:
            t = round(t, r.randint(0, 7))
        assert round6(t) == round(t, 6)
    for t in (0.0, -1.5, 1e300, 5e-7, 0.0000005, 1700000000.0000005, float("inf")):
        assert round6(t) == round(t, 6)
    assert json.dumps(round6(1700000000.013026)) == "1700000000.013026"
