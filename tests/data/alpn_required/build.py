"""Rebuild the "client requires ALPN" captures: a gRPC client (grpcio, whose C core offers ALPN
``h2`` alone and refuses a server that selects none) against openssl s_server without ALPN (TLS
1.2 and 1.3), against nginx without HTTP/2, and against a real gRPC server (the control), on
loopback in a network namespace.

    unshare -n python tests/data/alpn_required/build.py PYTHON_WITH_GRPCIO

Run as root (tcpdump, nginx). PYTHON_WITH_GRPCIO is a Python with ``grpcio`` installed (a venv of
its own: it is a lab tool, not a dependency). A fresh PKI is made with the openssl command.
Each scenario keeps ``NAME.pcap``, ``NAME.keylog`` (openssl s_server's -keylogfile; empty where
the server writes none) and ``NAME.peers.txt`` with the client's own words and the server's,
which the tests quote as expected values; the other oracle is tshark's reading of the pcap.
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
CLIENT = """
import sys, grpc
creds = grpc.ssl_channel_credentials(root_certificates=open(sys.argv[1], 'rb').read())
ch = grpc.secure_channel(sys.argv[2], creds, options=[("grpc.ssl_target_name_override", "www.lab.test")])
try:
    print("reply:", ch.unary_unary("/lab.Echo/Say")(b"hello", timeout=4))
except grpc.RpcError as e:
    print("rpc error:", e.code(), e.details())
"""
SERVER = """
import sys, time, grpc
from concurrent import futures
def say(request, context):
    return b"echo " + request
handler = grpc.method_handlers_generic_handler("lab.Echo", {"Say": grpc.unary_unary_rpc_method_handler(say)})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[handler])
creds = grpc.ssl_server_credentials([(open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read())])
server.add_secure_port("127.0.0.1:%s" % sys.argv[3], creds)
server.start()
print("serving", flush=True)
time.sleep(30)
"""
NGINX = """
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx.error.log info;
events {{ }}
http {{
    access_log {work}/nginx.access.log;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {work}/leaf.crt;
        ssl_certificate_key {work}/leaf.key;
        location / {{ return 200 "plain HTTP/1.1 site\\n"; }}
    }}
}}
"""


def _run(*argv: str, cwd: Path) -> None:
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)


def make_pki(work: Path) -> None:
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-out", "root.crt",
         "-days", "3650", "-subj", "/CN=ALPN Lab Root", cwd=work)
    (work / "leaf.ext").write_text("subjectAltName=DNS:www.lab.test\nextendedKeyUsage=serverAuth\n")
    _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr",
         "-subj", "/CN=www.lab.test", cwd=work)
    _run("openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "root.crt", "-CAkey", "root.key", "-CAcreateserial",
         "-out", "leaf.crt", "-days", "365", "-extfile", "leaf.ext", cwd=work)
    # the chain the servers send: leaf and root, so that nothing but ALPN is in question
    (work / "chain.crt").write_text((work / "leaf.crt").read_text() + (work / "root.crt").read_text())


def _shown(arg: str) -> str:
    """An argument as peers.txt names it (the inline gRPC server by name)."""
    return "SERVER (grpcio)" if "\n" in arg else arg


def scenario(name: str, server: list[str], python: str, work: Path, port: int) -> None:
    pcap, keylog = HERE / f"{name}.pcap", HERE / f"{name}.keylog"
    keylog.write_text("")  # (openssl s_server appends its lines; the others write none)
    log = work / f"{name}.server.log"
    with recording(pcap, f"tcp port {port}"):
        srv = subprocess.Popen(server, cwd=work, stdin=subprocess.PIPE, stdout=log.open("w"), stderr=subprocess.STDOUT)
        time.sleep(1.5)
        done = subprocess.run([python, "-c", CLIENT, "root.crt", f"127.0.0.1:{port}"], cwd=work, capture_output=True,
                              text=True, timeout=60)
        time.sleep(0.5)
        srv.send_signal(signal.SIGTERM if server[0] != "nginx" else signal.SIGQUIT)
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
    server_words = [line for line in log.read_text(errors="replace").splitlines()
                    if any(k in line for k in ("error", "ALPN", "alpn", "serving", "SSL"))]
    error_log = work / "nginx.error.log"
    if server[0] == "nginx" and error_log.exists():
        server_words += [line.split("] ", 1)[-1] for line in error_log.read_text().splitlines()
                         if "SSL" in line or "alpn" in line.lower()]
    (HERE / f"{name}.peers.txt").write_text(
        f"client: grpcio {CLIENT_VERSION} (python -c CLIENT root.crt 127.0.0.1:{port})\n"
        f"server: {' '.join(_shown(a) for a in server)}\n"
        + "".join(f"client printed: {w}\n" for w in (done.stdout + done.stderr).splitlines() if w.strip())
        + "".join(f"server said: {w}\n" for w in server_words[:6]))


CLIENT_VERSION = ""


def main() -> None:
    global CLIENT_VERSION
    python = sys.argv[1]
    CLIENT_VERSION = subprocess.run([python, "-c", "import grpc; print(grpc.__version__)"], capture_output=True,
                                    text=True, check=True).stdout.strip()
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        make_pki(work)
        (work / "nginx.conf").write_text(NGINX.format(work=work, port=PORT + 2))
        s_server = ["openssl", "s_server", "-cert", "leaf.crt", "-key", "leaf.key", "-cert_chain", "root.crt", "-www"]
        for name, server in {
            "grpc_no_alpn_s_server12": s_server + ["-accept", str(PORT), "-tls1_2", "-keylogfile", str(HERE / "grpc_no_alpn_s_server12.keylog")],
            "grpc_no_alpn_s_server13": s_server + ["-accept", str(PORT + 1), "-tls1_3", "-keylogfile", str(HERE / "grpc_no_alpn_s_server13.keylog")],
            "grpc_nginx_without_http2": ["nginx", "-c", str(work / "nginx.conf")],
            "grpc_success_grpc_server": [python, "-c", SERVER, "leaf.key", "chain.crt", str(PORT + 3)],
        }.items():
            port = next(int(a) for a in server[server.index("-accept") + 1:][:1]) if "-accept" in server else \
                PORT + 2 if server[0] == "nginx" else PORT + 3
            scenario(name, server, python, work, port)


if __name__ == "__main__":
    main()
