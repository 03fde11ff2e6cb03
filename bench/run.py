#!/usr/bin/env python3
"""Time tlsdissect against tshark and bare dpkt loops on the same large captures.

Why these baselines: tshark (with its default TCP and TLS reassembly) is what people use today
to answer the same question, and a bare dpkt read loop is the floor for any pure-Python
reader of pcap files: tlsdissect cannot be faster than reading the packets.

Every tool runs as a child process on a capture already in the page cache. For each run we
record wall time, the child's CPU time (user + sys) and its peak resident memory, both taken
from os.wait4() on that very child, so other work on the machine does not leak into them.

    python bench/run.py --make mixed:200M handshakes:200M
    python bench/run.py bench/out/mixed-200M.pcap --tools tshark,dpkt-read
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import mmap
import os
import platform
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"

TSHARK_FIELDS = ["frame.number", "tcp.stream", "tls.handshake.type", "tls.alert_message.desc",
                 "tls.handshake.extensions_server_name", "tls.handshake.ciphersuite"]

# The dpkt children print "packets bytes" so we can check they saw the whole file.
DPKT_READ = """
import sys, dpkt
n = nbytes = 0
with open(sys.argv[1], 'rb') as f:
    reader = dpkt.pcapng.Reader if f.read(4) == b'\\x0a\\x0d\\x0d\\x0a' else dpkt.pcap.Reader
    f.seek(0)
    for ts, buf in reader(f):
        n += 1
        nbytes += len(buf)
print(n, nbytes)
"""
DPKT_PARSE = """
import sys, dpkt
n = nbytes = tcp = payload = 0
with open(sys.argv[1], 'rb') as f:
    reader = dpkt.pcapng.Reader if f.read(4) == b'\\x0a\\x0d\\x0d\\x0a' else dpkt.pcap.Reader
    f.seek(0)
    for ts, buf in reader(f):
        n += 1
        nbytes += len(buf)
        eth = dpkt.ethernet.Ethernet(buf)
        seg = getattr(eth.data, 'data', None)
        if isinstance(seg, dpkt.tcp.TCP):
            tcp += 1
            payload += len(seg.data)
print(n, nbytes, tcp, payload)
"""
TOOLS = ["cat", "dpkt-read", "dpkt-parse", "tshark", "tlsdissect", "tlsdissect-jsonl", "tlsdissect-j2",
         "tlsdissect-text"]
DEFAULT_TOOLS = ["cat", "dpkt-read", "dpkt-parse", "tshark", "tlsdissect"]  # jsonl, j2, text: on request
# Exit codes that mean "ran to completion": tlsdissect exits 1 when the capture holds a failed
# handshake (its documented convention), which is the normal case for these captures.
OK_EXIT = {"tlsdissect": {0, 1}, "tlsdissect-jsonl": {0, 1}, "tlsdissect-j2": {0, 1}, "tlsdissect-text": {0, 1}}


@dataclass
class Measurement:
    """One run of one tool on one capture."""
    tool: str
    capture: str
    status: str                      # ok | error | timeout | memory-limit | unavailable
    command: list[str] = field(default_factory=list)
    wall_s: float | None = None
    cpu_user_s: float | None = None
    cpu_sys_s: float | None = None
    peak_rss_mb: float | None = None
    packets_per_s: float | None = None
    mb_per_s: float | None = None     # capture file bytes (10^6) per wall second
    exit_code: int | None = None
    load_avg_1min: float | None = None   # just before the run: how busy the shared machine was
    note: str = ""

    @property
    def cpu_s(self) -> float | None:
        if self.cpu_user_s is None or self.cpu_sys_s is None:
            return None
        return self.cpu_user_s + self.cpu_sys_s


@dataclass
class CaptureInfo:
    path: str
    bytes: int
    packets: int | None
    link_type: int | None
    made_by: dict | None = None       # make_capture.py's sidecar JSON, when there is one


@dataclass
class ChildResult:
    status: str
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_kb: int
    exit_code: int | None
    stdout: str
    stderr_tail: str


# Linux carries a process's peak RSS across exec(), and a child forked from this (large)
# Python process starts with our peak: its ru_maxrss would report our memory, not the tool's.
# So a minimal interpreter (python -I -S, about 8 MB) spawns the tool, reaps it with os.wait4
# and hands back the tool's own rusage. The same helper times the tool, which keeps the
# helper's start-up out of the wall time.
SPAWN_HELPER = """
import os, sys, time
res, cmd = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
try:
    pid = os.posix_spawnp(cmd[0], cmd, os.environ)
