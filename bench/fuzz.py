#!/usr/bin/env python3
"""Mutation fuzzing of the whole pipeline over every real capture we have.

    python bench/fuzz.py --count 10000 --seed 1 [--jobs 2] [--minimize]
    python bench/fuzz.py --seed 1 --only 343          # rebuild and rerun one mutant

Each mutant is one real capture (``/work/shared/captures`` via tests/shared_captures.py, and
our lab's ``captures/*/capture.pcap``) damaged one way (tests/mutations.py: truncate, bit
flips, length fields, duplicate / reorder / drop packets, splice with another capture, garbage
between records), run through ``analyze`` + JSON + text view (and, for a share of them, the CLI
in one of its three output modes) in a worker process with a CPU limit, a wall-clock limit and
a memory cap. Anything but a result or a ``TlsDissectError`` is a failure; so is a mutant that
loses (or changes) a connection whose frames all lie before the first damaged byte, and a
mid-record cut not flagged as truncated.

Mutant ``i`` of ``--seed S`` is the same whatever ``--jobs`` is, so a failure is reproduced with
``--only i``. Failures are saved to ``bench/out/fuzz-failures/`` (the mutant bytes and a JSON
description; ``--minimize`` also shrinks the first input of each distinct failure), and the run's
figures to ``bench/out/fuzz-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO)]

import mutations as M
from shared_captures import LAB_CAPTURES, lab_captures, shared_captures

OUT = REPO / "bench" / "out"
CLI_MODES = ("text", "json", "jsonl")


@dataclass(frozen=True)
class Source:
    """A capture to mutate, and the key log that decrypts it (if one sits next to it)."""

    path: Path
    relpath: str
    size: int
    keylog: str | None


def find_sources(max_bytes: int) -> list[Source]:
    """Shared captures and lab captures, identical files once, at most ``max_bytes`` each."""
    out: list[Source] = []
    seen: set[tuple[int, bytes]] = set()
    for c in shared_captures() + [c for c in lab_captures() if c.path.name == "capture.pcap"]:
        size = c.path.stat().st_size
        if size > max_bytes or size == 0:
            continue
        key = (size, c.path.read_bytes()[:4096])
        if key in seen:
            continue
        seen.add(key)
        kl = M.keylog_for(c.path, c.root)
        out.append(Source(c.path, ("lab/" if c.root == LAB_CAPTURES else "") + c.relpath, size,
                          str(kl) if kl else None))
    return out


@dataclass
class Plan:
    """Everything mutant ``index`` is made of, derived from the run's seed alone."""

    index: int
    seed: int
    source: Source
    other: Source
    kind: str
    cli: str


def plan(index: int, mutant_seed: int, sources: list[Source], kinds: tuple[str, ...], cli_share: float) -> Plan:
    rng = random.Random(mutant_seed)
    src, other = rng.choice(sources), rng.choice(sources)
    kind = kinds[index % len(kinds)]  # round robin: equal counts per kind
    cli = rng.choice(CLI_MODES) if rng.random() < cli_share else ""
    return Plan(index, mutant_seed, src, other, kind, cli)


def build(p: Plan) -> M.Mutant:
    rng = random.Random(p.seed ^ 0x5EED)
    return M.mutate(p.source.path.read_bytes(), rng, kind=p.kind, other=p.other.path.read_bytes())


