"""A connection that began in plain text and never got to TLS because of the server: STARTTLS
(or its kin) not offered, or refused; and the plain-text sessions that never asked.

Each rule reads ``Connection.starttls`` (results.starttls.StartTls, filled by the STARTTLS
stage) and quotes the server's own words with the frames they came in.
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.candidate import Candidate, candidate
from tlsdissect.diagnosis.causes import starttls_remedy_lines
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.verdict import Evidence, make_evidence
from tlsdissect.results.model import Connection
from tlsdissect.results.starttls import NO_ANSWER, NOT_OFFERED, PLAINTEXT, REFUSED, StartTls

# Per protocol: its name, where the server lists what it can do, and how TLS is asked for there.
PROTOCOLS: dict[str, tuple[str, str, str]] = {
    "smtp": ("SMTP", "EHLO reply", "STARTTLS"),
    "ftp": ("FTP", "FEAT reply", "AUTH TLS"),
    "imap": ("IMAP", "capability list", "STARTTLS"),
    "pop3": ("POP3", "CAPA reply", "STLS"),
    "ldap": ("LDAP", "root DSE (supportedExtension)", "the StartTLS extended operation"),
    "xmpp": ("XMPP", "stream features", "<starttls/>"),
    "postgresql": ("PostgreSQL", "answer to the SSLRequest", "an SSLRequest"),
    "mysql": ("MySQL", "greeting's capability flags", "an SSL request (CLIENT_SSL)"),
    "http_connect": ("HTTP proxy", "answer's Proxy-Authenticate header", "a CONNECT tunnel"),
}
# What an HTTP proxy's refusal of CONNECT says, by its status (RFC 9110 §15).
_PROXY_STATUS = {
    "407": "it wants credentials before it opens a tunnel",
    "403": "its policy refuses this destination or port",
    "405": "it is not a proxy that opens CONNECT tunnels",
    "501": "it is not a proxy that opens CONNECT tunnels",
    "502": "it could not reach the server (a bad answer from upstream)",
    "503": "it could not reach the server (unavailable)",
    "504": "it could not reach the server in time",
}
MAX_LISTED = 10  # capabilities quoted in an evidence line


def _protocol(st: StartTls) -> tuple[str, str, str]:
    return PROTOCOLS.get(st.protocol, (st.protocol, "capability list", "TLS"))


def _end(c: Connection) -> tuple[Optional[str], Optional[str]]:
    """(how, by whom) the connection ended."""
    close = c.tcp_close
    return (close.how if close else ("capture_ended" if c.partial else None)), (close.by if close else None)


def _frames(st: StartTls, *names: str) -> list[int]:
    return [st.frames[n] for n in names if n in st.frames]


def _answer(st: StartTls) -> str:
    """The server's answer in its own words: code, the code's name where it has one, text."""
    words = st.answer_code or ""
    if st.answer_name:
        words += f" ({st.answer_name})"
    if st.answer_text:
        words += f" {st.answer_text!r}"
    return words.strip()


def _what_the_client_did(st: StartTls) -> list[Evidence]:
    frames = st.frames
    if "tls_after_refusal" in frames:
        return [make_evidence("The client starts TLS anyway; the server, still speaking plain text, cannot answer "
                              "its ClientHello.", [frames["tls_after_refusal"]])]
    if "plaintext" in frames:
        return [make_evidence("The client goes on in plain text: nothing it sends from here is encrypted.",
                              [frames["plaintext"]])]
    if "quit" in frames:
        return [make_evidence("The client gives up and says goodbye.", [frames["quit"]])]
    return []


def _listing_line(st: StartTls) -> Optional[Evidence]:
    if "capabilities" not in st.frames or st.protocol == "postgresql":
        return None
    _, listing, keyword = _protocol(st)
    names = st.capabilities[:MAX_LISTED]
    more = f" and {len(st.capabilities) - MAX_LISTED} more" if len(st.capabilities) > MAX_LISTED else ""
    listed = (": " + ", ".join(repr(n) for n in names) + more) if names else " (empty)"
    verb = "lists" if st.offered else "does not list"
    return make_evidence(f"The server's {listing} {verb} {keyword}{listed}.", [st.frames["capabilities"]])


def _with_remedy(found: Candidate, st: StartTls) -> Candidate:
    found.remedy = starttls_remedy_lines(found.cause, st.protocol)
    return found


def proxy_refused(f: Facts) -> Optional[Candidate]:
    """An HTTP proxy answered the client's CONNECT with something other than 2xx: no tunnel, no TLS."""
    c = f.c
    st = c.starttls
    if st is None or st.protocol != "http_connect" or st.result not in (REFUSED, NOT_OFFERED):
        return None
    how, by = _end(c)
    target = f" to {st.target}" if st.target else ""
    meaning = _PROXY_STATUS.get(st.answer_code or "", "it refused the tunnel")
    evidence = [make_evidence(f"The client asks the proxy for a tunnel{target}; the proxy answers {_answer(st)}.",
                              _frames(st, "request", "answer"))]
    if st.capabilities:
        evidence.append(make_evidence(f"The proxy asks for credentials: {st.capabilities[0]!r}.",
                                      _frames(st, "capabilities")))
    evidence += _what_the_client_did(st)
    return _with_remedy(candidate(
        "failed", "proxy_connect_refused", "certain", failure_point="starttls", aborted_by=by or "server", how=how,
        evidence=evidence,
        explanation=(f"The HTTP proxy at {c.server} refused the client's CONNECT{target} with {_answer(st)}: "
                     f"{meaning}. The tunnel never opened, so TLS never started on this connection.")), st)


