"""Make the DTLS lab captures: OpenSSL's s_server/s_client (and GnuTLS's gnutls-serv/-cli) over
DTLS on loopback inside a private network namespace (``unshare -n``), tcpdump writing the UDP
traffic. Each scenario's expected.json holds what the peers printed (their own words about the
failure) and what tshark reads in the capture (the oracle the tests compare with).

    sudo python lab/dtls/make_captures.py OUTDIR [SCENARIO ...]    (root: unshare -n and tcpdump)
"""

from __future__ import annotations

import datetime
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

PORT = 4433
NAME = "www.lab.test"

# name: (server command, client command, what the scenario shows). {cert} {key} {chain} {root}
# {other} {port} are filled in; the client's stdin is "hello".
_CLIENT = "openssl s_client -dtls1_2 -connect 127.0.0.1:{port} -servername " + NAME + " -verify_return_error"
SCENARIOS: dict[str, tuple[str, str, str]] = {
    "dtls_success": (
        "openssl s_server -dtls1_2 -accept {port} -cert {cert} -key {key} -cert_chain {chain}",
        _CLIENT + " -CAfile {root}",
        "a DTLS 1.2 handshake that completes (OpenSSL on both sides), then a line of data and close_notify"),
    "dtls_hello_verify": (
        "openssl s_server -dtls1_2 -listen -accept {port} -cert {cert} -key {key} -cert_chain {chain}",
        _CLIENT + " -CAfile {root}",
        "the server asks for a cookie first (HelloVerifyRequest, s_server -listen); the client sends its "
        "ClientHello again with the cookie and the handshake completes"),
    "dtls_fragmented_certificate": (
        "openssl s_server -dtls1_2 -mtu 500 -accept {port} -cert {cert} -key {key} -cert_chain {chain}",
        _CLIENT + " -mtu 500 -CAfile {root}",
        "a link MTU of 500 bytes: the server's Certificate (leaf and intermediate, RSA 2048) goes out in "
        "fragments over several records and datagrams; the handshake completes"),
    "dtls_untrusted_server": (
        "openssl s_server -dtls1_2 -accept {port} -cert {cert} -key {key} -cert_chain {chain}",
        _CLIENT + " -CAfile {other}",
        "the client does not trust the server's root: it sends a fatal alert in clear after the "
        "server's Certificate"),
    "dtls_no_shared_cipher": (
        "openssl s_server -dtls1_2 -accept {port} -cert {cert} -key {key} -cert_chain {chain} "
        "-cipher ECDHE-RSA-AES128-SHA",
        _CLIENT + " -CAfile {root} -cipher ECDHE-RSA-AES256-GCM-SHA384",
        "no cipher suite in common: the server answers the ClientHello with a fatal handshake_failure"),
    "dtls_no_answer": (
        "socat -u UDP-RECVFROM:{port},fork /dev/null",
        "timeout 5 " + _CLIENT + " -CAfile {root}",
        "nothing answers on the server's port (a UDP sink): the client sends its ClientHello again and "
        "again, then gives up"),
    "dtls_success_keys": (
        "openssl s_server -dtls1_2 -accept {port} -cert {cert} -key {key} -cert_chain {chain}",
        _CLIENT + " -CAfile {root} -keylogfile {keylog}",
        "a DTLS 1.2 handshake (AES-GCM) that completes, a line of data, then close_notify alerts, encrypted; "
        "the client's key log"),
    "dtls_cbc_etm_keys": (
        "openssl s_server -dtls1_2 -accept {port} -cert {cert} -key {key} -cert_chain {chain}",
        _CLIENT + " -CAfile {root} -cipher ECDHE-RSA-AES128-SHA -keylogfile {keylog}",
        "a DTLS 1.2 handshake with a CBC suite and encrypt-then-MAC (RFC 7366), then encrypted close_notify "
        "alerts; the client's key log"),
    "dtls_cbc_keys": (
        "openssl s_server -dtls1_2 -accept {port} -cert {cert} -key {key} -cert_chain {chain}",
        _CLIENT + " -CAfile {root} -cipher ECDHE-RSA-AES256-SHA -no_etm -keylogfile {keylog}",
        "a DTLS 1.2 handshake with a CBC suite, MAC-then-encrypt (no encrypt-then-MAC), then encrypted "
        "close_notify alerts; the client's key log"),
    "dtls_chacha_keys": (
        "openssl s_server -dtls1_2 -accept {port} -cert {cert} -key {key} -cert_chain {chain}",
        _CLIENT + " -CAfile {root} -cipher ECDHE-RSA-CHACHA20-POLY1305 -keylogfile {keylog}",
        "a DTLS 1.2 handshake with ChaCha20-Poly1305, then encrypted close_notify alerts; the client's key log"),
    "dtls10_keys": (
        "openssl s_server -dtls1 -accept {port} -cert {cert} -key {key} -cert_chain {chain} "
        "-cipher DEFAULT@SECLEVEL=0",
        "openssl s_client -dtls1 -connect 127.0.0.1:{port} -servername " + NAME + " -verify_return_error "
        "-CAfile {root} -cipher DEFAULT@SECLEVEL=0 -keylogfile {keylog}",
        "a DTLS 1.0 handshake (AES-CBC, TLS 1.1's record protection), then encrypted close_notify alerts; the "
        "client's key log"),
    "dtls_gnutls_success": (
        "gnutls-serv --udp --port {port} --x509certfile {fullchain} --x509keyfile {key}",
        "gnutls-cli --udp --port {port} --x509cafile {root} --sni-hostname " + NAME + " --verify-hostname "
        + NAME + " 127.0.0.1",
        "a DTLS 1.2 handshake between GnuTLS peers that completes"),
    "dtls_gnutls_name_mismatch": (
        "gnutls-serv --udp --port {port} --x509certfile {fullchain} --x509keyfile {key}",
        "gnutls-cli --udp --port {port} --x509cafile {root} --sni-hostname " + NAME + " 127.0.0.1",
        "gnutls-cli checks the server's certificate against the address it connects to (127.0.0.1), not "
        "against the SNI it sends (www.lab.test): it refuses the certificate with a fatal alert in clear"),
}


