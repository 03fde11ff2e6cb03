"""tlsdissect.dask and ``--cluster`` on a real LocalCluster with two worker processes.

The expectations are the single-process results of the same files (Report.to_dataframe,
to_dict, the ``--jsonl`` lines), which the rest of the suite checks against tshark and the
peers: the cluster must give the same connections, no more, no fewer. A rotation set is made
by editcap (Wireshark's tool) from a bundled capture; the unsplit capture's result is what the
stitched set must give. One cluster serves the module (starting it costs a few seconds).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shared_captures import LAB_CAPTURES, shared_captures_dir

pd = pytest.importorskip("pandas")
pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import tlsdissect  # noqa: E402
import tlsdissect.dask as td  # noqa: E402
from tlsdissect.dask.sources import CaptureFile, plan, rotation_sets  # noqa: E402
from tlsdissect.results.model import CATEGORY_COLUMNS, DATAFRAME_COLUMNS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LAB = sorted(str(p) for p in LAB_CAPTURES.glob("*/capture.pcap"))
# A few real captures of other projects: several connections each, TLS 1.2 and 1.3, pcap and pcapng.
SHARED_NAMES = ("ntop+nDPI/tests/cfgs/default/pcap/tumblr.pcap", "adulau+ssldump/samples/tls1.3_chacha.pcap",
                "salesforce+ja3/testing/tls-alpn-h2.pcap", "FoxIO-LLC+ja4/pcap/tls3.pcapng")
RESUMPTION = str(LAB_CAPTURES / "tls12_resumption_openssl" / "capture.pcap")  # 6 connections, 82 frames


def _shared() -> list[str]:
    root = shared_captures_dir()
    return [str(root / n) for n in SHARED_NAMES if (root / n).is_file()]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _comparable(df):
    """Categoricals as their values: each capture's frame has its own categories, so a plain
    pandas.concat of several to_dataframe() turns them into strings, Dask's concat unions them."""
    df = df.reset_index(drop=True).copy()
    for col in CATEGORY_COLUMNS:
        df[col] = df[col].astype(object)
    return df


def _single(files: list[str]):
    return pd.concat([tlsdissect.analyze(f).to_dataframe() for f in files], ignore_index=True)


def test_connections_equal_the_single_process_frames(client) -> None:
    files = LAB[:25] + _shared()
    ddf = td.connections(files)
    assert list(ddf.columns) == list(DATAFRAME_COLUMNS) + ["error"]
    assert ddf.npartitions == len(files)  # one task per file
    df = ddf.compute()
    assert df["error"].isna().all()
    expected = _single(files)
    assert len(df) == len(expected) > (40 if _shared() else 12)  # (fewer without the shared captures)
    pd.testing.assert_frame_equal(_comparable(df.drop(columns="error")), _comparable(expected))
    one = tlsdissect.analyze(files[0]).to_dataframe()
    for col in DATAFRAME_COLUMNS:  # the dtypes of to_dataframe() (rows_frame sets them)
        if col in CATEGORY_COLUMNS:
            assert isinstance(df[col].dtype, pd.CategoricalDtype), col
        else:
            assert df[col].dtype == one[col].dtype, col


def test_a_big_file_is_shared_out_in_connection_hash_shards(client) -> None:
    shared = [f for f in _shared() if os.path.getsize(f) > 300_000]
    if not shared:
        pytest.skip("no shared capture over 300 kB")
    parts = plan((CaptureFile(shared[0], os.path.getsize(shared[0])),), split_bytes=100_000)
    assert len(parts) > 2 and {p.shard[1] for p in parts} == {len(parts)}
    df = td.connections(shared[:1], split_bytes=100_000).compute()
    pd.testing.assert_frame_equal(_comparable(df.drop(columns="error")), _comparable(_single(shared[:1])))


def test_connection_dicts_are_the_full_results(client) -> None:
    files = LAB[:6]
    got = td.connection_dicts(files).compute()
    expected = []
    for f in files:
        for d in tlsdissect.analyze(f).to_dict()["connections"]:
            expected.append({**d, "capture": f})
    key = lambda d: (d["capture"], d["stream"])  # noqa: E731
    assert sorted(got, key=key) == sorted(expected, key=key)


def test_options_reach_the_workers(client) -> None:
    root = shared_captures_dir() / "adulau+ssldump" / "samples"
    if not (root / "log.txt").is_file():
        pytest.skip("shared ssldump captures absent")
    files = [str(root / "tls1.3_chacha.pcap")]
    got = td.connection_dicts(files, keylog=str(root / "log.txt")).compute()
    expected = tlsdissect.analyze(files[0], keylog=str(root / "log.txt")).to_dict()["connections"]
    assert [g["decryption"] for g in got] == [e["decryption"] for e in expected]
    assert any(e["decryption"].get("records_decrypted") for e in expected)


