"""Drive the lab: build the PKI, then for each scenario start its server(s),
capture the client's attempt on loopback, and write captures/<scenario>/.

Usage (as root, from anywhere):
  python3 lab/run.py                 # every scenario
  python3 lab/run.py NAME [NAME...]  # only these (prefix* globs allowed)
  python3 lab/run.py --list
  python3 lab/run.py --fresh ...     # wipe lab/work (PKI included) first
  python3 lab/run.py --refresh-expected [NAME...]  # rewrite sidecars' expected blocks only

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
from wide3 import CLIENT_VERSIONS, RUSTLS_PEER, ensure_java_peer, ensure_rustls_peer, lighttpd_version
from wide4 import CLIENT_VERSIONS as CLIENT_VERSIONS4
from wide5 import CLIENT_VERSIONS as CLIENT_VERSIONS5
from wide6 import CLIENT_VERSIONS as CLIENT_VERSIONS6
from wide7 import CLIENT_VERSIONS as CLIENT_VERSIONS7

WORK = HERE / "work"
OUT = REPO / "captures"
PKI_REL = "lab/work/pki"  # clients run from the repo root so commands are reproducible

SERVER_LOG_PRIORITY = [r"SSL Library Error", r"\[ssl:error\]", r"\[ssl:warn\]", r"\[core:error\]",
                       r"AH02008", r"\[ssl:info\].*(handshake|abort|alert|error)", r"\[error\]",
                       r"\[crit\]", r"ERROR|error", r"(?i)alert|fail|reject|verif|refus|revoked"]
GO_PEER = WORK / "bin" / "peer"  # lab/peers/peer.go, built by ensure_go_peer()
GO_PEER_REL = "lab/work/bin/peer"
NODE_PEER_REL = "lab/peers/peer.js"


def tool_version(kind: str) -> str:
    if kind == "curl":
        return " ".join(subprocess.run(["curl", "--version"], check=False, capture_output=True,
                                       text=True).stdout.split()[:2])
    if kind == "s_client":
        v = subprocess.run(["openssl", "version"], check=False, capture_output=True, text=True).stdout
        return f"openssl s_client ({v.split(' (')[0].strip()})"
    if kind == "stunnel":
        return " ".join(_first_line(["stunnel4", "-version"], "stunnel").split()[:2]) + " (client mode)"
    if kind == "gnutls-cli":
        v = subprocess.run(["gnutls-cli", "--version"], check=False, capture_output=True, text=True).stdout
        return v.splitlines()[0].strip()
    if kind == "go":
        return go_version() + " crypto/tls (lab/peers/peer.go)"
    if kind == "node":
        return node_version() + " node:tls (lab/peers/peer.js)"
    if kind in CLIENT_VERSIONS:  # the wide3 lab's stacks (Java, NSS, Erlang, Botan)
        return CLIENT_VERSIONS[kind]()
    if kind in CLIENT_VERSIONS4:  # the wide4 lab's clients (wget, urllib3)
        return CLIENT_VERSIONS4[kind]()
    if kind in CLIENT_VERSIONS5:  # the wide5 lab's clients (swaks)
        return CLIENT_VERSIONS5[kind]()
    if kind in CLIENT_VERSIONS6:  # the wide6 lab's clients (Ruby, PHP, ncat, wget2, Python HTTP)
        return CLIENT_VERSIONS6[kind]()
    if kind in CLIENT_VERSIONS7:  # the wide7 lab's clients (socat, the stall client)
        return CLIENT_VERSIONS7[kind]()
    return f"Python {sys.version.split()[0]} ssl"


def _first_line(argv: list[str], word: str) -> str:
    res = subprocess.run(argv, check=False, capture_output=True, text=True)
    return next((ln.strip() for ln in (res.stdout + res.stderr).splitlines()
                 if ln.startswith(word)), word)


def go_version() -> str:
    v = subprocess.run(["go", "version"], check=False, capture_output=True, text=True).stdout.split()
    return f"Go {v[2][2:]}" if len(v) > 2 else "Go"


def node_version() -> str:
    v = subprocess.run(["node", "-p", "process.version + ' OpenSSL/' + process.versions.openssl"],
                       check=False, capture_output=True, text=True).stdout.strip()
    return f"Node.js {v}"


def ensure_go_peer() -> None:
    """Build lab/peers/peer.go (standard library only) once into lab/work/bin/peer."""
    src = HERE / "peers" / "peer.go"
    if GO_PEER.exists() and GO_PEER.stat().st_mtime >= src.stat().st_mtime:
        return
    GO_PEER.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GOCACHE=str(WORK / "gocache"), GO111MODULE="off", GOFLAGS="-trimpath")
    subprocess.run(["go", "build", "-o", str(GO_PEER), str(src)], check=True, env=env)


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
        # "- Status: The certificate is NOT trusted. <why>" carries the verification reason.
        lines = [ln for ln in (stderr + "\n" + stdout).splitlines()
                 if ln.startswith("***") or "rror" in ln or "NOT trusted" in ln]
    elif kind == "nss":  # tstclnt: "tstclnt: authentication of server cert failed: SSL_ERROR_..."
        lines = [ln for ln in stderr.splitlines() if ln.startswith("tstclnt:")]
    elif kind == "botan":  # "Certificate validation failure: ...", "Alert: ...", exceptions
        lines = [ln for ln in (stderr + "\n" + stdout).splitlines()
                 if re.search(r"(?i)error|fail|alert|exception|EOF on socket", ln)]
    elif kind == "wget":  # "GnuTLS: ...", "ERROR: ...", "Unable to establish SSL connection.",
        # "Failed writing HTTP request: ...", "No data received."
        lines = [ln for ln in (stderr + "\n" + stdout).splitlines()
                 if re.search(r"(?i)GnuTLS|error|unable|fail|refused|timed out|no data", ln)]
    elif kind in ("ruby", "requests", "httpx", "aiohttp"):  # lab/peers: "error: <class>: <text>"
        lines = [ln for ln in (stderr + "\n" + stdout).splitlines() if ln.startswith("error:")]
    elif kind == "php":  # every warning PHP raised ("Peer certificate ... did not match ...")
        lines = [ln for ln in (stderr + "\n" + stdout).splitlines()
                 if ln.startswith(("warning:", "error:")) or ln.startswith("error:0")]
    elif kind == "ncat":  # "Ncat: Failed SSL connection to ...: certificate verify failed."
        lines = [ln for ln in (stderr + "\n" + stdout).splitlines() if ln.startswith("Ncat:")
                 and "Version" not in ln]
    elif kind == "wget2":  # "Certificate error: ...", "Failed to connect: ...", GnuTLS lines
        lines = [ln for ln in (stderr + "\n" + stdout).splitlines()
                 if re.search(r"(?i)GnuTLS|error|unable|fail|refused|timed out|verif|insecure", ln)]
    elif kind == "swaks":  # "*** Host did not advertise STARTTLS", "<** 454 4.7.0 TLS not ..."
        lines = [ln for ln in (stderr + "\n" + stdout).splitlines()
                 if ln.startswith(("***", "<**"))]
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
    if kind == "haproxy":
        return servers.make_haproxy(arg, port, wd, pki_dir)
    if kind == "lighttpd":
        return servers.make_lighttpd(arg, port, wd, pki_dir, docroot)
    if kind == "stunnel":
        return servers.make_stunnel(arg, port, wd, pki_dir)
    if kind == "gnutls-serv":
        return servers.make_gnutls_serv(arg, port, wd, pki_dir)
    if kind == "go":
        return servers.make_command({"kind": "go", "argv": [str(GO_PEER), "server", *arg],
                                     "version": go_version() + " crypto/tls (lab/peers/peer.go)"},
                                    port, wd, pki_dir)
    if kind == "node":
        return servers.make_command({"kind": "node", "argv": ["node", str(REPO / NODE_PEER_REL),
                                                              "server", *arg],
                                     "version": node_version() + " node:tls (lab/peers/peer.js)"},
                                    port, wd, pki_dir)
    if kind == "command":  # any other server process (the wide3 lab's peers)
        return servers.make_command(arg, port, wd, pki_dir)
    if kind == "lighttpd-tls":  # lighttpd on another TLS library: (module, extra config)
        module, extra = arg
        return servers.make_lighttpd(extra, port, wd, pki_dir, docroot, tls_module=module,
                                     tls_version=lighttpd_version(module))
    if kind == "none":
        return None
    raise ValueError(f"unknown server kind {kind}")


def render(argv: list[str], port: int, keylog: str, upstream: int) -> list[str]:
    subs = {"{port}": str(port), "{pki}": PKI_REL, "{keylog}": keylog, "{upstream}": str(upstream),
            "{goclient}": GO_PEER_REL, "{nodepeer}": NODE_PEER_REL}
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
    bpf = " or ".join(f"tcp port {p}" for p in ports) + (" or icmp" if sc.capture_icmp else "")
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

    if sc.postprocess == "start_at_server_hello":
        cut_before_server_hello(wd / "capture.pcap")

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


def cut_before_server_hello(pcap: Path) -> None:
    """Keep the capture from the first frame carrying a ServerHello on (editcap -r N-): a
    capture started late, after the ClientHello and the TCP handshake."""
    rows = capture.tshark_fields(pcap, "tls.handshake.type == 2", ["frame.number"], None)
    if not rows:
        raise RuntimeError("no ServerHello to cut at")
    full = pcap.with_name("capture-full.pcap")
    pcap.rename(full)
    subprocess.run(["editcap", "-F", "pcap", "-r", str(full), str(pcap), f"{rows[0][0]}-9999999"],
                   check=True,
                   capture_output=True)


def netns_setup(sc: Scenario, port: int) -> None:
    """In the scenario's own network namespace: the loopback up, then the scenario's own
    commands (iptables rules, MTU) with {port} filled in."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for cmd in sc.setup:
        subprocess.run(["sh", "-c", cmd.replace("{port}", str(port))], check=True)


