"""The parts of a connection's story beyond the verdict: warnings on a connection that worked,
the certificate chains as a tree, what a refused client offered, and the ladder diagram.

Each part comes twice: as data (``warning_texts``, ``chains``, ``offer``, ``ladder_rows``), which
the HTML report (``report.html``) draws, and as plain lines (text and an optional style) made
from that data, which ``report.text`` sends through ``safe.shown`` on its way to the terminal.
Capture data here is raw: each view escapes it for its medium.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Optional

from tlsdissect.framing.unwrapper import TITLES as FRAMING_TITLES
from tlsdissect.report.safe import VALUE_LIMIT, shown
from tlsdissect.results.model import Connection, Event
from tlsdissect.tls import tables

Line = tuple[str, str]  # (text, rich style)

# Chain findings that are only information, not a problem worth a warning line.
_QUIET_FINDINGS = frozenset({"trusted", "signature_not_checked", "root_included"})
LADDER_WIDTH = 46  # characters between the client's and the server's column


def warning_texts(c: Connection) -> list[str]:
    """Problems on a connection whose handshake completed, one sentence each: certificate
    findings (error and warning), warning alerts other than close_notify, and a problem after
    the handshake that did not stop the exchange (a late alert: diagnosis.after_handshake)."""
    out: list[str] = []
    for f in c.extra.get("chain_findings") or ():
        if f.get("severity") in ("error", "warning") and f.get("id") not in _QUIET_FINDINGS:
            role = f.get("role", "server")
            out.append(f"{role} certificate: {f.get('text')} ({f.get('id')})")
    for a in c.alerts:
        if a.level == "warning" and a.code != 0:
            out.append(f"{a.sender} sent the warning alert {a.name} ({a.hex}) in frame {a.frame}")
    diag = c.diagnosis
    after = getattr(diag, "after_handshake", None) if diag is not None else None
    if after and not after.get("stopped_exchange"):
        frames = ", ".join(str(x) for x in after.get("frames") or ())
        out.append(f"{after.get('text')} ({after.get('problem')}; frames {frames})")
    return out


def warnings(c: Connection) -> list[Line]:
    """``warning_texts`` as the text view's lines."""
    return [(f"warning: {text}", "yellow") for text in warning_texts(c)]


def explanation_beside(explanation: str, evidence: Iterable[str]) -> str:
    """The explanation to print above the evidence lines: without the sentences that an
    evidence line says word for word (that line keeps them, with the frames that show them),
    so that no sentence is printed twice. Empty when the explanation is nothing else."""
    text = explanation
    for line in evidence:
        if not line:
            continue
        start = text.find(line)
        while start >= 0:
            end = start + len(line)
            if (start == 0 or text[start - 1] == " ") and (end == len(text) or text[end] == " "):
                text = text[:start] + text[end:]  # a whole sentence (or run of sentences) repeated
                start = text.find(line, start)
            else:
                start = text.find(line, start + 1)
    return text if text is explanation else " ".join(text.split())


def _when(text: Optional[str]) -> Optional[datetime]:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _validity(cert: dict[str, Any], at: datetime) -> tuple[str, Optional[str]]:
    """The validity span as text, and how it stands at ``at``: valid, expired, not_yet_valid
    (None when a date is missing or unreadable)."""
    nb, na = _when(cert.get("not_before")), _when(cert.get("not_after"))
    span = f"{(cert.get('not_before') or '?')[:10]} .. {(cert.get('not_after') or '?')[:10]}"
    if nb is None or na is None:
        return span, None
    if at < nb:
        return span, "not_yet_valid"
    if at > na:
        return span, "expired"
    return span, "valid"


_VALIDITY_NOTE = {"not_yet_valid": " (NOT YET VALID at the capture's time)",
                  "expired": " (EXPIRED at the capture's time)", "valid": " (valid at the capture's time)"}


@dataclass
class CertEntry:
    """One certificate as sent, as the chain views show it."""

    index: int
    subject: str = ""
    issuer: str = ""
    validity: str = ""  # "2025-06-01 .. 2035-01-01"
    status: Optional[str] = None  # valid | expired | not_yet_valid, at the capture's time
    names: list[str] = field(default_factory=list)  # SAN DNS names, then IP addresses
    key: str = ""  # "RSA 2048", "EC secp256r1"
    signature: str = ""
    parse_error: Optional[str] = None


@dataclass
class Chain:
    """The certificates one side sent (``role``: server or client), in the order sent."""

    role: str
    certs: list[CertEntry]
    trust: Optional[str] = None  # the server chain's trust verdict


