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
from typing import Callable, Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
PORT = 4433

SCENARIOS = {
    # name: (server ALPNs, client ALPNs, client trusts the server's root, what the scenario shows)
    # Scenarios with a key log (KEYED) also say how the server's certificate or the client differ.
    "quic_success": ("h3", "h3", True, "an HTTP/3 handshake that completes"),
    "quic_success_keys": ("h3", "h3", True, "an HTTP/3 handshake that completes; the client's key log opens its "
                          "Handshake packets"),
    "quic_chacha_keys": ("h3", "h3", True, "a handshake with ChaCha20-Poly1305 only (the client's one suite); "
                         "key log"),
    "quic_v2_keys": ("h3", "h3", True, "a QUIC version 2 handshake (RFC 9369); key log"),
    "quic_self_signed_keys": ("h3", "h3", True, "the server sends a self-signed certificate for www.lab.test: the "
                              "client refuses it; key log"),
    "quic_hostname_mismatch_keys": ("h3", "h3", True, "the client asks for other.lab.test, the certificate is for "
                                    "www.lab.test only; key log"),
    "quic_expired_keys": ("h3", "h3", True, "the server's certificate expired a day before; key log"),
    "quic_untrusted_keys": ("h3", "h3", False, "the client does not trust the server's root; key log"),
    "quic_key_update_keys": ("h3", "h3", True, "an HTTP/3 handshake that completes, then the client updates its "
                             "1-RTT keys twice (RFC 9001 §6), a ping after each; key log"),
    "quic_v2_key_update_keys": ("h3", "h3", True, "a QUIC version 2 handshake, then two key updates of the "
                                "client; key log"),
    "quic_h3_version_fallback_keys": ("h3", "h3", True, "the handshake completes, then the server closes the "
                                      "connection with the HTTP/3 error H3_VERSION_FALLBACK (0x110); key log"),
    "quic_h3_request_rejected_keys": ("h3", "h3", True, "the handshake completes, then the server closes with "
                                      "H3_REQUEST_REJECTED (0x10b) and a reason phrase; key log"),
    "quic_late_crypto_error_keys": ("h3", "h3", True, "the handshake completes, then the server closes with a "
                                    "transport CRYPTO_ERROR 0x150 (internal_error) in a 1-RTT packet; key log"),
    "quic_zero_rtt_keys": ("h3", "h3", True, "a first handshake for a session ticket, then a second connection "
                           "that resumes and sends a PING as 0-RTT early data, accepted; key log"),
    "quic_h3_misdirected_keys": ("h3", "h3", True, "an HTTP/3 server (aioquic's H3 layer) answers the client's "
                                 "GET / with 421 Misdirected Request; key log"),
    "quic_h3_ok_keys": ("h3", "h3", True, "an HTTP/3 server answers the client's GET / with 200; key log"),
    "quic_alpn_mismatch": ("h3", "hq-interop", True,
                           "the server speaks only h3, the client offers only hq-interop: the server closes "
                           "with CRYPTO_ERROR 0x178 (no_application_protocol) in an Initial packet"),
    "quic_untrusted_server": ("h3", "h3", False,
                              "the client does not trust the server's root: it closes with a CRYPTO_ERROR"),
}


