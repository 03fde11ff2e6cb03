#!/usr/bin/env python3
"""Hostile captures at full size: what memory and CPU the TCP stage and the reader spend on them.

The cases of our issue "Hostile captures" (TCP parts), each a capture written field by field
(tests/hostile/tcp_hostile_pcaps.py) into a temporary directory and run through the command
line (``--json`` to /dev/null) as a child process; its CPU time and peak resident memory come
from os.wait4() on that child, so other work on the machine does not leak into them.

    python bench/hostile.py                       # this checkout
    python bench/hostile.py --tree /tmp/base      # another checkout (before/after figures)
    python bench/hostile.py --cases ooo,rewrite   # some cases only; --quick: smaller sizes

Cases: ``flood`` (500,000 SYNs sharing one timestamp), ``flood20`` (2,000,000 SYNs over 20 s
of capture time), ``ooo`` (10k/20k/40k one-byte segments behind a one-byte hole, timed in a
child without its imports: through the pipeline, and into the reassembler alone), ``rewrite``
(a ClientHello rewritten after delivery: reported or not), ``alerts`` (400,000 alert records on one
connection, ``--jsonl``: the per-connection list caps), ``bomb`` (a 1 GiB gzip bomb),
``handshakes:SIZE[:SECONDS]`` (bench's handshake-heavy capture of SIZE, made by make_capture.py
if absent, and with SECONDS squeezed into that much capture time: a busy load balancer's
tens of thousands of handshakes a second; not in the default set).
Each child gets an address-space limit (--max-gb, 4 by default) and a timeout (--timeout).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.hostile.list_hostile_pcaps import alert_storm  # noqa: E402
from tests.hostile.tcp_hostile_pcaps import behind_a_hole, gzip_bomb, rewritten_after_delivery, syn_flood, write_pcap  # noqa: E402


def run_cli(tree: Path, capture: Path, max_gb: float, timeout: float, keep: bool = True,
            mode: str = "--json") -> dict[str, Any]:
    """The CLI on ``capture`` (--json to a file, or to /dev/null unless ``keep``): exit status,
    CPU seconds, peak RSS, wall time."""
    limit = int(max_gb * (1 << 30))

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    out = capture.with_suffix(".json") if keep else Path(os.devnull)
    env = dict(os.environ, PYTHONPATH=str(tree))
    started = time.monotonic()
    with open(out, "wb") as f:
        child = subprocess.Popen([sys.executable, "-m", "tlsdissect", mode, str(capture)], stdout=f,
                                 stderr=subprocess.DEVNULL, cwd=tree, env=env, preexec_fn=limits)
        status = None
        while time.monotonic() - started < timeout:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        else:
            child.kill()
            pid, status, usage = os.wait4(child.pid, 0)
            status = None
    result: dict[str, Any] = {
        "rc": os.waitstatus_to_exitcode(status) if status is not None else "timeout",
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "wall_s": round(time.monotonic() - started, 2),
    }
    result["output"] = out
    return result


def _summary(out: Path) -> dict[str, Any]:
    """The run's fields after the connections ("frames", "tcp_connections", ...) without
    loading the connections (the output can be gigabytes)."""
    with open(out, "rb") as f:
        f.seek(max(0, out.stat().st_size - (1 << 16)))
        tail = f.read().decode("utf-8", "replace")
    where = tail.rfind('],"frames":')
    return json.loads("{" + tail[where + 2:]) if where >= 0 else {}


def case_flood(tree: Path, tmp: Path, args: argparse.Namespace, count: int, seconds: float) -> dict[str, Any]:
    path = tmp / f"flood-{count}-{seconds:g}s.pcap"
    with open(path, "wb") as f:
        write_pcap(f, syn_flood(count, seconds))
    result = run_cli(tree, path, args.max_gb, args.timeout, keep=False)  # (gigabytes of JSON)
    result.pop("output")
    result["capture_mb"] = round(path.stat().st_size / 1e6, 1)
    path.unlink()
    return result


_OOO = r"""
import json, sys
import tlsdissect.pipeline.analyzer, tlsdissect.tcp.reassembly  # (the --tree's, before the path below)
sys.path.append(sys.argv[1])
from tests.hostile.tcp_hostile_pcaps import pipeline_cpu, reassembler_cpu

