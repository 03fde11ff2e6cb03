"""The command line's JSON text is the same with orjson and with the standard library
(the fallback where orjson has no wheel), and it is the connection's to_dict()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tlsdissect import analyze, jsontext

CAPS = sorted((Path(__file__).resolve().parent.parent / "captures").glob("*/capture.pcap"))


@pytest.mark.skipif(jsontext.orjson is None, reason="orjson not installed")
@pytest.mark.skipif(not CAPS, reason="lab captures missing")
def test_orjson_and_stdlib_write_the_same_text() -> None:
    checked = 0
    for path in CAPS:
        for conn in analyze(path).connections:
            d = conn.to_dict()
            fast = jsontext.dumps(d)
            assert fast == jsontext._stdlib_dumps(d)
            assert json.loads(fast) == json.loads(json.dumps(d))
            checked += 1
    assert checked > 50
