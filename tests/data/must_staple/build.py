"""Rebuild the OCSP must-staple captures: openssl s_server serving a leaf with the TLS Feature
extension status_request (RFC 7633), with and without a stapled OCSP response, to gnutls-cli
(which enforces must-staple) and curl (OpenSSL, which does not), on loopback in a namespace.

    unshare -n python tests/data/must_staple/build.py

Run as root (tcpdump). A fresh PKI is made with the openssl command (root CA, leaf, and an OCSP
response for the leaf signed by the root, `openssl ocsp -index`). Each scenario keeps
``NAME.pcap``, ``NAME.keylog`` (the client's SSLKEYLOGFILE) and ``NAME.peers.txt`` with the
client's exit status and own words, which the tests quote as expected values; the other oracle
is tshark's reading of the pcap at test time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/data: the shared recording helper

from recording import recording  # noqa: E402

PORT = 4433
# name -> (client, TLS version, staple the OCSP response)
SCENARIOS = {
    "gnutls_stapled12": ("gnutls", "1.2", True),
    "gnutls_stapled13": ("gnutls", "1.3", True),
    "gnutls_unstapled13": ("gnutls", "1.3", False),
    "curl_unstapled12": ("curl", "1.2", False),
}
LEAF_EXT = """[leaf]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:www.lab.test
authorityInfoAccess = OCSP;URI:http://ocsp.lab.test/
tlsfeature = status_request
"""


def _run(*argv: str, cwd: Path) -> None:
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)


def make_pki(work: Path) -> None:
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-out", "root.crt",
         "-days", "3650", "-subj", "/CN=Must-Staple Test Root", cwd=work)
    (work / "leaf.ext").write_text(LEAF_EXT)
    _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr",
         "-subj", "/CN=www.lab.test", cwd=work)
    _run("openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "root.crt", "-CAkey", "root.key",
         "-CAcreateserial", "-out", "leaf.crt", "-days", "365", "-extfile", "leaf.ext", "-extensions", "leaf",
         cwd=work)
    serial = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", "leaf.crt"], cwd=work, check=True,
                            capture_output=True, text=True).stdout.strip().split("=")[1]
    # index.txt: status, expiry (YYMMDDHHMMSSZ), revocation, serial, file, subject
    (work / "index.txt").write_text(f"V\t301231000000Z\t\t{serial}\tunknown\t/CN=www.lab.test\n")
    _run("openssl", "ocsp", "-index", "index.txt", "-rsigner", "root.crt", "-rkey", "root.key", "-CA", "root.crt",
         "-issuer", "root.crt", "-cert", "leaf.crt", "-ndays", "7", "-respout", "ocsp.der", cwd=work)


def scenario(name: str, client: str, version: str, staple: bool, work: Path) -> None:
    pcap, keylog = HERE / f"{name}.pcap", HERE / f"{name}.keylog"
    keylog.unlink(missing_ok=True)
    with recording(pcap, f"tcp port {PORT}"):
        server_argv = ["openssl", "s_server", "-accept", str(PORT), "-cert", "leaf.crt", "-key", "leaf.key", "-www",
                       "-tls1_2" if version == "1.2" else "-tls1_3"]
        if staple:
            server_argv += ["-status_file", "ocsp.der"]
        server = subprocess.Popen(server_argv, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        env = dict(os.environ, SSLKEYLOGFILE=str(keylog))
        if client == "gnutls":
            argv = ["gnutls-cli", "--x509cafile", "root.crt", "--sni-hostname", "www.lab.test", "--verify-hostname",
                    "www.lab.test", "-p", str(PORT), "127.0.0.1"]
            request = "GET / HTTP/1.1\r\nHost: www.lab.test\r\nConnection: close\r\n\r\n"
        else:
            argv = ["curl", "-sS", "-o", "/dev/null", "-w", "http_code=%{http_code}\\n", "--cacert", "root.crt",
                    "--tls-max", version, "--resolve", f"www.lab.test:{PORT}:127.0.0.1",
                    f"https://www.lab.test:{PORT}/"]
            request = ""
        done = subprocess.run(argv, cwd=work, input=request, capture_output=True, text=True, timeout=30, env=env)
        time.sleep(0.5)
        server.terminate()
        server.wait()
    words = [line for line in (done.stdout + done.stderr).splitlines()
             if any(k in line for k in ("OCSP", "Fatal", "trusted", "http_code", "Handshake was completed",
                                        "status", "error"))]
    (HERE / f"{name}.peers.txt").write_text(
        f"client: {' '.join(argv)}\nserver: {' '.join(server_argv)}\nexit status: {done.returncode}\n"
        + "".join(f"said: {w}\n" for w in words))
    if not keylog.exists():
        keylog.write_text("")


def main() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        make_pki(work)
        for name, (client, version, staple) in SCENARIOS.items():
            scenario(name, client, version, staple, work)


if __name__ == "__main__":
    main()
