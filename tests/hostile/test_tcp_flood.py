"""Hostile captures, 3: the open-connection cap and the tombstone table hold whatever the
timestamps do.

Before, the cap was applied by the sweep, which runs only when capture time moves by a second:
SYNs sharing one timestamp kept every connection (closed ones too, ~4 KB each), and retired
connections' tombstones had no cap. Here the table is fed directly (exact counts), and the
memory of a whole run is measured in a subprocess, as a ratio: what each SYN past the cap adds,
against what an open connection costs.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tlsdissect.capture.packet import SYN
from tlsdissect.pipeline.analyzer import Sessions
from tlsdissect.tcp import flows
from tlsdissect.tcp.flows import FlowTable

from tests.hostile.tcp_hostile_pcaps import ACK, SERVER, T0, syn_flood, write_pcap

ROOT = Path(__file__).resolve().parents[2]


def feed(table: FlowTable, packets, sweep_every: int = 64) -> tuple[list, int]:
    """Every packet into ``table`` (sweeping as the pipeline does); (handed out, most open at once)."""
    done = []
    peak = 0
    for frame, (ts, src, dst, sport, dport, seq, ack, flags, payload) in enumerate(packets, 1):
        table.packet(frame, ts, (src, dst, sport, dport, seq, ack, flags, payload, 64, 65535))
        peak = max(peak, len(table.active))
        if frame % sweep_every == 0:
            table.sweep(ts)
            done += table.take_done()
    table.retire_all()
    return done + table.take_done(), peak


def test_the_cap_holds_for_every_new_connection_when_time_stands_still() -> None:
    table = FlowTable(Sessions(), max_active=50)
    done, peak = feed(table, syn_flood(1000))
    assert peak == 50
    assert table.next_stream == 1000
    assert sorted(c.stream for c in done) == list(range(1000))
    # One timestamp: the longest idle are the oldest, so connections leave in the order they came.
    by_retirement = sorted(done, key=lambda c: c.retire_seq)
    assert [c.stream for c in by_retirement] == list(range(1000))
    early = [c for c in by_retirement if c.early_retire]
    assert [c.stream for c in early] == list(range(950))  # the last 50 were open at the end
    assert all("more than 50 connections were open" in c.early_retire for c in early)
    assert table.early_retired == 950


def _mixed_traffic(seed: int, n: int) -> list:
    """New connections and packets on open ones, time moving forward by random small steps."""
    rng = random.Random(seed)
    packets = []
    ts = T0
    opened: list[tuple[bytes, int]] = []
    for i in range(n):
        ts += rng.choice((0.0, 0.0, 0.001, 0.01))
        if opened and rng.random() < 0.6:
            src, sport = rng.choice(opened)
            packets.append((ts, src, SERVER, sport, 443, 2000, 1, ACK, b""))
        else:
            src, sport = bytes([10, 9, i >> 8 & 255, i & 255]), 30000 + i % 20000
            opened.append((src, sport))
            packets.append((ts, src, SERVER, sport, 443, 1000, 0, SYN, b""))
    return packets


@pytest.mark.parametrize("seed", range(3))
def test_the_longest_idle_leaves_first(seed: int) -> None:
    packets = _mixed_traffic(seed, 1500)
    table = FlowTable(Sessions(), max_active=40, busy_active=10**9)
    done, peak = feed(table, packets, sweep_every=10**9)  # (no sweeps: only the cap retires)
    assert peak == 40
    early = sorted((c for c in done if c.early_retire), key=lambda c: c.retire_seq)
    # The independent model, on the same packets (streams numbered in order of first packet).
    last: dict[int, float] = {}
    streams: dict[tuple, int] = {}
    expected: list[int] = []
    for ts, src, dst, sport, dport, *_ in packets:
        key = (src, sport)
        if key not in streams or streams[key] not in last:
            if key in streams:  # a packet of a connection already handed out: a straggler
                continue
            if len(last) >= 40:
                victim = min(last, key=lambda s: (last[s], s))
                del last[victim]
                expected.append(victim)
            streams[key] = len(streams)
        last[streams[key]] = ts
    assert [c.stream for c in early] == expected


def test_shadows_hand_out_as_one_process_does() -> None:
    """--jobs: each worker tracks the others' connections as shadows; the cap must pick the
    same connections in every worker, so retire_seq (the merge order) is the single run's."""
    packets = list(syn_flood(600)) + _mixed_traffic(7, 600)

    def outcome(table: FlowTable) -> set[tuple[int, int, bool]]:
        done, _ = feed(table, packets)
        return {(c.stream, c.retire_seq, bool(c.early_retire)) for c in done}

    single = outcome(FlowTable(Sessions(), max_active=30))
    shards = [outcome(FlowTable(Sessions(), max_active=30, shard=(k, 3))) for k in range(3)]
    assert all(s for s in shards)
    assert set().union(*shards) == single
    assert sum(len(s) for s in shards) == len(single)


