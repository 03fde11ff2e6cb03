"""What the pipeline adds to a DTLS association once the capture is read: its fingerprints, and
(with ``diagnose``) the certificates' analysis and the diagnosis (diagnosis.dtls).

The same pieces as for TLS over TCP: JA4 with transport ``d`` (FoxIO's JA4 specification) and
JA3 of the first ClientHello, JA4S/JA3S of the first ServerHello-type message; each side's
chain judged by x509.chain at the time of the packet that carried it, with the same findings.
"""

from __future__ import annotations

from typing import Any, Optional


def dtls_fingerprints(a: Any) -> Optional[dict[str, Any]]:
    """JA4 (transport ``d``) and JA3 of the first ClientHello (before any cookie exchange or
    HelloRetryRequest), JA4S/JA3S of the first ServerHello-type message (a HelloRetryRequest
    when there is one), as for TLS over TCP (docs/fingerprints.md)."""
    from tlsdissect.fingerprints import ja3, ja3s, ja4, ja4s

    ch, sh = a.first_client_hello, a.first_server_hello
    if ch is None and sh is None:
        return None
    j4, j4s = ja4(ch, "d"), ja4s(sh, "d")
    j3, j3s = ja3(ch), ja3s(sh)
    return {"ja4": j4.ja4 if j4 else None, "ja4_r": j4.ja4_r if j4 else None, "ja4s": j4s.ja4s if j4s else None,
            "ja3": j3[0] if j3 else None, "ja3s": j3s[0] if j3s else None}


def _chains(a: Any, trust: Any) -> tuple[Any, dict[str, Any]]:
    """(the server chain's analysis or None, the certificates' JSON)."""
    from tlsdissect.x509.chain import analyze_chain  # (cryptography: loaded only when diagnosing)

    out: dict[str, Any] = {"server_certificates": [], "client_certificates": [], "chain_findings": []}
    server_chain = None
    if a.server_certificates:
        at = a.server_certificate_time if a.server_certificate_time is not None else a.start_time
        server_chain = analyze_chain(a.server_certificates, at=at, server_name=a.server_name, role="server",
                                     trust=trust)
        out["server_certificates"] = [c.to_dict() for c in server_chain.certificates]
        out["chain_findings"] += [f.to_dict("server") for f in server_chain.findings]
        out["trust"] = server_chain.trust
    if a.client_certificates:
        client_chain = analyze_chain(a.client_certificates, at=a.start_time, role="client")
        out["client_certificates"] = [c.to_dict() for c in client_chain.certificates]
        out["chain_findings"] += [f.to_dict("client") for f in client_chain.findings]
    return server_chain, out


def finish_dtls(a: Any, opts: Any) -> None:
    """Fill in a DTLS association's fingerprints, certificate analysis and diagnosis."""
    a.fingerprints = dtls_fingerprints(a)
    if not opts.diagnose:
        return
    from tlsdissect.diagnosis.dtls import diagnose_dtls
    from tlsdissect.pipeline.enrich import _trust_store

    chain, a.certificates_json = _chains(a, _trust_store(opts))
    a.diagnosis = diagnose_dtls(a, chain)