kind, order, n, repeat = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
pipeline_cpu(10, order)  # (the first connection imports and compiles the later stages)
measure = pipeline_cpu if kind == "pipeline" else reassembler_cpu
print(json.dumps(round(min(measure(n, order) for _ in range(repeat)), 3)))
"""


def case_ooo(tree: Path, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """CPU seconds (imports excluded, least of --repeat) for one-byte segments behind a
    one-byte hole: through the whole pipeline (default caps), and into a StreamReassembler
    alone without caps (the structure itself), in three orders."""
    sizes = (2500, 5000, 10000) if args.quick else (10000, 20000, 40000)
    env = dict(os.environ, PYTHONPATH=str(tree))
    results: dict[str, Any] = {}
    for kind, orders in (("pipeline", ("ascending", "descending")),
                         ("reassembler", ("ascending", "descending", "shuffled"))):
        for order in orders:
            row: dict[str, Any] = {}
            for n in sizes:
                run = subprocess.run([sys.executable, "-c", _OOO, str(REPO), kind, order, str(n), str(args.repeat)],
                                     capture_output=True, text=True, cwd=tree, env=env, timeout=args.timeout)
                row[str(n)] = json.loads(run.stdout) if run.returncode == 0 else run.stderr[-200:]
            lo, hi = row[str(sizes[0])], row[str(sizes[-1])]
            if isinstance(lo, float) and isinstance(hi, float):
                row["ratio"] = round(hi / max(lo, 1e-3), 1)
            results[f"{kind} {order}"] = row
    return results


def case_rewrite(tree: Path, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    data, first, second = rewritten_after_delivery()
    path = tmp / "rewrite.pcap"
    path.write_bytes(data)
    r = run_cli(tree, path, args.max_gb, args.timeout)
    out = json.loads(r.pop("output").read_text())
    notes = [a for c in out["connections"] for a in c["anomalies"] if a["name"] == "conflicting_retransmission"]
    r["reported"] = bool(notes)
    r["frames"] = notes[0].get("frames") if notes else None
    r["expected_frames"] = [first, second]
    return r


def case_alerts(tree: Path, tmp: Path, args: argparse.Namespace, count: int) -> dict[str, Any]:
    """``count`` alert records on one connection, --jsonl: what the connection's lists cost."""
    path = tmp / f"alerts-{count}.pcap"
    with open(path, "wb") as f:
        write_pcap(f, alert_storm(count))
    r = run_cli(tree, path, args.max_gb, args.timeout, mode="--jsonl")
    out = r.pop("output")
    with open(out) as f:
        conn = json.loads(f.readline())
    r.update(capture_mb=round(path.stat().st_size / 1e6, 1), output_kb=round(out.stat().st_size / 1024),
             alerts_listed=len(conn["alerts"]), events_listed=len(conn["events"]), dropped=conn.get("dropped"),
             cause=(conn.get("diagnosis") or {}).get("cause"))
    path.unlink()
    out.unlink()
    return r


def squeeze_time(src: Path, dst: Path, seconds: float) -> int:
    """``src`` (a microsecond pcap, little-endian, as make_capture.py writes) rewritten so that
    every packet lies within ``seconds`` of the first: timestamps scaled linearly (the order and
    the packets' bytes unchanged). The number of packets."""
    import struct

    with open(src, "rb") as f:
        header = f.read(24)
        assert struct.unpack_from("<I", header)[0] == 0xA1B2C3D4, "a microsecond little-endian pcap"
        first = last = None
        while True:  # the span: first and last timestamps
            rec = f.read(16)
            if len(rec) < 16:
                break
            sec, usec, caplen, _ = struct.unpack("<IIII", rec)
            t = sec * 1_000_000 + usec
            first = t if first is None else first
            last = t
            f.seek(caplen, 1)
    assert first is not None and last is not None
    scale = seconds * 1e6 / max(1, last - first)
    n = 0
    with open(src, "rb") as f, open(dst, "wb") as out:
        out.write(f.read(24))
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            sec, usec, caplen, length = struct.unpack("<IIII", rec)
            t = first + int(((sec * 1_000_000 + usec) - first) * scale)
            out.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, caplen, length) + f.read(caplen))
            n += 1
    return n


