"""NSS key log files (SSLKEYLOGFILE) and pcapng Decryption Secrets Blocks.

A key log is the only way to read encrypted TLS traffic after the fact: the
endpoint that wrote it recorded, per session (named by the ClientHello random),
the secrets that the key schedule produced.  This module only *parses and
indexes* those secrets; turning them into keys is done by
:mod:`tlsdissect.keys.schedule` and :mod:`tlsdissect.keys.decrypt`.

Format (one entry a line, fields separated by whitespace)::

    CLIENT_RANDOM <client_random hex, 32 bytes> <master secret hex, 48 bytes>
    CLIENT_HANDSHAKE_TRAFFIC_SECRET <client_random> <secret>   (TLS 1.3)
    ...
    RSA <first 8 bytes of the encrypted pre-master secret> <pre-master secret>

Lines starting with ``#`` and blank lines are ignored.  A line that cannot be
understood is recorded in :attr:`KeyLog.malformed` with its line number and
never stops parsing: a half-broken key log still decrypts what it can.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from tlsdissect.errors import TlsDissectError

__all__ = [
    "KeyLog",
    "KeyLogError",
    "KeyLogLine",
    "KEYLOG_LABELS",
    "TLS13_LABELS",
    "DSB_TLS_KEY_LOG",
    "keylog_from_dsb",
]

#: Labels whose first field is a 32-byte ClientHello random.
TLS13_LABELS: frozenset[str] = frozenset(
    {
        "CLIENT_EARLY_TRAFFIC_SECRET",
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
        "EARLY_EXPORTER_SECRET",
        "EXPORTER_SECRET",
    }
)
KEYLOG_LABELS: frozenset[str] = TLS13_LABELS | {"CLIENT_RANDOM"}

#: Labels written by newer tools (Encrypted Client Hello) that carry no
#: record-protection secret; accepted silently so they are not called malformed.
_KNOWN_OTHER_LABELS: frozenset[str] = frozenset({"ECH_SECRET", "ECH_CONFIG"})

#: pcapng Decryption Secrets Block secrets type for TLS: ASCII "TLSK".
DSB_TLS_KEY_LOG = 0x544C534B

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_CLIENT_RANDOM_LEN = 32
_MASTER_SECRET_LEN = 48
_TLS13_SECRET_LENS = (32, 48, 64)  # SHA-256, SHA-384, (SHA-512 for safety)
_RSA_PREFIX_LEN = 8
_PREMASTER_LEN = 48


class KeyLogError(TlsDissectError):
    """A key log source could not be read at all (missing or unreadable file)."""


@dataclass(frozen=True)
class KeyLogLine:
    """A line that was not used, with where it came from and why."""

    source: str
    line_no: int
    reason: str
    text: str  # the first 40 characters of the line: enough to find it, too short to hold its secret


@dataclass
class KeyLog:
    """All secrets from one or more key logs, indexed by ClientHello random.

    ``conflicts`` lists lines that gave a second, *different* value for a
    (label, client random) pair already known; the first value is kept,
    because a key log is appended to and the first write is what the session
    used.
    """

    # Secrets stay out of repr(), so tracebacks and logs never print them.
    _by_random: dict[bytes, dict[str, bytes]] = field(default_factory=dict, repr=False)
    _rsa: dict[bytes, bytes] = field(default_factory=dict, repr=False)
    # Zeek's key-log format names a session by the last 28 bytes of its ClientHello random
    # (Zeek's client_random leaves out the 4-byte gmt_unix_time): master secrets by that tail.
    _by_tail: dict[bytes, bytes] = field(default_factory=dict, repr=False)
    malformed: list[KeyLogLine] = field(default_factory=list, repr=False)
    conflicts: list[KeyLogLine] = field(default_factory=list, repr=False)
    sources: list[str] = field(default_factory=list, repr=False)

    def __repr__(self) -> str:
        return f"KeyLog({self.summary()})"

    # ------------------------------------------------------------ building
    @classmethod
    def from_text(cls, text: str, source: str = "<text>") -> "KeyLog":
        """Parse key log text; never raises on bad lines."""
        log = cls()
        log._add_text(text, source)
        return log

    @classmethod
    def from_file(cls, path: str | PathLike[str]) -> "KeyLog":
        """Parse one key log file; raises KeyLogError if it cannot be read."""
        return cls.from_files([path])

    @classmethod
    def from_files(cls, paths: Iterable[str | PathLike[str]]) -> "KeyLog":
        """Parse and merge several key log files, in order."""
        log = cls()
        for path in paths:
            p = Path(path)
            try:
                raw = p.read_bytes()
            except OSError as exc:
                raise KeyLogError(f"cannot read key log {p}: {exc.strerror or exc}") from exc
            # Key logs are ASCII; anything else makes only its own line malformed.
            log._add_text(raw.decode("utf-8", errors="replace"), str(p))
        return log

    def merge(self, other: "KeyLog") -> "KeyLog":
        """Add another key log's entries to this one (first value wins); returns self."""
        for cr, secrets in other._by_random.items():
            mine = self._by_random.setdefault(cr, {})
            for label, value in secrets.items():
                if label not in mine:
                    mine[label] = value
                elif mine[label] != value:
                    self.conflicts.append(
                        KeyLogLine(
                            other.sources[0] if other.sources else "<merged>",
                            0,
                            f"conflicting {label} for client random {cr.hex()[:16]}…",
                            "",
                        )
                    )
        for prefix, pms in other._rsa.items():
            self._rsa.setdefault(prefix, pms)
        for tail, master in other._by_tail.items():
            self._by_tail.setdefault(tail, master)
        self.malformed.extend(other.malformed)
        self.conflicts.extend(c for c in other.conflicts)
        self.sources.extend(s for s in other.sources if s not in self.sources)
        return self

    def _add_text(self, text: str, source: str) -> None:
        if source not in self.sources:
            self.sources.append(source)
        zeek = False
        for line_no, raw_line in enumerate(text.splitlines(), start=1):
            line = raw_line.strip()
            if line.startswith("#fields"):
                # Zeek's Input-framework key log (policy/protocols/ssl/decryption.zeek)
                zeek = line.split()[1:3] == ["client_random", "secret"]
                continue
            if not line or line.startswith("#"):
                continue
            reason = self._add_zeek_line(raw_line) if zeek else self._add_line(line)
            if reason is not None:
                kind = self.conflicts if reason.startswith("conflicting") else self.malformed
                kind.append(KeyLogLine(source, line_no, reason, line[:40]))

    def _add_line(self, line: str) -> str | None:
        """Store one entry; return why it was rejected, or None."""
        fields = line.split()
        if len(fields) != 3:
            return f"expected 3 fields (LABEL id secret), found {len(fields)}"
        label, ident_hex, secret_hex = fields
        if label in _KNOWN_OTHER_LABELS:
            return None
        if label != "RSA" and label not in KEYLOG_LABELS:
            return f"unknown label {label[:40]!r}"
        for what, value in (("identifier", ident_hex), ("secret", secret_hex)):
            if len(value) % 2 or not _HEX.match(value):
                return f"{what} is not hex"
        ident, secret = bytes.fromhex(ident_hex), bytes.fromhex(secret_hex)

        if label == "RSA":
            if len(ident) != _RSA_PREFIX_LEN:
                return f"RSA: encrypted pre-master prefix must be 8 bytes, got {len(ident)}"
            if len(secret) != _PREMASTER_LEN:
                return f"RSA: pre-master secret must be 48 bytes, got {len(secret)}"
            old = self._rsa.setdefault(ident, secret)
            return None if old == secret else "conflicting RSA pre-master secret"

        if len(ident) != _CLIENT_RANDOM_LEN:
            return f"{label}: client random must be 32 bytes, got {len(ident)}"
        if label == "CLIENT_RANDOM":
            if len(secret) != _MASTER_SECRET_LEN:
                return f"CLIENT_RANDOM: master secret must be 48 bytes, got {len(secret)}"
        elif len(secret) not in _TLS13_SECRET_LENS:
            return f"{label}: secret must be 32 or 48 bytes, got {len(secret)}"
        entry = self._by_random.setdefault(ident, {})
        old = entry.setdefault(label, secret)
        return None if old == secret else f"conflicting {label}"

    def _add_zeek_line(self, line: str) -> str | None:
        """One ``client_random<TAB>secret`` line of Zeek's format: both fields as Zeek writes
        binary strings (``\\xNN`` for each byte, printable bytes as themselves); the random is
        the last 28 bytes of the ClientHello random, the secret the 48-byte master secret."""
        fields = line.strip("\r\n").split("\t")
        if len(fields) != 2:
            return f"Zeek key log: expected 2 tab-separated fields (client_random secret), found {len(fields)}"
        try:
            tail, master = (zeek_unescape(f.strip()) for f in fields)
        except ValueError as e:
            return f"Zeek key log: {e}"
        if len(tail) != _CLIENT_RANDOM_LEN - 4:
            return f"Zeek key log: client_random must be 28 bytes, got {len(tail)}"
        if len(master) != _MASTER_SECRET_LEN:
            return f"Zeek key log: secret must be a 48-byte master secret, got {len(master)}"
        old = self._by_tail.setdefault(tail, master)
        return None if old == master else "conflicting Zeek secret"

    # ------------------------------------------------------------- lookup
    def secrets_for(self, client_random: bytes) -> dict[str, bytes]:
        """All secrets logged for the session with this ClientHello random (copy)."""
        found = self._by_random.get(bytes(client_random))
        if found is None and self._by_tail:
            master = self._by_tail.get(bytes(client_random[4:]))
            return {"CLIENT_RANDOM": master} if master is not None else {}
        return dict(found or {})

    def master_secret_for(self, client_random: bytes) -> bytes | None:
        """The TLS <= 1.2 master secret (CLIENT_RANDOM line, or Zeek's format), if logged."""
        return self.secrets_for(client_random).get("CLIENT_RANDOM")

    def rsa_premaster_for(self, encrypted_premaster: bytes) -> bytes | None:
        """The pre-master secret whose RSA ciphertext starts with these bytes."""
        return self._rsa.get(bytes(encrypted_premaster[:_RSA_PREFIX_LEN]))

    def lines_for(self, ids: Iterable[bytes]) -> list[str]:
        """The NSS key log lines (SSLKEYLOGFILE's format, what a pcapng Decryption Secrets Block
        of type TLS key log holds) of these sessions only: ``ids`` are ClientHello randoms (32
        bytes) and RSA identifiers (the encrypted pre-master secret's first 8 bytes). Each line
        once, in the order asked; a master secret from Zeek's format as a CLIENT_RANDOM line."""
        out: list[str] = []
        seen: set[bytes] = set()
        for ident in ids:
            ident = bytes(ident)
            if ident in seen:
                continue
            seen.add(ident)
            if len(ident) == _RSA_PREFIX_LEN:
                pms = self._rsa.get(ident)
                if pms is not None:
                    out.append(f"RSA {ident.hex()} {pms.hex()}")
                continue
            for label, secret in self.secrets_for(ident).items():
                out.append(f"{label} {ident.hex()} {secret.hex()}")
        return out

    def client_randoms(self) -> Iterator[bytes]:
        return iter(self._by_random)

    def __contains__(self, client_random: object) -> bool:
        if not isinstance(client_random, (bytes, bytearray)):
            return False
        return bytes(client_random) in self._by_random or bytes(client_random[4:]) in self._by_tail

    def __len__(self) -> int:
        """Number of sessions (client randoms, Zeek's included) plus RSA entries."""
        return len(self._by_random) + len(self._by_tail) + len(self._rsa)

    @property
    def rsa_entry_count(self) -> int:
        return len(self._rsa)

    def summary(self) -> str:
        """One line for a report: how much was loaded and what was skipped."""
        text = (
            f"{len(self._by_random) + len(self._by_tail)} session(s), {len(self._rsa)} RSA entr"
            f"{'y' if len(self._rsa) == 1 else 'ies'} from {len(self.sources)} source(s)"
        )
        if self.malformed:
            where = ", ".join(f"{m.source}:{m.line_no}" for m in self.malformed[:5])
            more = "…" if len(self.malformed) > 5 else ""
            text += f"; {len(self.malformed)} malformed line(s) ignored ({where}{more})"
        if self.conflicts:
            text += f"; {len(self.conflicts)} conflicting line(s), first value kept"
        return text


