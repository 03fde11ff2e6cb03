"""Hostile captures, 5: every list that grows with one connection's traffic is capped.

The first entries are kept (the diagnosis reads the first fatal alert and the messages before
it), later ones counted in the connection's ``dropped`` object; identical anomalies are one
entry with a ``count``. The expectations come from the generators (how many records of what
they wrote), the caps from tlsdissect.results.listcaps; memory growth is measured in a
subprocess.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tlsdissect.pipeline.analyzer import analyze
from tlsdissect.results.listcaps import MAX_ALERTS, MAX_ANOMALIES, MAX_CHAIN_CERTIFICATES, MAX_EVENTS

from tests.certs_factory import build
from tests.hostile.list_hostile_pcaps import (HANDSHAKE_FAILURE, alert_storm, bad_alert_storm, hello_request_storm,
                                              long_chain)
from tests.hostile.tcp_hostile_pcaps import pcap, write_pcap

ROOT = Path(__file__).resolve().parents[2]
TCP_EVENTS = 3  # the generators' SYN, SYN-ACK and the client's RST (TCP events are not capped)


def _one(data: bytes):
    report = analyze(data)
    assert len(report.connections) == 1
    return report.connections[0]


def test_alerts_past_the_cap_are_counted_and_the_first_fatal_one_decides() -> None:
    count = MAX_ALERTS + 500
    c = _one(pcap(alert_storm(count)))
    assert len(c.alerts) == MAX_ALERTS
    assert c.alerts[0].frame == 5 and c.alerts[0].code == HANDSHAKE_FAILURE and c.alerts[0].fatal
    # The ClientHello and every alert are TLS events: the timeline keeps MAX_EVENTS of them.
    assert len(c.events) == MAX_EVENTS + TCP_EVENTS
    assert c.extra["dropped"] == {"alerts": count - MAX_ALERTS, "events": count + 1 - MAX_EVENTS}
    assert c.diagnosis.alert.frame == 5
    d = c.to_dict()
    assert d["dropped"] == {"alerts": count - MAX_ALERTS, "events": count + 1 - MAX_EVENTS}
    assert len(d["alerts"]) == MAX_ALERTS


def test_below_the_caps_nothing_is_marked() -> None:
    c = _one(pcap(alert_storm(MAX_ALERTS)))
    assert len(c.alerts) == MAX_ALERTS
    assert "dropped" not in c.extra and "dropped" not in c.to_dict()


def test_handshake_messages_past_the_event_cap() -> None:
    count = 3 * MAX_EVENTS
    c = _one(pcap(hello_request_storm(count)))
    hs = [e for e in c.events if e.type == "handshake"]
    assert len(hs) == MAX_EVENTS
    assert hs[0].info["message"] == "client_hello" and hs[1].info["message"] == "hello_request"
    assert c.extra["dropped"] == {"events": count + 1 - MAX_EVENTS}
    assert c.events[-1].type == "rst"  # TCP's own events stay


def test_identical_anomalies_fold_into_one_with_a_count() -> None:
    c = _one(pcap(bad_alert_storm(864)))
    assert [(a.info["name"], a.info["detail"], a.info["count"]) for a in c.anomalies] == [
        ("bad_alert_length", "alert record of 1 bytes", 864)]
    assert c.anomalies[0].frame == 5  # the first one's frame
    assert "dropped" not in c.extra


def test_distinct_anomalies_past_the_cap_are_counted() -> None:
    from tlsdissect.tls.session import TlsSession

    s = TlsSession()
    for i in range(MAX_ANOMALIES + 10):
        s.add_anomaly((0, i, 0.0, "anomaly", {"name": "x", "detail": f"detail {i}"}))
    s.add_anomaly((0, 999, 0.0, "anomaly", {"name": "x", "detail": "detail 0"}))
    assert len(s.anomalies) == MAX_ANOMALIES
    assert s.anomalies[0][4]["count"] == 2
    assert s.dropped == {"anomalies": 10}


def test_a_chain_past_the_cap_keeps_its_first_certificates() -> None:
    ders = [build(f"c{i}.example").cert.public_bytes(serialization.Encoding.DER)
            for i in range(MAX_CHAIN_CERTIFICATES + 5)]
    c = _one(pcap(long_chain(ders)))
    assert c.server_certificates_der == ders[:MAX_CHAIN_CERTIFICATES]
    assert c.extra["dropped"] == {"server_certificates": 5}
    hs = [e for e in c.events if e.type == "handshake" and e.info["message"] == "certificate"]
    assert hs[0].info["certificates"] == MAX_CHAIN_CERTIFICATES + 5  # what the message holds


def test_the_text_view_says_lists_were_shortened(tmp_path: Path) -> None:
    path = tmp_path / "storm.pcap"
    path.write_bytes(pcap(alert_storm(MAX_ALERTS + 1)))
    from tlsdissect.cli import main

    out = io.StringIO()
    sys_stdout = sys.stdout
    sys.stdout = out
    try:
        main(["--no-color", str(path)])
    finally:
        sys.stdout = sys_stdout
    assert "lists shortened: 1 alerts" in out.getvalue()


_MEASURE = r"""
import contextlib, json, os, sys
from tlsdissect.cli import main

def high_water_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

main(["--jsonl", sys.argv[2]])  # (a small run first: imports and first-use caches)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the high-water mark from here on (Linux 4.0+)
main(["--jsonl", sys.argv[1]])
sys.stderr.write(json.dumps({"peak_kb": high_water_kb()}))
"""


def _peak_kb(tmp_path: Path, count: int) -> int:
    small = tmp_path / "small.pcap"
    small.write_bytes(pcap(alert_storm(10)))
    path = tmp_path / f"alerts-{count}.pcap"
    with open(path, "wb") as f:
        write_pcap(f, alert_storm(count))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-c", _MEASURE, str(path), str(small)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, timeout=600, cwd=ROOT, env=env)
    return json.loads(run.stderr.strip().splitlines()[-1])["peak_kb"]


def test_memory_does_not_grow_with_the_alerts_of_one_connection(tmp_path: Path) -> None:
    """--jsonl over 20,000 and 80,000 alerts on one connection: before the caps each alert
    cost ~1.6 KB (60,000 more: ~96 MB); now the difference is the allocator's noise."""
    low = _peak_kb(tmp_path, 20_000)
    high = _peak_kb(tmp_path, 80_000)
    assert high - low < 16 * 1024, (low, high)  # KB: a sixth of what 60,000 alerts cost before