KEYED = {
    # name: (leaf variant, client environment, the cause the set-up makes: the ground truth)
    "quic_success_keys": ("good", {}, "ok"),
    "quic_chacha_keys": ("good", {"QUIC_SUITES": "0x1303"}, "ok"),
    "quic_v2_keys": ("good", {}, "ok"),
    "quic_self_signed_keys": ("self_signed", {}, "server_cert_self_signed"),
    "quic_hostname_mismatch_keys": ("good", {"QUIC_SNI": "other.lab.test"}, "server_cert_hostname_mismatch"),
    "quic_expired_keys": ("expired", {}, "server_cert_expired"),
    "quic_untrusted_keys": ("good", {}, "server_cert_untrusted"),
    "quic_key_update_keys": ("good", {"QUIC_KEY_UPDATES": "2"}, "ok"),
    "quic_v2_key_update_keys": ("good", {"QUIC_KEY_UPDATES": "2"}, "ok"),
    "quic_h3_version_fallback_keys": ("good", {"QUIC_WAIT": "1"}, "ok"),
    "quic_h3_request_rejected_keys": ("good", {"QUIC_WAIT": "1"}, "ok"),
    "quic_late_crypto_error_keys": ("good", {"QUIC_WAIT": "1"}, "ok"),
    "quic_zero_rtt_keys": ("good", {"QUIC_ZERO_RTT": "1"}, "ok"),
    "quic_h3_misdirected_keys": ("good", {"QUIC_H3_GET": "1"}, "ok"),
    "quic_h3_ok_keys": ("good", {"QUIC_H3_GET": "1"}, "ok"),
}
VERSIONS = {"quic_v2_keys": "6b3343cf", "quic_v2_key_update_keys": "6b3343cf"}
# The server's environment: how it closes after the handshake (peers.py, QUIC_SERVER_CLOSE).
SERVER_ENV = {
    "quic_h3_version_fallback_keys": {"QUIC_SERVER_CLOSE": "110"},
    "quic_h3_request_rejected_keys": {"QUIC_SERVER_CLOSE": "10b,,too busy"},
    "quic_late_crypto_error_keys": {"QUIC_SERVER_CLOSE": "150,6,late internal error"},
    "quic_h3_misdirected_keys": {"QUIC_H3_STATUS": "421"},
    "quic_h3_ok_keys": {"QUIC_H3_STATUS": "200"},
}


def _pki(folder: Path, variant: str = "good") -> tuple[Path, Path, Path, Path]:
    """Two roots; a leaf for www.lab.test signed by the first (self-signed, or expired, by
    ``variant``). (cert, key, root, other root)."""
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
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=365)
    if variant == "expired":
        start, end = now - datetime.timedelta(days=400), now - datetime.timedelta(days=1)
    leaf = (x509.CertificateBuilder().subject_name(name("www.lab.test"))
            .issuer_name(name("www.lab.test") if variant == "self_signed" else ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("www.lab.test")]), critical=False)
            .sign(key if variant == "self_signed" else ca_key, hashes.SHA256()))
    paths = [folder / n for n in ("leaf.pem", "leaf.key", "root.pem", "other.pem")]
    paths[0].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    paths[2].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[3].write_bytes(other.public_bytes(serialization.Encoding.PEM))
    return paths[0], paths[1], paths[2], paths[3]


def make(name: str, out: Path) -> None:
    server_alpn, client_alpn, trusted, what = SCENARIOS[name]
    variant, env, cause = KEYED.get(name, ("good", None, None))
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        cert, key, root, other = _pki(t, variant)
        peers = HERE / "peers.py"
        py = sys.executable
        client_env = "" if env is None else " ".join(
            f"{k}={v}" for k, v in {**env, "QUIC_KEYLOG": f"{t}/keylog.txt"}.items()) + " "
        version = f" {VERSIONS[name]}" if name in VERSIONS else ""
        server_env = " ".join(f"{k}='{v}'" for k, v in SERVER_ENV.get(name, {}).items())
        server_env += " " if server_env else ""
        ca = root if trusted else other  # (a self-signed leaf is not under the lab root the client trusts)
        script = (f"ip link set lo up; tcpdump -i lo -U -w {t}/cap.pcap udp port {PORT} 2>/dev/null & TD=$!; "
                  f"sleep 1; {server_env}{py} {peers} server {PORT} {cert} {key} {server_alpn} & SV=$!; sleep 1.5; "
                  f"{client_env}{py} {peers} client {PORT} {ca} {client_alpn}{version} > {t}/client.json; "
                  f"sleep 1; kill $SV; sleep 0.5; kill $TD; wait")
        subprocess.run(["unshare", "-n", "sh", "-c", script], check=True, timeout=60)
        client = json.loads((t / "client.json").read_text() or "{}")
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "capture.pcap").write_bytes((t / "cap.pcap").read_bytes())
        if env is not None:
            (folder / "keylog.txt").write_bytes((t / "keylog.txt").read_bytes())
    observed = {"client": client, "tshark_connection_close": _tshark(folder, False)}
    if env is not None:
        observed["tshark_with_keys_connection_close"] = _tshark(folder, True)
        observed["tshark_with_keys_certificates"] = _tshark_certificates(folder)
        observed["tshark_with_keys_1rtt"] = tshark_1rtt(folder)
        observed["tshark_with_keys_0rtt"] = tshark_0rtt(folder)
        observed["tshark_with_keys_h3_status"] = tshark_h3_status(folder)
    (folder / "expected.json").write_text(json.dumps({
        "scenario": name, "description": what,
        "made_with": {"server": "aioquic (lab/quic/peers.py)", "client": "aioquic (lab/quic/peers.py)",
                      "date": datetime.date.today().isoformat()},
        "observed": observed,
        **({"expected": {"cause": cause}} if cause else {}),
    }, indent=2) + "\n")


