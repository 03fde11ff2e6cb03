"""Later stages run on each finished connection: certificate analysis, then the diagnosis.

Certificates are judged at the capture's own time (the packet that carried them), not today.
Results go into the connection's JSON as ``server_certificates``, ``client_certificates``,
``chain_findings``, ``ocsp`` and ``diagnosis``.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from operator import itemgetter
from typing import Any, Optional

from tlsdissect.results import jsontext
from tlsdissect.x509.chain import ChainAnalysis, analyze_chain
from tlsdissect.x509.findings import ChainFinding
from tlsdissect.x509.checks.certificate import SHA1_REJECTED_FROM, WEAK_KEY_REJECTED_FROM
from tlsdissect.x509.checks.validity import EARLIEST_CREDIBLE_TIME
from tlsdissect.x509.client import check_client_chain_against_request
from tlsdissect.x509.info import fresh_sequence
from tlsdissect.x509.retime import Retimer
from tlsdissect.x509.trust import TrustStore
from tlsdissect.diagnosis.facts import events_by_type
from tlsdissect.diagnosis.reasoner import diagnose
from tlsdissect.results.model import Connection
from tlsdissect.x509.handshake_signature import (
    HandshakeSignatureCheck, check_certificate_verify, check_server_key_exchange)
from tlsdissect.x509.ocsp import ocsp_findings, parse_ocsp_response
from tlsdissect.x509.security_levels import weak_dh_group_finding


def _trust_store(opts: Any) -> Optional[TrustStore]:
    if hasattr(opts, "_trust_store"):  # made already (None: no trust store asked for)
        cached: Optional[TrustStore] = opts._trust_store
        return cached
    store = None
    if getattr(opts, "ca_file", None):
        store = TrustStore.from_ca_file(opts.ca_file)
    elif getattr(opts, "ca_path", None):
        store = TrustStore.from_ca_path(opts.ca_path)
    elif getattr(opts, "system_trust", False):
        store = TrustStore.system()
    opts._trust_store = store
    return store


# (each certificate's last 8 bytes, name, role, trust store) -> (the whole chain, its spans):
# see _chain_and_json.
_CHAIN_CACHE: dict[tuple[Any, ...], tuple[tuple[bytes, ...], list[tuple[float, float, Retimer, Any, Any]]]] = {}
_TAIL = itemgetter(slice(-8, None))  # a certificate's last 8 bytes (see _chain_and_json)
_CHAIN_CACHE_MAX = 1024  # chains (with name, role and trust store) remembered
_CHAIN_CACHE_SPANS = 8  # time spans remembered per chain
# Decoded certificates as JSON, serialised once (jsontext.shared) for Connection.json_value:
# der_sha256 -> (the CertificateInfo it was made from, its JSON). Bounded: cleared when full.
_CERT_JSON: dict[str, tuple[Any, Any]] = {}
_CERT_JSON_MAX = 1024
# A result with this finding fits its own instant only (its clock is not credible). The
# validity findings also quote the time; they are reworded per connection instead.
_TIME_QUOTING_FINDINGS = frozenset(("capture_time_implausible",))
_TIME_BOUNDARIES = tuple(t.timestamp() for t in (EARLIEST_CREDIBLE_TIME,
                                                 WEAK_KEY_REJECTED_FROM,
                                                 SHA1_REJECTED_FROM,
                                                 # beyond the last datetime, times are not credible
                                                 datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)))


def _same_result_span(result: Any, at: float) -> tuple[float, float]:
    """The times around ``at`` for which analyze_chain gives exactly this result.

    The analysis depends on the time only through comparisons with the certificates'
    validity bounds and a few fixed dates, and through findings that quote the time; so
    between two consecutive such instants the result is the same, and a busy capture that
    repeats a chain thousands of times analyses it once, without one connection's time
    leaking into another's report."""
    if not isinstance(at, (int, float)) or at != at or any(f.id in _TIME_QUOTING_FINDINGS for f in result.findings):
        return at, at
    lo, hi = float("-inf"), float("inf")
    bounds = list(_TIME_BOUNDARIES)
    for info in result.certificates:
        for t in (info.not_before, info.not_after):
            if t is not None:
                bounds.append(t.timestamp())
    for b in bounds:
        if b <= at:
            lo = max(lo, b)
        else:
            hi = min(hi, b)
    # Keep a millisecond clear of each bound: the analysis rounds times to microseconds.
    return lo + 0.001, hi - 0.001


