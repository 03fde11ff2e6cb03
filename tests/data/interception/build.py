"""Rebuild the TLS-interception captures: mitmproxy as an explicit HTTPS proxy between curl (or
Python's urllib) and openssl s_server, on loopback in a network namespace.

    unshare -nm python tests/data/interception/build.py MITMDUMP

Run as root (tcpdump); MITMDUMP is the mitmdump executable (``pip install mitmproxy``, in a
venv of its own: it is a lab tool, not a dependency). mitmproxy makes its CA on first run
(``confdir`` in a fresh temporary folder) and re-signs the server's certificate with it. The
client trusts only the real server's certificate (``--cacert``), as a script with its own CA
bundle does behind a corporate inspection proxy, and refuses; or trusts mitmproxy's CA and
succeeds. Each scenario keeps ``NAME.pcap``, ``NAME.keylog`` (the client's SSLKEYLOGFILE) and
``NAME.peers.txt`` with the client's own words, which the tests quote as expected values; the
other oracle is tshark's reading of the pcap at test time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/data: the shared recording helper

from recording import recording  # noqa: E402

PROXY_PORT, SERVER_PORT = 8080, 4433
URL = f"https://www.lab.test:{SERVER_PORT}/"
# name -> (client, TLS version cap, trust mitmproxy's CA)
SCENARIOS = {
    "mitmproxy_untrusted_curl12": ("curl", "1.2", False),
    "mitmproxy_untrusted_curl13": ("curl", "1.3", False),
    "mitmproxy_trusted_curl13": ("curl", "1.3", True),
    "mitmproxy_untrusted_python12": ("python", "1.2", False),
}
PYTHON_CLIENT = """
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[1])
ctx.maximum_version = ssl.TLSVersion.TLSv1_2 if sys.argv[2] == "1.2" else ssl.TLSVersion.TLSv1_3
opener = urllib.request.build_opener(urllib.request.ProxyHandler({"https": sys.argv[3]}),
                                     urllib.request.HTTPSHandler(context=ctx))
try:
    print("status", opener.open(sys.argv[4], timeout=10).status)
except Exception as e:
    print("error:", e, file=sys.stderr)
    sys.exit(1)
"""


def _client(kind: str, version: str, cafile: Path, keylog: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SSLKEYLOGFILE=str(keylog))
    proxy = f"http://127.0.0.1:{PROXY_PORT}"
    if kind == "curl":
        argv = ["curl", "-sS", "-o", "/dev/null", "-w", "http_code=%{http_code}\\n", "-x", proxy, "--cacert",
                str(cafile), f"--tls-max", version, "--resolve", f"www.lab.test:{SERVER_PORT}:127.0.0.1", URL]
    else:
        argv = [sys.executable, "-c", PYTHON_CLIENT, str(cafile), version, proxy, URL]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env)


def _scenario(name: str, spec: tuple[str, str, bool], work: Path, mitmdump: str) -> None:
    kind, version, trust_proxy = spec
    pcap, keylog = HERE / f"{name}.pcap", HERE / f"{name}.keylog"
    keylog.unlink(missing_ok=True)
    with recording(pcap):
        server = subprocess.Popen(["openssl", "s_server", "-accept", str(SERVER_PORT), "-cert", str(work / "cert.pem"),
                                   "-key", str(work / "key.pem"), "-www", "-quiet"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proxy = subprocess.Popen([mitmdump, "--listen-host", "127.0.0.1", "--listen-port", str(PROXY_PORT),
                                  "--set", f"confdir={work / 'mitm'}", "--set", "ssl_insecure=true",
                                  "--set", "connection_strategy=lazy"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(4)
        cafile = work / "mitm" / "mitmproxy-ca-cert.pem" if trust_proxy else work / "cert.pem"
        client = _client(kind, version, cafile, keylog)
        time.sleep(0.5)
        for p in (server, proxy):
            p.send_signal(signal.SIGINT)
        server.wait()
        proxy_out = proxy.communicate(timeout=10)[0]
    if keylog.exists() and not any(line and not line.startswith("#") for line in keylog.read_text().splitlines()):
        keylog.unlink()  # (a TLS 1.2 client that refuses the certificate has no secret to log)
    (HERE / f"{name}.peers.txt").write_text(
        f"client: {kind} via http://127.0.0.1:{PROXY_PORT} {URL}, TLS <= {version}, trusting "
        f"{'mitmproxy CA' if trust_proxy else 'the server certificate only'}\n"
        f"client exit status: {client.returncode}\nclient stdout: {client.stdout.strip()}\n"
        f"client stderr: {client.stderr.strip()}\n--- mitmdump\n{proxy_out.strip()}\n")


def main() -> None:
    mitmdump = sys.argv[1]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    work = Path(tempfile.mkdtemp(prefix="interception-build-"))
    # mitmproxy resolves the CONNECT target itself: www.lab.test is 127.0.0.1 in this mount
    # namespace only (unshare -m).
    (work / "hosts").write_text("127.0.0.1 localhost www.lab.test\n")
    subprocess.run(["mount", "--bind", str(work / "hosts"), "/etc/hosts"], check=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(work / "key.pem"),
                    "-out", str(work / "cert.pem"), "-subj", "/CN=www.lab.test", "-days", "3650",
                    "-addext", "subjectAltName=DNS:www.lab.test"], check=True, capture_output=True)
    for name, spec in SCENARIOS.items():
        if len(sys.argv) == 2 or name in sys.argv[2:]:
            _scenario(name, spec, work, mitmdump)


if __name__ == "__main__":
    os.umask(0o022)
    main()