def _tshark(folder: Path, keys: bool) -> list[str]:
    """tshark's reading of the CONNECTION_CLOSE frames: frame, error code, reason (with the key
    log: those in Handshake packets too)."""
    opts = ["-o", f"tls.keylog_file:{folder / 'keylog.txt'}"] if keys else []
    return subprocess.run(["tshark", "-n", "-r", str(folder / "capture.pcap"), *opts, "-Y", "quic.frame_type == 0x1c",
                           "-T", "fields", "-e", "frame.number", "-e", "quic.cc.error_code",
                           "-e", "quic.cc.reason_phrase"], capture_output=True, text=True).stdout.strip().splitlines()


def tshark_1rtt(folder: Path) -> list[str]:
    """tshark's reading of the datagrams with 1-RTT packets, with the key log: frame, source
    port, the Key Phase bits, the frame types (of every packet of the datagram), and a close's
    transport and application error codes."""
    return subprocess.run(["tshark", "-n", "-r", str(folder / "capture.pcap"), "-o",
                           f"tls.keylog_file:{folder / 'keylog.txt'}", "-Y", "quic.short",
                           "-T", "fields", "-e", "frame.number", "-e", "udp.srcport", "-e", "quic.key_phase",
                           "-e", "quic.frame_type", "-e", "quic.cc.error_code", "-e", "quic.cc.error_code.app"],
                          capture_output=True, text=True).stdout.strip().splitlines()


def tshark_0rtt(folder: Path) -> list[str]:
    """tshark's reading of the datagrams with 0-RTT packets, with the key log: frame, source
    port, the frame types (of every packet of the datagram), and the early_data extensions'
    places (type 42 in the ClientHello and the server's EncryptedExtensions)."""
    return subprocess.run(["tshark", "-n", "-r", str(folder / "capture.pcap"), "-o",
                           f"tls.keylog_file:{folder / 'keylog.txt'}", "-Y",
                           "quic.long.packet_type == 1 or tls.handshake.extension.type == 42",
                           "-T", "fields", "-e", "frame.number", "-e", "udp.srcport", "-e", "quic.long.packet_type",
                           "-e", "quic.frame_type", "-e", "tls.handshake.type"],
                          capture_output=True, text=True).stdout.strip().splitlines()


def tshark_h3_status(folder: Path) -> list[str]:
    """tshark's reading of the HTTP/3 HEADERS frames with the key log: frame, source port,
    stream ID and the frame's payload (hex; tshark 4.0 does not decode QPACK: the status the
    client reported is the ground truth)."""
    return subprocess.run(["tshark", "-n", "-r", str(folder / "capture.pcap"), "-o",
                           f"tls.keylog_file:{folder / 'keylog.txt'}", "-Y", "http3.frame_type == 1",
                           "-T", "fields", "-e", "frame.number", "-e", "udp.srcport", "-e", "quic.stream.stream_id",
                           "-e", "http3.frame_payload"],
                          capture_output=True, text=True).stdout.strip().splitlines()


def _tshark_certificates(folder: Path) -> list[str]:
    """tshark's reading of the server's Certificate message with the key log: frame and the
    certificates' subject and issuer names."""
    return subprocess.run(["tshark", "-n", "-r", str(folder / "capture.pcap"), "-o",
                           f"tls.keylog_file:{folder / 'keylog.txt'}", "-Y", "tls.handshake.type == 11",
                           "-T", "fields", "-e", "frame.number", "-e", "x509sat.uTF8String",
                           "-e", "tls.handshake.extensions_alpn_str"],
                          capture_output=True, text=True).stdout.strip().splitlines()


def run(make_one: Callable[[str, Path], None], scenarios: Iterable[str]) -> None:
    """``argv``: OUTDIR [SCENARIO...]; each scenario named (all by default) made into OUTDIR."""
    out = Path(sys.argv[1])
    for name in (sys.argv[2:] or list(scenarios)):
        make_one(name, out)
        print(name, (out / name / "expected.json").read_text())


def main() -> None:
    run(make, SCENARIOS)


if __name__ == "__main__":
    main()
