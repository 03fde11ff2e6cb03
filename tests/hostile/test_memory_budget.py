"""Hostile captures, 7: the open connections' memory budget, on bytes as well as counts.

A busy front end's capture squeezes tens of thousands of handshakes into a second of capture
time: each stays open (no sweep runs within the second) and holds its handshake (~15 KB), so
the count cap alone (20,000) allowed ~300 MB. The table estimates each open connection's bytes
from its packets (tcp.flows.connection_estimate) and hands out the longest idle ones when the
total passes the budget. Here the table is fed directly; the estimate itself is checked against
tracemalloc on the lab's real handshakes.
"""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import dpkt
import pytest

from tlsdissect.pipeline.analyzer import Sessions, iter_connections
from tlsdissect.tcp import flows
from tlsdissect.tcp.flows import CHARGED_PACKETS, CONNECTION_COST, PACKET_COST, FlowTable, connection_estimate

from tests.hostile.tcp_hostile_pcaps import ACK, PSH, SERVER, SYN, T0, pcap
from tests.segmenting import read_frames

ROOT = Path(__file__).resolve().parents[2]
FULL = CONNECTION_COST + CHARGED_PACKETS * PACKET_COST  # a connection past its charged packets


def busy_clients(count: int, packets: int = 40):
    """``count`` connections, one after the other at one timestamp, each a SYN and then
    ``packets`` - 1 one-byte data segments; none closes."""
    for i in range(count):
        src, sport = bytes([10, 9, i >> 8 & 255, i & 255]), 30000 + i % 20000
        yield T0, src, SERVER, sport, 443, 1000, 0, SYN, b""
        for k in range(packets - 1):
            yield T0, src, SERVER, sport, 443, 1001 + k, 1, PSH | ACK, b"x"


def feed(table: FlowTable, packets) -> tuple[list, int, int]:
    """Every packet into ``table``: (handed out, most open at once, most estimated bytes open)."""
    done = []
    peak = peak_bytes = 0
    for frame, (ts, src, dst, sport, dport, seq, ack, flags, payload) in enumerate(packets, 1):
        table.packet(frame, ts, (src, dst, sport, dport, seq, ack, flags, payload, 64, 65535))
        if flags & SYN:
            peak = max(peak, len(table.active))
            peak_bytes = max(peak_bytes, flows.estimated_bytes(table.active.values()))
        done += table.take_done()
    table.retire_all()
    return done + table.take_done(), peak, peak_bytes


def test_the_budget_hands_out_the_longest_idle_when_time_stands_still() -> None:
    budget = 100 * FULL
    table = FlowTable(Sessions(), memory_budget=budget)
    done, peak, peak_bytes = feed(table, busy_clients(1000))
    assert sorted(c.stream for c in done) == list(range(1000))
    # Checked every 64 new connections (a sixteenth of the open ones when more): at most that
    # many past the budget.
    assert peak_bytes <= budget + 64 * FULL
    assert 100 <= peak <= 100 + 64 + 1
    early = sorted((c for c in done if c.early_retire), key=lambda c: c.retire_seq)
    assert len(early) >= 1000 - 165
    assert all("estimated memory exceeded the" in c.early_retire for c in early)
    # One timestamp: the longest idle are the oldest, so they leave in the order they came.
    assert [c.stream for c in early] == sorted(c.stream for c in early)


def test_below_the_budget_nothing_is_handed_out_early() -> None:
    table = FlowTable(Sessions(), memory_budget=2000 * FULL)
    done, peak, _ = feed(table, busy_clients(1000))
    assert peak == 1000 and not any(c.early_retire for c in done)


def test_shadows_hand_out_as_one_process_does() -> None:
    """--jobs: the estimate counts packets, which a shadow counts too, so every worker hands
    out the same connections in the same order as a single process."""
    packets = list(busy_clients(600, packets=20))

    def outcome(table: FlowTable) -> set[tuple[int, int, bool]]:
        done, _, _ = feed(table, packets)
        return {(c.stream, c.retire_seq, bool(c.early_retire)) for c in done}

    single = outcome(FlowTable(Sessions(), memory_budget=50 * FULL))
    assert any(early for _, _, early in single)
    shards = [outcome(FlowTable(Sessions(), memory_budget=50 * FULL, shard=(k, 3))) for k in range(3)]
    assert set().union(*shards) == single
    assert sum(len(s) for s in shards) == len(single)


def test_the_report_marks_connections_handed_out_for_the_budget() -> None:
    data = pcap(busy_clients(300, packets=4))
    conns = list(iter_connections(data, include_all=True, memory_budget=40 * FULL))
    assert len(conns) == 300
    marked = [c for c in conns if any(a.info.get("name") == "memory_budget" for a in c.anomalies)]
    assert marked and all(c.stream < 300 - 40 for c in marked)
    note = next(a for a in marked[0].anomalies if a.info.get("name") == "memory_budget")
    assert "estimated memory exceeded the" in note.info["detail"]


def _lab_conversation(name: str) -> list:
    linktype, frames = read_frames(ROOT / "captures" / name / "capture.pcap")
    assert linktype == 1
    out = []
    for ts, buf in frames:
        ip = dpkt.ethernet.Ethernet(buf).data
        tcp = ip.data
        if isinstance(tcp, dpkt.tcp.TCP) and not tcp.flags & 0x05:  # (no FIN, no RST: it stays open)
            out.append((ip.src, ip.dst, tcp.sport, tcp.dport, tcp.seq, tcp.ack, tcp.flags, bytes(tcp.data)))
    return out


@pytest.mark.parametrize("name", ["tls12_success", "tls13_success", "large_chain_success"])
def test_the_estimate_follows_what_open_handshakes_hold(name: str) -> None:
    """tracemalloc's count of the bytes 300 copies of a lab handshake hold while open, against
    the estimate: within a factor of 1.5 either way."""
    body = _lab_conversation(name)
    client_port = body[0][2]
    table = FlowTable(Sessions(), max_active=10**9, busy_active=10**9, memory_budget=1 << 40)
    n = 300
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        frame = 0
        for i in range(n):
            port = 20000 + i
            for (src, dst, sport, dport, seq, ack, flags, payload) in body:
                frame += 1
                sp = port if sport == client_port else sport
                dp = port if dport == client_port else dport
                table.packet(frame, T0, (src, dst, sp, dp, seq, ack, flags, payload, 64, 65535))
        gc.collect()
        held = (tracemalloc.get_traced_memory()[0] - base) / n
    finally:
        tracemalloc.stop()
    estimate = sum(connection_estimate(c) for c in table.active.values()) / n
    assert held / 1.5 <= estimate <= held * 1.5, (held, estimate)


def test_the_command_line_takes_a_budget_in_megabytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tlsdissect.cli import main

    path = tmp_path / "busy.pcap"
    path.write_bytes(pcap(busy_clients(400, packets=4)))
    with pytest.raises(SystemExit) as bad:
        main(["--memory-budget", "0", str(path)])
    assert bad.value.code == 2
    capsys.readouterr()
    budget_mb = 40 * (CONNECTION_COST + 4 * PACKET_COST) / (1 << 20)  # room for 40 of these connections
    main(["--jsonl", "--all", "--memory-budget", f"{budget_mb:.6f}", str(path)])
    conns = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    marked = [c for c in conns if any(a["name"] == "memory_budget" for a in c["anomalies"])]
    assert len(conns) == 400 and len(marked) >= 400 - 40 - 64
    main(["--jsonl", "--all", str(path)])  # the default budget holds them all
    conns = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert not any(a["name"] == "memory_budget" for c in conns for a in c["anomalies"])
