"""The expected.json contract: allowed values, shape checks, and the tshark cross-check.

Used by run.py right after a capture is made and by verify.py on the committed
results, so a sidecar that drifts from its capture (or from the schema) is
caught without re-running the lab.
"""
from __future__ import annotations

CAUSES = frozenset({
    "ok", "protocol_version_mismatch", "no_shared_cipher", "legacy_protocol_rejected",
    "server_cert_untrusted", "server_chain_incomplete", "server_cert_self_signed",
    "server_cert_expired", "server_cert_not_yet_valid", "server_cert_hostname_mismatch",
    "server_cert_rejected", "client_cert_missing", "client_cert_rejected", "renegotiation_refused",
    "sni_rejected", "plaintext_http_on_tls_port", "tls_to_plaintext_server", "middlebox_reset",
    "connection_reset", "server_no_response", "server_closed_without_alert",
    "client_closed_without_alert", "not_tls", "unknown",
})
# Causes the wide lab (lab/wide.py) proposed for tlsdissect's catalogue
# (tlsdissect/diagnosis/causes.py), which has them now, with what the lab meant by each. A cause
# a scenario needs next goes into the catalogue, with its family, as well as here:
# tests/test_docs.py wants every sidecar's cause and family to be the catalogue's.
PROPOSED_CAUSES = {
    "alpn_mismatch": "the server supports none of the application protocols (ALPN) the client offers",
    "inappropriate_fallback": "a client's fallback retry (TLS_FALLBACK_SCSV) below the server's best "
                              "version is refused as a downgrade",
    "no_common_signature_scheme": "the server's certificate key cannot sign with any signature "
                                  "scheme the client offers (e.g. ECDSA key, RSA-only client)",
    "no_common_group": "no key-exchange group (curve / FFDHE) both sides accept",
    "weak_server_key": "the client refuses the server certificate's key as too small for its "
                       "security level (e.g. RSA 1024 at SECLEVEL 2)",
    "weak_dh_group": "the client refuses the server's ephemeral finite-field DH group as too small",
    "handshake_signature_invalid": "the ServerKeyExchange signature does not verify with the "
                                   "certificate's key (in the lab: the bytes were altered on the path)",
    "record_corrupted_in_transit": "a protected record fails its integrity check (bad_record_mac) "
                                   "because it was altered on the path",
    "path_mtu_blackhole": "large packets of one side are lost on the path (MTU black hole): a big "
                          "flight is retransmitted and never acknowledged",
    "client_cert_revoked": "the server rejects the client certificate as revoked (CRL/OCSP)",
    "client_rejected_cert_silently": "the client rejects the server certificate and just closes "
                                     "the connection (FIN/RST, no alert), e.g. Node.js",
    "late_alert_after_success": "the exchange succeeded; an alert or error after the last "
                                "application data (e.g. a reply to a close without close_notify) "
                                "is noise",
    "truncated_response": "the server closes mid-response without close_notify (the application "
                          "data was cut short)",
}
CAUSES = CAUSES | frozenset(PROPOSED_CAUSES)
# Catalogue causes the fourth wide lab (lab/wide4.py) needs as ground truth; they were in
# tlsdissect's catalogue already (tlsdissect/diagnosis/causes.py), with these families.
WIDE4_CAUSES = {"server_cert_wrong_usage": "client_rejects_server_cert",
                "host_unreachable": "path_or_middlebox"}
CAUSES = CAUSES | frozenset(WIDE4_CAUSES)
# Catalogue causes the fifth wide lab (lab/wide5.py) needs as ground truth, with the families
# tlsdissect's catalogue gives them.
WIDE5_CAUSES = {"server_cert_revoked": "client_rejects_server_cert",
                "starttls_not_offered": "not_tls", "starttls_refused": "not_tls",
                "proxy_connect_refused": "not_tls",
                "packets_dropped_on_path": "path_or_middlebox"}
CAUSES = CAUSES | frozenset(WIDE5_CAUSES)
# Catalogue causes the seventh wide lab (lab/wide7.py) needs as ground truth, with the families
# tlsdissect's catalogue gives them.
WIDE7_CAUSES = {"receiver_stopped_reading": "transport", "keepalive_unanswered": "transport",
                "middlebox_tampering": "path_or_middlebox"}