def _chain(ders: list[bytes], at: float, server_name: Optional[str], role: str, trust: Any) -> Any:
    """analyze_chain, remembered per (chain, name, role, trust store) and time span (above)."""
    return _chain_and_json(ders, at, server_name, role, trust)[0]


def _cert_dicts(templates: Any) -> list[dict[str, Any]]:
    """``[c.to_dict() for c in certs]`` from the certificates' to_dict templates, each as
    (template, its non-empty sequences, the keys of its empty ones): see _chain_and_json."""
    out = []
    for template, sequences, empty in templates:
        d = template.copy()
        for k, v in sequences:
            d[k] = fresh_sequence(k, v)  # fresh lists, as CertificateInfo.to_dict
        for k in empty:  # (most of a certificate's sequences are empty: no copy to make)
            d[k] = []
        out.append(d)
    return out


def _chain_and_json(ders: list[bytes], at: float, server_name: Optional[str], role: str,
                    trust: Any) -> tuple[Any, Any, Any]:
    """``_chain``, the jsontext.shared form of its certificates (``_certificates_json``) and
    their to_dict templates (for ``_cert_dicts``), which are the same at every instant of a
    span (retiming rewords findings only), so they are kept with the span."""
    # The dict key holds each certificate's last 8 bytes (from its signature: they tell any
    # two certificates apart but forged ones), the entry the whole chain, compared on a hit
    # (a memcmp): each connection's DER is a new bytes object, and hashing all of a chain's
    # bytes per connection cost more than the rest of a cache hit.
    chain = tuple(ders)
    key = (tuple(map(_TAIL, chain)), server_name, role, id(trust))
    entry = _CHAIN_CACHE.get(key)
    spans = None
    if entry is not None and entry[0] == chain:
        spans = entry[1]
        for lo, hi, retime, certs_json, templates in spans:
            if lo <= at <= hi:
                return retime(at), certs_json, templates
    result = analyze_chain(ders, at=at, server_name=server_name, role=role, trust=trust)  # type: ignore[arg-type]
    lo, hi = _same_result_span(result, at)
    if spans is None:  # a new chain (or another with the same tails: it takes the place)
        if len(_CHAIN_CACHE) >= _CHAIN_CACHE_MAX:
            _CHAIN_CACHE.clear()
        spans = []
        _CHAIN_CACHE[key] = (chain, spans)
    if len(spans) >= _CHAIN_CACHE_SPANS:
        del spans[0]
    if spans and spans[-1][2].analysis.certificates == result.certificates:
        certs_json, templates = spans[-1][3], spans[-1][4]  # one copy per chain, not per span
    else:
        certs_json = _certificates_json(result.certificates)
        # (each to_dict template with its sequences split: the empty ones need a new list, not a copy)
        templates = tuple([(t, tuple([(k, v) for k, v in seqs if v]), tuple([k for k, v in seqs if not v]))
                           for t, seqs in [c._dict_template for c in result.certificates]])
    spans.append((lo, hi, Retimer(result, role), certs_json, templates))
    return result, certs_json, templates


def _certificates_json(certs: Any) -> Any:
    """``[c.to_dict() for c in certs]`` as a jsontext.shared form for the JSON output: a
    certificate's form depends on nothing but the (immutable) decoded certificate, and a server
    sends the same ones on every connection."""
    out = []
    for c in certs:
        hit = _CERT_JSON.get(c.der_sha256)
        if hit is None or hit[0] is not c:
            if len(_CERT_JSON) >= _CERT_JSON_MAX:
                _CERT_JSON.clear()
            hit = _CERT_JSON[c.der_sha256] = (c, jsontext.shared(c.to_dict()))
        out.append(hit[1])
    return jsontext.shared_list(out)


def _findings_dicts(findings: Any, role: str) -> list[dict[str, Any]]:
    """``[f.to_dict(role) for f in findings]`` (fresh dicts: the caller may change them)."""
    return [{"id": f.id, "severity": f.severity, "text": f.text, "certificates": [*f.certificates], "role": role}
            for f in findings]


# A chain analysis's findings as dicts, by the identity of its findings list: a cached analysis
# (or its rewording for one second of capture time) hands the same list to many connections.
# id(findings), role -> (the list, held so that its id stays its own; its dicts). Bounded:
# cleared when full.
_FINDINGS_FORMS: dict[tuple[int, str], tuple[Any, list[dict[str, Any]]]] = {}
_FINDINGS_FORMS_MAX = 1024