def not_offered(f: Facts) -> Optional[Candidate]:
    """The server does not do TLS on this connection, and the client got none."""
    c = f.c
    st = c.starttls
    if st is None or st.offered is not False or st.result not in (NOT_OFFERED, REFUSED):
        return None
    name, listing, keyword = _protocol(st)
    how, by = _end(c)
    evidence: list[Evidence] = []
    line = _listing_line(st)
    if line is not None:
        evidence.append(line)
    if st.protocol == "postgresql":
        evidence.append(make_evidence(f"The client asks for TLS with an SSLRequest; the server answers {_answer(st)}: "
                                      "it does not do TLS.", _frames(st, "request", "answer")))
        what = "answered the client's SSLRequest with 'N'"
    else:
        if st.requested and st.answer_code:
            evidence.append(make_evidence(f"The client asks for {keyword} anyway; the server refuses: {_answer(st)}.",
                                          _frames(st, "request", "answer")))
        what = f"did not list {keyword} in its {listing}"
    evidence += _what_the_client_did(st)
    return _with_remedy(candidate(
        "failed", "starttls_not_offered", "certain", failure_point="starttls", aborted_by=by or "client", how=how,
        evidence=evidence,
        explanation=(f"The {name} server at {c.server} does not offer TLS: it {what}. The client never got to TLS on "
                     "this connection.")), st)


def refused(f: Facts) -> Optional[Candidate]:
    """The server refused the client's request to start TLS (or the session itself)."""
    c = f.c
    st = c.starttls
    if st is None or st.result != REFUSED:
        return None
    name, _, keyword = _protocol(st)
    how, by = _end(c)
    evidence: list[Evidence] = []
    line = _listing_line(st)
    if line is not None:
        evidence.append(line)
    if st.requested:
        evidence.append(make_evidence(f"The client asks for {keyword}; the server refuses: {_answer(st)}.",
                                      _frames(st, "request", "answer")))
        explanation = (f"The client asked the {name} server at {c.server} to start TLS and the server refused "
                       f"({_answer(st)}); TLS never started on this connection.")
    else:
        evidence.append(make_evidence(f"The server refuses the session before the client can ask for TLS: "
                                      f"{_answer(st)}.", _frames(st, "answer")))
        explanation = (f"The {name} server at {c.server} refused the session ({_answer(st)}) before the client "
                       "could ask for TLS.")
    evidence += _what_the_client_did(st)
    return _with_remedy(candidate("failed", "starttls_refused", "certain", failure_point="starttls",
                                  aborted_by=by or "server", how=how, evidence=evidence, explanation=explanation), st)


def unanswered(f: Facts) -> Optional[Candidate]:
    """The client asked for TLS and the capture holds no answer (and no TLS)."""
    c = f.c
    st = c.starttls
    if st is None or st.result != NO_ANSWER or c.is_tls:
        return None
    name, _, keyword = _protocol(st)
    how, by = _end(c)
    line = make_evidence(f"The client asks for {keyword}; no answer follows.", _frames(st, "request"))
    if how == "capture_ended":
        return candidate("incomplete", "unknown", "possible", failure_point="starttls", how=how, evidence=[line],
                         explanation=f"The capture ends before the {name} server answers the request for TLS.")
    return candidate("failed", "server_no_response", "likely", failure_point="starttls", aborted_by=by, how=how,
                     evidence=[line],
                     explanation=f"The {name} server at {c.server} never answered the client's request for TLS.")


def plain_session(f: Facts) -> Optional[Candidate]:
    """A plain-text session whose client went on without asking for TLS: no TLS, and no failure."""
    c = f.c
    st = c.starttls
    if st is None or st.result != PLAINTEXT:
        return None
    name, _, keyword = _protocol(st)
    how, by = _end(c)
    evidence: list[Evidence] = []
    line = _listing_line(st)
    if line is not None:
        evidence.append(line)
    evidence += _what_the_client_did(st)
    offer = {True: f"although the server offered {keyword}", False: f"and the server did not offer {keyword}",
             None: "and the capture does not show whether the server offered it"}[st.offered]
    return candidate("not_tls", "not_tls", "certain", aborted_by=by, how=how, evidence=evidence,
                     explanation=f"A plain-text {name} session: the client went on without asking for TLS, {offer}.")