class Run:
    """Shared tallies of one fuzzing run (threads feed it)."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.lock = threading.Lock()
        self.by_kind: dict[str, Counter[str]] = defaultdict(Counter)
        self.signatures: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.cpu: list[float] = []
        self.peak_mb = 0.0
        self.kept_checked = 0
        self.kept_checks: Counter[str] = Counter()  # mutants per kind with connections before the damage
        self.cli_runs: Counter[str] = Counter()
        self.done = 0
        self.bytes = 0
        self.restarts = 0

    def record(self, p: Plan, m: M.Mutant, out: M.Outcome) -> None:
        with self.lock:
            self.done += 1
            self.bytes += len(m.data)
            self.by_kind[p.kind][out.status] += 1
            self.cpu.append(out.cpu_s)
            self.peak_mb = max(self.peak_mb, out.peak_mb)
            if out.cli:
                self.cli_runs[out.cli] += 1
            if out.kept_expected:
                self.kept_checks[p.kind] += 1
                self.kept_checked += out.kept_expected
            if out.failed or out.status == "unconfirmed":
                self.signatures[out.signature()].append(self.save(p, m, out))

    def save(self, p: Plan, m: M.Mutant, out: M.Outcome) -> dict[str, Any]:
        folder = OUT / "fuzz-failures"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = ".pcapng" if m.data[:4] == b"\x0a\x0d\x0d\x0a" else ".pcap"
        stem = f"seed{self.args.seed}-{p.index:06d}-{p.kind}-{out.status}"
        (folder / (stem + suffix)).write_bytes(m.data)
        meta = {
            "file": stem + suffix, "seed": self.args.seed, "index": p.index, "mutant_seed": p.seed,
            "source": p.source.relpath, "other": p.other.relpath, "kind": p.kind, "detail": m.detail,
            "cut": m.cut, "keylog": p.source.keylog, "cli": p.cli, "signature": out.signature(),
            "outcome": out.__dict__,
            "reproduce": f"python bench/fuzz.py --seed {self.args.seed} --only {p.index}",
        }
        (folder / (stem + ".json")).write_text(json.dumps(meta, indent=2))
        return meta


def _worker(run: Run, sources: list[Source], kinds: tuple[str, ...], indices: Any) -> None:
    a = run.args
    with M.Checker(cpu_limit=a.cpu_limit, wall_limit=a.wall_limit, memory_cap_mb=a.memory_cap) as checker:
        while True:
            with run.lock:
                try:
                    index, mutant_seed = next(indices)
                except StopIteration:
                    break
            p = plan(index, mutant_seed, sources, kinds, a.cli_share)
            m = build(p)
            out = checker.check(m, original=str(p.source.path), keylog=p.source.keylog, cli=p.cli)
            run.record(p, m, out)
            if a.only:
                print(f"mutant {index}: {p.kind} of {p.source.relpath} ({m.detail}); cli={p.cli or '-'}: "
                      f"{out.status} {out.error_type} {out.message}\n{out.traceback}", file=sys.stderr)
            if a.progress and run.done % a.progress == 0:
                print(f"  {run.done} mutants, {sum(len(v) for v in run.signatures.values())} failures",
                      file=sys.stderr, flush=True)
        with run.lock:
            run.restarts += checker.restarts


def minimize_failures(run: Run) -> None:
    """Shrink the first input of each distinct failure, keeping its signature."""
    a = run.args
    with M.Checker(cpu_limit=a.cpu_limit, wall_limit=a.wall_limit, memory_cap_mb=a.memory_cap) as checker:
        for sig, metas in run.signatures.items():
            meta = metas[0]
            if meta["outcome"]["status"] in ("invariant", "unconfirmed"):
                continue  # these depend on the original and the cut, not on the bytes alone
            folder = OUT / "fuzz-failures"
            data = (folder / meta["file"]).read_bytes()

            def fails(candidate: bytes, sig: str = sig, meta: dict[str, Any] = meta) -> bool:
                o = checker.check(M.Mutant("min", "", candidate), keylog=meta["keylog"], cli=meta["cli"])
                return o.failed and o.signature() == sig

            # Each hang or memory verdict costs a fresh worker (seconds): a smaller budget for them.
            small = M.minimize(data, fails, budget=40 if meta["outcome"]["status"] in ("hang", "memory") else 400)
            name = meta["file"].rsplit(".", 1)
            (folder / f"{name[0]}.min.{name[1]}").write_bytes(small)
            meta["minimized"] = {"file": f"{name[0]}.min.{name[1]}", "bytes": len(small)}
            print(f"minimized {meta['file']}: {len(data)} -> {len(small)} bytes", file=sys.stderr)


def report(run: Run, wall: float, cpu_parent: float, nsources: int) -> dict[str, Any]:
    statuses = sorted({s for c in run.by_kind.values() for s in c})
    lines = [f"{'kind':<10} {'mutants':>8} " + " ".join(f"{s:>11}" for s in statuses)]
    total: Counter[str] = Counter()
    for kind in sorted(run.by_kind):
        c = run.by_kind[kind]
        total.update(c)
        lines.append(f"{kind:<10} {sum(c.values()):>8} " + " ".join(f"{c[s]:>11}" for s in statuses))
    lines.append(f"{'all':<10} {sum(total.values()):>8} " + " ".join(f"{total[s]:>11}" for s in statuses))
    cpu = sorted(run.cpu) or [0.0]
    failures = sum(len(v) for k, v in run.signatures.items() if not k.startswith("unconfirmed"))
    summary = {
        "seed": run.args.seed, "mutants": run.done, "sources": nsources, "jobs": run.args.jobs,
        "by_kind": {k: dict(v) for k, v in sorted(run.by_kind.items())},
        "failures": failures,
        "distinct_failures": {k: {"count": len(v), "example": v[0]["file"], "source": v[0]["source"],
                                  "detail": v[0]["detail"], "message": v[0]["outcome"]["message"],
                                  "minimized": v[0].get("minimized")}
                              for k, v in run.signatures.items()},
        "kept_before_damage_checks": dict(run.kept_checks),
        "connections_checked_kept": run.kept_checked,
        "cli_runs": dict(run.cli_runs),
        "wall_s": round(wall, 1), "mutants_per_s": round(run.done / wall, 2) if wall else None,
        "mutant_mb": round(run.bytes / 1e6, 1),
        "worker_cpu_s_per_mutant": {"mean": round(statistics.fmean(cpu), 4), "median": round(cpu[len(cpu) // 2], 4),
                                    "p99": round(cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))], 3),
                                    "max": round(cpu[-1], 3)},
        "parent_cpu_s": round(cpu_parent, 1),
        "worker_peak_rss_mb": round(run.peak_mb, 1), "worker_restarts": run.restarts,
    }
    print("\n".join(lines))
    print(f"\n{run.done} mutants of {nsources} captures in {wall:.0f} s wall "
          f"({summary['mutants_per_s']} mutants/s with {run.args.jobs} job(s)); worker CPU per mutant: "
          f"mean {summary['worker_cpu_s_per_mutant']['mean']} s, median {summary['worker_cpu_s_per_mutant']['median']} s, "
          f"p99 {summary['worker_cpu_s_per_mutant']['p99']} s, max {summary['worker_cpu_s_per_mutant']['max']} s; "
          f"worker peak RSS {run.peak_mb:.0f} MB")
    print(f"kept-before-damage invariant: checked on {sum(run.kept_checks.values())} mutants "
          f"({dict(run.kept_checks)}), {run.kept_checked} connections; CLI runs: {dict(run.cli_runs)}")
    print(f"failures: {failures} ({len(run.signatures)} distinct signatures, unconfirmed included)")
    for sig, metas in sorted(run.signatures.items(), key=lambda kv: -len(kv[1])):
        m = metas[0]
        print(f"  {len(metas):>5} x {sig}\n        e.g. {m['file']} ({m['source']}; {m['detail'][:120]}): "
              f"{m['outcome']['message'][:200]}")
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1000, help="mutants to run (default 1000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (the machine is shared: 1 or 2)")
    ap.add_argument("--only", type=int, action="append", metavar="INDEX", help="run just mutant INDEX of --seed")
    ap.add_argument("--kinds", default=",".join(M.KINDS), help="mutation kinds, comma-separated")
    ap.add_argument("--max-bytes", type=int, default=3_000_000, help="skip captures bigger than this")
    ap.add_argument("--cli-share", type=float, default=0.25, help="share of mutants also run through the CLI")
    ap.add_argument("--cpu-limit", type=float, default=M.CPU_LIMIT_S, help="CPU seconds per mutant")
    ap.add_argument("--wall-limit", type=float, default=M.WALL_LIMIT_S, help="wall seconds before a worker is killed")
    ap.add_argument("--memory-cap", type=float, default=M.MEMORY_CAP_MB, help="worker peak RSS cap, MB")
    ap.add_argument("--minimize", action="store_true", help="shrink the first input of each distinct failure")
    ap.add_argument("--progress", type=int, default=500, help="progress line every N mutants (0: none)")
    a = ap.parse_args(argv)
    kinds = tuple(k for k in a.kinds.split(",") if k)
    unknown = set(kinds) - set(M.KINDS)
    if unknown:
        ap.error(f"unknown kinds {sorted(unknown)}; known: {', '.join(M.KINDS)}")
    sources = find_sources(a.max_bytes)
    if not sources:
        print("fuzz: no captures found (shared captures folder and captures/*/capture.pcap)", file=sys.stderr)
        return 2
    if a.only:
        wanted = set(a.only)
        indices = ((i, s) for i, s in _first(M.seeds(a.seed), max(wanted) + 1) if i in wanted)
        a.count = len(wanted)
    else:
        indices = _first(M.seeds(a.seed), a.count)
    run = Run(a)
    print(f"fuzz: {a.count} mutants, seed {a.seed}, {len(sources)} captures, {a.jobs} job(s)", file=sys.stderr)
    t0, c0 = time.time(), time.process_time()
    threads = [threading.Thread(target=_worker, args=(run, sources, kinds, indices)) for _ in range(max(1, a.jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    if a.minimize and run.signatures:
        minimize_failures(run)
    summary = report(run, wall, time.process_time() - c0, len(sources))
    summary["commit"] = _commit()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"fuzz-{time.strftime('%Y-%m-%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(summary, indent=2))
    print(f"figures: {path.relative_to(REPO)}", file=sys.stderr)
    return 1 if summary["failures"] else 0


def _first(it: Any, n: int) -> Any:
    for i, (index, s) in enumerate(it):
        if i >= n:
            return
        yield index, s


def _commit() -> str:
    head = REPO / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            return (REPO / ".git" / ref[5:]).read_text().strip()[:12]
        return ref[:12]
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