def _chain_findings_dicts(findings: Any, role: str) -> list[dict[str, Any]]:
    """_findings_dicts for a chain analysis's findings, copied from the dicts made the first time."""
    key = (id(findings), role)
    hit = _FINDINGS_FORMS.get(key)
    if hit is None or hit[0] is not findings:
        if len(_FINDINGS_FORMS) >= _FINDINGS_FORMS_MAX:
            _FINDINGS_FORMS.clear()
        hit = _FINDINGS_FORMS[key] = (findings, _findings_dicts(findings, role))
    out = []
    for template in hit[1]:
        d = template.copy()
        d["certificates"] = [*template["certificates"]]  # a fresh list, as _findings_dicts
        out.append(d)
    return out


def _server_signature(conn: Connection, by_type: dict[str, Any]) -> Optional[tuple[HandshakeSignatureCheck, int]]:
    """The server's handshake signature (TLS <= 1.2: the ServerKeyExchange's; TLS 1.3 with a key
    log: the CertificateVerify's) checked against the leaf's key, with the message's frame: on a
    handshake that did not complete only (one that completed shows the client accepted it, and a
    busy capture would pay a signature check per connection)."""
    if conn.established or not conn.server_certificates_der or conn.version_code is None:
        return None
    ske = conn.server_key_exchange
    ske_signed = conn.server_key_exchange_signed
    cv_signed = conn.server_certificate_verify_signed
    if ske_signed is not None and ske is not None and conn.version_code <= 0x0303:
        message = "server_key_exchange"
    elif cv_signed is not None:
        message = "certificate_verify"
    else:
        return None
    frame = next((e.frame for e in by_type.get("handshake", ()) if e.sender == "server"
                  and e.info.get("message") == message), None)
    if frame is None:
        return None
    leaf = conn.server_certificates_der[0]
    if message == "certificate_verify":
        assert cv_signed is not None
        return check_certificate_verify(cv_signed[0], cv_signed[1], cv_signed[2], leaf), frame
    assert ske_signed is not None and ske is not None
    return check_server_key_exchange(ske_signed[2], ske.signature_algorithm, ske.signature_length,
                                     conn.version_code, ske_signed[0], ske_signed[1], leaf), frame


_NO_OCSP_STAPLE = "The client asked for a stapled OCSP response (status_request) and the server sent none."


def _must_staple_unmet(chain: ChainAnalysis, conn: Connection, by_type: dict[str, list[Any]]) -> Optional[ChainFinding]:
    """``must_staple_unmet``: the leaf demands a stapled OCSP response (RFC 7633 TLS Feature
    status_request, "OCSP must-staple"), the client asked for one (the caller checks), and the
    server's flight went past the point where the staple belongs without it (TLS 1.2: a handshake
    message after the Certificate; TLS 1.3: the leaf's Certificate entry, read here, has none)."""
    leaf = chain.certificates[0] if chain.certificates else None
    if leaf is None or not leaf.tls_features or "status_request" not in leaf.tls_features:
        return None
    if conn.version_code is not None and conn.version_code < 0x0304 and not any(
            e.sender == "server" and e.info.get("message") in _AFTER_CERTIFICATE for e in by_type.get("handshake", ())):
        return None
    return ChainFinding(
        "must_staple_unmet", "error",
        f"The server's certificate {leaf.label} requires a stapled OCSP response (TLS Feature status_request, "
        "RFC 7633 \"OCSP must-staple\"); the client asked for one and the server stapled none. Clients that "
        "enforce it refuse the certificate (GnuTLS, Firefox); OpenSSL, Go and Chrome do not check it.", (0,))


# The server's TLS 1.2 messages that follow a CertificateStatus: seeing one without a staple
# before it means the server sent none.
_AFTER_CERTIFICATE = frozenset({"server_key_exchange", "certificate_request", "server_hello_done"})


