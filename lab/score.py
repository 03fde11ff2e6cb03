"""Score tlsdissect's diagnoses against the lab's ground truth.

  python3 lab/score.py [--markdown] [NAME ...]     (PYTHONPATH must reach tlsdissect)

For every captures/<scenario>/expected.json, tlsdissect.analyze runs on capture.pcap without
the key log and, when the lab kept one, with it.  For the connection the sidecar is about
(`expected.stream`, else the first) it checks:

  cause    the diagnosis' cause is the expected one (or the sidecar's `refined_cause`, the narrower
           cause the peers' own words prove where an Apache-era sidecar names the broader id)
  family   the family of the cause we name, as the catalogue gives it
           (tlsdissect/diagnosis/causes.py, `Cause.family`), is the expected family
           (`expected.cause_family`, else the catalogue's family of the expected cause): what a
           TLS 1.3 capture without keys can at least be judged on
  alert    the deciding alert: same sender and code; without keys an encrypted expected alert
           counts when the sender is right and the code is left unknown; no expected alert
           counts when the diagnosis names none (or a close_notify)
  unk+A    the diagnosis says `unknown` although an alert that decided it is visible (plaintext,
           or encrypted and the key log given): the worst kind of miss

The table groups the scenarios into three sets: `tuning` (wide lab, used to tune the rules),
`held_out` (wide lab, `expected.held_out: true`, only to check) and `apache` (the Apache-era
lab, whose sidecars have no held_out key).  Totals are per set and per run (no keys / keys), then
for the wide labs together, for the second wide lab alone (`wide2_*`, lab/wide2.py: held out
as a whole, counted in held_out too), for the third alone (`wide3_*`, lab/wide3.py: Java
JSSE, NSS, Erlang/OTP, Botan, wolfSSL and mbedTLS peers; held out as a whole) and for the fourth
alone (`wide4_*`, lab/wide4.py: failure modes no earlier lab made; held out as a whole) and for
the fifth alone (`wide5_*`, lab/wide5.py: revocation, PSK, STARTTLS, pinning, SNI filters, other
key types, with Apache, Dovecot and a Python asyncio server; held out as a whole) and for the
sixth alone (`wide6_*`, lab/wide6.py: h2o, Caddy, lighttpd on GnuTLS, Squid, Ruby, PHP, ncat,
wget2 and the Python HTTP libraries; held out as a whole) and for the seventh alone (`wide7_*`,
lab/wide7.py: zero windows, unanswered keep-alives, relays that alter or reset a connection
with both legs captured, socat as a TLS client; held out as a whole).
No root, no tshark: only tlsdissect.  Exit status 0.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from tlsdissect.diagnosis.causes import CAUSES  # noqa: E402

SETS = ("tuning", "held_out", "apache")


def family(cause: str) -> str:
    """The catalogue's family of a cause id."""
    return CAUSES[cause].family


def expected_family(expected: dict) -> str:
    return expected.get("cause_family") or family(expected["cause"])


def scenario_set(expected: dict) -> str:
    if "held_out" not in expected:
        return "apache"
    return "held_out" if expected["held_out"] else "tuning"


@dataclass
class Mark:
    got: str  # the cause tlsdissect gave
    cause: bool
    family: bool
    alert: bool
    unknown_visible_alert: bool


def judge(expected: dict, diag, with_keys: bool) -> Mark:
    got = diag.cause
    want_alert = expected.get("alert")
    got_alert = diag.alert  # a tlsdissect.Alert, or None
    got_code = got_alert.code if got_alert is not None else None
    if want_alert is None:
        alert_ok = got_code in (None, 0)
    else:
        same_sender = got_alert is not None and got_alert.sender == want_alert["sender"]
        if want_alert["encrypted"] and not with_keys:
            alert_ok = same_sender and got_code in (None, want_alert["code"])
        else:
            alert_ok = same_sender and got_code == want_alert["code"]
    visible = bool(want_alert) and want_alert["level"] == "fatal" and (
        not want_alert["encrypted"] or with_keys)
    return Mark(got=got, cause=got == expected["cause"] or got == expected.get("refined_cause"),
                family=family(got) == expected_family(expected), alert=alert_ok,
                unknown_visible_alert=visible and got == "unknown")