except OSError as e:
    sys.stderr.write("cannot start %s: %s\\n" % (cmd[0], e))
    sys.exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(res, "w") as f:
    f.write("%r %r %r %d %d" % (wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss,
                                os.waitstatus_to_exitcode(status)))
"""


def group_rss_kb(pgid: int) -> int:
    """Resident memory of all processes in a process group, from /proc (Linux)."""
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[2]) == pgid:       # field 5 of stat: process group
                total += int(fields[21]) * (os.sysconf("SC_PAGE_SIZE") // 1024)  # field 24: rss
        except (OSError, ValueError, IndexError):
            continue
    return total


def run_child(cmd: list[str], timeout: float, env: dict | None = None,
              keep_stdout: Path | None = None, capture_stdout: bool = False,
              ok_exit: set[int] = frozenset({0}), max_rss_kb: int | None = None) -> ChildResult:
    """Run cmd through SPAWN_HELPER. A watchdog kills the whole process group at `timeout`,
    or when it holds more than max_rss_kb of memory, so a slow or memory-hungry tool can
    neither hang the benchmark nor push a shared machine into the OOM killer."""
    err = tempfile.TemporaryFile()
    if capture_stdout:
        out = tempfile.TemporaryFile()
    elif keep_stdout is not None:
        out = open(keep_stdout, "wb")
    else:
        out = open(os.devnull, "wb")
    fd, res_path = tempfile.mkstemp(prefix="bench-rusage-")
    os.close(fd)
    timed_out = threading.Event()
    too_big = threading.Event()
    done = threading.Event()
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", SPAWN_HELPER, res_path] + cmd,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                env=env if env is not None else dict(os.environ),
                                start_new_session=True)

        def watchdog() -> None:
            deadline = time.monotonic() + timeout
            while not done.wait(min(0.5, max(0.0, deadline - time.monotonic()))):
                if time.monotonic() >= deadline:
                    timed_out.set()
                elif max_rss_kb is not None and group_rss_kb(proc.pid) > max_rss_kb:
                    too_big.set()
                else:
                    continue
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return

        guard = threading.Thread(target=watchdog, daemon=True)
        guard.start()
        try:
            proc.wait()
        finally:
            done.set()
            guard.join()
        outer_wall = time.perf_counter() - t0
        with open(res_path) as f:
            fields = f.read().split()
        if len(fields) == 5:
            wall, user, sys_s = float(fields[0]), float(fields[1]), float(fields[2])
            maxrss, code = int(fields[3]), int(fields[4])
        else:  # killed before the helper could report, or the tool could not start
            wall, user, sys_s, maxrss, code = outer_wall, 0.0, 0.0, 0, proc.returncode
        stdout = ""
        if capture_stdout:
            out.seek(0)
            stdout = out.read(1 << 16).decode(errors="replace")
        err.seek(0)
        tail = err.read()[-4000:].decode(errors="replace")
        tail = "\n".join(line for line in tail.splitlines()
                         if "Running as user" not in line and line.strip())[-1500:]
        if timed_out.is_set():
            state = "timeout"
        elif too_big.is_set():
            state = "memory-limit"
        elif code not in ok_exit:
            state = "error"
        else:
            state = "ok"
        return ChildResult(state, wall, user, sys_s, maxrss, code, stdout, tail)
    finally:
        out.close()
        err.close()
        os.unlink(res_path)


# ---------------------------------------------------------------------------------------------
# The tools
# ---------------------------------------------------------------------------------------------

def repo_env() -> dict:
    """Environment in which `import tlsdissect` finds this checkout even if not installed."""
    env = dict(os.environ)
    extra = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + extra if extra else "")
    return env


def tlsdissect_command(capture: str, mode: str = "--json", extra: tuple[str, ...] = ()
                       ) -> tuple[list[str] | None, dict | None, str]:
    """How to start tlsdissect here: the console script if installed, otherwise the module
    from this checkout; (None, None, reason) when it cannot even be imported."""
    exe = shutil.which("tlsdissect")
    if exe:
        return [exe, mode, *extra, capture], None, ""
    env = repo_env()
    probe = subprocess.run([sys.executable, "-c", "import tlsdissect.cli"], env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["import failed"])[-1]
        return None, None, f"tlsdissect.cli does not import: {last}"
    if (REPO / "tlsdissect" / "__main__.py").exists():
        return [sys.executable, "-m", "tlsdissect", mode, *extra, capture], env, ""
    start = ("import sys; from tlsdissect.cli import main; "
             "sys.argv[0] = 'tlsdissect'; sys.exit(main())")
    return [sys.executable, "-c", start, mode, *extra, capture], env, ""


def build_command(tool: str, capture: str) -> tuple[list[str] | None, dict | None, str]:
    if tool == "cat":
        return ["cat", capture], None, ""
    if tool == "dpkt-read":
        return [sys.executable, "-c", DPKT_READ, capture], None, ""
    if tool == "dpkt-parse":
        return [sys.executable, "-c", DPKT_PARSE, capture], None, ""
    if tool == "tshark":
        exe = shutil.which("tshark")
        if not exe:
            return None, None, "tshark not found (apt-get install tshark)"
        cmd = [exe, "-r", capture, "-n", "-T", "fields"]
        for f in TSHARK_FIELDS:
            cmd += ["-e", f]
        return cmd, None, ""
    if tool == "tlsdissect":
        return tlsdissect_command(capture)
    if tool == "tlsdissect-jsonl":  # one JSON line per connection as it ends: streaming mode
        return tlsdissect_command(capture, "--jsonl")
    if tool == "tlsdissect-text":  # the default view (failures first, in full), as written to a file
        return tlsdissect_command(capture, "--no-color")
    if tool == "tlsdissect-j2":  # --json with the capture's connections shared out among 2 processes
        return tlsdissect_command(capture, "--json", ("--jobs", "2"))
    raise ValueError(tool)


def measure(tool: str, cap: CaptureInfo, timeout: float, keep_output: bool,
            max_rss_kb: int | None = None) -> Measurement:
    cmd, env, why = build_command(tool, cap.path)
    m = Measurement(tool, cap.path, "unavailable", cmd or [], note=why)
    if cmd is None:
        return m
    keep = None
    if keep_output and tool in ("tshark", "tlsdissect", "tlsdissect-jsonl", "tlsdissect-j2", "tlsdissect-text"):
        keep = OUT / f"{Path(cap.path).stem}.{tool}.out"
    m.load_avg_1min = round(os.getloadavg()[0], 2)
    r = run_child(cmd, timeout, env, keep_stdout=keep, capture_stdout=tool.startswith("dpkt"),
                  ok_exit=OK_EXIT.get(tool, {0}), max_rss_kb=max_rss_kb)
    m.status, m.exit_code = r.status, r.exit_code
    m.wall_s = round(r.wall_s, 3)
    if r.maxrss_kb:  # nothing to report when the run was killed before its helper reported
        m.cpu_user_s, m.cpu_sys_s = round(r.user_s, 3), round(r.sys_s, 3)
        m.peak_rss_mb = round(r.maxrss_kb / 1024, 1)  # Linux reports ru_maxrss in KiB
    if r.status == "timeout":
        m.note = f"killed after {timeout:g}s"
    elif r.status == "memory-limit":
        m.note = f"killed after {r.wall_s:.0f}s: its memory passed {max_rss_kb / 1048576:.3g} GiB"
    elif r.status == "error":
        m.note = r.stderr_tail[-600:] or f"exit code {r.exit_code}"
    if r.status == "ok":
        seen = r.stdout.split() if tool.startswith("dpkt") else []
        if cap.packets is None and seen and seen[0].isdigit():
            cap.packets = int(seen[0])  # pcapng: no cheap count of our own, take dpkt's
        if cap.packets and r.wall_s > 0:
            m.packets_per_s = round(cap.packets / r.wall_s)
        m.mb_per_s = round(cap.bytes / 1e6 / r.wall_s, 2) if r.wall_s > 0 else None
        if seen and cap.packets is not None and int(seen[0]) != cap.packets:
            m.note = f"dpkt saw {seen[0]} packets, the file has {cap.packets}"
    return m


# ---------------------------------------------------------------------------------------------
# Captures
# ---------------------------------------------------------------------------------------------

def describe_capture(path: Path) -> CaptureInfo:
    """Size, packet count (walking the pcap record headers, independent of any tool under
    test) and link type; pcapng files get no packet count."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            raise SystemExit(f"{path}: too short to be a capture")
        magic = head[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            endian = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            endian = ">"
        elif magic == b"\x0a\x0d\x0d\x0a":
            return CaptureInfo(str(path), size, None, None, _sidecar(path))
        else:
            raise SystemExit(f"{path}: not a pcap or pcapng file")
        link = struct.unpack(endian + "I", head[20:24])[0] & 0x0FFFFFFF
        rec = struct.Struct(endian + "8xI4x")
        n = 0
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            end = len(buf)
            off = 24
            while off + 16 <= end:
                off += 16 + rec.unpack_from(buf, off)[0]
                n += 1
            if off > end:
                n -= 1  # a truncated last record
    return CaptureInfo(str(path), size, n, link, _sidecar(path))


def _sidecar(path: Path) -> dict | None:
    side = Path(str(path) + ".json")
    if side.exists():
        try:
            return json.loads(side.read_text())
        except (OSError, ValueError):
            return None
    return None


def warm_cache(path: Path) -> None:
    """Read the file once so every tool starts from the page cache, not the disk."""
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def make_captures(specs: list[str], remake: bool) -> list[Path]:
    """`profile:size` -> bench/out/<profile>-<size>.pcap, built by make_capture.py unless a
    file made with the same profile and size is already there."""
    sys.path.insert(0, str(HERE))
    from make_capture import PROFILES, _human, parse_size

    paths = []
    for spec in specs:
        prof, _, size_s = spec.partition(":")
        if prof not in PROFILES or not size_s:
            raise SystemExit(f"--make wants profile:size with profile in {sorted(PROFILES)}, "
                             f"e.g. mixed:1G; got {spec!r}")
        size = parse_size(size_s)
        out = OUT / f"{prof}-{_human(size)}.pcap"
        meta = _sidecar(out) if out.exists() else None
        if (not remake and meta and meta.get("profile") == prof
                and meta.get("target_bytes") == size and meta.get("bytes") == out.stat().st_size):
            print(f"reusing {out}", file=sys.stderr)
        else:
            r = subprocess.run([sys.executable, str(HERE / "make_capture.py"), "--profile", prof,
                                "--size", str(size), "-o", str(out)], check=False)
            if r.returncode != 0:
                raise SystemExit(f"make_capture.py failed for {spec}")
        paths.append(out)
    return paths


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------

def wait_for_load(max_load: float, max_wait: float) -> None:
    """Sleep until the 1-minute load average drops to max_load, at most max_wait seconds."""
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] > max_load and time.monotonic() < deadline:
        time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))


