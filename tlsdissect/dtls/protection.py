"""DTLS 1.0 and 1.2 records opened with a key log's master secret (``CLIENT_RANDOM`` lines).

DTLS protects a record as TLS 1.1 (DTLS 1.0) and TLS 1.2 (DTLS 1.2) do, with the same key block
and ciphers (keys.decrypt), and one difference: the 64-bit sequence number that goes into the
MAC or the AEAD's additional data (and into ChaCha20-Poly1305's nonce, RFC 7905 §2) is the
record's 16-bit epoch followed by its 48-bit sequence number, both in clear in the record header
(RFC 6347 §4.1.2.1); the version in it is the record's DTLS version (0xfefd). So every record
opens on its own, whatever was lost, resent or reordered before it. CBC records carry their IV
explicitly (TLS 1.1 and later), AES-GCM its explicit nonce. Only epoch 1 is opened: the keys of
the first handshake (a renegotiation's epoch 2 would need the second handshake's randoms).
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.dtls.records import DTLS_1_0, DTLS_1_2, DtlsRecord
from tlsdissect.keys.cipherparams import UnsupportedCipherSuite
from tlsdissect.keys.decrypt import DecryptionError, DirectionDecryptor

# The TLS version whose record protection each DTLS version uses (RFC 4347 §4.1, RFC 6347 §4.1).
TLS_VERSION_OF: dict[int, int] = {DTLS_1_0: 0x0302, DTLS_1_2: 0x0303}
ENCRYPT_THEN_MAC = 22  # the extension (RFC 7366): CBC records are MACed after encryption


class DtlsRecordOpener:
    """Both directions' record decryption of one association (sans-I/O): built from the key log
    and the hellos, asked to ``open`` protected records of epoch 1."""

    def __init__(self, keylog: Any, client_hello: Any, server_hello: Any) -> None:
        self.decryptors: dict[str, Optional[DirectionDecryptor]] = {}
        self.problem: Optional[str] = None  # why nothing can be opened (said once)
        self.master_secret_known = False
        version = TLS_VERSION_OF.get(server_hello.version)
        master = keylog.master_secret_for(client_hello.random) if keylog is not None else None
        if version is None or master is None:
            return
        self.master_secret_known = True
        etm = server_hello.ext(ENCRYPT_THEN_MAC) is not None and client_hello.ext(ENCRYPT_THEN_MAC) is not None
        for side in ("client", "server"):
            try:
                self.decryptors[side] = DirectionDecryptor.for_tls12(
                    version, server_hello.cipher_suite, master, client_hello.random, server_hello.random, side,
                    encrypt_then_mac=etm)
            except (UnsupportedCipherSuite, ValueError) as e:
                self.problem = f"the key log's master secret cannot open this association's records: {e}"
                self.decryptors = {}
                return

    def open(self, sender: str, record: DtlsRecord) -> Optional[tuple[int, bytes]]:
        """(content type, plaintext) of a protected record ``sender`` sent, or None when it is
        not of epoch 1, or does not open (other keys, a damaged record)."""
        dec = self.decryptors.get(sender)
        if dec is None or record.epoch != 1 or record.unified or record.content_type is None \
                or record.version is None:
            return None
        dec.sequence = (record.epoch << 48) | record.sequence
        try:
            opened = dec.decrypt_record(record.content_type, record.version, record.fragment)
        except DecryptionError:
            return None
        return opened.content_type, opened.plaintext