def test_trust_anchors_reach_the_workers(client) -> None:
    files = [str(LAB_CAPTURES / "tls12_untrusted_root_curl" / "capture.pcap")]
    anchors = str(LAB_CAPTURES / "_trust" / "lab-root-ca.crt")
    got = td.connection_dicts(files, ca_file=anchors).compute()
    expected = tlsdissect.analyze(files[0], ca_file=anchors).to_dict()["connections"]
    assert [{k: v for k, v in g.items() if k != "capture"} for g in got] == expected
    assert expected != tlsdissect.analyze(files[0]).to_dict()["connections"]  # (the anchors change the result)


def _editcap(args: list[str]) -> None:
    if shutil.which("editcap") is None:
        pytest.skip("editcap (Wireshark's tools) is not installed")
    subprocess.run(["editcap", *args], check=True, capture_output=True)


def _split(tmp_path: Path, count: int) -> list[str]:
    out = tmp_path / "rot"
    out.mkdir()
    _editcap(["-F", "pcap", "-c", str(count), RESUMPTION, str(out / "lb1.pcap")])
    return sorted(str(p) for p in out.iterdir())


def test_a_rotation_set_gives_the_unsplit_captures_connections(client, tmp_path: Path) -> None:
    files = _split(tmp_path, 7)  # editcap's names: lb1_00000_<time>.pcap, lb1_00001_<time>.pcap, ...
    assert len(files) == 12
    df = td.connections([str(tmp_path / "rot")]).compute().reset_index(drop=True)
    whole = tlsdissect.analyze(RESUMPTION).to_dataframe()
    assert len(df) == len(whole) == 6
    pd.testing.assert_frame_equal(_comparable(df.drop(columns=["capture", "error"])),
                                  _comparable(whole.drop(columns="capture")))
    # Each connection's capture: the file its first frame is in (7 frames a file, in order).
    assert list(df["capture"]) == [files[(f - 1) // 7] for f in df["first_frame"]]
    dicts = td.connection_dicts([str(tmp_path / "rot")]).compute()
    assert [{k: v for k, v in d.items() if k != "capture"} for d in dicts] == tlsdissect.analyze(
        RESUMPTION).to_dict()["connections"]
    # The same set as fsspec URLs (each member opened when its turn comes)
    remote = td.connections([f"file://{tmp_path / 'rot'}"]).compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(_comparable(remote.drop(columns="capture")), _comparable(df.drop(columns="capture")))
    assert list(remote["capture"]) == [f"file://{c}" for c in df["capture"]]
    # Read alone, the files give halves and fragments: the stitching is what makes them whole.
    alone = td.connections([str(tmp_path / "rot")], rotation=False).compute()
    assert len(alone) != len(whole) or set(alone["outcome"]) != set(whole["outcome"])


def test_tcpdump_size_rotation_names_are_one_set(client, tmp_path: Path) -> None:
    files = _split(tmp_path, 20)
    names = ["cap.pcap"] + [f"cap.pcap{i}" for i in range(1, len(files))]  # tcpdump -C's names
    for src, name in zip(files, names):
        os.rename(src, tmp_path / "rot" / name)
    groups = rotation_sets([CaptureFile(str(tmp_path / "rot" / n)) for n in reversed(names)])
    assert [len(g) for g in groups] == [len(names)]
    assert [Path(f.name).name for f in groups[0]] == names
    df = td.connections([str(tmp_path / "rot")]).compute()
    whole = tlsdissect.analyze(RESUMPTION).to_dataframe()
    pd.testing.assert_frame_equal(_comparable(df.drop(columns=["capture", "error"])),
                                  _comparable(whole.drop(columns="capture")))


def test_rotation_sets_are_per_sensor_and_per_directory() -> None:
    names = ["a/lb1-20261207-1100.pcap", "a/lb1-20261207-1000.pcap", "a/lb2-20261207-1000.pcap",
             "a/lb2-20261207-1100.pcap", "b/lb1-20261207-1200.pcap", "a/x1.pcap", "a/x2.pcap"]
    groups = [[f.name for f in g] for g in rotation_sets([CaptureFile(n) for n in names])]
    assert groups == [["a/lb1-20261207-1000.pcap", "a/lb1-20261207-1100.pcap"],
                      ["a/lb2-20261207-1000.pcap", "a/lb2-20261207-1100.pcap"],
                      ["b/lb1-20261207-1200.pcap"], ["a/x1.pcap"], ["a/x2.pcap"]]


def test_a_corrupt_file_is_an_error_row_and_the_rest_is_complete(client, tmp_path: Path) -> None:
    good = LAB[:5]
    data = Path(RESUMPTION).read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:len(data) // 2])  # cut inside a record
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"this is not a capture at all" * 10)
    files = good + [str(cut), str(junk), str(tmp_path / "missing.pcap")]
    df = td.connections(files).compute()
    errors = df[df["error"].notna()]
    assert sorted(errors["capture"]) == sorted([str(cut), str(junk), str(tmp_path / "missing.pcap")])
    assert (errors["stream"] == td.ERROR_STREAM).all()
    assert "not a pcap or pcapng capture" in errors.set_index("capture").loc[str(junk), "error"]
    assert "no such file" in errors.set_index("capture").loc[str(tmp_path / "missing.pcap"), "error"]
    cut_report = tlsdissect.analyze(str(cut))
    assert cut_report.truncated
    assert cut_report.truncation_reason in errors.set_index("capture").loc[str(cut), "error"]
    rows = df[df["error"].isna()]
    pd.testing.assert_frame_equal(_comparable(rows.drop(columns="error")),
                                  _comparable(_single(good + [str(cut)])))


def test_fsspec_urls(client) -> None:
    directory = LAB_CAPTURES / "tls12_success"
    df = td.connections([f"file://{directory}"]).compute()
    expected = tlsdissect.analyze(str(directory / "capture.pcap")).to_dataframe()
    assert list(df["capture"]) == [f"file://{directory / 'capture.pcap'}"] * len(expected)
    pd.testing.assert_frame_equal(_comparable(df.drop(columns=["capture", "error"])),
                                  _comparable(expected.drop(columns="capture")))


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tlsdissect", *args], capture_output=True, env=env, timeout=300)


def test_cli_cluster_jsonl_over_a_directory_equals_the_single_process_run(tmp_path: Path) -> None:
    caps = tmp_path / "caps"
    caps.mkdir()
    for f in LAB[:12] + _shared()[:2]:
        shutil.copy(f, caps / f"{Path(f).parent.name}-{Path(f).name}")
    (caps / "broken.pcap").write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 7)  # a pcap header cut short
    single = _cli("--jsonl", "--csv", str(tmp_path / "single.csv"), str(caps))
    cluster = _cli("--cluster", "local:2", "--jsonl", "--csv", str(tmp_path / "cluster.csv"), str(caps))
    assert single.returncode == cluster.returncode == 2, cluster.stderr
    lines = sorted(single.stdout.splitlines())
    assert len(lines) > (20 if _shared() else 12)  # (fewer without the shared captures)
    assert sorted(cluster.stdout.splitlines()) == lines
    assert {json.loads(x)["capture"] for x in lines} <= {str(p) for p in caps.iterdir()}
    assert b"broken.pcap" in cluster.stderr
    table = (tmp_path / "single.csv").read_text().splitlines()
    assert len(table) == len(lines) + 1
    assert sorted((tmp_path / "cluster.csv").read_text().splitlines()) == sorted(table)


