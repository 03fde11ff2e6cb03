"""A TCP connection refused by ICMP: an error quoting the client's SYN (a firewall's REJECT, a
router without a route) is the answer it got, and the cause is host_unreachable.

The captures are the fourth wide lab's (iptables REJECT with icmp-port-unreachable and with
icmp-admin-prohibited in front of nginx and HAProxy; the clients said 'Connection refused' and
'EHOSTUNREACH'); tshark reads the ICMP type and code and the quoted ports.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import tlsdissect

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
NAMES = ["wide4_icmp_port_unreachable_urllib3_nginx", "wide4_icmp_admin_prohibited_node_haproxy"]
TSHARK = shutil.which("tshark")


@pytest.mark.parametrize("name", NAMES)
def test_a_syn_answered_by_icmp(name: str) -> None:
    folder = CAPTURES / name
    if not (folder / "capture.pcap").exists():
        pytest.skip("lab capture missing")
    expected = json.loads((folder / "expected.json").read_text())["expected"]
    c = tlsdissect.analyze(folder / "capture.pcap").connections[0]
    icmp = [e for e in c.events if e.type == "icmp"]
    assert len(icmp) >= 1 and icmp[0].sender == "server"
    g = c.diagnosis
    assert (g.outcome, g.cause, g.how, g.failure_point) == (expected["outcome"], expected["cause"], "icmp",
                                                            expected["failure_point"])
    if TSHARK:
        out = subprocess.run([TSHARK, "-r", str(folder / "capture.pcap"), "-Y", "icmp", "-T", "fields", "-e",
                              "frame.number", "-e", "icmp.type", "-e", "icmp.code", "-e", "tcp.srcport"],
                             capture_output=True, text=True, timeout=60, check=True).stdout.split()
        frame, itype, code, quoted_sport = (int(x) for x in out[:4])
        assert icmp[0].frame == frame and f"(type {itype}, code {code})" in icmp[0].info["name"]
        assert c.client.endswith(f":{quoted_sport}")
