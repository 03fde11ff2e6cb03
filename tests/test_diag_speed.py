"""Fast paths of the diagnosis (helper "diag", round 6) against the general forms they stand for."""

from __future__ import annotations

import dataclasses
import random

from tlsdissect.diagnosis.verdict import Evidence, make_evidence


def test_evidence_factory_builds_what_the_dataclass_builds() -> None:
    rng = random.Random(6)
    cases: list[tuple[str, list[int]]] = [("", []), ("The client sends a fatal alert.", [7]),
                                          ("ünïcode → text", [1, 2, 3])]
    cases += [("x" * rng.randrange(50), [rng.randrange(10**6) for _ in range(rng.randrange(4))]) for _ in range(50)]
    for text, frames in cases:
        fast, slow = make_evidence(text, frames), Evidence(text, frames)
        assert type(fast) is Evidence
        assert fast == slow and fast.to_dict() == slow.to_dict()
        assert fast.frames is frames  # the list handed in, as the dataclass keeps it
    assert [f.name for f in dataclasses.fields(Evidence)] == ["text", "frames"]


def test_certificate_dicts_with_empty_sequences_split_off_equal_to_dict() -> None:
    """enrich._cert_dicts (templates from _chain_and_json, empty sequences set apart) gives
    CertificateInfo.to_dict: same keys in the same order, fresh lists, empty or not."""
    from certs_factory import REF_TIME, lab_pki
    from tlsdissect.pipeline import enrich

    enrich._CHAIN_CACHE.clear()
    pki = lab_pki()
    for ders in ([pki.leaf.der, pki.intermediate.der], [pki.leaf.der], [b"\x30\x03\x02\x01\x00"]):
        chain, _json, templates = enrich._chain_and_json(ders, REF_TIME.timestamp(), "www.lab.test", "server", None)
        expected = [c.to_dict() for c in chain.certificates]
        first = enrich._cert_dicts(templates)
        assert first == expected and [list(d) for d in first] == [list(d) for d in expected]
        assert any(v == [] for d in first for v in d.values())  # some empty sequences are covered
        for d in first:
            for v in d.values():
                if type(v) is list:
                    v.append("changed")
        assert enrich._cert_dicts(templates) == expected