def machine_info() -> dict:
    mem_gb = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    info = {"cpus": os.cpu_count(), "mem_gb": mem_gb, "platform": platform.platform(),
            "python": platform.python_version(), "load_avg_at_start": os.getloadavg()}
    try:
        import dpkt
        info["dpkt"] = dpkt.__version__
    except ImportError:
        info["dpkt"] = None
    exe = shutil.which("tshark")
    if exe:
        v = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
        info["tshark"] = (v.stdout.splitlines() or [""])[0]
    git = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%h %cI %s"],
                         capture_output=True, text=True, check=False)
    info["tlsdissect_commit"] = git.stdout.strip() or None
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "tlsdissect"],
                           capture_output=True, text=True, check=False)
    # the engine is written while we measure: say whether the timed code is newer than the commit
    info["tlsdissect_uncommitted_files"] = len(dirty.stdout.splitlines())
    return info


def _fmt(v: float | None, spec: str) -> str:
    """format(v, spec), or a dash padded to the same width."""
    return format(v, spec) if v is not None else "-".rjust(int(spec.split(".")[0].rstrip(",")))


def print_table(caps: list[CaptureInfo], results: list[Measurement]) -> None:
    for cap in caps:
        prof = (cap.made_by or {}).get("profile", "")
        print(f"\n{cap.path}  {cap.bytes / 1e6:.1f} MB, "
              f"{cap.packets if cap.packets is not None else '?'} packets"
              + (f", {cap.made_by.get('connections')} connections, profile {prof}"
                 if cap.made_by else ""))
        hdr = f"{'tool':<16} {'status':<12} {'wall s':>8} {'cpu s':>8} {'pkts/s':>10} " \
              f"{'MB/s':>8} {'peak RSS MB':>12}"
        print(hdr)
        print("-" * len(hdr))
        for m in (r for r in results if r.capture == cap.path):
            print(f"{m.tool:<16} {m.status:<12} {_fmt(m.wall_s, '8.2f')} {_fmt(m.cpu_s, '8.2f')} "
                  f"{_fmt(m.packets_per_s, '10,.0f')} {_fmt(m.mb_per_s, '8.2f')} "
                  f"{_fmt(m.peak_rss_mb, '12.1f')}")
            if m.note:
                print(f"{'':<16} note: " + m.note.replace("\n", "\n" + " " * 23)[:800])
        for line in ratio_lines(ratios(cap.path, results)):
            print(line)


