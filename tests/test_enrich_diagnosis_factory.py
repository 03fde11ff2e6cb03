"""diagnosis._diagnosis must build what the Diagnosis dataclass builds from the same arguments."""

from __future__ import annotations

import dataclasses

from tlsdissect.diagnosis import Diagnosis, _diagnosis


def test_the_factory_sets_every_field_as_the_dataclass_does() -> None:
    args = ("failed", "server_cert_expired", "likely")
    kwargs = dict(failure_point="server_certificate", aborted_by="client", how="alert",
                  alert={"code": 45}, alternatives=["server_cert_not_yet_valid"], explanation="text")
    for k in (dict(), kwargs):
        fast, slow = _diagnosis(*args, **k), Diagnosis(*args, **k)
        assert fast == slow
        assert [f.name for f in dataclasses.fields(Diagnosis)] == [
            "outcome", "cause", "confidence", "failure_point", "last_completed", "aborted_by", "how", "alert",
            "alternatives", "explanation", "evidence", "remedy", "check_command", "wireshark_filter", "hidden"]
    # Fresh lists per diagnosis, as the dataclass's default factories give.
    a, b = _diagnosis(*args), _diagnosis(*args)
    assert a.alternatives is not b.alternatives and a.evidence is not b.evidence
    assert a.remedy is not b.remedy and a.hidden is not b.hidden
