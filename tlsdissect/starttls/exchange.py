"""What every STARTTLS protocol reader keeps and how it becomes a ``StartTls`` result.

A protocol module subclasses :class:`Exchange`: it is fed each direction's bytes in capture
order (``feed``), notes the server's greeting and capability list, the client's request, the
server's answer and whether the client went on in plain text, each with its frame, and sets
``done`` once nothing more of the prelude matters.
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.results.starttls import (ACCEPTED, INCOMPLETE, NO_ANSWER, NOT_OFFERED, PLAINTEXT, REFUSED,
                                         StartTls)
from tlsdissect.starttls.lines import Lines

MAX_TEXT = 300  # characters kept of one text from the capture (a greeting, an answer)
MAX_CAPABILITIES = 40  # capability names kept
MAX_CAPABILITY = 60  # characters kept of one


def text(raw: bytes) -> str:
    """Capture bytes as text: UTF-8 where it is, escapes where it is not; cut at MAX_TEXT."""
    return raw[:MAX_TEXT * 4].decode("utf-8", "backslashreplace").strip()[:MAX_TEXT]


def looks_like_tls(data: bytes) -> bool:
    """Do these bytes start a TLS handshake record (a ClientHello after STARTTLS)?"""
    return len(data) >= 3 and data[0] == 0x16 and data[1] == 3 and data[2] <= 4


class Exchange:
    """One connection's plain-text prelude as far as TLS goes; see the module docstring."""

    protocol = ""

    def __init__(self, server: int) -> None:
        self.server = server  # the server's direction (0 or 1)
        self.offered: Optional[bool] = None
        self.requested = False
        self.accepted: Optional[bool] = None  # the server's answer: yes, no, or none yet
        self.no_tls_answer = False  # the "no" means the server does not do TLS (PostgreSQL's 'N')
        self.answer_code: Optional[str] = None
        self.answer_text: Optional[str] = None
        self.answer_name: Optional[str] = None  # a numeric code's registered name (LDAP's resultCode)
        self.greeting: Optional[str] = None
        self.target: Optional[str] = None  # where the client asked to be connected (HTTP CONNECT's authority)
        self.capabilities: list[str] = []
        self.frames: dict[str, int] = {}
        self.done = False

    def feed(self, d: int, data: bytes, frame: int) -> None:  # pragma: no cover - every protocol has its own
        raise NotImplementedError

    # -- what the protocol readers note --------------------------------------------------
    def mark(self, name: str, frame: int) -> None:
        """The first frame of something (``greeting``, ``request``, ``answer``, ``plaintext``, ...)."""
        self.frames.setdefault(name, frame)

    def capability_list(self, names: list[str], offered: bool, frame: int) -> None:
        """The server listed what it can do (an EHLO reply, IMAP CAPABILITY, ...)."""
        if self.offered is not True:
            self.offered = offered
        for name in names:
            if len(self.capabilities) >= MAX_CAPABILITIES:
                break
            if name and name not in self.capabilities:
                self.capabilities.append(name[:MAX_CAPABILITY])
        self.mark("capabilities", frame)

    def request(self, frame: int) -> None:
        self.requested = True
        self.mark("request", frame)

    def answer(self, code: str, words: str, accepted: bool, frame: int) -> None:
        """The server's answer to the request (or its refusal of the whole session)."""
        if self.accepted is not None:
            return
        self.accepted = accepted
        self.answer_code = code[:MAX_CAPABILITY]
        self.answer_text = words[:MAX_TEXT]
        self.mark("answer", frame)
        if accepted:
            self.done = True

    def ask_again(self, frame: int) -> None:
        """The client asks for TLS once more after a refusal (another mechanism): the exchange
        reads on, and the request and answer it reports are the last ones."""
        self.accepted = None
        self.frames["request"] = frame
        self.frames.pop("answer", None)

    def client_after_answer(self, data: bytes, frame: int, quits: bool) -> None:
        """The client's first bytes after a refusal: TLS anyway, its goodbye (``quits``), or
        plain text on."""
        if looks_like_tls(data):
            self.mark("tls_after_refusal", frame)
        else:
            self.mark("quit" if quits else "plaintext", frame)
        self.done = True

    def went_on_in_plain_text(self, frame: int) -> None:
        """The client went on with the protocol without TLS (before any request)."""
        self.mark("plaintext", frame)
        self.done = True

    def settle(self, server_port: int) -> None:
        """Last decisions at the end (the port tells SMTP from FTP when nothing else did)."""

    # -- the result ----------------------------------------------------------------------
    def result(self, truncated: bool) -> StartTls:
        if self.accepted is True:
            result = ACCEPTED
        elif self.accepted is False:
            result = NOT_OFFERED if self.no_tls_answer else REFUSED
        elif self.requested:
            result = NO_ANSWER
        elif "plaintext" in self.frames:
            result = PLAINTEXT
        elif self.offered is False:
            result = NOT_OFFERED
        else:
            result = INCOMPLETE
        offered = False if self.no_tls_answer else self.offered
        return StartTls(self.protocol, result, offered, self.requested, self.answer_code, self.answer_text,
                        self.answer_name, self.greeting, list(self.capabilities), dict(self.frames), truncated and not self.done,
                        self.target)


class LineExchange(Exchange):
    """A protocol of text lines both ways (SMTP, FTP, IMAP, POP3): each direction's bytes cut
    into lines, the server's to ``_server_line``, the client's to ``_client_line``; after a
    refusal, the client's next line to ``_after_refusal``; TLS bytes from a client that got no
    answer end the prelude."""

    def __init__(self, server: int) -> None:
        super().__init__(server)
        self.lines = (Lines(), Lines())

    def feed(self, d: int, data: bytes, frame: int) -> None:
        if d == self.server:
            for line in self.lines[d].feed(data):
                self._server_line(line, frame)
                if self.done:
                    return
        elif self.accepted is False:
            self._after_refusal((self.lines[d].feed(data) or [b""])[0], data, frame)
        elif looks_like_tls(data):
            self.mark("tls_without_answer", frame)
            self.done = True
        else:
            for line in self.lines[d].feed(data):
                self._client_line(line, frame)
                if self.done:
                    return

    def _after_refusal(self, first: bytes, data: bytes, frame: int) -> None:
        """The client's first line after the server said no: does it leave (QUIT by default)?"""
        self.client_after_answer(data, frame, first[:4].upper() == b"QUIT")

    def _server_line(self, line: bytes, frame: int) -> None:  # pragma: no cover - every protocol has its own
        raise NotImplementedError

    def _client_line(self, line: bytes, frame: int) -> None:  # pragma: no cover - every protocol has its own
        raise NotImplementedError
