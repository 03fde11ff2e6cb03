"""A client that needs the ALPN protocol it offered: gRPC (grpcio's C core offers h2 alone and
gives up on a server that selects none, "Cannot check peer: missing selected ALPN property"),
against openssl s_server without ALPN (TLS 1.2 and 1.3), nginx without HTTP/2 (which refuses
with no_application_protocol) and a real gRPC server (the control).

The captures are real (tests/data/alpn_required/build.py). Expected values come from the peers
(NAME.peers.txt: what the client printed, the server's log) and from tshark's reading of the
ALPN lists, the handshake messages, the FINs and the alerts (with the server's key log where
openssl s_server wrote one).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import tlsdissect

DATA = Path(__file__).resolve().parent / "data" / "alpn_required"
TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is the oracle")


def _peers(name: str) -> str:
    return (DATA / f"{name}.peers.txt").read_text()


def _keylog(name: str) -> str | None:
    path = DATA / f"{name}.keylog"
    return str(path) if path.stat().st_size else None


def _conn(name: str, keys: bool) -> dict:
    result = tlsdissect.analyze(str(DATA / f"{name}.pcap"), keylog=_keylog(name) if keys else None)
    (conn,) = [json.loads(json.dumps(c.to_dict())) for c in result.connections]
    return conn


def _tshark(name: str) -> list[dict[str, str]]:
    """Per TLS record or FIN frame: frame, source port, FIN flag, handshake types, ALPN, alert."""
    argv = [TSHARK or "tshark", "-r", str(DATA / f"{name}.pcap")]
    if _keylog(name):
        argv += ["-o", f"tls.keylog_file:{_keylog(name)}"]
    fields = ["frame.number", "tcp.srcport", "tcp.flags.fin", "tls.handshake.type",
              "tls.handshake.extensions_alpn_str", "tls.alert_message.desc"]
    out = subprocess.run(argv + ["-Y", "tls or tcp.flags.fin == 1", "-T", "fields"]
                         + [x for f in fields for x in ("-e", f)], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    return [dict(zip(("frame", "port", "fin", "types", "alpn", "alert"), line.split("\t"))) for line in out.splitlines()]


def _client_port(rows: list[dict[str, str]]) -> str:
    return next(r["port"] for r in rows if r["types"].split(",")[0] == "1")


@needs_tshark
@pytest.mark.parametrize("name", ["grpc_no_alpn_s_server12", "grpc_no_alpn_s_server13"])
@pytest.mark.parametrize("keys", [False, True])
def test_grpc_gives_up_on_a_server_that_selects_no_protocol(name: str, keys: bool) -> None:
    assert "Cannot check peer: missing selected ALPN property" in _peers(name)
    rows = _tshark(name)
    client = _client_port(rows)
    assert [r["alpn"] for r in rows if r["types"].split(",")[0] == "1"] == ["h2"]  # offered: h2 alone
    assert not any(r["alpn"] for r in rows if r["port"] != client)  # selected: nothing
    client_fin = next(r for r in rows if r["port"] == client and r["fin"] == "1")
    assert not any(r["alert"] for r in rows if r["port"] == client)  # the client leaves without an alert
    conn = _conn(name, keys)
    d = conn["diagnosis"]
    assert (conn["outcome"], d["cause"], d["aborted_by"]) == ("failed", "alpn_mismatch", "client")
    assert conn["tcp_close"]["frame"] == int(client_fin["frame"])
    hidden = name.endswith("13") and not keys  # TLS 1.3 encrypts the server's answer without the key log
    assert d["confidence"] == ("possible" if hidden else "likely")
    assert bool(d.get("hidden")) == hidden


@needs_tshark
def test_a_server_alert_after_the_client_left_is_a_reaction_not_the_cause() -> None:
    rows = _tshark("grpc_no_alpn_s_server12")  # with the server's key log: its alert decrypts
    client = _client_port(rows)
    fin = next(int(r["frame"]) for r in rows if r["port"] == client and r["fin"] == "1")
    ((frame, code),) = [(int(r["frame"]), int(r["alert"])) for r in rows if r["alert"] and r["port"] != client]
    assert frame > fin and code == 50  # openssl s_server answers the FIN with decode_error
    conn = _conn("grpc_no_alpn_s_server12", keys=True)
    assert [a["code"] for a in conn["alerts"]] == [50]
    assert conn["diagnosis"]["cause"] == "alpn_mismatch"
    assert any("reaction to that close" in e["text"] for e in conn["diagnosis"]["evidence"])


@needs_tshark
def test_nginx_without_http2_refuses_with_no_application_protocol() -> None:
    assert "no application protocol" in _peers("grpc_nginx_without_http2")
    rows = _tshark("grpc_nginx_without_http2")
    ((frame, code),) = [(int(r["frame"]), int(r["alert"])) for r in rows if r["alert"]]
    d = _conn("grpc_nginx_without_http2", keys=False)["diagnosis"]
    assert (d["cause"], d["confidence"], d["aborted_by"], d["alert"]["code"], d["alert"]["frame"]) == (
        "alpn_mismatch", "certain", "server", code, frame)


@needs_tshark
def test_grpc_against_a_grpc_server_succeeds() -> None:
    assert "reply: b'echo hello'" in _peers("grpc_success_grpc_server")
    rows = _tshark("grpc_success_grpc_server")
    assert [r["alpn"] for r in rows if r["types"].split(",")[0] == "1"] == ["h2"]
    conn = _conn("grpc_success_grpc_server", keys=False)
    assert (conn["outcome"], conn["diagnosis"]["cause"]) == ("established", "ok")
