"""The parts of a connection's story beyond the verdict: warnings on a connection that worked,
the certificate chains as a tree, what a refused client offered, and the ladder diagram.

Each function returns plain lines (text and an optional style); ``report.text`` sends every one
through ``safe.shown`` on its way to the terminal, so capture data here needs no escaping yet.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from tlsdissect.results.model import Connection, Event
from tlsdissect.tls import tables

Line = tuple[str, str]  # (text, rich style)

# Chain findings that are only information, not a problem worth a warning line.
_QUIET_FINDINGS = frozenset({"trusted", "signature_not_checked", "root_included"})
LADDER_WIDTH = 46  # characters between the client's and the server's column


def warnings(c: Connection) -> list[Line]:
    """Problems on a connection whose handshake completed: certificate findings (error and
    warning), warning alerts other than close_notify, and HTTP refusals or other causes the
    diagnosis found after the handshake."""
    out: list[Line] = []
    for f in c.extra.get("chain_findings") or ():
        if f.get("severity") in ("error", "warning") and f.get("id") not in _QUIET_FINDINGS:
            role = f.get("role", "server")
            out.append((f"warning: {role} certificate: {f.get('text')} ({f.get('id')})", "yellow"))
    for a in c.alerts:
        if a.level == "warning" and a.code != 0:
            out.append((f"warning: {a.sender} sent the warning alert {a.name} ({a.hex}) in frame {a.frame}", "yellow"))
    return out


def _when(text: Optional[str]) -> Optional[datetime]:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _validity(cert: dict[str, Any], at: datetime) -> str:
    nb, na = _when(cert.get("not_before")), _when(cert.get("not_after"))
    span = f"{(cert.get('not_before') or '?')[:10]} .. {(cert.get('not_after') or '?')[:10]}"
    if nb is None or na is None:
        return span
    if at < nb:
        return f"{span} (NOT YET VALID at the capture's time)"
    if at > na:
        return f"{span} (EXPIRED at the capture's time)"
    return f"{span} (valid at the capture's time)"


def chain_tree(c: Connection) -> list[Line]:
    """The server's and the client's certificates as sent, one small block each."""
    out: list[Line] = []
    at = datetime.fromtimestamp(c.start_time, tz=timezone.utc)
    for role in ("server", "client"):
        certs = c.extra.get(f"{role}_certificates") or []
        if not certs:
            continue
        trust = c.extra.get("trust") if role == "server" else None
        out.append((f"{role} certificates ({len(certs)} sent" + (f", trust: {trust}" if trust else "") + "):", "bold"))
        for i, cert in enumerate(certs):
            branch = "└─" if i == len(certs) - 1 else "├─"
            pad = "   " if i == len(certs) - 1 else "│  "
            if cert.get("parse_error"):
                out.append((f"{branch} [{i}] unparsable: {cert['parse_error']}", "red"))
                continue
            out.append((f"{branch} [{i}] {cert.get('subject') or '(empty subject)'}", ""))
            out.append((f"{pad}     issuer:   {cert.get('issuer') or '(empty)'}", "dim"))
            out.append((f"{pad}     validity: {_validity(cert, at)}", "dim"))
            names = list(cert.get("san_dns") or []) + list(cert.get("san_ip") or [])
            if names:
                out.append((f"{pad}     names:    {', '.join(names)}", "dim"))
            key = " ".join(str(x) for x in (cert.get("key_type"), cert.get("key_size") or cert.get("key_curve")) if x)
            sig = cert.get("signature_algorithm") or ""
            out.append((f"{pad}     key:      {key or '?'}" + (f", signed with {sig}" if sig else ""), "dim"))
    return out


def _decoded(hello: Any, ext_type: int) -> dict[str, Any]:
    e = hello.ext(ext_type)
    d = e.decoded if e is not None else None
    return d or {}


def client_offer(c: Connection) -> list[Line]:
    """What the client offered, by name: for a ClientHello the server refused."""
    ch = c.client_hello
    if ch is None:
        return []
    versions = ch.supported_versions or [ch.legacy_version]
    suites = [tables.cipher_name(s) if s <= 0xFFFF else f"SSLv2:0x{s:06x}" for s in ch.cipher_suites]
    groups = _decoded(ch, 10).get("groups_names") or []
    schemes = _decoded(ch, 13).get("algorithms_names") or []
    shares = [tables.name_of(tables.SUPPORTED_GROUPS, s.get("group")) if isinstance(s, dict) else str(s)
              for s in _decoded(ch, 51).get("client_shares") or []]
    out: list[Line] = [("the client offered:", "bold"),
                       ("  versions:          " + ", ".join(tables.version_name(v) for v in versions), "")]
    out.append((f"  cipher suites ({len(suites)}): " + ", ".join(suites), ""))
    if groups:
        out.append((f"  groups ({len(groups)}):        " + ", ".join(groups), ""))
    if shares:
        out.append(("  key shares:        " + ", ".join(shares), ""))
    if schemes:
        out.append((f"  signature schemes ({len(schemes)}): " + ", ".join(schemes), ""))
    if ch.alpn:
        out.append(("  ALPN:              " + ", ".join(ch.alpn), ""))
    if ch.server_name:
        out.append(("  server name:       " + ch.server_name, ""))
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


def ladder(c: Connection, describe: Any) -> list[Line]:
    """The timeline as a two-column flow graph: client on the left, server on the right, each
    arrow in the direction its packet travelled, with frame numbers and seconds since the first."""
    if not c.events:
        return []
    t0 = c.events[0].time
    left = f"client {c.client}"
    out: list[Line] = [(f"{'frame':>7}  {'time':>9}  {left:<{LADDER_WIDTH + 2}}server {c.server}", "bold")]
    for e in c.events:
        out.append((f"{e.frame:>7}  {e.time - t0:>9.6f}  {_arrow(e, describe(e))}", _style(e)))
    return out


def _arrow(e: Event, label: str) -> str:
    room = LADDER_WIDTH - 4
    if len(label) > room:
        label = label[: room - 1] + "…"
    fill = "─" * (room - len(label))
    if e.sender == "client":
        return f"|─ {label} {fill}▶|"
    return f"|◀{fill} {label} ─|"


def _style(e: Event) -> str:
    if e.type in ("alert", "rst"):
        return "red"
    if e.type in ("anomaly", "gap"):
        return "yellow"
    return "dim"
