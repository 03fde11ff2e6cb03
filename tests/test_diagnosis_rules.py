"""The diagnosis's rules and their ranking hold together: every rule written is ranked, and
every family ends with a rule that always applies (its return type says Candidate, not
Optional, and mypy holds it to that).

The rules and their return types are read from the modules' source, not through ``inspect``: in
the compiled build (docs/compiled.md) a rule is a compiled function, which ``inspect`` does not
take for a function and which has no annotations at run time."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from typing import Any

from tlsdissect.diagnosis import ranking, rules

FAMILIES = {"NOT_TLS": ranking.NOT_TLS, "ANY_ALERT": ranking.ANY_ALERT, "HIDDEN_ALERT": ranking.HIDDEN_ALERT,
            "AFTER_HANDSHAKE": ranking.AFTER_HANDSHAKE, "NO_ALERT": ranking.NO_ALERT,
            **{f"ALERT_RULES[{k}]": v for k, v in ranking.ALERT_RULES.items()}}
RULES_DIR = Path(rules.__path__[0])


def _returns_by_rule() -> dict[tuple[str, str], str]:
    """(module, name) -> the return annotation as written, of every public function of a rules
    module that takes just the facts (one parameter annotated ``Facts``)."""
    found: dict[tuple[str, str], str] = {}
    for info in pkgutil.iter_modules(rules.__path__):
        module = f"{rules.__name__}.{info.name}"
        tree = ast.parse((RULES_DIR / f"{info.name}.py").read_text())
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            params = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            if len(params) == 1 and params[0].annotation is not None and ast.unparse(params[0].annotation) == "Facts" \
                    and node.returns is not None:
                found[(module, node.name)] = ast.unparse(node.returns)
    return found


def _key(fn: Any) -> tuple[str, str]:
    return fn.__module__, fn.__name__


def _rules_written() -> list[Any]:
    """Every public function of a rules module that takes just the facts (the objects, as
    imported)."""
    return [getattr(importlib.import_module(module), name) for module, name in _returns_by_rule()]


def test_every_rule_written_is_ranked() -> None:
    ranked = {fn for family in FAMILIES.values() for fn in family}
    ranked |= set(ranking.STARTTLS) | set(ranking.RELAY)  # tried before any family (none of them always applies)
    written = _rules_written()
    assert len(written) > 30
    missing = [f"{fn.__module__}.{fn.__name__}" for fn in written if fn not in ranked]
    assert not missing, f"rules no family tries: {missing}"


def test_every_family_ends_with_a_rule_that_always_applies() -> None:
    returns = _returns_by_rule()
    for name, family in FAMILIES.items():
        *first, last = family
        assert returns[_key(last)] == "Candidate", f"{name} ends with {last.__name__}, which may decline"
        for fn in first:
            assert returns[_key(fn)] in ("Optional[Candidate]", "Candidate | None"), \
                f"{name}: {fn.__name__} always applies, so the rules after it are never tried"