_ZEEK_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\\\|(.)", re.S)


def zeek_unescape(text: str) -> bytes:
    """A binary string as Zeek's ASCII writer and Input framework spell it: ``\\xNN`` for a
    byte (either case), ``\\\\`` for a backslash, printable ASCII as itself."""
    out = bytearray()
    for m in _ZEEK_ESCAPE.finditer(text):
        if m.group(1) is not None:
            out.append(int(m.group(1), 16))
        elif m.group(2) is None:
            out.append(0x5C)
        else:
            ch = m.group(2)
            if ch == "\\" or not 0x20 <= ord(ch) < 0x7F:
                raise ValueError(f"not a Zeek-escaped byte string near {text[m.start():m.start() + 8]!r}")
            out.append(ord(ch))
    return bytes(out)


def keylog_from_dsb(secrets_type: int, data: bytes, source: str = "pcapng DSB") -> KeyLog | None:
    """Key log carried in a pcapng Decryption Secrets Block, or None if not TLS.

    Only secrets type 0x544c534b ("TLSK", NSS key log text) concerns TLS; other
    types (WireGuard, ZigBee, ...) return None.  The block pads its data to 32
    bits with zero bytes, so trailing NULs are dropped.
    """
    if secrets_type != DSB_TLS_KEY_LOG:
        return None
    return KeyLog.from_text(bytes(data).rstrip(b"\x00").decode("utf-8", errors="replace"), source)