def refresh_expected(names: list[str]) -> int:
    """Rewrite the `expected` block of existing sidecars from scenarios.py (after editing a
    hand-written expectation such as held_out) without re-running the lab; `observed` and the
    capture stay as they are. Then check each against its capture as verify.py does."""
    bad = 0
    for sc in SCENARIOS:
        side = OUT / sc.name / "expected.json"
        if not side.exists() or (names and not any(fnmatch.fnmatch(sc.name, n) for n in names)):
            continue
        doc = json.loads(side.read_text())
        if doc["expected"] == sc.expected and doc["description"] == sc.description:
            continue
        doc["expected"], doc["description"] = sc.expected, sc.description
        side.write_text(json.dumps(doc, indent=2) + "\n")
        kl = OUT / sc.name / "keylog.txt"
        alerts = capture.tshark_alerts(OUT / sc.name / "capture.pcap", kl if kl.exists() else None)
        problems = groundtruth.schema_problems(doc) + groundtruth.capture_problems(
            sc.expected, alerts, capture.tshark_hello_facts(OUT / sc.name / "capture.pcap"),
            doc["observed"]["client_exit_status"])
        print(f"refreshed {sc.name}" + "".join(f"\n   !! {p}" for p in problems))
        bad += bool(problems)
    catalogue.write_readme(OUT, [s.name for s in SCENARIOS])
    return 1 if bad else 0