def _pki(t: Path) -> dict[str, Path]:
    """A root, an intermediate, a leaf for www.lab.test (RSA 2048) and an unrelated root."""
    now = datetime.datetime.now(datetime.timezone.utc)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DTLS Lab"),
                          x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def cert(subject: str, key: rsa.RSAPrivateKey, issuer: str, issuer_key: rsa.RSAPrivateKey, ca: bool,
             days: int) -> x509.Certificate:
        b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    keys = {n: rsa.generate_private_key(public_exponent=65537, key_size=2048) for n in ("root", "inter", "leaf", "other")}
    root = cert("DTLS Lab Root", keys["root"], "DTLS Lab Root", keys["root"], True, 3650)
    inter = cert("DTLS Lab Intermediate", keys["inter"], "DTLS Lab Root", keys["root"], True, 1825)
    leaf = cert(NAME, keys["leaf"], "DTLS Lab Intermediate", keys["inter"], False, 365)
    other = cert("Other Root", keys["other"], "Other Root", keys["other"], True, 3650)
    pem = serialization.Encoding.PEM
    files = {"cert": leaf.public_bytes(pem), "chain": inter.public_bytes(pem), "root": root.public_bytes(pem),
             "other": other.public_bytes(pem), "fullchain": leaf.public_bytes(pem) + inter.public_bytes(pem),
             "key": keys["leaf"].private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())}
    paths = {}
    for k, data in files.items():
        paths[k] = t / f"{k}.pem"
        paths[k].write_bytes(data)
    return paths


def _tshark(capture: Path) -> dict[str, list[str]]:
    def fields(filt: str, *names: str) -> list[str]:
        cmd = ["tshark", "-n", "-r", str(capture), "-Y", filt, "-T", "fields", "-E", "separator=|"]
        for n in names:
            cmd += ["-e", n]
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()

    return {
        "handshake": fields("dtls.handshake.type", "frame.number", "udp.srcport", "dtls.handshake.type",
                            "dtls.handshake.message_seq", "dtls.handshake.fragment_offset",
                            "dtls.handshake.fragment_length"),
        "alerts": fields("dtls.record.content_type == 21", "frame.number", "udp.srcport", "dtls.record.epoch",
                         "dtls.alert_message.level", "dtls.alert_message.desc"),
        "ccs": fields("dtls.record.content_type == 20", "frame.number", "udp.srcport"),
        "server_hello": fields("dtls.handshake.type == 2", "frame.number", "dtls.handshake.version",
                               "dtls.handshake.ciphersuite"),
        "client_hello": fields("dtls.handshake.type == 1", "frame.number", "dtls.handshake.extensions_server_name",
                               "dtls.handshake.cookie_length", "dtls.handshake.ja3"),
        "certificate": fields("dtls.handshake.type == 11", "frame.number", "dtls.handshake.certificate_length"),
    }


