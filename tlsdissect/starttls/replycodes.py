"""SMTP (RFC 5321, STARTTLS: RFC 3207) and FTP (RFC 959, AUTH TLS: RFC 4217): numbered replies.

Both greet with ``220`` and answer each command with a three-digit code, several lines joined
by ``-`` (SMTP) or framed by ``ddd-`` ... ``ddd `` (FTP); the client's commands tell which of
the two it is (EHLO/HELO/STARTTLS: SMTP; AUTH TLS/FEAT: FTP), and failing that the port or the
greeting. Replies answer the commands in order (SMTP pipelining included).
"""

from __future__ import annotations

from tlsdissect.starttls.exchange import LineExchange, text

MAX_REPLY_LINES = 64  # lines kept of one multi-line reply
MAX_PENDING = 32  # commands waiting for their reply
_FTP_TLS_MECHANISMS = frozenset((b"TLS", b"SSL", b"TLS-C", b"TLS-P"))
# Commands that go on with the protocol's business (mail, credentials, files): sent before any
# STARTTLS, the client goes on in plain text. Others (NOOP, HELP, SYST, ...) change nothing.
_GOING_ON = frozenset((b"MAIL", b"RCPT", b"DATA", b"BDAT", b"AUTH", b"USER", b"PASS", b"ACCT", b"LIST", b"NLST",
                       b"RETR", b"STOR", b"CWD", b"PWD", b"PASV", b"EPSV", b"PORT", b"EPRT", b"TYPE", b"VRFY"))
_FTP_PORTS = frozenset((21, 2121))


class ReplyCodes(LineExchange):
    """An SMTP or FTP prelude (``protocol`` is settled by the client's commands)."""

    protocol = ""

    def __init__(self, server: int) -> None:
        super().__init__(server)
        self.reply: list[bytes] = []  # the lines of a multi-line reply being read
        self.reply_code = b""
        self.pending: list[bytes] = [b"greeting"]  # what the next replies answer, in order

    def _after_refusal(self, first: bytes, data: bytes, frame: int) -> None:
        if self._asks_for_tls(first) and "answer" in self.frames and not self.no_tls_answer:
            self.ask_again(frame)  # curl: AUTH SSL refused, then AUTH TLS
            self.pending.append(b"STARTTLS")
            return
        super()._after_refusal(first, data, frame)

    def _server_line(self, line: bytes, frame: int) -> None:
        code = self.reply_code
        if code:  # inside a multi-line reply
            if len(self.reply) < MAX_REPLY_LINES:
                self.reply.append(line)
            if line[:3] == code and line[3:4] in (b" ", b""):
                self.reply_code = b""
                self._reply(code, self.reply, frame)
            return
        if len(line) < 3 or not line[:3].isdigit():
            return  # not a reply line: nothing this reader needs
        if line[3:4] == b"-":
            self.reply_code = line[:3]
            self.reply = [line]
            return
        self._reply(line[:3], [line], frame)

    def _reply(self, code: bytes, lines: list[bytes], frame: int) -> None:
        """A complete reply: it answers the oldest command still waiting."""
        to = self.pending.pop(0) if self.pending else b""
        words = " ".join(text(line[4:]) if line[:3] == code else text(line) for line in lines)
        scode = code.decode("ascii")
        if to == b"greeting":
            if code[:1] == b"1":  # FTP's "120 ready in n minutes": the greeting is still to come
                self.pending.insert(0, b"greeting")
                return
            self.greeting = text(lines[0])
            self.mark("greeting", frame)
            if code in (b"200", b"201"):  # NNTP's greeting (its STARTTLS answers 382): not read here
                self.protocol = "nntp"
                self.done = True
            elif code[:1] in (b"4", b"5"):  # 421/554: the server refuses the session itself
                self.answer(scode, words, False, frame)
        elif to in (b"EHLO", b"LHLO") and code[:1] == b"2":
            names = [text(line[4:]) for line in lines[1:]]
            self.capability_list(names, any(n.split(" ")[0].upper() == "STARTTLS" for n in names), frame)
        elif to == b"FEAT" and code == b"211":
            names = [text(line) for line in lines[1:-1]]
            offered = any(n.upper().startswith("AUTH") and ("TLS" in n.upper() or "SSL" in n.upper()) for n in names)
            self.capability_list(names, offered, frame)
        elif to == b"STARTTLS":
            ok = code == (b"234" if self.protocol == "ftp" else b"220")
            self.answer(scode, words, ok, frame)

    # -- the client ------------------------------------------------------------------------
    @staticmethod
    def _asks_for_tls(line: bytes) -> bool:
        words = line.split(None, 2)
        verb = words[0].upper() if words else b""
        return verb == b"STARTTLS" or (verb == b"AUTH" and len(words) > 1 and words[1].upper() in _FTP_TLS_MECHANISMS)

    def _client_line(self, line: bytes, frame: int) -> None:
        words = line.split(None, 2)
        if not words:
            return
        verb = words[0][:12].upper()
        arg = words[1].upper() if len(words) > 1 else b""
        pending = self.pending
        if verb in (b"EHLO", b"HELO", b"LHLO"):
            self.protocol = self.protocol or "smtp"
            waiting = verb
        elif verb == b"STARTTLS":
            self.protocol = self.protocol or "smtp"
            self.request(frame)
            waiting = b"STARTTLS"
        elif verb == b"AUTH" and arg in _FTP_TLS_MECHANISMS and not self.requested:
            self.protocol = self.protocol or "ftp"
            self.request(frame)
            waiting = b"STARTTLS"
        elif verb == b"FEAT":
            self.protocol = self.protocol or "ftp"
            waiting = verb
        elif verb == b"QUIT":
            self.mark("quit", frame)
            self.done = True
            return
        elif verb in _GOING_ON:
            if not self.requested:
                self.went_on_in_plain_text(frame)
            return
        else:
            waiting = verb
        if len(pending) < MAX_PENDING:
            pending.append(waiting)

    def settle(self, server_port: int) -> None:
        if not self.protocol:
            ftp = server_port in _FTP_PORTS or "FTP" in (self.greeting or "").upper()
            self.protocol = "ftp" if ftp else "smtp"
