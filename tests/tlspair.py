"""Test helper: a real TLS connection between two OpenSSL endpoints, in memory.

Python's ssl module drives OpenSSL through MemoryBIOs, so no socket is
needed.  The client writes an NSS key log (keylog_filename), and every byte
each side hands to its outgoing BIO is kept, so tests can split the streams
into records and decrypt them with tlsdissect, comparing with what the test
itself sent: the plaintext is the independent truth.

Also runnable as a script (``python tests/tlspair.py JSON-ARGS``) so a test
can run a handshake under a different OPENSSL_CONF, which is the only way to
pick TLS 1.3 suites (Python has no set_ciphersuites).
"""

from __future__ import annotations

import datetime
import json
import ssl
import sys
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

SSL_OP_NO_ENCRYPT_THEN_MAC = 1 << 19  # OpenSSL 3's values; Python passes option bits through
SSL_OP_NO_EXTENDED_MASTER_SECRET = 1 << 0


def write_certificates(folder: Path) -> list[tuple[str, str]]:
    """A self-signed RSA and an ECDSA certificate for 'localhost'; [(cert, key)] paths."""
    pairs = []
    now = datetime.datetime.now(datetime.timezone.utc)
    for kind, key in (
        ("rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("ec", ec.generate_private_key(ec.SECP256R1())),
    ):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256())
        )
        cert_path, key_path = folder / f"{kind}.crt", folder / f"{kind}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        pairs.append((str(cert_path), str(key_path)))
    return pairs


@dataclass
class PairRun:
    """What one in-memory connection produced."""

    version: str
    cipher: str
    keylog: str
    client_bytes: str  # hex of everything the client wrote
    server_bytes: str
    client_sent: list[str] = field(default_factory=list)  # hex of each application write
    server_sent: list[str] = field(default_factory=list)


_VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,  # (attribute access itself is not deprecated)
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


def run_pair(
    folder: str,
    certs: list[tuple[str, str]],
    version: str,
    ciphers: str | None = None,
    client_messages: list[str] | None = None,
    server_messages: list[str] | None = None,
    options: int = 0,
) -> PairRun:
    """Handshake, exchange the given (hex) messages, close both ways; return the bytes."""
    folder_path = Path(folder)
    keylog = folder_path / "keylog.txt"
    keylog.unlink(missing_ok=True)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    client_ctx.keylog_filename = str(keylog)
    for cert, key in certs:
        server_ctx.load_cert_chain(cert, key)
    for ctx in (server_ctx, client_ctx):
        with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated, and wanted here
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ctx.maximum_version = _VERSIONS[version]
        if ciphers:
            ctx.set_ciphers(ciphers)
        ctx.options |= options
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(c_in, c_out, server_side=False, server_hostname="localhost")
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    client_wire, server_wire = bytearray(), bytearray()

    def pump() -> None:
        data = c_out.read()
        client_wire.extend(data)
        s_in.write(data)
        data = s_out.read()
        server_wire.extend(data)
        c_in.write(data)

    def step(obj: ssl.SSLObject) -> bool:
        try:
            obj.do_handshake()
            return True
        except ssl.SSLWantReadError:
            return False

    done_c = done_s = False
    for _ in range(20):
        done_c = step(client) or done_c
        pump()
        done_s = step(server) or done_s
        pump()
        if done_c and done_s:
            break
    else:
        raise RuntimeError("handshake did not finish")

    def read_exactly(obj: ssl.SSLObject, n: int) -> bytes:
        got = bytearray()
        for _ in range(1000):
            if len(got) >= n:
                break
            try:
                got += obj.read(n - len(got))
            except ssl.SSLWantReadError:
                pump()
        return bytes(got)

    client_messages = client_messages or []
    server_messages = server_messages or []
    for i in range(max(len(client_messages), len(server_messages))):
        if i < len(client_messages):
            msg = bytes.fromhex(client_messages[i])
            client.write(msg)
            pump()
            assert read_exactly(server, len(msg)) == msg
        if i < len(server_messages):
            msg = bytes.fromhex(server_messages[i])
            server.write(msg)
            pump()
            assert read_exactly(client, len(msg)) == msg
    for obj in (client, server):  # close_notify both ways: an encrypted alert each
        try:
            obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass
        pump()
    return PairRun(
        version=client.version() or "",
        cipher=(client.cipher() or ("",))[0],
        keylog=keylog.read_text(),
        client_bytes=client_wire.hex(),
        server_bytes=server_wire.hex(),
        client_sent=client_messages,
        server_sent=server_messages,
    )


if __name__ == "__main__":  # python tests/tlspair.py '{"folder": ..., ...}'
    args = json.loads(sys.argv[1])
    args["certs"] = [tuple(c) for c in args["certs"]]
    print(json.dumps(asdict(run_pair(**args))))
