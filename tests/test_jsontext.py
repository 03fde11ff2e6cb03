"""The command line's JSON text is the same with orjson and with the standard library
(the fallback where orjson has no wheel), and it is the connection's to_dict()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tlsdissect import analyze

from tlsdissect.results import jsontext

CAPS = sorted((Path(__file__).resolve().parent.parent / "captures").glob("*/capture.pcap"))
# A lab capture with a float below 1e-4 in its JSON: capture_after_last_packet is 16
# microseconds in wide4_icmp_admin_prohibited_node_haproxy, which orjson writes 0.000016 and
# Python's repr 1.6e-05 (jsontext._float_text writes orjson's form without orjson).
FLOAT_FORM_DIFFERS = {"wide4_icmp_admin_prohibited_node_haproxy"}


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


@pytest.mark.skipif(jsontext.orjson is None, reason="orjson not installed")
def test_a_float_below_1e_4_is_written_the_same_way() -> None:
    paths = [p for p in CAPS if p.parent.name in FLOAT_FORM_DIFFERS]
    assert paths
    for path in paths:
        for conn in analyze(path).connections:
            d = conn.to_dict()
            assert jsontext.dumps(d) == jsontext._stdlib_dumps(d)
    for x in (1.6e-05, 1e-05, -2.5e-06, 1e-07, 5e-324, 1.23456789e-05, 9.999e-05, 1e-4, 0.5, 1e16):
        assert jsontext._stdlib_dumps([x]) == jsontext.orjson.dumps([x]).decode(), x


@pytest.mark.skipif(not CAPS, reason="lab captures missing")
def test_json_value_writes_what_to_dict_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line writes Connection.json_value(), whose repeated parts (extensions,
    cipher-suite lists) are serialised once and shared between connections: the text must be
    that of to_dict(), for the first connection that fills the shared parts and every later
    one that reuses them, and the same again without orjson."""
    conns = [c for path in CAPS for c in analyze(path).connections]
    for _ in range(2):  # second pass: every shared part already made
        for conn in conns:
            assert jsontext.dumps(conn.json_value()) == jsontext.dumps(conn.to_dict())
    if jsontext.orjson is not None:
        shared = conns[0].json_value()["client_hello"]["cipher_suites"]
        assert isinstance(shared, jsontext.orjson.Fragment)
        assert json.loads(jsontext.dumps(shared)) == conns[0].to_dict()["client_hello"]["cipher_suites"]
    # to_dict() hands out objects of the connection's own: changing one changes no other result
    a, b = conns[0].to_dict(), conns[0].to_dict()
    a["client_hello"]["cipher_suites"].append("x")
    a["client_hello"]["extensions"][0]["name"] = "x"
    assert b == conns[0].to_dict()
    # without orjson nothing is pre-serialised: shared() hands the value back as it is
    monkeypatch.setattr(jsontext, "orjson", None)
    value = {"groups": [29, 23]}
    assert jsontext.shared(value) is value


@pytest.mark.skipif(not CAPS, reason="lab captures missing")
def test_connections_pickle_after_json_value() -> None:
    """--jobs workers send Connections to the parent by pickle: what json_value() shares
    (serialised extensions, suites, certificates) must not stop that, or change the text."""
    import pickle

    conns = [c for path in CAPS[:10] for c in analyze(path).connections]
    for conn in conns:
        text = jsontext.dumps(conn.json_value())
        copy = pickle.loads(pickle.dumps(conn))
        assert jsontext.dumps(copy.json_value()) == text == jsontext.dumps(copy.to_dict())
