"""Drive the lab: build the PKI, then for each scenario start its server(s),
capture the client's attempt on loopback, and write captures/<scenario>/.

Usage (as root, from anywhere):
  python3 lab/run.py                 # every scenario
  python3 lab/run.py NAME [NAME...]  # only these (prefix* globs allowed)
  python3 lab/run.py --list
  python3 lab/run.py --fresh ...     # wipe lab/work (PKI included) first

Ground truth has two halves.  "expected" is written by hand in scenarios.py
from how the scenario is built.  "observed" is gathered here from outside
tlsdissect: the client's exit status and error text, the server's error log,
and the alerts as tshark decodes them.  The driver prints a warning when the
two disagree so a human can look before committing.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import capture
import catalogue
import groundtruth
import pki
import servers
from scenarios import SCENARIOS, Scenario

WORK = HERE / "work"
OUT = REPO / "captures"
PKI_REL = "lab/work/pki"  # clients run from the repo root so commands are reproducible

SERVER_LOG_PRIORITY = [r"SSL Library Error", r"\[ssl:error\]", r"\[ssl:warn\]", r"\[core:error\]",
                       r"AH02008", r"\[ssl:info\].*(handshake|abort|alert|error)", r"\[error\]",
                       r"\[crit\]", r"ERROR|error"]


def tool_version(kind: str) -> str:
    if kind == "curl":
        return " ".join(subprocess.run(["curl", "--version"], check=False, capture_output=True,
                                       text=True).stdout.split()[:2])
    if kind == "s_client":
        v = subprocess.run(["openssl", "version"], check=False, capture_output=True, text=True).stdout
        return f"openssl s_client ({v.split(' (')[0].strip()})"
    if kind == "gnutls-cli":
        v = subprocess.run(["gnutls-cli", "--version"], check=False, capture_output=True, text=True).stdout
        return v.splitlines()[0].strip()
    return f"Python {sys.version.split()[0]} ssl"


def pick_server_log(lines: list[str], pattern: str | None) -> str | None:
    pats = [pattern] if pattern else SERVER_LOG_PRIORITY
    for pat in pats:
        for line in lines:
            if re.search(pat, line):
                return line.strip()
    return None


def client_error(kind: str, stdout: str, stderr: str) -> str | None:
    """The client's own words about the failure, kept verbatim."""
    if kind == "curl":
        lines = [ln for ln in stderr.splitlines() if ln.startswith("curl:")]
    elif kind == "s_client":
        lines = [ln for ln in stderr.splitlines() if "error" in ln.lower()]
        lines += [ln.strip() for ln in stdout.splitlines()
                  if ln.strip().startswith("Verify return code:") and not ln.strip().endswith("(ok)")]
    elif kind == "gnutls-cli":
        lines = [ln for ln in (stderr + "\n" + stdout).splitlines()
                 if ln.startswith("***") or "rror" in ln]
    else:
        lines = [ln for ln in (stderr + "\n" + stdout).splitlines() if "rror" in ln or "Timeout" in ln
                 or "timed out" in ln or "reset" in ln.lower()]
    text = "\n".join(dict.fromkeys(ln.rstrip() for ln in lines if ln.strip()))
    return text or None


def build_server(sc: Scenario, spec: tuple, port: int, wd: Path) -> servers.Server | None:
    kind, arg = spec
    docroot = WORK / "docroot"
    pki_dir = WORK / "pki"
    if kind == "apache":
        return servers.make_apache(arg, port, wd, pki_dir, docroot)
    if kind == "nginx":
        return servers.make_nginx(arg, port, wd, pki_dir, docroot)
    if kind == "s_server":
        return servers.make_s_server(arg, port, wd, pki_dir)
    if kind == "helper":
        return servers.make_helper(arg, port, wd, pki_dir)
    if kind == "none":
        return None
    raise ValueError(f"unknown server kind {kind}")


