"""One connection's plain-text prelude: which protocol it is, read within a budget.

:class:`PreludeReader` takes the bytes of each direction in capture order, as long as that
direction is not TLS yet, and reads at most PRELUDE_BYTES of each. The first bytes sent tell
the protocol and who the server is (the server speaks first in SMTP, FTP, IMAP, POP3 and MySQL,
the client in PostgreSQL, LDAP and XMPP); unknown bytes end the reading at once.
"""

from __future__ import annotations

from typing import Optional, Union

from tlsdissect.results.starttls import ACCEPTED, INCOMPLETE, PLAINTEXT, StartTls
from tlsdissect.starttls.exchange import Exchange, looks_like_tls
from tlsdissect.starttls.httpconnect import HttpConnect
from tlsdissect.starttls.imap import Imap
from tlsdissect.starttls.ldap import Ldap, message_start
from tlsdissect.starttls.mysql import MySql, greeting_version
from tlsdissect.starttls.pop3 import Pop3
from tlsdissect.starttls.postgresql import GSSENC_REQUEST, SSL_REQUEST, PostgreSql
from tlsdissect.starttls.replycodes import ReplyCodes
from tlsdissect.starttls.xmpp import Xmpp

PRELUDE_BYTES = 4096  # bytes of each direction read at most (docs/limits.md)
_WAIT = "wait"
# LDAP operations a server sends (responses and the unsolicited notice): the rest are requests.
_LDAP_RESPONSES = frozenset((0x61, 0x64, 0x65, 0x67, 0x69, 0x6B, 0x6D, 0x6F, 0x73, 0x78, 0x79))


def identify(first: bytes, d: int, final: bool = True) -> Union[None, str, Exchange]:
    """The exchange the first bytes sent (by direction ``d``) start; _WAIT when too few bytes
    have come to tell (and more may come: not ``final``); None when they are TLS or no
    protocol this package reads."""
    found = _identify(first, d)
    if found is None and not final and len(first) < _ENOUGH_TO_TELL:
        return _WAIT
    return found


_ENOUGH_TO_TELL = 16  # bytes after which unknown first bytes are no protocol read here


def _identify(first: bytes, d: int) -> Optional[Exchange]:
    if looks_like_tls(first) or first[:1] == b"\x80":
        return None
    if first[:8] in (SSL_REQUEST, GSSENC_REQUEST):
        return PostgreSql(1 - d)
    if greeting_version(first) is not None or (len(first) >= 7 and first[3] == 0 and first[4] == 0xFF):
        return MySql(d)
    ldap = message_start(first)
    if ldap is not None:
        return Ldap(d if ldap[1] in _LDAP_RESPONSES else 1 - d)
    if first[:8] == b"CONNECT ":
        return HttpConnect(1 - d)
    start = first.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start[:5] == b"<?xml" or start[:7] == b"<stream":
        return Xmpp(1 - d)
    if start[:4] in (b"* OK", b"* PR", b"* BY"):
        return Imap(d)
    if start[:3] == b"+OK" or start[:4] == b"-ERR":
        return Pop3(d)
    if len(first) >= 3 and first[:3].isdigit() and first[3:4] in (b"", b" ", b"-", b"\r", b"\n"):
        return ReplyCodes(d)
    return None


class PreludeReader:
    """The prelude of one connection; see the module docstring."""

    __slots__ = ("exchange", "first", "first_dir", "first_frames", "read", "stopped")

    def __init__(self) -> None:
        self.exchange: Optional[Exchange] = None
        self.first = bytearray()  # the first bytes while the protocol is not told yet
        self.first_dir = -1
        self.first_frames: list[tuple[int, int]] = []  # (frame, bytes) of those bytes
        self.read = [0, 0]
        self.stopped = False  # unknown bytes, or the exchange is over

    def data(self, d: int, data: bytes, frame: int) -> None:
        """The next bytes of direction ``d`` (from ``frame``)."""
        if self.stopped:
            return
        room = PRELUDE_BYTES - self.read[d]
        if room <= 0:
            return
        data = data[:room]
        self.read[d] += len(data)
        exchange = self.exchange
        if exchange is None:
            if self.first_dir == -1:
                self.first_dir = d
            if d != self.first_dir:
                if not self.first:
                    return
                self._tell(frame)  # the other side answered: decide on what came
                exchange = self.exchange
                if exchange is None:
                    return
            else:
                self.first += data
                self.first_frames.append((frame, len(data)))
                self._tell(frame, final=False)
                return
        exchange.feed(d, data, frame)
        if exchange.done:
            self.stopped = True

    def _tell(self, frame: int, final: bool = True) -> None:
        """Tell the protocol from the first bytes; replay them into it."""
        found = identify(bytes(self.first), self.first_dir, final)
        if found == _WAIT:
            return
        first, frames = bytes(self.first), self.first_frames
        self.first = bytearray()
        self.first_frames = []
        if not isinstance(found, Exchange):
            self.stopped = True
            return
        self.exchange = found
        pos = 0
        for f, n in frames:  # each piece with its own frame
            found.feed(self.first_dir, first[pos:pos + n], f)
            pos += n
            if found.done:
                self.stopped = True
                return

    def result(self, server_port: int) -> Optional[StartTls]:
        """What the prelude came to; None when it is no protocol read here."""
        if self.exchange is None and self.first:
            self._tell(0)
        exchange = self.exchange
        if exchange is None or exchange.protocol == "nntp":
            return None
        exchange.settle(server_port)
        truncated = not exchange.done and max(self.read) >= PRELUDE_BYTES
        return exchange.result(truncated)

    @property
    def server(self) -> Optional[int]:
        """The server's direction as the prelude's content says (None: not told)."""
        return None if self.exchange is None else self.exchange.server


def worth_reporting(result: Optional[StartTls]) -> bool:
    """A prelude that concerns TLS: the client asked for it, or the server refused or did not
    offer it to a client that then stopped. A plain session that never asked (the client went
    on in plain text) or that stopped before anything happened is not."""
    if result is None:
        return False
    if result.requested or result.result == ACCEPTED:
        return True
    return result.result not in (PLAINTEXT, INCOMPLETE)
