"""Write captures/README.md from the expected.json sidecars, so the table never drifts.

Run on its own (python3 lab/catalogue.py) or at the end of every lab run.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HEAD = """# Lab captures: real TLS handshakes on loopback, with ground truth

Every folder here is one scenario made by `lab/build.sh` with real software
(Apache httpd + mod_ssl, nginx, openssl s_server/s_client, curl, gnutls-cli and
a few tiny Python peers) talking over 127.0.0.1 while `tcpdump -i lo` recorded.
The `wide_*` scenarios (lab/wide.py) add HAProxy, lighttpd, stunnel,
gnutls-serv, Go and Node.js peers and bit-flipping relays, each run in its own
network namespace; their sidecars also carry `cause_family` and `held_out`,
and their trust anchors are in `_trust_wide/`.  The `wide2_*` scenarios
(lab/wide2.py) are a second wide lab, held out as a whole, with new
client/server pairings, stunnel as a client and packet filters; their trust
anchors are in `_trust_wide2/`.
Nothing here was produced or checked by tlsdissect.

Each folder holds:

| file | what |
| --- | --- |
| `capture.pcap` | the tcpdump capture (snaplen 0, only the scenario's port(s)) |
| `keylog.txt` | NSS key log written by the client (SSLKEYLOGFILE / -keylogfile / Python keylog_filename), when the client got far enough to write one |
| `expected.json` | ground truth: how it was made, what the client, server and tshark said (`observed`), and our reading of the scenario (`expected`) |
| `tshark.txt` | tshark's one-line-per-frame summary (with the key log when there is one): the human check of the message sequence |

`_trust/` holds the lab's CA certificates (no keys): `lab-root-ca.crt` is the
only anchor the clients trust (`--cacert`/`-CAfile`), `corp-client-ca.crt` is
what servers requiring client certificates trust, `other-ca.crt` and
`rogue-root-ca.crt` are the untrusted issuers.  They match the captures of the
same commit (a `--fresh` rebuild makes a new PKI and rewrites them).

`observed` comes from outside our code: the client's exit status and error
text, the relevant server error-log line, and every TLS alert as tshark 4.0
decodes it (`-Y tls.alert_message`, with `-o tls.keylog_file:keylog.txt` where a
key log exists; "[encrypted, decoded with keylog]" marks alerts tshark could
only read with the key log).  `expected` is written by hand in
`lab/scenarios.py` from how each scenario is built, and the driver refuses to
stay quiet when the two disagree.  See `docs/lab.md` for the schema and the
cause/phase catalogue.

## Rebuild

As root on Debian 12: `bash lab/build.sh` (installs apache2 nginx tcpdump openssl
curl gnutls-bin python3 tshark with apt-get when missing, builds the openssl PKI
in lab/work/, runs every scenario, rewrites this file).  One scenario:
`bash lab/build.sh tls12_success`; globs work: `bash lab/build.sh 'tls13_*'`.
Captures change on every rebuild (keys, ports, timestamps); the sidecars'
`expected` blocks do not.

## Scenarios

| scenario | server | client | what happens | alert that decided it (tshark) |
| --- | --- | --- | --- | --- |
"""


def row(doc: dict) -> str:
    exp = doc["expected"]
    made = doc["made_with"]
    what = f"{exp['outcome']}: {exp['cause']}"
    if exp["failure_point"]:
        what += f" at {exp['failure_point']}"
    if exp["aborted_by"]:
        what += f" (by {exp['aborted_by']}, {exp['how']})"
    a = exp["alert"]
    if a:
        alert = f"{a['sender']} {a['level']} {a['name']} ({a['code']})"
        if a["encrypted"]:
            alert += ", encrypted"
    else:
        alert = "none"
    return f"| `{doc['scenario']}` | {made['server']} | {made['client']} | {what} | {alert} |"


def write_readme(captures: Path, order: list[str] | None = None) -> Path:
    """Table in scenario order (the order of lab/scenarios.py), unknown folders last."""
    rank = {name: i for i, name in enumerate(order or [])}
    docs = [json.loads(f.read_text()) for f in captures.glob("*/expected.json")]
    docs.sort(key=lambda d: (rank.get(d["scenario"], len(rank)), d["scenario"]))
    lines = [HEAD.rstrip("\n")]
    lines += [row(d) for d in docs]
    lines += ["", "## Descriptions", ""]
    for d in docs:
        lines += [f"- **{d['scenario']}**: {d['description']}",
                  f"  Client command: `{d['made_with']['command']}`."]
        obs = d["observed"]
        bits = [f"exit {obs['client_exit_status']}"]
        if obs["client_error"]:
            bits.append("client said `" + obs["client_error"].splitlines()[-1].strip() + "`")
        if obs["server_log"]:
            bits.append("server logged `" + obs["server_log"].split("] ", 4)[-1] + "`")
        lines += ["  Observed: " + "; ".join(bits) + "."]
    out = captures / "README.md"
    out.write_text("\n".join(lines) + "\n")
    return out


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    from scenarios import SCENARIOS

    print(write_readme(here.parent / "captures", [s.name for s in SCENARIOS]))
    sys.exit(0)