def render(argv: list[str], port: int, keylog: str, upstream: int) -> list[str]:
    subs = {"{port}": str(port), "{pki}": PKI_REL, "{keylog}": keylog, "{upstream}": str(upstream)}
    out = []
    for a in argv:
        for k, v in subs.items():
            a = a.replace(k, v)
        out.append(a)
    return out


def run_scenario(sc: Scenario, port: int) -> bool:
    wd = WORK / sc.name
    if wd.exists():
        shutil.rmtree(wd)
    wd.mkdir(parents=True)
    out = OUT / sc.name
    upstream = port + 1
    keylog_rel = f"lab/work/{sc.name}/keylog.txt"
    keylog = REPO / keylog_rel

    srvs: list[servers.Server] = []
    if sc.upstream is not None:
        srvs.append(build_server(sc, sc.upstream, upstream, wd / "upstream"))
    main_server = build_server(sc, sc.server, port, wd / "server")
    if main_server is not None:
        srvs.append(main_server)
    elif servers.listening(port):
        raise RuntimeError(f"{sc.name} needs nothing listening on {port}, but something is")
    ports = [port] + ([upstream] if sc.upstream is not None else [])
    bpf = " or ".join(f"tcp port {p}" for p in ports)
    dump = capture.Tcpdump(wd / "capture.pcap", bpf, sc.packet_limit)
    argv = render(sc.client, port, keylog_rel, upstream)
    env = dict(os.environ)
    env_prefix = ""
    if sc.keylog_env:
        env["SSLKEYLOGFILE"] = keylog_rel
        env_prefix = f"SSLKEYLOGFILE={keylog_rel} "
    stdin = sc.stdin.encode() if sc.stdin is not None else None
    try:
        for s in srvs:
            s.start()
        dump.start()
        t0 = time.time()
        try:
            res = subprocess.run(argv, check=False, cwd=REPO, env=env, input=stdin or b"",
                                 capture_output=True, timeout=sc.client_timeout)
            rc, so, se = res.returncode, res.stdout.decode(errors="replace"), res.stderr.decode(
                errors="replace")
        except subprocess.TimeoutExpired as exc:
            rc, so = None, (exc.stdout or b"").decode(errors="replace")
            se = (exc.stderr or b"").decode(errors="replace") + "\n[lab: client killed after timeout]"
        elapsed = time.time() - t0
        time.sleep(sc.settle)
        dump.stop()
    finally:
        if dump.proc is not None and dump.proc.poll() is None:
            dump.stop()
        logs = []
        for s in srvs:
            time.sleep(0.2)
            logs.append(s.new_log_lines())
            s.stop()
    (wd / "client.stdout").write_text(so)
    (wd / "client.stderr").write_text(se)
    server_lines = [ln for part in logs for ln in part]
    (wd / "server.log").write_text("\n".join(server_lines) + "\n")

    # Only now, with a new capture in hand, are the previous results replaced.
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("capture.pcap", "keylog.txt", "expected.json", "tshark.txt"):
        (out / stale).unlink(missing_ok=True)
    shutil.copy(wd / "capture.pcap", out / "capture.pcap")
    # s_client writes a header comment even when no secret was ever derived.
    has_keylog = keylog.exists() and any(
        ln.strip() and not ln.startswith("#") for ln in keylog.read_text().splitlines())
    if has_keylog:
        shutil.copy(keylog, out / "keylog.txt")
    kl = out / "keylog.txt" if has_keylog else None
    alerts = capture.tshark_alerts(out / "capture.pcap", kl)
    summary = capture.tshark_summary(out / "capture.pcap", kl)
    (out / "tshark.txt").write_text(summary)

    cmd = env_prefix + shlex.join(argv)
    if sc.stdin is not None:
        cmd = f"printf {shlex.quote(sc.stdin.encode('unicode_escape').decode())} | {cmd}"
    observed = {
        "client_exit_status": rc,
        "client_error": client_error(sc.client_kind, so, se),
        "server_log": pick_server_log(server_lines, sc.log_pattern),
        "tshark_alerts": [capture.alert_text(a) for a in alerts],
    }
    if main_server is None:
        server_desc = "none (nothing listens on the port)"
    elif sc.upstream is None:
        server_desc = main_server.version
    else:
        server_desc = f"{main_server.version} relaying to {srvs[0].version}"
    doc = {
        "scenario": sc.name,
        "description": sc.description,
        "made_with": {"server": server_desc, "client": tool_version(sc.client_kind),
                      "command": cmd, "date": dt.date.today().isoformat()},
        "observed": observed,
        "expected": sc.expected,
    }
    (out / "expected.json").write_text(json.dumps(doc, indent=2) + "\n")
    hello = capture.tshark_hello_facts(out / "capture.pcap")
    problems = groundtruth.schema_problems(doc) + groundtruth.capture_problems(
        sc.expected, alerts, hello, rc)
    size = (out / "capture.pcap").stat().st_size
    print(f"== {sc.name} (port {port}, {elapsed:.1f}s, pcap {size} B, keylog {has_keylog})")
    print(f"   client rc={rc}: {observed['client_error']}")
    print(f"   server: {observed['server_log']}")
    for a in observed["tshark_alerts"]:
        print(f"   alert: {a}")
    for p in problems:
        print(f"   !! {p}")
    return not problems


