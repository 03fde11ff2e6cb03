"""The API reference builds from the docstrings (tools/api_docs.py, pdoc) and shows the main
entry points with their documentation, so neither the page nor the docstrings can rot."""

from __future__ import annotations

import html
import importlib.util
import inspect
import re
from pathlib import Path

import pytest

import tlsdissect

ROOT = Path(__file__).resolve().parents[1]
MAIN = {"analyze": tlsdissect.analyze, "iter_connections": tlsdissect.iter_connections,
        "Report": tlsdissect.Report, "Connection": tlsdissect.Connection,
        "Diagnosis": tlsdissect.Diagnosis, "Alert": tlsdissect.Alert}


def _api_docs():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("api_docs", ROOT / "tools" / "api_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _text(page: Path) -> str:
    """A page's visible prose: without scripts, styles and the source listings, tags removed,
    whitespace folded."""
    s = page.read_text(encoding="utf-8")
    s = re.sub(r"<script.*?</script>|<style.*?</style>", " ", s, flags=re.S)
    s = re.sub(r'<div class="pdoc-code codehilite">.*?</div>', " ", s, flags=re.S)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", s)).split())
    return re.sub(r"([(]) | ([.,;:)])", r"\1\2", text)  # (no space a tag left before punctuation)


def _first_sentence(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    first = doc.split("\n\n")[0]
    first = re.sub(r":(?:class|func|mod):`([^`]*)`", r"\1", first).replace("``", "")
    return " ".join(first.split())


def test_the_api_reference_shows_the_main_entry_points(tmp_path: Path) -> None:
    pytest.importorskip("pdoc")
    pages = _api_docs().build(tmp_path)
    for page in pages:
        assert page.is_file() and page.stat().st_size > 1000, page
    text = _text(tmp_path / "tlsdissect.html")
    raw = (tmp_path / "tlsdissect.html").read_text(encoding="utf-8")
    for name, obj in MAIN.items():
        assert f'id="{name}"' in raw, f"{name} has no entry on the package's page"
        summary = _first_sentence(obj)
        assert len(summary) > 30, f"{name}'s docstring says too little: {summary!r}"
        assert " ".join(summary.replace("`", "").split()) in text, (name, summary)
    # Every option of analyze is explained on the page, under its own name.
    for option in inspect.signature(tlsdissect.analyze).parameters:
        assert re.search(rf"\b{option}: ", text), option
    # The result classes' fields are documented (their Attributes: sections).
    for cls, field in ((tlsdissect.Connection, "server_name"), (tlsdissect.Diagnosis, "failure_point"),
                       (tlsdissect.Alert, "probable"), (tlsdissect.Report, "truncated")):
        assert re.search(rf"\b{field}: \S", text), (cls.__name__, field)
    assert "~tlsdissect" not in text, "a reST cross-reference pdoc does not resolve"


def test_every_public_item_has_a_docstring() -> None:
    for name in tlsdissect.__all__:
        obj = getattr(tlsdissect, name)
        assert inspect.getdoc(obj), name
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and (inspect.isfunction(member) or isinstance(member, property)):
                    assert inspect.getdoc(member), f"{name}.{attr}"
