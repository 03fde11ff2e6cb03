"""The diagnosis's fast construction: candidate.candidate must build what the Candidate
dataclass builds, and the reasoner's positional Diagnosis(...) must put each value in its field."""

from __future__ import annotations

import dataclasses
from typing import Any

from tlsdissect.diagnosis.candidate import Candidate, candidate
from tlsdissect.diagnosis.reasoner import diagnose
from tlsdissect.diagnosis.verdict import Diagnosis, Evidence
from tlsdissect.results.model import Alert, Connection, DirectionStats, Event, TcpClose


def test_the_reasoner_fills_the_diagnosis_fields_by_name() -> None:
    """diagnose() builds the Diagnosis positionally: a field order change must not shift values
    into the wrong fields. A server refusing a ClientHello with handshake_failure."""
    assert [f.name for f in dataclasses.fields(Diagnosis)] == [
        "outcome", "cause", "confidence", "failure_point", "last_completed", "aborted_by", "how", "alert",
        "alternatives", "explanation", "evidence", "remedy", "check_command", "check_command_withheld",
        "wireshark_filter", "hidden", "after_handshake"]
    conn = Connection(stream=7, client="10.0.0.1:40000", server="10.0.0.2:443", first_frame=1, last_frame=5,
                      start_time=0.0, end_time=0.1, is_tls=True)
    conn.client_stats = DirectionStats(packets=3, bytes=200)
    conn.server_stats = DirectionStats(packets=2, bytes=7)
    conn.events = [Event(1, 0.0, "client", "syn", {}), Event(3, 0.01, "client", "handshake", {"message": "client_hello"}),
                   Event(4, 0.02, "server", "alert", {})]
    conn.alerts = [Alert(4, 0.02, "server", "fatal", 40, "handshake_failure", False, 7)]
    conn.tcp_close = TcpClose("server", "fin", 5, 0.03)
    d = diagnose(conn)
    # (docs/causes.md, no_shared_cipher: handshake_failure from the server at client_hello; with no
    # decoded ClientHello to compare its lists, no_shared_cipher, possible, the narrower causes next)
    assert (d.outcome, d.cause, d.confidence, d.failure_point) == ("failed", "no_shared_cipher", "possible", "client_hello")
    assert d.alert is not None and (d.aborted_by, d.how, d.alert.code, d.alert.frame) == ("server", "alert", 40, 4)
    assert d.alert is conn.alerts[0]  # the connection's own Alert object
    assert d.last_completed == {"message": "client_hello", "sender": "client", "frame": 3, "encrypted": False}
    assert d.alternatives == ["no_common_group", "no_common_signature_scheme"]
    assert "handshake_failure (0x28)" in d.explanation
    assert [e.frames for e in d.evidence] == [[4]] and d.hidden == [] and d.remedy
    assert d.wireshark_filter == "tcp.stream eq 7" and d.check_command is not None and "10.0.0.2" in d.check_command
    assert d.after_handshake is None  # (a hello refused: nothing after a handshake)


def test_the_candidate_factory_sets_every_field_as_the_dataclass_does() -> None:
    args = ("failed", "server_cert_expired", "likely")
    kwargs: dict[str, Any] = dict(failure_point="server_certificate", aborted_by="client", how="alert",
                                  alert=Alert(6, 0.5, "client", "fatal", 45, "certificate_expired", False),
                                  alternatives=["server_cert_not_yet_valid"], explanation="text",
                                  evidence=[Evidence("line", [6])], hidden=["the alert"])
    for k in ({}, kwargs):
        assert candidate(*args, **k) == Candidate(*args, **k)
    assert [f.name for f in dataclasses.fields(Candidate)] == [
        "outcome", "cause", "confidence", "failure_point", "aborted_by", "how", "alert", "alternatives",
        "explanation", "evidence", "hidden", "remedy"]
    # Fresh alternatives per candidate, as the dataclass's default factory gives (they become
    # the Diagnosis's list, which callers may change).
    assert candidate(*args).alternatives is not candidate(*args).alternatives


def test_chain_findings_dicts_equal_the_plain_ones_and_are_fresh() -> None:
    from tlsdissect.pipeline import enrich
    from tlsdissect.x509.findings import ChainFinding

    findings = [ChainFinding("expired", "error", "text", (0,)), ChainFinding("root_included", "info", "t2")]
    expected = [f.to_dict("server") for f in findings]
    first = enrich._chain_findings_dicts(findings, "server")
    assert first == expected == enrich._findings_dicts(findings, "server")
    assert [list(d) for d in first] == [list(d) for d in expected]
    first[0]["certificates"].append(5)
    first[0]["text"] = "changed"
    assert enrich._chain_findings_dicts(findings, "server") == expected
    assert enrich._chain_findings_dicts(findings, "client") == [f.to_dict("client") for f in findings]