TRUST = {"root.crt": "lab-root-ca.crt", "corp-ca.crt": "corp-client-ca.crt",
         "other-ca.crt": "other-ca.crt", "rogue-root.crt": "rogue-root-ca.crt"}


def publish_trust_anchors() -> None:
    """Copy the CA certificates (never keys) next to the captures, so a reader of
    captures/ can check chains (e.g. --ca-file captures/_trust/lab-root-ca.crt)
    without rebuilding the PKI.  Clients in the lab trust lab-root-ca.crt only;
    servers that ask for client certificates trust corp-client-ca.crt."""
    dest = OUT / "_trust"
    dest.mkdir(parents=True, exist_ok=True)
    for src, name in TRUST.items():
        shutil.copy(WORK / "pki" / src, dest / name)


def main(argv: list[str]) -> int:
    if "--list" in argv:
        for sc in SCENARIOS:
            print(sc.name)
        return 0
    if os.geteuid() != 0:
        print("lab/run.py must run as root (tcpdump, apache2, nginx)", file=sys.stderr)
        return 2
    if "--fresh" in argv:
        shutil.rmtree(WORK, ignore_errors=True)
    names = [a for a in argv if not a.startswith("--")]
    chosen = [(i, sc) for i, sc in enumerate(SCENARIOS)
              if not names or any(fnmatch.fnmatch(sc.name, n) for n in names)]
    if not chosen:
        print(f"no scenario matches {names}; try --list", file=sys.stderr)
        return 2
    if not names:  # a full rebuild also drops results of scenarios that no longer exist
        known = {sc.name for sc in SCENARIOS}
        for d in OUT.iterdir() if OUT.exists() else []:
            if d.is_dir() and d.name not in known and (d / "expected.json").exists():
                print(f"removing stale {d}")
                shutil.rmtree(d)
    WORK.mkdir(exist_ok=True)
    pki.Pki(WORK).build()
    docroot = WORK / "docroot"
    (docroot / "secure").mkdir(parents=True, exist_ok=True)
    (docroot / "index.html").write_text("<html><body>TLS lab</body></html>\n")
    (docroot / "secure" / "index.html").write_text("<html><body>secure area</body></html>\n")
    publish_trust_anchors()
    bad = 0
    for i, sc in chosen:
        try:
            ok = run_scenario(sc, 20000 + 10 * i)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            # A server that would not start or a tool that is missing: say so, go on.
            print(f"== {sc.name}: could not run: {exc}")
            ok = False
        if not ok:
            bad += 1
    print(f"{len(chosen)} scenarios run, {bad} with expectation mismatches")
    print(f"wrote {catalogue.write_readme(OUT, [s.name for s in SCENARIOS])}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