def enrich(conn: Connection, opts: Any, peer_server_key: Optional[tuple[str, int]] = None) -> None:
    server_chain = client_chain = None
    client_findings: list[Any] = []
    findings: list[dict[str, Any]] = []
    # One pass over the timeline for the diagnosis (events by type); each certificate message's
    # time (that of the first one a side sent; the connection's start without one) is read
    # from its handshake group.
    by_type = events_by_type(conn.events)
    status = conn.certificate_status
    stapled = status is not None and status.status_type == 1 and status.ocsp_response
    # (TLS 1.3 staples in the leaf's Certificate entry: no CertificateStatus message to wait for)
    status_message = stapled and not (conn.version_code is not None and conn.version_code >= 0x0304)
    # Wanted: the server's Certificate (whether there is one decides the analysis), the
    # client's when it sent one, the CertificateStatus with a staple; the scan stops when
    # all are found.
    want_client = conn.client_certificate_sent is not None
    server_cert_time = client_cert_time = status_time = None
    for e in by_type.get("handshake", ()):
        message = e.info.get("message")
        if message == "certificate":
            if e.sender == "server":
                if server_cert_time is None:
                    server_cert_time = e.time
            elif e.sender == "client" and client_cert_time is None:
                client_cert_time = e.time
        elif message == "certificate_status" and status_time is None and e.sender == "server":
            status_time = e.time
        else:
            continue
        if server_cert_time is not None and (client_cert_time is not None or not want_client) \
                and (status_time is not None or not status_message):
            break
    extra = conn.extra
    if conn.server_certificates_der or server_cert_time is not None:
        server_chain, certs_json, templates = _chain_and_json(
            conn.server_certificates_der, conn.start_time if server_cert_time is None else server_cert_time,
            conn.server_name, "server", _trust_store(opts))
        extra["server_certificates"] = _cert_dicts(templates)
        conn.extra_json = {"server_certificates": certs_json}
        extra["trust"] = server_chain.trust
        if conn.certificate_status is None and conn.client_hello is not None and conn.client_hello.ext(5) is not None:
            unmet = _must_staple_unmet(server_chain, conn, by_type)
            if unmet is not None:  # this connection's own view of the (shared, cached) analysis
                server_chain = dataclasses.replace(server_chain, findings=[*server_chain.findings, unmet])
        if server_chain.findings:
            findings += _chain_findings_dicts(server_chain.findings, "server")
    if conn.client_certificate_sent is not None:
        client_chain, certs_json, templates = _chain_and_json(
            conn.client_certificates_der, conn.start_time if client_cert_time is None else client_cert_time,
            None, "client", None)
        extra["client_certificates"] = _cert_dicts(templates)
        if conn.extra_json is None:
            conn.extra_json = {}
        conn.extra_json["client_certificates"] = certs_json
        findings += _chain_findings_dicts(client_chain.findings, "client")
        req = conn.certificate_request
        if req is not None:
            client_findings = check_client_chain_against_request(
                conn.client_certificates_der,
                ca_names=req.certificate_authorities,
                signature_algorithms=req.signature_algorithms,
            )
            findings += _findings_dicts(client_findings, "client")
    if stapled:
        at = status_time if status_time is not None else server_cert_time
        ocsp = parse_ocsp_response(status.ocsp_response, at=conn.start_time if at is None else at)
        extra["ocsp"] = ocsp.to_dict()
        leaf = server_chain.certificates[0] if server_chain is not None and server_chain.certificates else None
        findings += _findings_dicts(ocsp_findings(ocsp, leaf), "server")
    elif server_chain is not None and conn.server_hello is not None and conn.version_code is not None \
            and conn.client_hello is not None and conn.client_hello.ext(5) is not None:  # status_request
        if conn.version_code < 0x0304:
            findings.append({"id": "no_ocsp_staple", "severity": "info", "role": "server", "certificates": [],
                             "text": _NO_OCSP_STAPLE})
    ske = conn.server_key_exchange
    if ske is not None and ske.dh_prime_bits:
        weak_dh = weak_dh_group_finding(ske.dh_prime_bits, conn.start_time)
        if weak_dh is not None:
            findings.append({"id": "weak_dh_group", "severity": weak_dh[0], "role": "server", "certificates": [],
                             "text": weak_dh[1]})
    if findings:
        extra["chain_findings"] = findings
    signature = _server_signature(conn, by_type)
    if signature is not None:
        extra["handshake_signatures"] = [{**signature[0].to_dict(), "sender": "server", "frame": signature[1]}]
    conn.diagnosis = diagnose(conn, server_chain, client_chain, client_findings, by_type, peer_server_key,
                              signature)
