"""A session's decryption: its use of the key log, and the keyless NULL-cipher case.

With a key log (``TlsSession.keylog``, set by the pipeline), the first ServerHello gives the
session a :class:`Decryption`, which builds the connection's keys (keys.decrypt) and installs
one decryptor per direction in the record layers: TLS 1.3 at once (keys.phases follows the key
phases), TLS <= 1.2 at each side's ChangeCipherSpec. It owns what decryption needs to remember
(the keys, the notes for the report, the count of records decrypted); the session stays free
of it when there is no key log. Without keys, :func:`null_cipher_decryptor` still reads the
records of a NULL-encryption suite, which only carry a MAC.
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.directions import NONE_PAIR, pair_with
from tlsdissect.tls import handshake as hs
from tlsdissect.tls import tables
from tlsdissect.tls.recordevents import Decryptor

# A session.TlsSession, typed loosely (the session imports this module through its handlers).
Session = Any
_MAC_LENGTHS = {"MD5": 16, "SHA1": 20, "SHA256": 32, "SHA384": 48}


def decryption_of(s: Session) -> "Decryption":
    """The session's Decryption, made at its first use (only sessions with a key log have one)."""
    dec: Optional[Decryption] = s.decryption
    if dec is None:
        dec = s.decryption = Decryption(s.keylog)
    return dec


class Decryption:
    """One connection's keys from the key log and the decryptors made of them."""

    __slots__ = ("keylog", "decryptors", "pending", "active", "notes", "records")

    def __init__(self, keylog: Any) -> None:
        self.keylog = keylog  # tlsdissect.keys.keylog.KeyLog
        self.decryptors: Any = None  # keys.decrypt.SessionDecryptors of the latest ServerHello
        self.pending: Any = None  # TLS <= 1.2: "build", or the SessionDecryptors installed at each side's next CCS
        self.active: tuple[Any, Any] = NONE_PAIR  # the decryptor installed per direction
        self.notes: Any = ()  # list[str] from the first note
        self.records = 0  # records decrypted

    def _note(self, note: str) -> None:
        if not self.notes:
            self.notes = []
        self.notes.append(note)

    def renegotiated(self) -> None:
        """A later ServerHello (TLS <= 1.2): new keys at the next CCS."""
        self.pending = "build"

    def server_hello(self, s: Session, server: int, sh: hs.ServerHello) -> None:
        """The ServerHello (of direction ``server``) names the keys to look for."""
        client = 1 - server
        if not s.tls13:
            # TLS <= 1.2: keys apply after each side's ChangeCipherSpec; an RSA pre-master
            # from the key log needs the ClientKeyExchange, so build at the first CCS.
            self.pending = "build"
            return
        sd = self._build(s, sh)
        self.decryptors = sd
        if sd is None:
            return
        from tlsdissect.keys.phases import direction_decryptor

        # TLS 1.3: one callable per direction follows the key phases itself (early data,
        # handshake keys, application keys after that side's Finished, each KeyUpdate).
        self._install(s.layers[server], server, direction_decryptor(sd, "server"))
        self._install(s.layers[client], client, direction_decryptor(sd, "client"))

    def ccs(self, s: Session, d: int) -> None:
        """TLS <= 1.2: direction ``d`` sent ChangeCipherSpec; its next records use the new keys."""
        if self.pending == "build" and s.server_hello is not None:
            sh = s.server_hello
            if s.server_hellos_seen > 1 and s.latest_server_hello is not None:
                sh = s.latest_server_hello
            self.pending = self._build(s, sh)
            self.decryptors = self.pending
        sd = self.pending
        if sd is None or sd == "build":
            return
        client = s.client_dir_hint if s.client_dir_hint is not None else 0
        self._install(s.layers[d], d, sd.client if d == client else sd.server)

    def _build(self, s: Session, sh: hs.ServerHello) -> Any:
        from tlsdissect.keys.decrypt import UnsupportedCipherSuite, session_decryptors

        if not s.client_hellos:
            return None
        ch = s.client_hellos[-1][1]
        premaster = None
        body = s.client_key_exchange_body
        if len(body) > 2:
            premaster = body[2:] if ((body[0] << 8) | body[1]) == len(body) - 2 else body
        try:
            sd = session_decryptors(
                self.keylog, sh.version, sh.cipher_suite, ch.random, sh.random,
                encrypt_then_mac=sh.ext(22) is not None, compression=sh.compression_method,
                encrypted_premaster=premaster,
            )
        except UnsupportedCipherSuite as e:
            self._note(f"cannot decrypt: {e}")
            return None
        except Exception as e:  # bad secrets in the key log must not stop the analysis
            self._note(f"cannot use the key log for this connection: {e}")
            return None
        if sd.missing:
            self._note("key log has no " + ", ".join(sd.missing) + " for this client random")
        return sd

    def _install(self, layer: Any, d: int, dec: Any) -> None:
        self.active = pair_with(self.active, d, dec)
        layer.decryptor = None if dec is None else self._counting(dec)

    def _counting(self, dec: Any) -> Decryptor:
        def decrypt(ct: int, version: int, payload: bytes) -> tuple[int, bytes]:
            out: tuple[int, bytes] = dec.decrypt(ct, version, payload)
            self.records += 1
            return out

        return decrypt

    def summary(self, layers: Any) -> dict[str, Any]:
        """The report's decryption entry: whether records were decrypted, or decryption failed."""
        status = "decrypted" if self.records else "not decrypted"
        if any(layer.anomalies and layer.decryptor is None and self.active[i] for i, layer in enumerate(layers)):
            status = "failed"
        return {"status": status, "records_decrypted": self.records, "notes": self.notes or []}


def null_cipher_decryptor(cipher: int) -> Optional[Decryptor]:
    """A NULL-encryption suite protects nothing: the record is the plaintext followed by its MAC,
    so the rest of the handshake (Finished, alerts) stays readable without keys. None for any
    other suite."""
    info = tables.suite_info(cipher)
    if info is None or info.cipher != "NULL" or info.kx == "NULL":
        return None
    mac_len = _MAC_LENGTHS.get(info.mac)
    if mac_len is None:
        return None

    return _MacStripper(info.mac, mac_len)


class _MacStripper:
    """A NULL suite's "decryptor": the record without its MAC. ``protects`` False tells the
    record layer that the content was never protected (recordcontent.read_content)."""

    __slots__ = ("mac", "mac_len")
    protects = False

    def __init__(self, mac: str, mac_len: int) -> None:
        self.mac = mac
        self.mac_len = mac_len

    def __call__(self, ct: int, version: int, payload: bytes) -> tuple[int, bytes]:
        if len(payload) < self.mac_len:
            raise ValueError(f"record shorter than its {self.mac} MAC")
        return ct, payload[:-self.mac_len]
