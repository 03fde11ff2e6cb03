"""POP3 (RFC 1939; CAPA: RFC 2449; STLS: RFC 2595): the greeting, CAPA, and STLS.

Each command is answered by ``+OK`` or ``-ERR`` in order; CAPA's ``+OK`` is followed by the
capability lines up to a line holding only ``.``. ``STLS`` answered ``+OK``: TLS follows.
"""

from __future__ import annotations

from tlsdissect.starttls.exchange import LineExchange, text

MAX_PENDING = 32
MAX_LISTED = 64  # capability lines read of one CAPA answer
# Commands that go on with the session's business (credentials, mail): sent before any STLS,
# the client goes on in plain text. AUTH alone only asks for the mechanisms.
_GOING_ON = frozenset((b"USER", b"PASS", b"APOP", b"STAT", b"LIST", b"RETR", b"UIDL", b"TOP", b"DELE"))


class Pop3(LineExchange):
    protocol = "pop3"

    def __init__(self, server: int) -> None:
        super().__init__(server)
        self.pending: list[bytes] = [b"greeting"]
        self.listing: list[str] | None = None  # CAPA's lines while they come

    def _server_line(self, line: bytes, frame: int) -> None:
        listing = self.listing
        if listing is not None:
            if line == b".":
                self.listing = None
                self.capability_list(listing, any(n.split(" ")[0].upper() == "STLS" for n in listing), frame)
            elif len(listing) < MAX_LISTED:
                listing.append(text(line))
            return
        ok = line[:3] == b"+OK"
        if not ok and line[:4] != b"-ERR":
            return
        to = self.pending.pop(0) if self.pending else b""
        words = text(line[3 if ok else 4:])
        if to == b"greeting":
            self.greeting = text(line)
            self.mark("greeting", frame)
            if not ok:
                self.answer("-ERR", words, False, frame)
        elif to == b"CAPA" and ok:
            self.listing = []
        elif to == b"STLS":
            self.answer("+OK" if ok else "-ERR", words, ok, frame)

    def _client_line(self, line: bytes, frame: int) -> None:
        words = line.split(None, 1)
        if not words:
            return
        verb = words[0][:8].upper()
        if verb == b"STLS":
            self.request(frame)
        elif verb == b"QUIT":
            self.mark("quit", frame)
            self.done = True
            return
        elif (verb in _GOING_ON or (verb == b"AUTH" and len(words) > 1)) and not self.requested:
            self.went_on_in_plain_text(frame)
            return
        if len(self.pending) < MAX_PENDING:
            self.pending.append(verb)
