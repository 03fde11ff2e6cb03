"""Output gate: the CLI's exact bytes on every bundled and shared capture, saved or compared.

A refactoring that must not change behaviour runs this twice::

    python tools/gate.py save /tmp/gate-before      # on the commit before the change
    python tools/gate.py check /tmp/gate-before     # after it: lists every run that differs

Bundled captures are named relative to the checkout (so that a worktree's output compares with
main's); shared ones by their absolute path. Each capture is run as ``--json`` and as the plain text view (``--no-color`` and ``-v``), with and
without its key log where one sits beside it. Every run is a fork of one process that has
imported tlsdissect once (fast), with its standard output and error sent to files; the exit
status is kept too. Nothing here judges the output: it only says whether it changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from shared_captures import shared_captures_dir  # noqa: E402

SUFFIXES = (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".cap.gz")


def _captures() -> list[tuple[str, Path, list[str]]]:
    """(name, path, key logs) for every capture, bundled first."""
    found: list[tuple[str, Path, list[str]]] = []
    for d in sorted((ROOT / "captures").iterdir()):
        cap = d / "capture.pcap"
        if cap.is_file():
            keys = [str(d / "keylog.txt")] if (d / "keylog.txt").is_file() else []
            found.append((f"captures/{d.name}", cap.relative_to(ROOT), [str(Path(k).relative_to(ROOT)) for k in keys]))
    shared = shared_captures_dir()
    if shared.is_dir():
        for p in sorted(shared.rglob("*")):
            if p.is_file() and p.name.lower().endswith(SUFFIXES):
                keys = sorted(str(k) for k in p.parent.glob("*.txt")
                              if k.name in ("log.txt", "premaster.txt", "keylog.txt", "keys.txt"))
                found.append((f"shared/{p.relative_to(shared)}", p, keys))
    return found


def _runs() -> list[tuple[str, list[str]]]:
    runs = []
    for name, path, keys in _captures():
        for label, extra in (("json", ["--json"]), ("text", ["--no-color"]), ("textv", ["--no-color", "-v"])):
            runs.append((f"{name}#{label}", extra + [str(path)]))
            if keys:
                kl = [a for k in keys for a in ("--keylog", k)]
                runs.append((f"{name}#{label}+keys", extra + kl + [str(path)]))
    return runs


def _run_one(argv: list[str], out_path: Path) -> int:
    pid = os.fork()
    if pid == 0:  # child: the CLI with fd 1 and 2 in files
        try:
            fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            from tlsdissect.cli import main

            rc = main(argv)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(rc)
        except SystemExit as e:
            os._exit(int(e.code or 0))
        except BaseException:
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
            os._exit(99)
    return pid


def run_all(outdir: Path, jobs: int = 2) -> dict[str, dict[str, object]]:
    import tlsdissect.cli  # noqa: F401  (imported once, before forking)

    os.chdir(ROOT)  # bundled captures by relative path: the output is the same in every checkout

    outdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("COLUMNS", "120")
    results: dict[str, dict[str, object]] = {}
    pending: dict[int, tuple[str, Path]] = {}
    runs = _runs()
    for i, (name, argv) in enumerate(runs):
        while len(pending) >= jobs:
            pid, status = os.wait()
            n, p = pending.pop(pid)
            results[n] = {"rc": os.waitstatus_to_exitcode(status), "out": p.name}
        out = outdir / f"{i:05d}.out"
        pending[_run_one(argv, out)] = (name, out)
    while pending:
        pid, status = os.wait()
        n, p = pending.pop(pid)
        results[n] = {"rc": os.waitstatus_to_exitcode(status), "out": p.name}
    for r in results.values():
        r["sha"] = hashlib.sha256((outdir / str(r["out"])).read_bytes()).hexdigest()
    return results


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in ("save", "check"):
        print(__doc__)
        return 2
    mode, where = sys.argv[1], Path(sys.argv[2])
    if mode == "save":
        results = run_all(where)
        (where / "index.json").write_text(json.dumps(results, indent=1, sort_keys=True))
        print(f"saved {len(results)} runs in {where}")
        return 0
    before = json.loads((where / "index.json").read_text())
    import tempfile

    after_dir = Path(tempfile.mkdtemp(prefix="gate-after-"))
    after = run_all(after_dir)
    differ = [n for n in sorted(before) if n not in after or before[n]["sha"] != after[n]["sha"]
              or before[n]["rc"] != after[n]["rc"]]
    extra = sorted(set(after) - set(before))
    for n in differ:
        a = after.get(n, {})
        print(f"DIFFERS {n}: rc {before[n]['rc']} -> {a.get('rc')}; "
              f"diff {where / before[n]['out']} {after_dir / str(a.get('out'))}")
    for n in extra:
        print(f"NEW {n}")
    print(f"{'IDENTICAL' if not differ and not extra else 'DIFFERENT'}: {len(before) - len(differ)} of "
          f"{len(before)} runs identical")
    return 1 if differ or extra else 0


if __name__ == "__main__":
    sys.exit(main())