def case_handshakes(tree: Path, tmp: Path, args: argparse.Namespace, size: str, seconds: Optional[float]) -> dict[str, Any]:
    """bench's handshake-heavy capture (make_capture.py --profile handshakes --size SIZE, made into
    bench/out/ if absent), as made or squeezed into ``seconds`` of capture time: peak RSS of --json."""
    made = REPO / "bench" / "out" / f"handshakes-{size}.pcap"
    if not made.exists():
        subprocess.run([sys.executable, str(REPO / "bench" / "make_capture.py"), "--profile", "handshakes",
                        "--size", size, "-o", str(made)], check=True, cwd=REPO)
    path = made
    if seconds is not None:
        path = tmp / f"handshakes-{size}-in-{seconds:g}s.pcap"
        squeeze_time(made, path, seconds)
    r = run_cli(tree, path, args.max_gb, args.timeout, keep=False, mode=args.mode)
    r.pop("output")
    r.update(capture_mb=round(path.stat().st_size / 1e6, 1), seconds=seconds, mode=args.mode)
    if path != made:
        path.unlink()
    return r


def case_bomb(tree: Path, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    size = (128 if args.quick else 1024) << 20
    path = tmp / "bomb.pcap.gz"
    path.write_bytes(gzip_bomb(size))
    r = run_cli(tree, path, args.max_gb, args.timeout)
    out = _summary(r.pop("output"))
    r.update(gz_kb=round(path.stat().st_size / 1024), inflated_mb=size >> 20, frames=out["frames"],
             truncated=out["truncated"], truncation_reason=out["truncation_reason"])
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", type=Path, default=REPO, help="checkout whose tlsdissect runs (default: this one)")
    ap.add_argument("--cases", default="flood,flood20,ooo,rewrite,alerts,bomb")
    ap.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    ap.add_argument("--mode", default="--json", help="output option for the handshakes cases (--json, --jsonl)")
    ap.add_argument("--repeat", type=int, default=2, help="runs per timing (the least CPU counts)")
    ap.add_argument("--max-gb", type=float, default=4.0, help="address-space limit per child")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per child")
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    tree = args.tree.resolve()
    report: dict[str, Any] = {"tree": str(tree), "quick": args.quick, "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory(prefix="tlsdissect-hostile-") as d:
        tmp = Path(d)
        for case in args.cases.split(","):
            print(f"{case} ...", file=sys.stderr, flush=True)
            if case == "flood":
                report[case] = case_flood(tree, tmp, args, 500_000 // scale, 0.0)
            elif case == "flood20":
                report[case] = case_flood(tree, tmp, args, 2_000_000 // scale, 20.0 / scale)
            elif case == "ooo":
                report[case] = case_ooo(tree, tmp, args)
            elif case == "rewrite":
                report[case] = case_rewrite(tree, tmp, args)
            elif case == "alerts":
                report[case] = case_alerts(tree, tmp, args, 400_000 // scale)
            elif case.startswith("handshakes"):  # handshakes:SIZE or handshakes:SIZE:SECONDS
                parts = case.split(":")
                report[case] = case_handshakes(tree, tmp, args, parts[1] if len(parts) > 1 else "100M",
                                               float(parts[2]) if len(parts) > 2 else None)
            elif case == "bomb":
                report[case] = case_bomb(tree, tmp, args)
            else:
                ap.error(f"unknown case {case}")
            print(json.dumps(report[case]), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
