"""TLS through an HTTP proxy (CONNECT, RFC 9110 §9.3.6): real loopback captures made by
tests/data/proxy/build.py (curl -x through a small forward proxy to openssl s_server).

What must hold comes from curl's own words (NAME.peers.txt: "CONNECT tunnel failed, response
407") and tshark's reading of the pcap (the CONNECT's target, the proxy's status code); a
refusal is named with its status and target, and an opened tunnel is read as TLS as usual."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import tlsdissect

DATA = Path(__file__).resolve().parent / "data" / "proxy"


def _tshark_http(path: Path) -> tuple[str, str]:
    """(the CONNECT request's target, the proxy's status code), as tshark reads them."""
    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.skip("tshark not available")
    out = subprocess.run([tshark, "-n", "-r", str(path), "-d", "tcp.port==3128,http", "-T", "fields", "-E",
                          "separator=|", "-e", "http.request.method", "-e", "http.request.uri", "-e",
                          "http.response.code", "-Y", "http"], capture_output=True, text=True, timeout=60).stdout
    target = code = ""
    for line in out.splitlines():
        method, uri, status = line.split("|")
        if method == "CONNECT":
            target = uri
        if status:
            code = code or status
    return target, code


@pytest.mark.parametrize("name", ["connect_407_curl", "connect_403_curl"])
def test_a_refused_connect_is_named_with_the_proxys_answer(name: str) -> None:
    peers = (DATA / f"{name}.peers.txt").read_text()
    curl_code = re.search(r"CONNECT tunnel failed, response (\d{3})", peers).group(1)  # curl's own words
    target, code = _tshark_http(DATA / f"{name}.pcap")
    assert code == curl_code
    (conn,) = tlsdissect.analyze(DATA / f"{name}.pcap").connections
    d = conn.diagnosis
    assert (d.outcome, d.cause, d.failure_point) == ("failed", "proxy_connect_refused", "starttls")
    st = conn.starttls
    assert (st.protocol, st.result, st.answer_code, st.target) == ("http_connect", "refused", code, target)
    assert code in d.explanation and target in d.explanation
    if code == "407":
        assert any("Proxy-Authenticate" in e.text for e in d.evidence)
    assert conn.to_dict()["starttls"]["target"] == target


def test_an_opened_tunnel_is_read_as_tls() -> None:
    peers = (DATA / "connect_ok_curl.peers.txt").read_text()
    assert "client exit status: 0" in peers and "http_code=200" in peers  # curl got its page through the tunnel
    target, code = _tshark_http(DATA / "connect_ok_curl.pcap")
    assert code == "200"
    report = tlsdissect.analyze(DATA / "connect_ok_curl.pcap")
    via_proxy = next(c for c in report.connections if c.server.endswith(":3128"))
    assert via_proxy.established and via_proxy.server_name == target.split(":")[0]
    assert via_proxy.starttls.protocol == "http_connect" and via_proxy.starttls.result == "accepted"
    assert via_proxy.diagnosis.cause == "ok"
