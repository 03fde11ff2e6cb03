"""A server's reset without the ACK flag: the reset TCP sends for a connection it does not know
(RFC 9293 3.10.7.1), which a firewall rejecting the packet sends and an endpoint aborting its
own connection does not (Linux's active reset sets ACK).

The real capture is the wide2 lab's: iptables on the server's host answers the Node.js
client's ClientHello with ``REJECT --reject-with tcp-reset`` (its tshark.txt reads the flags).
The variant beside it is the same conversation rebuilt from its bytes with the reset's ACK flag
set, as a Linux server that aborts the connection itself sends it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tlsdissect
from tests.hostile.tcp_hostile_pcaps import ACK, RST, pcap
from tests.segmenting import extract_conversations

LAB = Path(__file__).resolve().parent.parent / "captures" / "wide2_firewall_reset_after_hello_haproxy_node"
pytestmark = pytest.mark.skipif(not (LAB / "capture.pcap").exists(), reason="lab capture missing")


def test_the_firewall_reset_has_no_ack_and_is_a_middlebox_reset() -> None:
    rst_lines = [line for line in (LAB / "tshark.txt").read_text().splitlines() if "[RST]" in line]
    assert len(rst_lines) == 1 and "[RST, ACK]" not in rst_lines[0]  # (tshark: the flags are RST alone)
    frame = int(rst_lines[0].split()[0])
    conn = tlsdissect.analyze(LAB / "capture.pcap").connections[0]
    rst = next(e for e in conn.events if e.type == "rst")
    assert (rst.frame, rst.sender, rst.info.get("no_ack")) == (frame, "server", True)
    g = conn.diagnosis
    assert (g.cause, g.aborted_by, g.how) == ("middlebox_reset", "middlebox", "rst")
    assert any("no ACK flag" in e.text and frame in e.frames for e in g.evidence)


def test_the_same_reset_with_ack_is_the_server_s_own() -> None:
    from tests.hostile.tcp_hostile_pcaps import CLIENT, PSH, SERVER, SYN
    conv = extract_conversations(LAB / "capture.pcap")[0]
    hello = conv.stream(0)
    t, c_isn, s_isn = 1_700_000_000.0, 1000, 900000
    packets = [
        (t, CLIENT, SERVER, 40000, 443, c_isn, 0, SYN, b""),
        (t + 0.0001, SERVER, CLIENT, 443, 40000, s_isn, c_isn + 1, SYN | ACK, b""),
        (t + 0.0002, CLIENT, SERVER, 40000, 443, c_isn + 1, s_isn + 1, ACK, b""),
        (t + 0.017, CLIENT, SERVER, 40000, 443, c_isn + 1, s_isn + 1, PSH | ACK, hello),
        (t + 0.01705, SERVER, CLIENT, 443, 40000, s_isn + 1, c_isn + 1 + len(hello), RST | ACK, b""),
    ]
    conn = tlsdissect.analyze(pcap(packets)).connections[0]
    rst = next(e for e in conn.events if e.type == "rst")
    assert "no_ack" not in rst.info
    assert conn.diagnosis.cause != "middlebox_reset"


@pytest.mark.parametrize("name", ["wide4_firewall_reset_mid_response_wget_nginx",
                                  "wide4_firewall_reset_to_client_urllib3_nginx"])
def test_a_side_that_sends_on_after_its_reset_did_not_send_it(name: str) -> None:
    """iptables REJECT --reject-with tcp-reset in the middle of a response (the fourth wide lab):
    the reset carries one side's address, and that side goes on sending (tshark's listing: its
    ACKs, data or FIN after the RST). Expected values: the lab's sidecar (what the peers said)."""
    import json
    folder = LAB.parent / name
    if not (folder / "capture.pcap").exists():
        pytest.skip("lab capture missing")
    rows = [line.split() for line in (folder / "tshark.txt").read_text().splitlines() if line.strip()]
    first_rst = next(r for r in rows if "[RST]" in " ".join(r) or "[RST," in " ".join(r))
    rst_frame, rst_port = int(first_rst[0]), first_rst[3]
    # (new bytes or a FIN: a pure ACK or a late copy could be an old packet captured after the reset)
    later = next(int(r[0]) for r in rows if int(r[0]) > rst_frame and r[3] == rst_port and "[RST" not in " ".join(r)
                 and ("FIN" in " ".join(r) or "Len=0" not in " ".join(r)))
    expected = json.loads((folder / "expected.json").read_text())["expected"]
    c = tlsdissect.analyze(folder / "capture.pcap").connections[0]
    side = "client" if c.client.endswith(":" + rst_port) else "server"
    assert c.extra["sent_after_own_reset"][side] == later
    g = c.diagnosis
    assert (g.outcome, g.cause, g.aborted_by) == (expected["outcome"], expected["cause"], expected["aborted_by"])
