"""The HTML page's part for handshakes over UDP: each QUIC handshake and DTLS association with its
verdict, as the page shows a TCP connection (report.html).

The same pieces in the same places: a head line (outcome, flow, endpoints, server name,
versions), the verdict with its facts, evidence with frame numbers, what is hidden without keys
and the fix (html.verdict_html reads the diagnosis by its field names, whatever the protocol),
then the steps the text view lists (report.quic, report.dtls) and the server's certificates.
Every string from the capture goes through ``safe.html_escaped``, as in the rest of the page.
"""

from __future__ import annotations

from typing import Any

from tlsdissect.report.dtls import dtls_block
from tlsdissect.report.quic import quic_block
from tlsdissect.report.safe import VALUE_LIMIT, html_escaped as esc
from tlsdissect.report.udp_rows import negotiated_version, server_certificates
from tlsdissect.tls.tables import cipher_name

_MARKS = {"failed": "✗", "incomplete": "?", "established": "✓"}


def udp_filter(h: Any) -> str:
    """The Wireshark display filter of the flow (udp.stream), or of its endpoints when unnumbered."""
    if h.stream is not None:
        return f"udp.stream eq {h.stream}"
    (ch, cp), (sh, sp) = (e.rsplit(":", 1) for e in (h.client, h.server))
    ip = "ipv6" if ":" in ch else "ip"
    return f"{ip}.addr eq {ch.strip('[]')} && udp.port eq {cp} && {ip}.addr eq {sh.strip('[]')} && udp.port eq {sp}"


def flow_label(h: Any) -> str:
    return f"{h.protocol.upper()} udp.stream {h.stream if h.stream is not None else '?'}"


def udp_index_row(h: Any, anchor: str, outcome: str) -> str:
    """The handshake's row in the capture's table of QUIC and DTLS handshakes."""
    cause = getattr(h.diagnosis, "cause", None)
    return (f'<tr><td><a href="#{anchor}">{h.stream if h.stream is not None else "?"}</a></td>'
            f"<td>{esc(h.protocol.upper())}</td>"
            f'<td><span class="badge {esc(outcome)}">{esc(outcome)}</span></td>'
            f"<td>{esc(h.client)} → {esc(h.server)}</td><td>{esc(h.server_name or '', VALUE_LIMIT)}</td>"
            f"<td>{esc(negotiated_version(h) or '')}</td><td>{f'<code>{esc(cause)}</code>' if cause else ''}</td>"
            f"<td>{h.first_frame}</td></tr>\n")


def udp_html(h: Any, anchor: str, verdict_html: Any) -> str:
    """One handshake's section; ``verdict_html(diagnosis, wireshark_filter)`` is the page's own
    rendering of a verdict (html._diagnosis), shared with TCP connections."""
    outcome = h.outcome()
    out = [f'<section class="handshake {esc(h.protocol)} {esc(outcome)}" id="{anchor}">', _head(h, outcome)]
    if h.diagnosis is not None:
        out.append(verdict_html(h.diagnosis, udp_filter(h)))
    block = quic_block(h, verbose=False) if h.protocol == "quic" else dtls_block(h, verbose=False)
    steps = []
    verdict = getattr(h.diagnosis, "verdict", None)
    for text, _ in block[2:]:  # (after the blank line and the head line; up to the verdict, shown above)
        text = text.strip()
        if text == verdict or text.startswith("cause: "):
            break
        if text:
            steps.append(text)
    if steps:
        out.append('<h4>What the capture shows</h4>\n<ul class="steps">'
                   + "".join(f"<li>{esc(s)}</li>" for s in steps) + "</ul>")
    certs = server_certificates(h)
    if certs:
        out.append(f'<h4>Server certificates ({len(certs)} sent)</h4>\n<table class="chain server"><tr><th>#</th>'
                   "<th>subject</th><th>issuer</th><th>validity</th></tr>"
                   + "".join(f"<tr><td>{i}</td><td>{esc(str(c.get('subject') or '(empty subject)'))}</td>"
                             f"<td>{esc(str(c.get('issuer') or '(empty)'))}</td>"
                             f"<td>{esc(str(c.get('not_before') or '?'))} – {esc(str(c.get('not_after') or '?'))}</td></tr>"
                             for i, c in enumerate(certs)) + "</table>")
    out.append("</section>\n")
    return "\n".join(out)


def _head(h: Any, outcome: str) -> str:
    parts = [esc(flow_label(h)), f"{esc(h.client)} → {esc(h.server)}"]
    if h.server_name:
        parts.append(f'<span class="sni">{esc(h.server_name, VALUE_LIMIT)}</span>')
    quic_version = h.to_dict()["version"] if h.protocol == "quic" else None
    cipher = cipher_name(h.server_hello.cipher_suite) if h.server_hello is not None else None
    for value in (quic_version, negotiated_version(h), cipher):
        if value:
            parts.append(esc(str(value)))
    alpn = h.alpn_selected if h.protocol == "quic" else h.alpn
    if alpn:
        parts.append(f"ALPN {esc(alpn, VALUE_LIMIT)}")
    return (f'<h3><span class="badge {esc(outcome)}">{_MARKS.get(outcome, "?")} {esc(outcome.upper())}</span> '
            + " · ".join(parts) + "</h3>")
