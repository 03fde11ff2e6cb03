"""The package's type hints are checked by mypy, with the configuration in pyproject.toml
(``[tool.mypy]``: strict for the whole package), through mypy's own API: any error fails the
suite, so that the types stay true. They are what the compiled build (mypyc) compiles from; a
wrong hint there is a wrong program (a TypeError at run time), not a wrong comment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_mypy_configuration_is_strict() -> None:
    tomllib = pytest.importorskip("tomllib")  # (Python 3.11 on)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config.get("strict") is True
    assert config.get("packages") == ["tlsdissect"]
    # Only libraries without type information may skip their imports' checks; our own modules may
    # at most call such a library's unannotated functions (tlsdissect.dask: dask, distributed),
    # never leave their own definitions unchecked.
    for override in config.get("overrides", []):
        modules = override["module"] if isinstance(override["module"], list) else [override["module"]]
        if any(m.startswith("tlsdissect") for m in modules):
            settings = {k: v for k, v in override.items() if k != "module"}
            assert settings == {"disallow_untyped_calls": False}, f"pyproject relaxes mypy for our own {modules}"


def test_mypy_finds_no_error_in_the_package() -> None:
    pytest.importorskip("mypy")
    from mypy import api

    cwd = os.getcwd()
    os.chdir(ROOT)  # (the configuration's ``packages`` and the cache are the checkout's)
    try:
        out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--no-error-summary"])
    finally:
        os.chdir(cwd)
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 0 and not errors, "mypy:\n" + (out + err)[-6000:]


def test_docs_list_exactly_the_compiled_modules() -> None:
    import ast

    tree = ast.parse((ROOT / "setup.py").read_text())
    compiled = next(ast.literal_eval(node.value) for node in ast.walk(tree)
                    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "COMPILED")
    doc = (ROOT / "docs" / "compiled.md").read_text()
    listed = [line[3:-1] for line in doc.splitlines() if line.startswith("- `tlsdissect/") and line.endswith("`")]
    assert listed == compiled, "docs/compiled.md's list differs from setup.py's COMPILED"
    for path in compiled:
        assert (ROOT / path).is_file(), path
