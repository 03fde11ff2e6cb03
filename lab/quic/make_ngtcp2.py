"""QUIC lab captures with a second stack: ngtcp2's example client and server (GnuTLS backend,
Debian's ngtcp2-client and ngtcp2-server: gtlsclient, gtlsserver) against aioquic, on loopback
inside a private network namespace. These are the held-out QUIC scenarios: the rules in
diagnosis/quic.py were written on the aioquic-only captures (make_captures.py), and are checked
on these (tests/test_quic.py), never tuned on them.

    sudo python lab/quic/make_ngtcp2.py OUTDIR [SCENARIO...]     (root: unshare -n, iptables, tcpdump)

Each scenario's expected.json holds the set-up's cause (the ground truth), what the peers
printed, and tshark's reading of the capture (with the key log when there is one).
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from make_captures import HERE, PORT, _pki, _tshark, run

# name: (client, server, client ALPN, server ALPN, client trusts the root, extra set-up, cause, what it shows)
SCENARIOS: dict[str, tuple[str, str, str, str, bool, str, str, str]] = {
    "quic_ng_success_keys": ("ngtcp2", "aioquic", "h3", "h3", True, "", "ok",
                             "ngtcp2's GnuTLS client fetches / from the aioquic server over HTTP/3; key log"),
    "quic_ng_alpn_mismatch": ("ngtcp2", "aioquic", "h3", "hq-interop", True, "", "alpn_mismatch",
                              "ngtcp2's client offers h3, the aioquic server speaks only hq-interop"),
    "quic_ng_blackholed": ("ngtcp2", "aioquic", "h3", "h3", True,
                           f"iptables -A INPUT -p udp --dport {PORT} -j DROP", "server_no_response",
                           "a firewall drops every datagram to the server's port: the client's Initial packets "
                           "are retransmitted and never answered (the client gives up after 3 s)"),
    "quic_ng_server_alpn_mismatch": ("aioquic", "ngtcp2", "hq-interop", "h3", True, "", "alpn_mismatch",
                                     "the aioquic client offers only hq-interop, ngtcp2's GnuTLS server speaks h3"),
    "quic_ng_server_untrusted_keys": ("aioquic", "ngtcp2", "h3", "h3", False, "", "server_cert_untrusted",
                                      "the aioquic client does not trust the root of ngtcp2's server certificate; "
                                      "key log"),
    "quic_ng_server_success_keys": ("aioquic", "ngtcp2", "h3", "h3", True, "", "ok",
                                    "the aioquic client completes a handshake with ngtcp2's GnuTLS server; key log"),
}


def make(name: str, out: Path) -> None:
    client, server, client_alpn, server_alpn, trusted, setup, cause, what = SCENARIOS[name]
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        cert, key, root, other = _pki(t)
        py, peers = sys.executable, HERE / "peers.py"
        if server == "aioquic":
            server_cmd = f"{py} {peers} server {PORT} {cert} {key} {server_alpn}"
        else:  # ngtcp2's server serves h3 only
            server_cmd = f"gtlsserver -q 127.0.0.1 {PORT} {key} {cert}"
        if client == "aioquic":
            client_cmd = (f"QUIC_KEYLOG={t}/keylog.txt {py} {peers} client {PORT} {root if trusted else other} "
                          f"{client_alpn}")
        else:  # (GnuTLS writes SSLKEYLOGFILE; the example client does not verify certificates)
            client_cmd = (f"SSLKEYLOGFILE={t}/keylog.txt timeout 8 gtlsclient -q --handshake-timeout=3s "
                          f"--exit-on-all-streams-close 127.0.0.1 {PORT} https://www.lab.test/; echo exit=$?")
        script = (f"ip link set lo up; {setup + ';' if setup else ''} "
                  f"tcpdump -i lo -U -w {t}/cap.pcap udp port {PORT} 2>/dev/null & TD=$!; "
                  f"sleep 1; {server_cmd} > {t}/server.txt 2>&1 & SV=$!; sleep 1.5; "
                  f"{client_cmd} > {t}/client.txt 2>&1; sleep 1; kill $SV; sleep 0.5; kill $TD; wait")
        subprocess.run(["unshare", "-n", "sh", "-c", script], check=True, timeout=60)
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "capture.pcap").write_bytes((t / "cap.pcap").read_bytes())
        keyed = (t / "keylog.txt").is_file() and (t / "keylog.txt").stat().st_size > 0
        if keyed:
            (folder / "keylog.txt").write_bytes((t / "keylog.txt").read_bytes())
        said = {side: "".join(line for line in (t / f"{side}.txt").read_text(errors="replace").splitlines(True)
                              if not line.startswith("Using document root"))[-2000:]  # (a local path)
                for side in ("client", "server")}
    observed = {"peers": said, "tshark_connection_close": _tshark(folder, False)}
    if keyed:
        observed["tshark_with_keys_connection_close"] = _tshark(folder, True)
    (folder / "expected.json").write_text(json.dumps({
        "scenario": name, "description": what, "held_out": True,
        "made_with": {"client": client, "server": server, "date": datetime.date.today().isoformat()},
        "observed": observed, "expected": {"cause": cause},
    }, indent=2) + "\n")


def main() -> None:
    run(make, SCENARIOS)


if __name__ == "__main__":
    main()
