#!/usr/bin/env python3
"""Many files: one process, ``--jobs 2`` and ``--cluster local:2`` side by side.

Two sets of about 200 captures each:

* ``small``: the first FILES real captures of ``captures/`` and the shared captures (kilobytes
  each, a few connections): the time is almost all per-file overhead.
* ``cut``: a ``make_capture.py`` handshakes capture of FILES x SIZE cut into FILES files by
  ``editcap -c`` (named ``part-NNN.pcap``: no rotation set, each file its own task): real work.

Each mode runs the command line as a child (``--jsonl`` to /dev/null) and records its wall time
and the CPU time of it and every process it waited for; each mode also runs once on a single
tiny file: its start (for ``--cluster``, starting and stopping the local cluster). Per small
file: (``small`` - start) / files, in wall and CPU time; ``CPU+`` is the CPU a file costs beyond
the one-process run's, the overhead of the mode per file.

    python bench/cluster.py                  # 200 files; the cut set 200 x 256 kB
    python bench/cluster.py --files 50 --size 1M
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
SHARED = Path(os.environ.get("TLSDISSECT_SHARED_CAPTURES", REPO.parent / "shared" / "captures"))
SUFFIXES = (".pcap", ".pcapng")


def small_set(n: int) -> Path:
    """n small real captures, linked into one folder (names made unique)."""
    folder = OUT / f"small-{n}"
    if folder.is_dir() and len(list(folder.iterdir())) == n:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    found = sorted(REPO.glob("captures/*/capture.pcap")) + sorted(
        p for p in SHARED.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    for i, p in enumerate(found[:n]):
        os.symlink(p, folder / f"small-{i:03d}{p.suffix}")
    return folder


def cut_set(n: int, size: str) -> Path:
    """One handshakes capture of n x size, cut into n files of about equal packet counts."""
    folder = OUT / f"cut-{n}x{size}"
    if folder.is_dir() and len(list(folder.iterdir())) == n:
        return folder
    whole = OUT / f"handshakes-for-{n}x{size}.pcap"
    total = f"{n * _bytes(size) // (1 << 20)}M"
    subprocess.run([sys.executable, str(HERE / "make_capture.py"), "--profile", "handshakes", "--size", total,
                    "-o", str(whole)], check=True)
    packets = json.loads(Path(str(whole) + ".json").read_text())["packets"]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    subprocess.run(["editcap", "-F", "pcap", "-c", str(-(-packets // n)), str(whole), str(folder / "x.pcap")],
                   check=True)
    for i, p in enumerate(sorted(folder.iterdir())):
        p.rename(folder / f"part-{i:03d}.pcap")
    return folder


def _bytes(size: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(size[:-1]) * units[size[-1].upper()]) if size[-1].upper() in units else int(size)


def timed(args: list[str]) -> dict:
    """Wall time, and CPU time (user + sys) of the command and every process it waited for (its
    --jobs workers, the local cluster's scheduler, nannies and workers): on a shared machine the
    wall time says more about the neighbours than about us, the CPU time does not."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tlsdissect", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "exit": done.returncode,
            "lines": done.stdout.count(b"\n")}


MODES = {"one process": [], "--jobs 2": ["--jobs", "2"], "--cluster local:2": ["--cluster", "local:2"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--size", default="256K", help="size of each file of the cut set (256K, 1M, ...)")
    args = ap.parse_args(argv)
    small, cut = small_set(args.files), cut_set(args.files, args.size)
    tiny = str(REPO / "captures" / "tls12_success" / "capture.pcap")
    results: dict = {"files": args.files, "cut_bytes": sum(p.stat().st_size for p in cut.iterdir()),
                     "small_bytes": sum(p.stat().st_size for p in small.iterdir()), "cpus": os.cpu_count(),
                     "load": os.getloadavg()[0], "runs": {}}
    for mode, flags in MODES.items():
        row = results["runs"][mode] = {}
        row["one tiny file"] = timed([*flags, "--jsonl", tiny])
        row["small"] = timed([*flags, "--jsonl", str(small)])
        row["cut"] = timed([*flags, "--jsonl", str(cut)])
        print(mode, row, file=sys.stderr, flush=True)
    one = results["runs"]["one process"]
    cpu_per_file = (one["small"]["cpu_s"] - one["one tiny file"]["cpu_s"]) / args.files
    print(f"{args.files} files; small set {results['small_bytes'] / 1e6:.1f} MB, cut set "
          f"{results['cut_bytes'] / 1e6:.1f} MB; {results['cpus']} CPUs, load {results['load']:.1f}")
    print(f"{'':18s} {'wall, s':>26s} {'CPU, s':>26s} {'per small file, ms':>26s}")
    print(f"{'mode':18s} {'start':>8s} {'small':>8s} {'cut':>8s} {'start':>8s} {'small':>8s} {'cut':>8s} "
          f"{'wall':>8s} {'CPU':>8s} {'CPU+':>8s}")
    for mode, row in results["runs"].items():
        fixed, fixed_cpu = row["one tiny file"]["wall_s"], row["one tiny file"]["cpu_s"]
        per_file = (row["small"]["wall_s"] - fixed) / args.files
        per_file_cpu = (row["small"]["cpu_s"] - fixed_cpu) / args.files
        row["ms_per_small_file"] = round(per_file * 1000, 1)
        row["cpu_ms_per_small_file"] = round(per_file_cpu * 1000, 1)
        # CPU a file costs beyond its analysis (the one-process CPU per small file)
        row["overhead_cpu_ms_per_file"] = round((per_file_cpu - cpu_per_file) * 1000, 1)
        print(f"{mode:18s} {fixed:8.2f} {row['small']['wall_s']:8.2f} {row['cut']['wall_s']:8.2f} "
              f"{fixed_cpu:8.2f} {row['small']['cpu_s']:8.2f} {row['cut']['cpu_s']:8.2f} "
              f"{row['ms_per_small_file']:8.1f} {row['cpu_ms_per_small_file']:8.1f} "
              f"{row['overhead_cpu_ms_per_file']:8.1f}")
    lines = {mode: (row["small"]["lines"], row["cut"]["lines"]) for mode, row in results["runs"].items()}
    print(f"connections written (small, cut): {lines}")
    record = OUT / f"cluster-{time.strftime('%Y%m%dT%H%M%S')}.json"
    record.write_text(json.dumps(results, indent=2))
    print(f"record: {record}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