def test_cli_cluster_refuses_what_it_does_not_do() -> None:
    done = _cli("--cluster", "local:2", "--json", LAB[0])
    assert done.returncode == 2 and b"does not take --json" in done.stderr
    done = _cli("--no-rotation", LAB[0])
    assert done.returncode == 2 and b"--no-rotation goes with --cluster" in done.stderr


def test_a_fault_on_one_file_is_that_file_s_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from tlsdissect.dask import tasks

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(tasks, "iter_with_options", broken)
    result = tasks.analyse_part(plan((CaptureFile(LAB[0]),))[0], td.ship_options())
    assert result.items == [] and result.errors == [(LAB[0], f"{LAB[0]}: analysis failed (RuntimeError: a bug)")]


def test_an_unreachable_url_is_its_own_error_row(client) -> None:
    df = td.connections(["nosuchprotocol://bucket/cap.pcap", LAB[0]]).compute()
    errors = df[df["error"].notna()]
    assert list(errors["capture"]) == ["nosuchprotocol://bucket/cap.pcap"]
    assert "cannot open" in errors["error"].iloc[0]
    assert len(df) == 1 + len(tlsdissect.analyze(LAB[0]))


def test_a_bare_cluster_option_means_a_local_cluster() -> None:
    from tlsdissect.cli import _cluster_value

    assert _cluster_value(["--cluster", "caps/"]) == ["--cluster", "local", "caps/"]
    assert _cluster_value(["caps/", "--cluster"]) == ["caps/", "--cluster", "local"]
    assert _cluster_value(["--cluster", "s3://bucket/caps/"]) == ["--cluster", "local", "s3://bucket/caps/"]
    for spec in ("local", "local:3", "tcp://10.0.0.1:8786", "tls://sched:8786"):
        assert _cluster_value(["--cluster", spec, "caps/"]) == ["--cluster", spec, "caps/"]
