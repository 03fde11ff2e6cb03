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
PHASES = frozenset({
    "tcp_connect", "client_hello", "server_hello", "server_certificate", "client_certificate",
    "key_exchange", "finished", "renegotiation", "post_handshake_auth", "application_data",
})
OUTCOMES = frozenset({"established", "failed", "incomplete", "not_tls"})
ABORTERS = frozenset({"client", "server", "middlebox", "unknown"})
HOWS = frozenset({"alert", "rst", "fin", "no_response", "capture_ended"})
VERSIONS = frozenset({"TLSv1.2", "TLSv1.3", "TLSv1.1", "TLSv1.0"})
TOP_KEYS = ["scenario", "description", "made_with", "observed", "expected"]
MADE_KEYS = ["server", "client", "command", "date"]
OBSERVED_KEYS = ["client_exit_status", "client_error", "server_log", "tshark_alerts"]
EXPECTED_KEYS = ["server_name", "version", "outcome", "cause", "aborted_by", "how", "alert",
                 "needs_keylog", "failure_point"]
# Optional: hidden_in_session (true: the failure shows only inside the encrypted session, e.g.
# an HTTP error answer, so only the key log reveals it); stream (which tcp.stream the
# expectation is about when the capture holds several connections).
EXPECTED_OPTIONAL = ["hidden_in_session", "stream"]
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
    if exp["outcome"] not in OUTCOMES:
        p.append(f"outcome {exp['outcome']!r}")
    if exp["version"] is not None and exp["version"] not in VERSIONS:
        p.append(f"version {exp['version']!r}")
    success = exp["cause"] == "ok"
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
    fatal = [a for a in alerts if a["level"] == "fatal"]
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
    if exp["cause"] == "ok" and client_exit != 0:
        p.append(f"success expected but the client exited {client_exit}")
    return p
