"""Check the committed lab results without re-running the lab.

  python3 lab/verify.py [captures-dir] [NAME ...]

For each captures/<scenario>/: expected.json must follow the schema and
vocabulary (groundtruth.schema_problems), and tshark's reading of capture.pcap
(with keylog.txt when present) must agree with the expected alert, version,
SNI and alert sender (groundtruth.capture_problems); the tshark_alerts recorded
in `observed` must still be what tshark prints.  Needs tshark; exits 1 on any
problem, 2 on bad usage.  Does not need root.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import capture
import groundtruth


def verify_one(folder: Path) -> list[str]:
    side = folder / "expected.json"
    pcap = folder / "capture.pcap"
    if not side.exists() or not pcap.exists():
        return ["expected.json or capture.pcap missing"]
    try:
        doc = json.loads(side.read_text())
    except json.JSONDecodeError as exc:
        return [f"expected.json is not JSON: {exc}"]
    problems = groundtruth.schema_problems(doc)
    if problems:
        return problems
    if doc["scenario"] != folder.name:
        problems.append(f"scenario {doc['scenario']!r} != folder name")
    keylog = folder / "keylog.txt"
    kl = keylog if keylog.exists() else None
    alerts = capture.tshark_alerts(pcap, kl)
    hello = capture.tshark_hello_facts(pcap)
    problems += groundtruth.capture_problems(doc["expected"], alerts, hello,
                                             doc["observed"]["client_exit_status"])
    now = [capture.alert_text(a) for a in alerts]
    if now != doc["observed"]["tshark_alerts"]:
        problems.append(f"observed.tshark_alerts {doc['observed']['tshark_alerts']} but tshark "
                        f"now prints {now}")
    return problems


def main(argv: list[str]) -> int:
    if shutil.which("tshark") is None:
        print("verify.py needs tshark (apt-get install tshark)", file=sys.stderr)
        return 2
    root = HERE.parent / "captures"
    if argv and Path(argv[0]).is_dir():
        root, argv = Path(argv[0]), argv[1:]
    folders = sorted(d for d in root.iterdir()
                     if d.is_dir() and not d.name.startswith("_") and (not argv or d.name in argv))
    if not folders:
        print(f"no scenario folders under {root}", file=sys.stderr)
        return 2
    bad = 0
    for folder in folders:
        problems = verify_one(folder)
        print(f"{'FAIL' if problems else 'ok  '} {folder.name}")
        for p in problems:
            print(f"     {p}")
        bad += bool(problems)
    print(f"{len(folders) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