def chains(c: Connection) -> list[Chain]:
    """The server's and the client's certificates as sent, judged at the connection's start."""
    out: list[Chain] = []
    at = datetime.fromtimestamp(c.start_time, tz=timezone.utc)
    for role in ("server", "client"):
        certs = c.extra.get(f"{role}_certificates") or []
        if not certs:
            continue
        entries: list[CertEntry] = []
        for i, cert in enumerate(certs):
            if cert.get("parse_error"):
                entries.append(CertEntry(i, parse_error=str(cert["parse_error"])))
                continue
            span, status = _validity(cert, at)
            key = " ".join(str(x) for x in (cert.get("key_type"), cert.get("key_size") or cert.get("key_curve")) if x)
            entries.append(CertEntry(i, subject=cert.get("subject") or "", issuer=cert.get("issuer") or "",
                                     validity=span, status=status,
                                     names=list(cert.get("san_dns") or []) + list(cert.get("san_ip") or []),
                                     key=key, signature=cert.get("signature_algorithm") or ""))
        out.append(Chain(role, entries, c.extra.get("trust") if role == "server" else None))
    return out


def chain_tree(c: Connection) -> list[Line]:
    """The server's and the client's certificates as sent, one small block each."""
    out: list[Line] = []
    for chain in chains(c):
        trust = chain.trust
        certs = chain.certs
        out.append((f"{chain.role} certificates ({len(certs)} sent" + (f", trust: {trust}" if trust else "") + "):",
                    "bold"))
        for cert in certs:
            i = cert.index
            branch = "└─" if i == len(certs) - 1 else "├─"
            pad = "   " if i == len(certs) - 1 else "│  "
            if cert.parse_error is not None:
                out.append((f"{branch} [{i}] unparsable: {cert.parse_error}", "red"))
                continue
            out.append((f"{branch} [{i}] {cert.subject or '(empty subject)'}", ""))
            out.append((f"{pad}     issuer:   {cert.issuer or '(empty)'}", "dim"))
            out.append((f"{pad}     validity: {cert.validity}{_VALIDITY_NOTE.get(cert.status or '', '')}", "dim"))
            if cert.names:
                out.append((f"{pad}     names:    {', '.join(cert.names)}", "dim"))
            sig = cert.signature
            out.append((f"{pad}     key:      {cert.key or '?'}" + (f", signed with {sig}" if sig else ""), "dim"))
    return out


def _decoded(hello: Any, ext_type: int) -> dict[str, Any]:
    e = hello.ext(ext_type)
    d = e.decoded if e is not None else None
    return d or {}


@dataclass
class Offer:
    """What a client offered in its ClientHello, by name."""

    versions: list[str]
    suites: list[str]
    groups: list[str]
    shares: list[str]
    schemes: list[str]
    alpn: list[str]
    server_name: Optional[str]


def offer(c: Connection) -> Optional[Offer]:
    """The ClientHello's offer by name (None without a ClientHello)."""
    ch = c.client_hello
    if ch is None:
        return None
    versions = ch.supported_versions or [ch.legacy_version]
    return Offer(
        versions=[tables.version_name(v) for v in versions],
        suites=[tables.cipher_name(s) if s <= 0xFFFF else f"SSLv2:0x{s:06x}" for s in ch.cipher_suites],
        groups=list(_decoded(ch, 10).get("groups_names") or []),
        shares=list(_decoded(ch, 51).get("group_names") or []),  # (the key_share decode: groups, group_names)
        schemes=list(_decoded(ch, 13).get("algorithms_names") or []),
        alpn=list(ch.alpn or []),
        server_name=ch.server_name or None,
    )


def client_offer(c: Connection) -> list[Line]:
    """What the client offered, by name: for a ClientHello the server refused."""
    o = offer(c)
    if o is None:
        return []
    out: list[Line] = [("the client offered:", "bold"),
                       ("  versions:          " + ", ".join(o.versions), "")]
    out.append((f"  cipher suites ({len(o.suites)}): " + ", ".join(o.suites), ""))
    if o.groups:
        out.append((f"  groups ({len(o.groups)}):        " + ", ".join(o.groups), ""))
    if o.shares:
        out.append(("  key shares:        " + ", ".join(o.shares), ""))
    if o.schemes:
        out.append((f"  signature schemes ({len(o.schemes)}): " + ", ".join(o.schemes), ""))
    if o.alpn:
        out.append(("  ALPN:              " + ", ".join(o.alpn), ""))
    if o.server_name:
        out.append(("  server name:       " + o.server_name, ""))
    return out


_STARTTLS_NAMES = {"smtp": "SMTP", "ftp": "FTP", "imap": "IMAP", "pop3": "POP3", "ldap": "LDAP", "xmpp": "XMPP",
                   "postgresql": "PostgreSQL", "mysql": "MySQL"}
_STARTTLS_RESULTS = {"accepted": "accepted, TLS follows", "refused": "refused by the server",
                     "not_offered": "not offered by the server", "plaintext": "never asked for: the client went on in plain text",
                     "no_answer": "asked for, no answer", "incomplete": "the exchange stops before TLS is asked for"}


