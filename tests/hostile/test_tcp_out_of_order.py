"""Hostile captures, 4: reassembly stays near-linear in the number of segments, and bounded.

Before, each out-of-order segment scanned every buffered one (one-byte segments behind a
one-byte hole: 10k 1.0 s, 20k 3.5 s, 40k 14 s of CPU), and the 2 MiB cap counted bytes, not
segments. The timings run in a subprocess and are compared as ratios (best of three), so a
loaded machine slows both sides alike.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tlsdissect.pipeline.analyzer import analyze
from tlsdissect.tcp.reassembly import MAX_PENDING_SEGMENTS, SEGMENT_COST, ReassemblyBudget, StreamReassembler

from tests.hostile.tcp_hostile_pcaps import behind_a_hole, pcap

ROOT = Path(__file__).resolve().parents[2]
ISN = 0xFFFFFF00  # (sequence numbers wrap inside every stream below)
MASK = 0xFFFFFFFF

_TIME = r"""
import json, sys
sys.path.insert(0, ".")
from tests.hostile.tcp_hostile_pcaps import pipeline_cpu, reassembler_cpu

kind, order, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
measure = reassembler_cpu if kind == "reassembler" else lambda n, order: pipeline_cpu(n, order, diagnose=False)
measure(10, order)  # (warm: first calls import and compile what they use)
print(json.dumps(min(measure(n, order) for _ in range(5))))
"""


def cpu_seconds(kind: str, order: str, n: int) -> float:
    run = subprocess.run([sys.executable, "-c", _TIME, kind, order, str(n)], capture_output=True, text=True,
                         timeout=600, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.parametrize("order", ["ascending", "descending", "shuffled"])
def test_the_buffer_costs_n_log_n(order: str) -> None:
    """No caps: 4x the one-byte segments behind a hole costs 4-6x (n log n, and a list insert
    that moves up to n pointers in C); the quadratic buffer before: 12-20x."""
    # (the sizes, 10k and 40k: long enough that a busy machine's noise does not decide)
    small, large = cpu_seconds("reassembler", order, 10000), cpu_seconds("reassembler", order, 40000)
    assert large / small < 8, (small, large)


def test_one_byte_segments_behind_a_hole_cost_linear_time_end_to_end() -> None:
    """The issue's case through the whole pipeline (bench/hostile.py runs 10k/20k/40k)."""
    small, large = cpu_seconds("pipeline", "ascending", 5000), cpu_seconds("pipeline", "ascending", 20000)
    assert large / small < 8, (small, large)


def feed(r: StreamReassembler, segments: list[tuple[int, bytes]], first_frame: int = 1) -> list:
    out = []
    for frame, (off, data) in enumerate(segments, first_frame):
        out += r.segment((ISN + 1 + off) & MASK, data, frame, float(frame))
    return out


def test_adjacent_segments_merge_and_still_come_out_one_chunk_each() -> None:
    """Segments that continue one another share one run (one bytearray, not 1000 entries);
    delivered, each is still its own chunk, attributed to the frame that filled the hole (the
    TLS stage's resynchronisation depends on where segments end)."""
    r = StreamReassembler()
    r.syn(ISN)
    stream = bytes(range(256)) * 4
    assert feed(r, [(k, stream[k:k + 1]) for k in range(1, 1001)]) == []
    assert len(r.pending) == 1 and r.pending_segments == 1000 and r.pending_bytes == 1000
    out = r.segment((ISN + 1) & MASK, stream[:1], 5000, 9.0)
    assert [c for c, _f, _t in out] == [stream[k:k + 1] for k in range(1001)]
    assert {f for _c, f, _t in out} == {5000}
    assert not r.pending and r.pending_segments == 0 and r.pending_bytes == 0


def test_a_segment_spanning_small_runs_absorbs_them() -> None:
    r = StreamReassembler()
    r.syn(ISN)
    stream = bytes(range(200))
    feed(r, [(k, stream[k:k + 1]) for k in range(10, 100, 3)])  # 30 separate runs
    assert len(r.pending) == 30
    feed(r, [(5, stream[5:150])], first_frame=100)
    assert len(r.pending) == 1 and r.pending_bytes == 145
    out = r.segment((ISN + 1) & MASK, stream[:5], 200, 0.0)
    assert b"".join(c for c, _f, _t in out) == stream[:150]
    assert r.overlap_conflicts == 0


def test_the_segment_cap_gives_up_the_hole() -> None:
    """Every other byte, one at a time: nothing merges, so the segment cap, not the byte cap
    (2 MiB of one-byte segments would be ~500 MB of bookkeeping), decides."""
    r = StreamReassembler()
    r.syn(ISN)
    n = MAX_PENDING_SEGMENTS + 10
    most = 0
    out = []
    for frame, k in enumerate(range(1, 2 * n, 2), 1):
        out += r.segment((ISN + 1 + k) & MASK, b"y", frame, 0.0)
        most = max(most, r.pending_segments)
    assert most <= MAX_PENDING_SEGMENTS
    assert r.segment_cap_hits >= 1 and r.cap_hits == 0
    assert out[0][0] == 1  # the hole, given up as a gap
    delivered = sum(len(c) if isinstance(c, bytes) else c for c, _f, _t in out + r.flush(0, 0.0))
    assert delivered == 2 * n  # every position accounted for, bytes and gaps


def test_the_segment_cap_is_reported() -> None:
    n = MAX_PENDING_SEGMENTS + 5
    report = analyze(pcap(behind_a_hole(n, step=2)), include_all=True, diagnose=False)
    (conn,) = report.connections
    notes = [a.info for a in conn.anomalies if a.info["name"] == "out_of_order_cap"]
    assert len(notes) == 1
    assert f"segment cap ({MAX_PENDING_SEGMENTS} segments) reached" in notes[0]["detail"]


def test_directions_share_one_budget() -> None:
    """The flow table's budget bounds the out-of-order memory of all connections together:
    the direction that would go over it gives up its hole; the others keep theirs."""
    budget = ReassemblyBudget(limit=10_000)
    a, b = StreamReassembler(budget=budget), StreamReassembler(budget=budget)
    a.syn(ISN)
    b.syn(ISN)
    assert feed(a, [(10, b"a" * 5000)]) == []
    assert budget.used == 5000 + SEGMENT_COST
    assert feed(b, [(10, b"b" * 3000)]) == []
    out = feed(b, [(3010, b"b" * 2000)], first_frame=2)
    assert b.budget_hits == 1 and a.budget_hits == 0
    assert out[0] == (10, 2, 2.0)  # b's hole, given up
    assert a.pending_bytes == 5000 and budget.used == 5000 + SEGMENT_COST
    a.flush(0, 0.0)
    assert budget.used == 0
