"""A client that resets its connection after its request was answered (a browser closing a
pooled connection) is no failure: the handshake and the exchange both went through.

The capture is Arkime's tls-split-client-hello.pcap (a Chrome-family client to
clients2.google.com, TLS 1.3, no key log): tshark's listing shows the client's data after its
Finished, the server's answer, and the client's RST as the last packet.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

import tlsdissect
from tests.shared_captures import shared_captures_dir

SHARED = shared_captures_dir()
CAPTURE = SHARED / "arkime+arkime" / "tests" / "pcap" / "tls-split-client-hello.pcap" if SHARED else None
TSHARK = shutil.which("tshark")


@pytest.mark.skipif(CAPTURE is None or not CAPTURE.exists(), reason="shared captures missing")
@pytest.mark.skipif(TSHARK is None, reason="tshark (the oracle) not installed")
def test_a_reset_after_an_answered_request_is_no_failure() -> None:
    assert CAPTURE is not None
    out = subprocess.run([TSHARK or "tshark", "-2", "-r", str(CAPTURE), "-T", "fields", "-e", "frame.number", "-e",
                          "tcp.srcport", "-e", "tcp.flags.reset", "-e", "tls.record.opaque_type"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    client_port = rows[0][1]
    app = [(int(r[0]), r[1] == client_port) for r in rows if "23" in r[3].split(",")]
    # (TLS 1.3's outer type: the client's first protected record is its Finished, data follows)
    first_client_data = [n for n, from_client in app if from_client][1]
    assert any(not from_client and n > first_client_data for n, from_client in app)  # the server answered
    assert rows[-1][1] == client_port and rows[-1][2] in ("1", "True")  # the client's RST ends it
    c = tlsdissect.analyze(CAPTURE).connections[0]
    g = c.diagnosis
    assert c.established and (g.outcome, g.cause) == ("established", "ok")
    assert any(int(rows[-1][0]) in e.frames for e in g.evidence)