def test_the_tombstone_table_is_capped() -> None:
    table = FlowTable(Sessions(), max_active=20, max_tombstones=100)
    done, _ = feed(table, syn_flood(1000))
    assert len(done) == 1000
    assert len(table.tombstones) == 100
    assert table.tombstones_dropped == 900
    # The most recent keep their stream number for a straggler; the oldest forgot it.
    newest, oldest = done[-1], min(done, key=lambda c: c.retire_seq)
    for conn in (newest, oldest):
        src, dst = conn.addr
        table.packet(5000, T0, (src, dst, conn.port[0], conn.port[1], 1, 1, ACK, b"", 64, 65535))
    assert table.stragglers == 1
    assert table.next_stream == 1001  # the oldest one's straggler started a new conversation


def test_tombstones_expire_from_the_front_in_constant_time() -> None:
    """The expiry pops from the front of the table: an OrderedDict (a dict's first key is found
    by scanning the holes its deletions left)."""
    table = FlowTable(Sessions(), max_active=10, max_tombstones=10**6)
    feed(table, syn_flood(2000, seconds=1.0))
    assert len(table.tombstones) == 2000
    table.sweep(T0 + flows.TOMBSTONE_TTL + 0.5)
    assert 0 < len(table.tombstones) < 2000
    assert all(t > T0 + 0.5 - 1e-6 for t in table.tombstones.values())


_MEASURE = r"""
import json, sys
from tlsdissect.tcp import flows
flows.MAX_ACTIVE = int(sys.argv[2])
flows.MAX_TOMBSTONES = int(sys.argv[3])
from tlsdissect.pipeline.analyzer import iter_connections

def high_water_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

# The peak from here on only (imports compile sources and peak higher than a small run):
# writing 5 to clear_refs resets the high-water mark (Linux 4.0+).
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = high_water_kb()
n = sum(1 for _ in iter_connections(sys.argv[1], diagnose=False))
print(json.dumps({"connections": n, "peak_kb": high_water_kb(), "start_kb": before}))
"""


def _peak_rss(tmp_path: Path, count: int, seconds: float, cap: int, tombstones: int) -> int:
    """Peak resident memory (KB) of a run over a SYN flood, imports excluded."""
    path = tmp_path / f"flood-{count}-{seconds}.pcap"
    with open(path, "wb") as f:
        write_pcap(f, syn_flood(count, seconds))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-c", _MEASURE, str(path), str(cap), str(tombstones)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["connections"] == count
    return result["peak_kb"]


@pytest.mark.parametrize("seconds", [0.0, 1.0], ids=["one timestamp", "spread over a second"])
def test_memory_stops_growing_at_the_cap(tmp_path: Path, seconds: float) -> None:
    """Peak RSS of whole runs (imports excluded): below the cap each SYN costs an open
    connection (and its tombstone, same cap); from three to six times the cap, next to nothing
    (what remains is the allocator's fragmentation: the traced heap does not grow at all)."""
    cap = 2000
    small = _peak_rss(tmp_path, cap // 10, seconds, cap, cap)
    full = _peak_rss(tmp_path, cap, seconds, cap, cap)
    three = _peak_rss(tmp_path, 3 * cap, seconds, cap, cap)
    six = _peak_rss(tmp_path, 6 * cap, seconds, cap, cap)
    per_open = (full - small) / (cap - cap // 10)  # KB per open connection
    per_extra = (six - three) / (3 * cap)  # KB per SYN well past the cap
    assert per_open > 1.0, (small, full)  # (the measure sees connections at all)
    assert per_extra < 0.3 * per_open, (small, full, three, six)
