"""diagnosis._diagnosis must build what the Diagnosis dataclass builds from the same arguments."""

from __future__ import annotations

import dataclasses

from tlsdissect.diagnosis.reasoner import Diagnosis, _diagnosis


def test_the_factory_sets_every_field_as_the_dataclass_does() -> None:
    args = ("failed", "server_cert_expired", "likely")
    kwargs = dict(failure_point="server_certificate", aborted_by="client", how="alert",
                  alert={"code": 45}, alternatives=["server_cert_not_yet_valid"], explanation="text")
    for k in (dict(), kwargs):
        fast, slow = _diagnosis(*args, **k), Diagnosis(*args, **k)
        assert fast == slow
        assert [f.name for f in dataclasses.fields(Diagnosis)] == [
            "outcome", "cause", "confidence", "failure_point", "last_completed", "aborted_by", "how", "alert",
            "alternatives", "explanation", "evidence", "remedy", "check_command", "check_command_withheld",
            "wireshark_filter", "hidden"]
    # Fresh lists per diagnosis, as the dataclass's default factories give.
    a, b = _diagnosis(*args), _diagnosis(*args)
    assert a.alternatives is not b.alternatives and a.evidence is not b.evidence
    assert a.remedy is not b.remedy and a.hidden is not b.hidden


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