def pick(report, expected: dict):
    if "stream" in expected:
        for c in report.connections:
            if c.stream == expected["stream"]:
                return c
        return None
    return report.connections[0] if report.connections else None


def score_one(folder: Path) -> dict:
    import tlsdissect

    doc = json.loads((folder / "expected.json").read_text())
    exp = doc["expected"]
    row = {"scenario": doc["scenario"], "set": scenario_set(exp), "expected": exp["cause"],
           "runs": {}}
    keylog = folder / "keylog.txt"
    runs = [("nokeys", None)] + ([("keys", str(keylog))] if keylog.exists() else [])
    for label, kl in runs:
        try:
            report = tlsdissect.analyze(folder / "capture.pcap", keylog=kl)
            conn = pick(report, exp)
        except Exception as exc:  # a crash is a miss on every count, and is shown
            row["runs"][label] = Mark(f"CRASH {type(exc).__name__}", False, False, False, False)
            continue
        if conn is None or conn.diagnosis is None:
            row["runs"][label] = Mark("(no connection)", False, False, False, False)
            continue
        row["runs"][label] = judge(exp, conn.diagnosis, kl is not None)
    return row


def tick(ok: bool) -> str:
    return "y" if ok else "."


def render(rows: list[dict], markdown: bool) -> str:
    out = []
    head = ["scenario", "set", "expected cause", "no keys: got", "c f a", "keys: got", "c f a"]
    body = []
    for r in rows:
        cells = [r["scenario"], r["set"], r["expected"]]
        for label in ("nokeys", "keys"):
            m = r["runs"].get(label)
            if m is None:
                cells += ["-", ""]
            else:
                flags = f"{tick(m.cause)} {tick(m.family)} {tick(m.alert)}"
                if m.unknown_visible_alert:
                    flags += " U"
                cells += [m.got, flags]
        body.append(cells)
    if markdown:
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        out += ["| " + " | ".join(c) + " |" for c in body]
    else:
        widths = [max(len(str(x[i])) for x in body + [head]) for i in range(len(head))]
        out.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        out += ["  ".join(str(c).ljust(w) for c, w in zip(cells, widths)) for cells in body]
    out.append("")
    out.append("c = exact cause, f = cause family, a = deciding alert, U = `unknown` although "
               "the deciding alert is visible")
    out.append("")
    out.append(totals(rows, markdown))
    return "\n".join(out)


def totals(rows: list[dict], markdown: bool) -> str:
    lines = []
    head = ["set", "run", "n", "cause", "family", "alert", "unknown+visible alert"]
    table = []
    for s in SETS + ("wide (tuning+held_out)", "wide2 (held out, added later)",
                     "wide3 (held out, other stacks)", "wide4 (held out, new failure modes)",
                     "wide5 (held out, more failure modes)",
                     "wide6 (held out, new peers and modes)",
                     "wide7 (held out, transport and relays)"):
        if s[:5] in ("wide2", "wide3", "wide4", "wide5", "wide6", "wide7"):  # a later wide lab
            # alone (lab/wide2.py .. wide7.py),
            # part of held_out
            members = [r for r in rows if r["scenario"].startswith(s[:5] + "_")]
        else:
            members = [r for r in rows if (r["set"] == s) or
                       (s.startswith("wide") and r["set"] in ("tuning", "held_out"))]
        for label in ("nokeys", "keys"):
            marks = [r["runs"][label] for r in members if label in r["runs"]]
            if not marks:
                continue
            n = len(marks)

            def pct(k: int) -> str:
                return f"{k}/{n} ({100 * k / n:.0f}%)"

            table.append([s, label, str(n), pct(sum(m.cause for m in marks)),
                          pct(sum(m.family for m in marks)), pct(sum(m.alert for m in marks)),
                          str(sum(m.unknown_visible_alert for m in marks))])
    if markdown:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        lines += ["| " + " | ".join(r) + " |" for r in table]
    else:
        widths = [max(len(x[i]) for x in table + [head]) for i in range(len(head))]
        lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in table]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    markdown = "--markdown" in argv
    names = [a for a in argv if not a.startswith("--")]
    folders = sorted(p.parent for p in (REPO / "captures").glob("*/expected.json")
                     if not names or p.parent.name in names)
    rows = [score_one(f) for f in folders]
    rows.sort(key=lambda r: (SETS.index(r["set"]), r["scenario"]))
    print(render(rows, markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
