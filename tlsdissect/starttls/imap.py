"""IMAP (RFC 9051, RFC 3501; STARTTLS: RFC 2595): the greeting, CAPABILITY, and the tagged STARTTLS.

The greeting (``* OK``, ``* PREAUTH``; ``* BYE`` refuses the session) may carry the capability
list in its response code (``[CAPABILITY ...]``); a ``* CAPABILITY`` line does too. The
client's ``tag STARTTLS`` is answered by ``tag OK`` (TLS follows), ``tag NO`` or ``tag BAD``.
"""

from __future__ import annotations

import re

from tlsdissect.starttls.exchange import LineExchange, text

_CAPABILITY_CODE = re.compile(rb"\[CAPABILITY ([^\]]*)\]", re.IGNORECASE)
# Commands that go on with the session's business (credentials, mailboxes): sent before any
# STARTTLS, the client goes on in plain text. Others (CAPABILITY, NOOP, ID) change nothing.
_GOING_ON = frozenset((b"LOGIN", b"AUTHENTICATE", b"SELECT", b"EXAMINE", b"LIST", b"LSUB", b"STATUS", b"APPEND",
                       b"CREATE", b"DELETE", b"RENAME", b"SUBSCRIBE", b"ENABLE", b"NAMESPACE"))


class Imap(LineExchange):
    protocol = "imap"

    def __init__(self, server: int) -> None:
        super().__init__(server)
        self.tag = b""  # the STARTTLS command's tag

    def _after_refusal(self, first: bytes, data: bytes, frame: int) -> None:
        words = first.split(None, 2)
        self.client_after_answer(data, frame, len(words) > 1 and words[1].upper() == b"LOGOUT")

    def _server_line(self, line: bytes, frame: int) -> None:
        words = line.split(None, 2)
        if len(words) < 2:
            return
        tag, status = words[0], words[1].upper()
        rest = words[2] if len(words) > 2 else b""
        if tag == b"*":
            if self.greeting is None and status in (b"OK", b"PREAUTH", b"BYE"):
                self.greeting = text(line)
                self.mark("greeting", frame)
                if status == b"BYE":
                    self.answer("BYE", text(rest), False, frame)
            if status == b"CAPABILITY":
                self._capabilities(rest, frame)
            else:
                found = _CAPABILITY_CODE.search(line)
                if found:
                    self._capabilities(found.group(1), frame)
        elif self.tag and tag == self.tag:
            self.answer(status.decode("ascii", "backslashreplace"), text(rest), status == b"OK", frame)

    def _capabilities(self, atoms: bytes, frame: int) -> None:
        names = [text(a) for a in atoms.split()]
        self.capability_list(names, any(n.upper() == "STARTTLS" for n in names), frame)

    def _client_line(self, line: bytes, frame: int) -> None:
        words = line.split(None, 2)
        if len(words) < 2:
            return
        command = words[1][:16].upper()
        if command == b"STARTTLS":
            self.tag = words[0][:64]
            self.request(frame)
        elif command == b"LOGOUT":
            self.mark("quit", frame)
            self.done = True
        elif command in _GOING_ON and not self.requested:
            self.went_on_in_plain_text(frame)
