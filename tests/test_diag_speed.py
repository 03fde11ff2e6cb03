"""Fast paths of the diagnosis (helper "diag", round 6) against the general forms they stand for."""

from __future__ import annotations

import dataclasses
import random

from tlsdissect.diagnosis import Evidence, _evidence


def test_evidence_factory_builds_what_the_dataclass_builds() -> None:
    rng = random.Random(6)
    cases: list[tuple[str, list[int]]] = [("", []), ("The client sends a fatal alert.", [7]),
                                          ("ünïcode → text", [1, 2, 3])]
    cases += [("x" * rng.randrange(50), [rng.randrange(10**6) for _ in range(rng.randrange(4))]) for _ in range(50)]
    for text, frames in cases:
        fast, slow = _evidence(text, frames), Evidence(text, frames)
        assert type(fast) is Evidence
        assert fast == slow and fast.to_dict() == slow.to_dict()
        assert fast.frames is frames  # the list handed in, as the dataclass keeps it
    assert [f.name for f in dataclasses.fields(Evidence)] == ["text", "frames"]
