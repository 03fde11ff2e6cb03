"""Rebuild the TCP-stall captures: a receiver that stops reading (a zero window) and idle
connections held by TCP keep-alives, with real peers on loopback in a network namespace.

    unshare -n python tests/data/tcp_stalls/build.py

Run as root (tcpdump, nginx, iptables, sysctl). The namespace's TCP buffers are made small
(``net.ipv4.tcp_rmem``/``tcp_wmem``) and the loopback's MTU 1500, so that a window fills after
a few dozen kilobytes and the captures stay small. The peers:

- nginx 1.22 serving a 256 kB file, curl 7.88 (SSLKEYLOGFILE) downloading it at 100 kB/s; curl is stopped
  with SIGSTOP for a while (it reads nothing, its receive window closes) and continued with
  SIGCONT. nginx's ``send_timeout`` decides whether it waits or gives up, and
  ``reset_timedout_connection`` whether it then resets or closes.
- a Python ssl client with TCP keep-alives on (``TCP_KEEPIDLE``/``TCP_KEEPINTVL``/``TCP_KEEPCNT``
  of 1 s, 1 s, 3) that sends one request on a persistent connection and waits; nginx's
  ``keepalive_timeout`` closes it, or (iptables dropping the server's packets) nobody answers
  the probes and the client's kernel gives up.

Each scenario keeps ``NAME.pcap``, ``NAME.keylog`` and ``NAME.peers.txt`` (curl's or the Python
client's own words, nginx's error log), which the tests quote; tshark's reading of the TCP
window and keep-alive fields is the other oracle.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/data: the shared recording helper

from recording import recording  # noqa: E402

PORT = 4433
NGINX = """
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx.error.log info;
events {{ }}
http {{
    access_log {work}/nginx.access.log;
    sendfile off;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {work}/leaf.crt;
        ssl_certificate_key {work}/leaf.key;
        root {work}/www;
        send_timeout {send_timeout};
        reset_timedout_connection {reset};
        keepalive_timeout {keepalive};
    }}
}}
"""
KEEPALIVE_CLIENT = """
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[1])
ctx.keylog_filename = sys.argv[2]
raw = socket.create_connection(("127.0.0.1", int(sys.argv[3])))
raw.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
s = ctx.wrap_socket(raw, server_hostname="www.lab.test", suppress_ragged_eofs=False)
s.sendall(b"GET /small.txt HTTP/1.1\\r\\nHost: www.lab.test\\r\\n\\r\\n")
print("response:", s.recv(4096).split(b"\\r\\n")[0].decode(), flush=True)
try:
    while True:
        data = s.recv(4096)
        if not data:
            print("server closed the connection", flush=True)
            break
except OSError as e:
    print("error:", e, flush=True)
"""


def _run(*argv: str, cwd: Path) -> None:
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)


def setup_namespace() -> None:
    """Small TCP buffers, a 1500-byte loopback MTU, the loopback up."""
    for argv in (["ip", "link", "set", "lo", "up"], ["ip", "link", "set", "lo", "mtu", "1500"],
                 ["sysctl", "-q", "-w", "net.ipv4.tcp_rmem=4096 16384 16384"],
                 ["sysctl", "-q", "-w", "net.ipv4.tcp_wmem=4096 16384 16384"]):
        subprocess.run(argv, check=True)


def make_pki(work: Path) -> None:
    """One self-signed leaf for www.lab.test, trusted by the clients directly."""
    _run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "leaf.key", "-out", "leaf.crt", "-days", "365", "-subj", "/CN=www.lab.test",
         "-addext", "subjectAltName=DNS:www.lab.test", cwd=work)
    www = work / "www"
    www.mkdir()
    (www / "big.bin").write_bytes(bytes(range(256)) * 1024)  # 256 kB
    (www / "small.txt").write_text("a small answer\n")


def start_nginx(work: Path, send_timeout: str = "60s", reset: str = "off", keepalive: str = "75s") -> subprocess.Popen:
    conf = work / "nginx.conf"
    conf.write_text(NGINX.format(work=work, port=PORT, send_timeout=send_timeout, reset=reset, keepalive=keepalive))
    (work / "nginx.error.log").write_text("")
    nginx = subprocess.Popen(["nginx", "-c", str(conf), "-e", str(work / "nginx.error.log")])
    time.sleep(0.5)
    return nginx


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)


def curl_paused(work: Path, name: str, pause_after: float, paused: float) -> str:
    """curl downloading big.bin, stopped after ``pause_after`` seconds for ``paused`` seconds."""
    env = {"PATH": "/usr/bin:/bin", "SSLKEYLOGFILE": str(HERE / f"{name}.keylog")}
    curl = subprocess.Popen(["curl", "-sS", "-o", "/dev/null", "-w", "http %{http_code} size %{size_download}\n",
                             "--cacert", str(work / "leaf.crt"), "--resolve", f"www.lab.test:{PORT}:127.0.0.1",
                             "--http1.1", "--limit-rate", "100k", f"https://www.lab.test:{PORT}/big.bin"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(pause_after)
    curl.send_signal(signal.SIGSTOP)
    time.sleep(paused)
    curl.send_signal(signal.SIGCONT)
    out, _ = curl.communicate(timeout=30)
    return f"curl (exit {curl.returncode}): {out.strip()}"


def zero_window(work: Path, name: str, paused: float, **nginx_options: str) -> None:
    nginx = start_nginx(work, **nginx_options)
    with recording(HERE / f"{name}.pcap", f"tcp port {PORT}"):
        said = curl_paused(work, name, 0.5, paused)
    stop(nginx)
    log = (work / "nginx.error.log").read_text()
    words = [line for line in log.splitlines() if "timed out" in line or "SSL" in line]
    (HERE / f"{name}.peers.txt").write_text(f"{said}\nnginx {nginx_options}: " + " | ".join(words) + "\n")


def keepalive(work: Path, name: str, drop_server: bool, **nginx_options: str) -> None:
    nginx = start_nginx(work, **nginx_options)
    keylog = HERE / f"{name}.keylog"
    keylog.write_text("")
    with recording(HERE / f"{name}.pcap", f"tcp port {PORT}"):
        client = subprocess.Popen([sys.executable, "-c", KEEPALIVE_CLIENT, str(work / "leaf.crt"), str(keylog),
                                   str(PORT)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if drop_server:
            time.sleep(0.5)  # the response has come back; from now on the server's packets are lost
            subprocess.run(["iptables", "-A", "OUTPUT", "-o", "lo", "-p", "tcp", "--sport", str(PORT), "-j", "DROP"],
                           check=True)
        out, _ = client.communicate(timeout=30)
        if drop_server:
            subprocess.run(["iptables", "-F", "OUTPUT"], check=True)
    stop(nginx)
    (HERE / f"{name}.peers.txt").write_text(f"python client (exit {client.returncode}): {out.strip()}\n"
                                            f"nginx {nginx_options}\n")


def main() -> None:
    setup_namespace()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # (nginx's workers read the files as nobody)
        make_pki(work)
        zero_window(work, "zero_window_server_resets", 6.0, send_timeout="2s", reset="on")
        zero_window(work, "zero_window_server_closes", 6.0, send_timeout="2s", reset="off")
        zero_window(work, "zero_window_recovered", 2.0)
        keepalive(work, "keepalive_idle_server_closes", False, keepalive="4s")
        keepalive(work, "keepalive_unanswered", True)


if __name__ == "__main__":
    main()
