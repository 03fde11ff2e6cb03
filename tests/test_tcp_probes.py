"""A receiver that stops reading (a zero window) and keep-alives nobody answers, after the
handshake: real captures of nginx and curl (stopped with SIGSTOP), and of a Python client with
TCP keep-alives whose server's packets iptables drops (tests/data/tcp_stalls/build.py).

Expected values come from the peers (NAME.peers.txt: curl's and the Python client's words,
nginx's error log) and from tshark's TCP analysis: ``tcp.analysis.zero_window``, the window
field, ``tcp.analysis.keep_alive`` (Linux's zero-window probes have the keep-alive form, so
tshark marks them so too) and the resets.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import tlsdissect

DATA = Path(__file__).resolve().parent / "data" / "tcp_stalls"
TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is the oracle")
PORT = "4433"


def _peers(name: str) -> str:
    return (DATA / f"{name}.peers.txt").read_text()


def _conn(name: str, keys: bool = False) -> dict:
    result = tlsdissect.analyze(str(DATA / f"{name}.pcap"), keylog=str(DATA / f"{name}.keylog") if keys else None)
    (conn,) = [json.loads(json.dumps(c.to_dict())) for c in result.connections]
    return conn


def _tshark(name: str) -> list[dict[str, str]]:
    """Per frame: number, source port, window field, zero-window and keep-alive marks, RST."""
    fields = ["frame.number", "tcp.srcport", "tcp.window_size_value", "tcp.analysis.zero_window",
              "tcp.analysis.keep_alive", "tcp.flags.reset"]
    out = subprocess.run([TSHARK or "tshark", "-r", str(DATA / f"{name}.pcap"), "-T", "fields"]
                         + [x for f in fields for x in ("-e", f)], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    return [dict(zip(("frame", "port", "window", "zero", "keepalive", "rst"), line.split("\t")))
            for line in out.splitlines()]


def _last_zero_spell(rows: list[dict[str, str]], port: str) -> tuple[int, bool]:
    """tshark's reading: the first zero-window frame of ``port``'s last run of zero windows (no
    segment of that side with a window in between; its resets left out), and whether the run
    lasts to the end."""
    first = None
    for r in rows:
        if r["port"] != port or r["rst"] in ("1", "True"):
            continue
        if r["zero"]:
            first = first if first is not None else int(r["frame"])
        elif int(r["window"]):
            first = None
    assert first is not None
    return first, True


@needs_tshark
def test_server_resets_a_client_that_stopped_reading() -> None:
    name = "zero_window_server_resets"
    said = _peers(name)
    assert "client timed out (110: Connection timed out) while sending response to client" in said  # nginx
    assert "Connection reset by peer" in said  # curl, continued after the stall
    rows = _tshark(name)
    client = next(r["port"] for r in rows if r["port"] != PORT)
    first, _ = _last_zero_spell(rows, client)
    keepalives = [int(r["frame"]) for r in rows if r["port"] == PORT and r["keepalive"]]
    reset = [int(r["frame"]) for r in rows if r["rst"] in ("1", "True")]
    for keys in (False, True):
        c = _conn(name, keys)
        spell = c["zero_window"]["client"]
        assert (spell["first_frame"], spell["open_at_end"], spell["reopened_frame"]) == (first, True, None)
        assert c["probes"]["server"]["frames"] == keepalives[-8:]
        assert c["probes"]["server"]["while_peer_window_zero"] == len(keepalives)
        d = c["diagnosis"]
        assert (d["cause"], d["aborted_by"], d["how"], d["confidence"]) == (
            "receiver_stopped_reading", "server", "rst", "likely"), d
        assert c["tcp_close"]["frame"] == reset[0]


@needs_tshark
def test_unanswered_keepalives_then_the_client_resets() -> None:
    name = "keepalive_unanswered"
    assert "response: HTTP/1.1 200 OK" in _peers(name)
    rows = _tshark(name)
    client = next(r["port"] for r in rows if r["port"] != PORT)
    keepalives = [int(r["frame"]) for r in rows if r["port"] == client and r["keepalive"]]
    assert len(keepalives) == 3  # TCP_KEEPCNT of the client
    last_from_server = max(int(r["frame"]) for r in rows if r["port"] == PORT)
    assert last_from_server < keepalives[0]  # nothing answered them
    reset = [r for r in rows if r["rst"] in ("1", "True")]
    assert [r["port"] for r in reset] == [client]
    for keys in (False, True):
        c = _conn(name, keys)
        probes = c["probes"]["client"]
        assert (probes["frames"], probes["unanswered_at_end"], probes["count"]) == (keepalives, 3, 3)
        assert "zero_window" not in c
        d = c["diagnosis"]
        assert (d["cause"], d["aborted_by"], d["how"]) == ("keepalive_unanswered", "client", "rst"), d


@needs_tshark
@pytest.mark.parametrize("name", ["zero_window_recovered", "keepalive_idle_server_closes", "zero_window_server_closes"])
def test_controls_stay_successes(name: str) -> None:
    """A reader that paused and went on, keep-alives that were answered, and a download whose
    zero windows were only flow control: curl got every byte (exit 0, 262144 bytes), the Python
    client its answer and the server's close."""
    said = _peers(name)
    assert "exit 0" in said and ("size 262144" in said or "server closed the connection" in said)
    rows = _tshark(name)
    for keys in (False, True):
        c = _conn(name, keys)
        assert c["diagnosis"]["cause"] == "ok", (keys, c["diagnosis"])
        ours = set(c.get("probes", {}).get("client", {}).get("frames", []) +
                   c.get("probes", {}).get("server", {}).get("frames", []))
        theirs = {int(r["frame"]) for r in rows if r["keepalive"]}
        assert ours == theirs or (len(ours) == 8 and ours <= theirs)
    if name == "zero_window_recovered":
        spell = _conn(name)["zero_window"]["client"]
        assert not spell["open_at_end"] and spell["seconds"] >= 1.5  # curl was stopped for 2 s
        assert next(r for r in rows if int(r["frame"]) == spell["reopened_frame"])["window"] != "0"
