"""Make the QUIC lab captures: aioquic peers on loopback inside a private network namespace
(``unshare -n``), tcpdump writing the UDP traffic. Each scenario's expected.json holds what the
client itself reported (aioquic's words) and what tshark reads in the capture.

    sudo python lab/quic/make_captures.py OUTDIR     (root: unshare -n and tcpdump)
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
PORT = 4433

SCENARIOS = {
    # name: (server ALPNs, client ALPNs, client trusts the server's root, what the scenario shows)
    "quic_success": ("h3", "h3", True, "an HTTP/3 handshake that completes"),
    "quic_alpn_mismatch": ("h3", "hq-interop", True,
                           "the server speaks only h3, the client offers only hq-interop: the server closes "
                           "with CRYPTO_ERROR 0x178 (no_application_protocol) in an Initial packet"),
    "quic_untrusted_server": ("h3", "h3", False,
                              "the client does not trust the server's root: it closes with a CRYPTO_ERROR"),
}


def _pki(folder: Path) -> tuple[Path, Path, Path, Path]:
    """Two roots; a leaf for www.lab.test signed by the first. (cert, key, root, other root)."""
    now = datetime.datetime.now(datetime.timezone.utc)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "QUIC Lab"),
                          x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def root(cn: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn)).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        return cert, key

    ca, ca_key = root("QUIC Lab Root")
    other, _ = root("Other Root")
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(name("www.lab.test")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("www.lab.test")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = [folder / n for n in ("leaf.pem", "leaf.key", "root.pem", "other.pem")]
    paths[0].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    paths[2].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[3].write_bytes(other.public_bytes(serialization.Encoding.PEM))
    return paths[0], paths[1], paths[2], paths[3]


def make(name: str, out: Path) -> None:
    server_alpn, client_alpn, trusted, what = SCENARIOS[name]
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        cert, key, root, other = _pki(t)
        peers = HERE / "peers.py"
        py = sys.executable
        script = (f"ip link set lo up; tcpdump -i lo -U -w {t}/cap.pcap udp port {PORT} 2>/dev/null & TD=$!; "
                  f"sleep 1; {py} {peers} server {PORT} {cert} {key} {server_alpn} & SV=$!; sleep 1.5; "
                  f"{py} {peers} client {PORT} {root if trusted else other} {client_alpn} > {t}/client.json; "
                  f"sleep 1; kill $SV; sleep 0.5; kill $TD; wait")
        subprocess.run(["unshare", "-n", "sh", "-c", script], check=True, timeout=60)
        client = json.loads((t / "client.json").read_text() or "{}")
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "capture.pcap").write_bytes((t / "cap.pcap").read_bytes())
    tshark = subprocess.run(["tshark", "-n", "-r", str(folder / "capture.pcap"), "-Y", "quic.frame_type == 0x1c",
                             "-T", "fields", "-e", "frame.number", "-e", "quic.cc.error_code",
                             "-e", "quic.cc.reason_phrase"], capture_output=True, text=True).stdout.strip()
    (folder / "expected.json").write_text(json.dumps({
        "scenario": name, "description": what,
        "made_with": {"server": "aioquic (lab/quic/peers.py)", "client": "aioquic (lab/quic/peers.py)",
                      "date": datetime.date.today().isoformat()},
        "observed": {"client": client, "tshark_connection_close": tshark.splitlines()},
    }, indent=2) + "\n")


def main() -> None:
    out = Path(sys.argv[1])
    for name in SCENARIOS:
        make(name, out)
        print(name, (out / name / "expected.json").read_text())


if __name__ == "__main__":
    main()