CAUSES = CAUSES | frozenset(WIDE7_CAUSES)
# Every cause (catalogue and proposed) falls in one family, so a TLS 1.3 capture without keys,
# where the exact cause is hidden, can still be judged on the family. The catalogue's own
# `Cause.family` is the reference: tests/test_docs.py checks these and every sidecar against it.
FAMILIES = {
    "ok": "ok", "late_alert_after_success": "ok",
    "protocol_version_mismatch": "server_rejects_hello", "no_shared_cipher": "server_rejects_hello",
    "legacy_protocol_rejected": "server_rejects_hello", "sni_rejected": "server_rejects_hello",
    "alpn_mismatch": "server_rejects_hello", "inappropriate_fallback": "server_rejects_hello",
    "no_common_signature_scheme": "server_rejects_hello", "no_common_group": "server_rejects_hello",
    "server_cert_untrusted": "client_rejects_server_cert",
    "tls_interception_untrusted": "client_rejects_server_cert",
    "server_chain_incomplete": "client_rejects_server_cert",
    "server_cert_self_signed": "client_rejects_server_cert",
    "server_cert_expired": "client_rejects_server_cert",
    "server_cert_not_yet_valid": "client_rejects_server_cert",
    "server_cert_hostname_mismatch": "client_rejects_server_cert",
    "server_cert_rejected": "client_rejects_server_cert",
    "weak_server_key": "client_rejects_server_cert",
    "client_rejected_cert_silently": "client_rejects_server_cert",
    "weak_dh_group": "client_rejects_server_params",
    "client_cert_missing": "server_rejects_client_cert",
    "client_cert_rejected": "server_rejects_client_cert",
    "client_cert_revoked": "server_rejects_client_cert",
    "middlebox_reset": "path_or_middlebox", "handshake_signature_invalid": "path_or_middlebox",
    "record_corrupted_in_transit": "path_or_middlebox", "path_mtu_blackhole": "path_or_middlebox",
    "renegotiation_refused": "after_handshake", "truncated_response": "after_handshake",
    "connection_reset": "transport", "server_no_response": "transport",
    "server_closed_without_alert": "transport", "client_closed_without_alert": "transport",
    "plaintext_http_on_tls_port": "not_tls", "tls_to_plaintext_server": "not_tls",
    "not_tls": "not_tls", "unknown": "unknown",
    **WIDE4_CAUSES, **WIDE5_CAUSES, **WIDE7_CAUSES,
}
PHASES = frozenset({
    "tcp_connect", "client_hello", "server_hello", "server_certificate", "client_certificate",
    "key_exchange", "finished", "renegotiation", "post_handshake_auth", "application_data",
})
OUTCOMES = frozenset({"established", "failed", "incomplete", "not_tls"})
ABORTERS = frozenset({"client", "server", "middlebox", "unknown"})
# icmp: the connection was refused by an ICMP error (a firewall's REJECT; lab/wide4.py)
HOWS = frozenset({"alert", "rst", "fin", "no_response", "capture_ended", "icmp"})
VERSIONS = frozenset({"TLSv1.2", "TLSv1.3", "TLSv1.1", "TLSv1.0"})
TOP_KEYS = ["scenario", "description", "made_with", "observed", "expected"]
MADE_KEYS = ["server", "client", "command", "date"]
OBSERVED_KEYS = ["client_exit_status", "client_error", "server_log", "tshark_alerts"]
EXPECTED_KEYS = ["server_name", "version", "outcome", "cause", "aborted_by", "how", "alert",
                 "needs_keylog", "failure_point"]
# Optional: hidden_in_session (true: the failure shows only inside the encrypted session, e.g.
# an HTTP error answer, so only the key log reveals it); stream (which tcp.stream the
# expectation is about when the capture holds several connections).
# The wide lab adds cause_family (FAMILIES[cause]) and held_out (true: kept out of the rule
# tuning, used only to check; lab/score.py reports it apart).
# late_alert: an alert sent after the event that decided the connection, which does not change
# the reading (lighttpd answers a client's close without close_notify with decode_error).
# refined_cause: the narrower catalogue cause (one whose `refines` is `cause`) that the peers'
# own words prove, for an Apache-era sidecar written when the catalogue had only the broader
# id (curl's "certificate revoked" for server_cert_revoked); naming either is right.
EXPECTED_OPTIONAL = ["hidden_in_session", "stream", "cause_family", "held_out", "late_alert", "refined_cause"]
ALERT_KEYS = ["sender", "level", "code", "name", "encrypted"]