def ratios(capture: str, results: list[Measurement]) -> dict:
    """Throughput ratios on one capture, from the best (fastest) ok run of each tool.
    `..._throughput` = other's wall time / our wall time on the same bytes (above 1: we are
    faster); `..._cpu` does the same with CPU time, which a busy shared machine disturbs less."""
    best: dict[str, Measurement] = {}
    for m in results:
        if (m.capture == capture and m.status == "ok" and m.wall_s
                and (m.tool not in best or m.wall_s < best[m.tool].wall_s)):
            best[m.tool] = m
    out = {}
    pairs = [(td, o) for td in ("tlsdissect", "tlsdissect-jsonl", "tlsdissect-j2", "tlsdissect-text")
             for o in ("tshark", "dpkt-read", "dpkt-parse")]
    pairs.append(("tshark", "dpkt-read"))
    for a, b in pairs:
        if a in best and b in best:
            out[f"{a}_vs_{b}_throughput"] = round(best[b].wall_s / best[a].wall_s, 4)
            ca, cb = best[a].cpu_s, best[b].cpu_s
            if ca and cb:
                out[f"{a}_vs_{b}_cpu"] = round(cb / ca, 4)
    return out


def ratio_lines(r: dict) -> list[str]:
    lines = []
    for k, v in r.items():
        if not k.endswith("_throughput"):
            continue
        a, b = k[:-len("_throughput")].split("_vs_")
        rel = f"{v:.2f}x the throughput of {b}" if v >= 1 else f"{1 / v:.1f}x slower than {b}"
        cpu = r.get(f"{a}_vs_{b}_cpu")
        lines.append(f"  {a} vs {b}: {v:.3f} by wall time ({a} is {rel})"
                     + (f"; {cpu:.3f} by CPU time" if cpu else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 2)[2])
    ap.add_argument("captures", nargs="*", type=Path, help="pcap files to time the tools on")
    ap.add_argument("--make", nargs="+", metavar="PROFILE:SIZE", default=[],
                    help="build captures with make_capture.py first, e.g. mixed:1G handshakes:1G")
    ap.add_argument("--remake", action="store_true", help="rebuild --make captures even if present")
    ap.add_argument("--tools", default=",".join(DEFAULT_TOOLS),
                    help=f"comma-separated, from {','.join(TOOLS)} "
                         f"(default: {','.join(DEFAULT_TOOLS)})")
    ap.add_argument("--timeout", type=float, default=1800.0,
                    help="seconds before a tool's run is killed and reported as timeout")
    ap.add_argument("--tool-timeout", action="append", default=[], metavar="TOOL=SECONDS",
                    help="per-tool timeout, e.g. tlsdissect=3600 (repeatable)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool and capture")
    ap.add_argument("--max-rss-gb", type=float, default=12.0,
                    help="kill a run whose processes hold more than this much memory and report "
                         "it as memory-limit (default 12, half this machine; 0: no limit)")
    ap.add_argument("--keep-output", action="store_true",
                    help="save tshark/tlsdissect stdout in bench/out/ instead of /dev/null")
    ap.add_argument("--json", type=Path, help="result file (default bench/out/results-<date>.json)")
    ap.add_argument("--max-load", type=float, default=None,
                    help="before each run, wait until the 1-minute load average is at most this "
                         "(the machine is shared); see --max-wait")
    ap.add_argument("--max-wait", type=float, default=300.0,
                    help="longest wait for --max-load, in seconds (default 300), then run anyway")
    args = ap.parse_args(argv)

    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    bad = [t for t in tools if t not in TOOLS]
    if bad:
        ap.error(f"unknown tool(s) {bad}; choose from {TOOLS}")
    timeouts = {t: args.timeout for t in tools}
    for spec in args.tool_timeout:
        t, _, s = spec.partition("=")
        try:
            timeouts[t] = float(s)
        except ValueError:
            ap.error(f"--tool-timeout wants TOOL=SECONDS, got {spec!r}")
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")

    OUT.mkdir(parents=True, exist_ok=True)
    paths = list(args.captures) + make_captures(args.make, args.remake)
    if not paths:
        ap.error("give capture files, or --make PROFILE:SIZE")
    for p in paths:
        if not p.is_file():
            raise SystemExit(f"{p}: no such file")
    started = dt.datetime.now(dt.timezone.utc)
    info = machine_info()
    caps: list[CaptureInfo] = []
    results: list[Measurement] = []
    for p in paths:
        warm_cache(p)
        cap = describe_capture(p.resolve())
        caps.append(cap)
        for rep in range(args.repeat):
            for tool in tools:
                print(f"[run] {p.name}: {tool}" + (f" (run {rep + 1})" if args.repeat > 1 else ""),
                      file=sys.stderr, flush=True)
                if args.max_load is not None:
                    wait_for_load(args.max_load, args.max_wait)
                m = measure(tool, cap, timeouts[tool], args.keep_output,
                            int(args.max_rss_gb * 1048576) if args.max_rss_gb else None)
                results.append(m)
                print(f"[run]   {m.status}" + (f" in {m.wall_s:.2f}s" if m.wall_s else "")
                      + (f": {m.note.splitlines()[-1][:200]}" if m.note else ""),
                      file=sys.stderr, flush=True)
    print_table(caps, results)
    doc = {"started_utc": started.isoformat(timespec="seconds"),
           "finished_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "machine": info, "tools": tools, "timeouts_s": timeouts, "repeat": args.repeat,
           "tshark_fields": TSHARK_FIELDS,
           "captures": [asdict(c) for c in caps],
           "results": [dict(asdict(m), cpu_s=None if m.cpu_s is None else round(m.cpu_s, 3))
                       for m in results],
           "ratios": {c.path: ratios(c.path, results) for c in caps}}
    dest = args.json or OUT / f"results-{started.strftime('%Y-%m-%dT%H%M%SZ')}.json"
    dest.write_text(json.dumps(doc, indent=2))
    print(f"\nresults written to {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
