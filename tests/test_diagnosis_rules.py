"""The diagnosis's rules and their ranking hold together: every rule written is ranked, and
every family ends with a rule that always applies (its return type says Candidate, not
Optional, and mypy holds it to that)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing

from tlsdissect.diagnosis import ranking, rules
from tlsdissect.diagnosis.candidate import Candidate
from tlsdissect.diagnosis.facts import Facts

FAMILIES = {"NOT_TLS": ranking.NOT_TLS, "ANY_ALERT": ranking.ANY_ALERT, "HIDDEN_ALERT": ranking.HIDDEN_ALERT,
            "AFTER_HANDSHAKE": ranking.AFTER_HANDSHAKE, "NO_ALERT": ranking.NO_ALERT,
            **{f"ALERT_RULES[{k}]": v for k, v in ranking.ALERT_RULES.items()}}


def _rules_written() -> list[typing.Callable[..., typing.Any]]:
    """Every public function of a rules module that takes just the facts."""
    found: list[typing.Callable[..., typing.Any]] = []
    for info in pkgutil.iter_modules(rules.__path__):
        module = importlib.import_module(f"{rules.__name__}.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_"):
                continue
            params = list(typing.get_type_hints(fn).items())
            if [t for n, t in params if n != "return"] == [Facts]:
                found.append(fn)
    return found


def test_every_rule_written_is_ranked() -> None:
    ranked = {fn for family in FAMILIES.values() for fn in family}
    ranked |= set(ranking.STARTTLS) | set(ranking.RELAY)  # tried before any family (none of them always applies)
    written = _rules_written()
    assert len(written) > 30
    missing = [f"{fn.__module__}.{fn.__name__}" for fn in written if fn not in ranked]
    assert not missing, f"rules no family tries: {missing}"


def test_every_family_ends_with_a_rule_that_always_applies() -> None:
    for name, family in FAMILIES.items():
        *first, last = family
        assert typing.get_type_hints(last)["return"] is Candidate, f"{name} ends with {last.__name__}, which may decline"
        for fn in first:
            assert typing.get_type_hints(fn)["return"] == typing.Optional[Candidate], \
                f"{name}: {fn.__name__} always applies, so the rules after it are never tried"

