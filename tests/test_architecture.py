"""The package's structure: stages as sub-packages, imports downward only, no cycles, short units.

The layering and the sibling cycles are import-linter's contracts (``[tool.importlinter]`` in
pyproject.toml), run here through its own API so that a broken contract fails the suite. The
module-level cycle check asks grimp (the graph import-linter builds on) directly: for every
import A -> B, whether B leads back to A by any chain.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tlsdissect"
STAGES = ("capture", "tcp", "tls", "keys", "starttls", "x509", "diagnosis", "report", "pipeline", "results")
MAX_FUNCTION_LINES = 120
MAX_CLASS_LINES = 400
# Generated data, not logic (the IANA registries): exempt from the size limits.
SIZE_EXEMPT = {"tlsdissect/tls/tables.py"}


def test_every_stage_is_a_subpackage_that_says_what_it_does() -> None:
    for stage in STAGES:
        init = PACKAGE / stage / "__init__.py"
        assert init.is_file(), f"tlsdissect/{stage}/ is not a package"
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc) > 80, f"tlsdissect/{stage}/__init__.py needs a docstring saying what the stage takes and gives"


def test_import_linter_contracts_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("importlinter")
    from importlinter.application.use_cases import FAILURE, lint_imports
    from importlinter.configuration import configure

    configure()
    status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True)
    printed = capsys.readouterr().out
    assert status != FAILURE, printed
    assert "2 kept, 0 broken" in printed, printed


def test_no_module_imports_its_way_back_to_itself() -> None:
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("tlsdissect")
    cycles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if graph.chain_exists(importer=imported, imported=module):
                cycles.append(f"{module} -> {imported} -> ... -> {module}")
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_no_package_imports_its_way_back_to_itself() -> None:
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("tlsdissect")
    for a in STAGES:
        for b in STAGES:
            if a < b:
                there = graph.chain_exists(importer=f"tlsdissect.{a}", imported=f"tlsdissect.{b}", as_packages=True)
                back = graph.chain_exists(importer=f"tlsdissect.{b}", imported=f"tlsdissect.{a}", as_packages=True)
                assert not (there and back), f"tlsdissect.{a} and tlsdissect.{b} import each other"


def _long_units() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in SIZE_EXEMPT:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if lines > MAX_FUNCTION_LINES:
                    found.append(f"{rel}:{node.lineno} function {node.name}: {lines} lines")
            elif isinstance(node, ast.ClassDef):
                lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if lines > MAX_CLASS_LINES:
                    found.append(f"{rel}:{node.lineno} class {node.name}: {lines} lines")
    return found


def test_no_long_functions_or_classes() -> None:
    long_units = _long_units()
    assert not long_units, (f"functions over {MAX_FUNCTION_LINES} or classes over {MAX_CLASS_LINES} lines:\n"
                            + "\n".join(long_units))


def test_the_size_check_sees_a_long_function(tmp_path: Path) -> None:
    # The walker above must notice a long unit: a function of 130 lines, parsed the same way.
    src = "def f():\n" + "    x = 1\n" * 129
    node = ast.parse(src).body[0]
    assert node.end_lineno - node.lineno + 1 == 130 > MAX_FUNCTION_LINES  # type: ignore[operator]