def schema_problems(doc: dict) -> list[str]:
    """Everything in one sidecar that breaks the agreed shape or vocabulary."""
    p: list[str] = []

    def keys(obj: object, want: list[str], where: str, optional: tuple[str, ...] = ()) -> bool:
        if not isinstance(obj, dict) or not (set(want) <= set(obj) <= set(want) | set(optional)):
            got = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
            p.append(f"{where}: keys {got} != {sorted(want)} (optional: {sorted(optional)})")
            return False
        return True

    if not keys(doc, TOP_KEYS, "top level"):
        return p
    keys(doc["made_with"], MADE_KEYS, "made_with")
    keys(doc["observed"], OBSERVED_KEYS, "observed")
    exp = doc["expected"]
    if not keys(exp, EXPECTED_KEYS, "expected", tuple(EXPECTED_OPTIONAL)):
        return p
    if "hidden_in_session" in exp and (exp["hidden_in_session"] is not True
                                       or not exp["needs_keylog"]):
        p.append("hidden_in_session, when present, is true and implies needs_keylog")
    if "stream" in exp and not (isinstance(exp["stream"], int) and exp["stream"] >= 0):
        p.append(f"stream {exp['stream']!r} is not a tcp.stream number")
    if exp["cause"] not in CAUSES:
        p.append(f"cause {exp['cause']!r} not in the catalogue")
    elif "cause_family" in exp and exp["cause_family"] != FAMILIES[exp["cause"]]:
        p.append(f"cause_family {exp['cause_family']!r} != {FAMILIES[exp['cause']]!r}")
    if "refined_cause" in exp and (exp["refined_cause"] not in CAUSES
                                   or CAUSES[exp["refined_cause"]].refines != exp["cause"]):
        p.append(f"refined_cause {exp['refined_cause']!r} does not refine {exp['cause']!r}")
    if "held_out" in exp and not isinstance(exp["held_out"], bool):
        p.append("held_out, when present, is true or false")
    if exp["outcome"] not in OUTCOMES:
        p.append(f"outcome {exp['outcome']!r}")
    if exp["version"] is not None and exp["version"] not in VERSIONS:
        p.append(f"version {exp['version']!r}")
    success = exp["cause"] in ("ok", "late_alert_after_success")
    if exp["cause"] == "late_alert_after_success" and not exp.get("late_alert"):
        p.append("late_alert_after_success needs late_alert")
    if exp.get("late_alert") is not None:
        keys(exp["late_alert"], ALERT_KEYS, "expected.late_alert")
    if success:
        if exp["outcome"] != "established" or exp["failure_point"] is not None:
            p.append("cause ok needs outcome established and failure_point null")
        if exp["aborted_by"] is not None or exp["how"] is not None or exp["alert"] is not None:
            p.append("cause ok needs aborted_by, how and alert null")
    else:
        if exp["failure_point"] not in PHASES:
            p.append(f"failure_point {exp['failure_point']!r} not a phase")
        if exp["aborted_by"] not in ABORTERS:
            p.append(f"aborted_by {exp['aborted_by']!r}")
        if exp["how"] not in HOWS:
            p.append(f"how {exp['how']!r}")
    alert = exp["alert"]
    if alert is not None and keys(alert, ALERT_KEYS, "expected.alert"):
        if exp["how"] != "alert":
            p.append("an alert is given but how is not 'alert'")
        if alert["encrypted"] != exp["needs_keylog"]:
            p.append("needs_keylog must equal alert.encrypted")
    if alert is None and exp["needs_keylog"] and not exp.get("hidden_in_session"):
        p.append("needs_keylog without an alert (or hidden_in_session)")
    if exp["how"] == "alert" and alert is None:
        p.append("how is 'alert' but no alert is given")
    return p


def capture_problems(exp: dict, alerts: list[dict], hello: dict, client_exit: int | None) -> list[str]:
    """Where the hand-written expectation and tshark's reading of the capture disagree.

    alerts: capture.tshark_alerts(); hello: capture.tshark_hello_facts().
    """
    p: list[str] = []
    late = exp.get("late_alert")
    fatal = [a for a in alerts if a["level"] == "fatal"
             and not (late and a["code"] == late["code"])]
    if late and not any(a["code"] == late["code"] and a["encrypted"] == late["encrypted"]
                        for a in alerts):
        p.append(f"expected a late {late['name']} ({late['code']}), tshark saw "
                 f"{[(a['frame'], a['level'], a['name']) for a in alerts]}")
    ea = exp["alert"]
    if ea is None and fatal:
        p.append(f"expected no alert, tshark saw fatal {[(a['frame'], a['name']) for a in fatal]}")
    if ea is not None:
        hit = [a for a in alerts if a["code"] == ea["code"] and a["level"] == ea["level"]]
        if not hit:
            p.append(f"expected alert {ea['name']} ({ea['code']}), tshark saw "
                     f"{[(a['frame'], a['level'], a['name']) for a in alerts]}")
        elif hit[0]["encrypted"] != ea["encrypted"]:
            p.append(f"alert encrypted={hit[0]['encrypted']} in the capture, "
                     f"expected {ea['encrypted']}")
        elif hello["server_ports"]:
            sport = int(hit[0]["src"].rsplit(":", 1)[1])
            sender = "server" if sport in hello["server_ports"] else "client"
            if sender != ea["sender"]:
                p.append(f"alert sent by the {sender} in the capture, expected {ea['sender']}")
    want_v = exp["version"]
    if (want_v is None and hello["versions"]) or (want_v and hello["versions"] != {want_v}):
        p.append(f"expected version {want_v}, tshark's ServerHello says {hello['versions']}")
    want_sni = {exp["server_name"]} if exp["server_name"] else set()
    if want_sni != hello["sni"]:
        p.append(f"expected SNI {want_sni}, tshark's ClientHello says {hello['sni']}")
    if exp["cause"] in ("ok", "late_alert_after_success") and client_exit != 0:
        p.append(f"success expected but the client exited {client_exit}")
    return p
