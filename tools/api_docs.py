"""Build the API reference (HTML) from the docstrings with pdoc: ``python tools/api_docs.py OUTDIR``.

The public surface is :data:`API_MODULES`: the package (``analyze``, ``iter_connections`` and
the result classes it exports), the result model, the Diagnosis, and the views a library user
calls. tests/test_api_docs.py builds it, so it cannot rot.
"""

from __future__ import annotations

import sys
from pathlib import Path

API_MODULES = (
    "tlsdissect",
    "tlsdissect.results.model",
    "tlsdissect.results.outcome",
    "tlsdissect.diagnosis.verdict",
    "tlsdissect.report.text",
    "tlsdissect.report.notebook",
    "tlsdissect.errors",
)


def build(out: Path) -> list[Path]:
    """Write the reference into ``out``; returns the module pages (one HTML file per module)."""
    import pdoc
    import pdoc.render

    # Google-style sections (Args:, Attributes:, Raises:) are how the docstrings are written.
    pdoc.render.configure(docformat="google", search=True, show_source=True)
    pdoc.pdoc(*API_MODULES, output_directory=out)
    return [out / (m.replace(".", "/") + ".html") for m in API_MODULES]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/api_docs.py OUTDIR   (needs pdoc: pip install -e '.[test]')")
    for page in build(Path(sys.argv[1])):
        print(page)