def starttls_line(c: Connection) -> list[Line]:
    """The plain-text prelude before TLS in one line: protocol, offer, request, answer, with
    their frames (the server's words are capture data: report.text shows them through safe.shown)."""
    st = c.starttls
    if st is None:
        return []
    frames = st.frames
    offered = {True: "yes", False: "no", None: "not listed"}[st.offered]
    if "capabilities" in frames:
        offered += f" (frame {frames['capabilities']})"
    parts = [f"starttls: {_STARTTLS_NAMES.get(st.protocol, st.protocol)}, {_STARTTLS_RESULTS.get(st.result, st.result)}",
             f"offered {offered}"]
    parts.append(f"requested in frame {frames['request']}" if "request" in frames else "not requested")
    if st.answer_code is not None and "answer" in frames:
        answer = st.answer_code + (f" ({st.answer_name})" if st.answer_name else "")
        if st.answer_text:
            answer += f" {st.answer_text!r}"
        parts.append(f"answer {answer} in frame {frames['answer']}")
    elif "answer" in frames:  # MySQL: the server answers the SSL request with TLS itself
        parts.append(f"answered with TLS in frame {frames['answer']}")
    return [("; ".join(parts), "magenta" if st.result in ("refused", "not_offered") else "dim")]


def fingerprint_lines(c: Connection) -> list[Line]:
    """The -v view's fingerprints: the client's (JA4, JA3), the server's (JA4S, JA3S), and the
    leaf certificate's JA4X. (Hex digits and decimal lists only: nothing from the capture to
    escape.)"""
    fp = c.fingerprints
    if fp is None:
        return []
    rows = [("client", [("JA4", fp.ja4), ("JA3", fp.ja3)]), ("server", [("JA4S", fp.ja4s), ("JA3S", fp.ja3s)]),
            ("certificate", [("JA4X", fp.ja4x[0] if fp.ja4x else None)])]
    out: list[Line] = []
    for who, values in rows:
        shown_values = [f"{name} {value}" for name, value in values if value]
        if shown_values:
            out.append((f"fingerprints: {who:<11} " + "  ".join(shown_values), "dim"))
    return out


@dataclass
class LadderRow:
    """One arrow of the ladder diagram."""

    frame: int
    offset: float  # seconds since the connection's first event
    sender: str  # client | server: the arrow points away from it
    label: str
    kind: str  # alert | rst | anomaly | gap | other: how the views mark the row


def ladder_rows(c: Connection, describe: Callable[[Event], str]) -> list[LadderRow]:
    """The timeline as arrows: each event's frame, time since the first, sender and label."""
    if not c.events:
        return []
    t0 = c.events[0].time
    kinds = ("alert", "rst", "anomaly", "gap")
    return [LadderRow(e.frame, e.time - t0, e.sender, describe(e), e.type if e.type in kinds else "other")
            for e in c.events]


def ladder(c: Connection, describe: Callable[[Event], str]) -> list[Line]:
    """The timeline as a two-column flow graph: client on the left, server on the right, each
    arrow in the direction its packet travelled, with frame numbers and seconds since the first."""
    rows = ladder_rows(c, describe)
    if not rows:
        return []
    left = f"client {c.client}"
    out: list[Line] = [(f"{'frame':>7}  {'time':>9}  {left:<{LADDER_WIDTH + 2}}server {c.server}", "bold")]
    for r in rows:
        out.append((f"{r.frame:>7}  {r.offset:>9.6f}  {_arrow(r.sender, r.label)}", _STYLES.get(r.kind, "dim")))
    return out


def _arrow(sender: str, label: str) -> str:
    room = LADDER_WIDTH - 4
    if len(label) > room:
        label = label[: room - 1] + "…"
    fill = "─" * (room - len(label))
    if sender == "client":
        return f"|─ {label} {fill}▶|"
    return f"|◀{fill} {label} ─|"


_STYLES = {"alert": "red", "rst": "red", "anomaly": "yellow", "gap": "yellow"}


def event_label(e: Event) -> str:
    """An event in a few words, as the timeline and the ladder show it (capture values cut to
    ``VALUE_LIMIT`` and escaped by ``safe.shown``)."""
    i = e.info
    if e.type == "handshake":
        s: str = i.get("message", "?")
        extra = [f"{k}={shown(str(i[k]), VALUE_LIMIT)}" for k in ("server_name", "version", "cipher", "certificates") if k in i]
        return s + (" (" + ", ".join(map(str, extra)) + ")" if extra else "")
    if e.type == "alert":
        if i.get("code") is None:
            return f"encrypted alert ({i.get('length')} bytes)"
        return f"alert {i.get('level')} {i.get('name')} ({i.get('hex')})"
    if e.type == "encrypted_record":
        return f"encrypted {i.get('content_type')} record, {i.get('length')} bytes"
    if e.type == "not_tls":
        return f"not TLS: {i.get('looks_like')}"
    if e.type == "encapsulation":
        framing = str(i.get("framing"))
        return f"TLS inside {FRAMING_TITLES.get(framing, shown(framing, VALUE_LIMIT))}"
    if e.type == "gap":
        return f"{i.get('bytes')} bytes missing from the capture ({i.get('detail')})"
    if e.type == "rst":
        return "TCP RST"
    if e.type == "fin":
        return "TCP FIN"
    if e.type == "syn":
        return "TCP SYN"
    if e.type == "syn_ack":
        return "TCP SYN-ACK"
    return e.type.replace("_", " ")