def tshark_with_keys(folder: Path) -> dict[str, list[str]]:
    """tshark's reading of the alert records with the key log: frame, source port, epoch, level,
    description (its record decryption is the oracle for ours)."""
    cmd = ["tshark", "-n", "-r", str(folder / "capture.pcap"), "-o", f"tls.keylog_file:{folder / 'keylog.txt'}",
           "-Y", "dtls.record.content_type == 21", "-T", "fields", "-E", "separator=|", "-e", "frame.number",
           "-e", "udp.srcport", "-e", "dtls.record.epoch", "-e", "dtls.alert_message.level",
           "-e", "dtls.alert_message.desc"]
    return {"alerts": subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()}


def _tool_version(command: str) -> str:
    """The first line of the version of the command's program (after any ``timeout N``)."""
    words = [w for w in command.split() if w != "timeout" and not w.isdigit()]
    tool = words[0]
    if tool == "socat":
        return "socat (a UDP sink)"
    arg = "version" if tool == "openssl" else "--version"
    lines = subprocess.run([tool, arg], capture_output=True, text=True).stdout.splitlines()
    return lines[0] if lines else tool


def make(name: str, out: Path) -> None:
    server_cmd, client_cmd, what = SCENARIOS[name]
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        fill = {k: shlex.quote(str(v)) for k, v in _pki(t).items()} | {"port": str(PORT),
                                                                        "keylog": shlex.quote(str(t / "keylog.txt"))}
        server, client = server_cmd.format(**fill), client_cmd.format(**fill)
        script = (f"ip link set lo up; tcpdump -i lo -U -w {t}/cap.pcap udp port {PORT} 2>/dev/null & TD=$!; "
                  f"sleep 1; (sleep 9 | timeout 9 {server}) > {t}/server.txt 2>&1 & SV=$!; sleep 1.5; "
                  f"(echo hello; sleep 1) | {client} > {t}/client.txt 2>&1; echo \"exit $?\" >> {t}/client.txt; "
                  f"wait $SV; sleep 0.5; kill $TD; wait")
        # (the server's stdin stays open for 9 s: s_server stops at the end of its input; the
        # others are stopped by timeout)
        subprocess.run(["unshare", "-n", "sh", "-c", script], check=True, timeout=60)
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "capture.pcap").write_bytes((t / "cap.pcap").read_bytes())
        if (t / "keylog.txt").is_file():
            (folder / "keylog.txt").write_bytes((t / "keylog.txt").read_bytes())
        client_out = (t / "client.txt").read_text(errors="replace")
        server_out = (t / "server.txt").read_text(errors="replace")
    keep = ("alert", "error", "verify", "Verification", "Protocol", "Cipher", "exit", "handshake", "timeout", "shared",
            "Description", "Version", "Server Temp Key", "Handshake was completed", "Session ID", "owner",
            "hostname", "certificate is", "Status", "Handshake")
    (folder / "expected.json").write_text(json.dumps({
        "scenario": name, "description": what,
        "made_with": {"server": _tool_version(server_cmd), "client": _tool_version(client_cmd),
                      "server_command": server_cmd, "client_command": client_cmd,
                      "date": datetime.date.today().isoformat()},
        "observed": {"client": [ln for ln in client_out.splitlines() if any(k in ln for k in keep)][:40],
                     "server": [ln for ln in server_out.splitlines() if any(k in ln for k in keep)][:40],
                     "tshark": _tshark(folder / "capture.pcap"),
                     **({"tshark_with_keys": tshark_with_keys(folder)} if (folder / "keylog.txt").is_file() else {})},
    }, indent=2) + "\n")


def main() -> None:
    out = Path(sys.argv[1])
    for name in sys.argv[2:] or list(SCENARIOS):
        make(name, out)
        print(name, (out / name / "expected.json").read_text())


if __name__ == "__main__":
    main()