def run_in_netns(sc: Scenario, port: int) -> bool:
    """unshare -n: a fresh network namespace with only a loopback, so ports never collide
    with other scenarios or the host and iptables rules stay inside."""
    res = subprocess.run(["unshare", "-n", sys.executable, str(Path(__file__).resolve()),
                          "--netns-child", sc.name, str(port)], check=False)
    return res.returncode == 0


TRUST = {"root.crt": "lab-root-ca.crt", "corp-ca.crt": "corp-client-ca.crt",
         "other-ca.crt": "other-ca.crt", "rogue-root.crt": "rogue-root-ca.crt"}


def trust_folder(sc: Scenario) -> str:
    return sc.trust or ("_trust_wide" if sc.netns else "_trust")


def publish_trust_anchors(folder: str = "_trust") -> None:
    """Copy the CA certificates (never keys) next to the captures, so a reader of
    captures/ can check chains (e.g. --ca-file captures/_trust/lab-root-ca.crt)
    without rebuilding the PKI.  Clients in the lab trust lab-root-ca.crt only;
    servers that ask for client certificates trust corp-client-ca.crt."""
    dest = OUT / folder
    dest.mkdir(parents=True, exist_ok=True)
    for src, name in TRUST.items():
        shutil.copy(WORK / "pki" / src, dest / name)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--netns-child"]:  # run.py itself, re-run under unshare -n
        sc = next(x for x in SCENARIOS if x.name == argv[1])
        port = int(argv[2])
        netns_setup(sc, port)
        return 0 if run_scenario(sc, port) else 1
    if "--refresh-expected" in argv:
        return refresh_expected([a for a in argv if not a.startswith("--")])
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
    # The wide labs' captures were made with later PKIs than the Apache-era ones (and wide2's
    # with a later one than wide's): each generation's scenarios name their own folder.
    for folder in sorted({trust_folder(sc) for _, sc in chosen}):
        publish_trust_anchors(folder)
    if any("{goclient}" in " ".join(sc.client) or sc.server[0] == "go" for _, sc in chosen):
        ensure_go_peer()
    if any("Peer" in sc.client or (sc.server[0] == "command" and "Peer" in sc.server[1]["argv"])
           for _, sc in chosen):
        ensure_java_peer()
    if any(RUSTLS_PEER in " ".join(sc.client) or (sc.server[0] == "command" and any(
            RUSTLS_PEER in a for a in sc.server[1]["argv"])) for _, sc in chosen):
        ensure_rustls_peer()
    bad = 0
    for i, sc in chosen:
        if sc.port is not None and not sc.netns:
            raise ValueError(f"{sc.name}: a fixed port needs its own network namespace")
        try:
            if sc.netns:
                ok = run_in_netns(sc, sc.port or 20000 + 10 * i)
            else:
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
