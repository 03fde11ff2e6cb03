"""Score the diagnosis of the UDP-failure lab (lab/quic/make_udpfail.py) against its ground truth.

    python lab/quic/score_udp.py [--show-held-out] [FOLDER]     (PYTHONPATH must reach tlsdissect)

FOLDER defaults to tests/data/udpfail. For each scenario, tlsdissect.analyze runs on capture.pcap
and the flow the sidecar names (``expected.protocol``: quic or dtls, ``expected.flow``: its index)
is judged: its cause is the expected one, and its cause's family the expected cause's family. The
tuning set is listed row by row; the held-out set (``held_out``: made after the rules, never
tuned on) only as totals unless --show-held-out. Exit status 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))

from tlsdissect.diagnosis.causes import CAUSES  # noqa: E402


def got_cause(folder: Path, expected: dict) -> str:
    import tlsdissect

    try:
        report = tlsdissect.analyze(folder / "capture.pcap")
    except Exception as exc:  # a crash is a miss, and is shown
        return f"CRASH {type(exc).__name__}"
    flows = report.quic if expected["protocol"] == "quic" else report.dtls
    if len(flows) <= expected["flow"]:
        return "(no flow)"
    flow = flows[expected["flow"]]
    d = flow.diagnosis
    if d is None:
        return "ok" if flow.outcome() == "established" else "(none)"
    cause = d.cause if hasattr(d, "cause") else d["cause"]
    return "ok" if cause is None else cause


def main(argv: list[str]) -> int:
    show = "--show-held-out" in argv
    rest = [a for a in argv if not a.startswith("--")]
    root = Path(rest[0]) if rest else REPO / "tests" / "data" / "udpfail"
    totals: dict[str, list[tuple[bool, bool]]] = {"tuning": [], "held_out": []}
    for sidecar in sorted(root.glob("*/expected.json")):
        doc = json.loads(sidecar.read_text())
        exp = doc["expected"]
        group = "held_out" if doc.get("held_out") else "tuning"
        got = got_cause(sidecar.parent, exp)
        exact = got == exp["cause"]
        family = got in CAUSES and CAUSES[got].family == CAUSES[exp["cause"]].family
        totals[group].append((exact, family))
        if group == "tuning" or show:
            print(f"{doc['scenario']:40} {group:9} want {exp['cause']:32} got {got:32} {'y' if exact else '.'}"
                  f" {'y' if family else '.'}")
    for group, marks in totals.items():
        if marks:
            n = len(marks)
            print(f"{group}: cause {sum(m[0] for m in marks)}/{n}, family {sum(m[1] for m in marks)}/{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
