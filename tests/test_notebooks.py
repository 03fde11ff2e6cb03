"""The notebooks in notebooks/ run from top to bottom and show what they promise."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    text, html = [], []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text.append(out.get("text", ""))
            data = out.get("data", {})
            text.append(data.get("text/plain", ""))
            text.append(data.get("text/html", ""))
            html.append(data.get("text/html", ""))
    joined = "\n".join(text)
    if path.name == "quickstart.ipynb":
        _check_quickstart(joined, "\n".join(html))


def _expected(name: str) -> dict:
    return json.loads((ROOT / "captures" / name / "expected.json").read_text())["expected"]


def _check_quickstart(joined: str, html: str) -> None:
    # The bundled missing-intermediate capture: what the lab's peers and tshark recorded.
    want = _expected("tls12_missing_intermediate_openssl")
    assert want["cause"] in joined and want["alert"]["name"] in joined
    assert f"alert: {want['alert']['name']} 0x{want['alert']['code']:02x} from the {want['alert']['sender']}" in joined
    # TLS 1.3 with the key log: the server's alert, readable (the server's log saw it).
    want13 = _expected("tls13_client_cert_missing")
    assert f"with keys:    {want13['cause']} certain {want13['alert']['name']}" in joined
    # The rich views: the report's and the connection's HTML tables, the summary in the HTML
    # of a report of many connections.
    assert html.count("<table>") >= 3 and "<th>verdict</th>" in html
    assert "failures by cause:" in html and "servers with the most failures" in html
    # The DataFrame with the columns docs/schema.md lists and their dtypes.
    for column in ("capture", "outcome", "cause", "confidence", "aborted_by", "failure_point", "alpn",
                   "duration", "server_cert_subject", "server_cert_issuer", "server_cert_not_after", "start_time"):
        assert f"<th>{column}</th>" in html, column
    dtypes = dict(re.findall(r"^(\w+) +(\S.*)$", joined, re.M))
    assert dtypes.get("start_time") == "datetime64[ns, UTC]" and dtypes.get("duration") == "timedelta64[ns]"
    for column in ("outcome", "cause", "confidence", "aborted_by", "failure_point"):
        assert dtypes.get(column) == "category", column
