"""What the plain-text exchange before TLS came to (SMTP STARTTLS, PostgreSQL's SSLRequest, ...).

Filled by the STARTTLS reader (tlsdissect.starttls) for a connection that began in plain text
and read by the diagnosis (did the server offer TLS, refuse it, or accept it) and the views.
Plain data with its JSON form (docs/schema.md, ``connections[].starttls``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

# What the exchange came to (``StartTls.result``):
ACCEPTED = "accepted"  # the server said yes (TLS follows: the usual diagnosis)
REFUSED = "refused"  # the server answered the request (or the session) with a refusal
NOT_OFFERED = "not_offered"  # the server does not do TLS here (no STARTTLS, 'N', no CLIENT_SSL) and the client got none
PLAINTEXT = "plaintext"  # the client went on in plain text without asking for TLS
NO_ANSWER = "no_answer"  # the client asked; the capture holds no answer
INCOMPLETE = "incomplete"  # the exchange did not get as far as a request (capture end, a gave-up client)
RESULTS = (ACCEPTED, REFUSED, NOT_OFFERED, PLAINTEXT, NO_ANSWER, INCOMPLETE)
# The protocols whose plain-text prelude the STARTTLS stage reads (``StartTls.protocol``; each
# reader of tlsdissect.starttls names its own, tests/test_tables.py checks they are these).
PROTOCOLS = ("smtp", "ftp", "nntp", "imap", "pop3", "ldap", "xmpp", "postgresql", "mysql", "http_connect")


@dataclass(slots=True)
class StartTls:
    """The plain-text prelude of one connection, as far as it concerns TLS."""

    protocol: str  # smtp | ftp | imap | pop3 | ldap | xmpp | postgresql | mysql | http_connect
    result: str  # one of RESULTS
    offered: Optional[bool] = None  # the server's capability list named TLS (None: no list seen)
    requested: bool = False  # the client asked to start TLS
    answer_code: Optional[str] = None  # the server's answer: "454", "NO", "-ERR", "53", "N", "failure", ...
    answer_text: Optional[str] = None  # the server's own words with it (capped)
    answer_name: Optional[str] = None  # what a numeric answer code means where the protocol names them (LDAP)
    greeting: Optional[str] = None  # the server's first line (it often names the software)
    capabilities: list[str] = field(default_factory=list)  # what the server listed (capped)
    frames: dict[str, int] = field(default_factory=dict)  # greeting, capabilities, request, answer, plaintext, quit, tls_after_refusal
    truncated: bool = False  # the reader reached its budget before the exchange ended
    target: Optional[str] = None  # http_connect: the host:port the client asked the proxy for

    def to_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "result": self.result, "offered": self.offered,
                "requested": self.requested, "answer_code": self.answer_code, "answer_text": self.answer_text,
                "answer_name": self.answer_name, "greeting": self.greeting,
                "capabilities": list(self.capabilities), "frames": dict(self.frames), "truncated": self.truncated,
                "target": self.target}

    @property
    def failed(self) -> bool:
        """The server kept the client from TLS: it refused, or did not offer TLS to a client that
        needed it."""
        return self.result in (REFUSED, NOT_OFFERED)
