"""What the pipeline adds to a QUIC handshake once the capture is read: its fingerprints, and
(with ``diagnose``) the server chain's analysis when a key log opened the certificate, and the
diagnosis (diagnosis.quic)."""

from __future__ import annotations

from typing import Any, Optional


def quic_fingerprints(q: Any) -> Optional[dict[str, Any]]:
    """JA4 (transport ``q``) and JA3 of a QUIC handshake's ClientHello, JA4S/JA3S of its
    ServerHello, as the fingerprint definitions give them for QUIC."""
    from tlsdissect.fingerprints import ja3, ja3s, ja4, ja4s

    if q.client_hello is None and q.server_hello is None:
        return None
    j4, j4s = ja4(q.client_hello, "q"), ja4s(q.server_hello, "q")
    j3, j3s = ja3(q.client_hello), ja3s(q.server_hello)
    return {"ja4": j4.ja4 if j4 else None, "ja4_r": j4.ja4_r if j4 else None, "ja4s": j4s.ja4s if j4s else None,
            "ja3": j3[0] if j3 else None, "ja3s": j3s[0] if j3s else None}


def finish_quic(q: Any, opts: Any) -> None:
    """Fill in a QUIC handshake's fingerprints, chain analysis and diagnosis."""
    q.fingerprints = quic_fingerprints(q)
    if not opts.diagnose:
        return
    from tlsdissect.diagnosis.quic import diagnose_quic
    from tlsdissect.pipeline.enrich import _trust_store
    from tlsdissect.x509.chain import analyze_chain

    if q.server_certificates:
        q.chain = analyze_chain(q.server_certificates, at=q.start_time, server_name=q.server_name,
                                role="server", trust=_trust_store(opts))
    q.diagnosis = diagnose_quic(q)
