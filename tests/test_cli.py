"""The command line as a user runs it: ``python -m tlsdissect`` in a subprocess.

Exit statuses are the documented contract (0 no handshake failed, 1 one failed, 2 unusable
input); which lab capture holds a failed handshake comes from the lab's own ``expected.json``
(written from what the client and server reported when the capture was made), not from us.
Cut-short files are cut at record boundaries found by walking the pcap headers here, per
draft-ietf-opsawg-pcap.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shared_captures import LAB_CAPTURES, REPO_ROOT

TIMEOUT_S = 120


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("SSLKEYLOGFILE", None)
    return subprocess.run([sys.executable, "-m", "tlsdissect", *args], input=stdin, check=False, capture_output=True,
                          timeout=TIMEOUT_S, cwd=REPO_ROOT, env=env)


def lab(name: str) -> Path:
    path = LAB_CAPTURES / name / "capture.pcap"
    if not path.is_file():
        pytest.skip(f"lab capture {path} not present")
    return path


def lab_outcomes(name: str) -> list[str]:
    """The outcome(s) the lab recorded for the capture's connection(s)."""
    meta = json.loads((LAB_CAPTURES / name / "expected.json").read_text())
    exp = meta["expected"]
    items = exp if isinstance(exp, list) else [exp]
    return [e["outcome"] for e in items]


def pcap_record_ends(data: bytes) -> list[int]:
    """Offsets where each pcap record ends (classic pcap, either byte order)."""
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    ends, pos = [], 24
    while pos + 16 <= len(data):
        caplen = struct.unpack_from(endian + "I", data, pos + 8)[0]
        pos += 16 + caplen
        ends.append(pos)
    return ends


def one_line_error(proc: subprocess.CompletedProcess[bytes]) -> str:
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "Traceback" not in proc.stdout.decode("utf-8", "replace")
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("tlsdissect: ")
    return lines[0]


# -- exit statuses on lab captures ---------------------------------------------------------------

@pytest.mark.parametrize("name,status", [
    ("tls13_success", 0),
    ("tls12_success", 0),
    ("tls12_missing_intermediate_openssl", 1),
    ("tls12_no_shared_cipher", 1),
])
def test_exit_status_on_lab_captures(name: str, status: int) -> None:
    path = lab(name)
    outcomes = lab_outcomes(name)
    assert ("failed" in outcomes) == (status == 1), f"lab expectation changed: {outcomes}"
    proc = run_cli("--no-color", str(path))
    assert proc.returncode == status, proc.stdout.decode() + proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    assert proc.stdout.strip()


# -- unusable input -------------------------------------------------------------------------------

def test_missing_file(tmp_path: Path) -> None:
    proc = run_cli(str(tmp_path / "does-not-exist.pcap"))
    assert proc.returncode == 2
    assert "does-not-exist.pcap" in one_line_error(proc)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    proc = run_cli(str(path))
    assert proc.returncode == 2
    assert "empty" in one_line_error(proc)


@pytest.mark.parametrize("content,word", [
    (b"%PDF-1.5\n%\xb5\xb5\xb5\xb5\n1 0 obj\n<< /Type /Catalog >>\n", "PDF"),
    (b"# NSS key log\nCLIENT_RANDOM 00 11\n", "text"),
])
def test_not_a_capture(tmp_path: Path, content: bytes, word: str) -> None:
    path = tmp_path / "thing.pcap"
    path.write_bytes(content)
    proc = run_cli(str(path))
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert "not a pcap" in line and word in line


def test_directory_is_unusable_input(tmp_path: Path) -> None:
    proc = run_cli(str(tmp_path))
    assert proc.returncode == 2
    one_line_error(proc)


def _cut_capture(tmp_path: Path) -> tuple[Path, int]:
    """tls12_missing_intermediate_openssl cut in the middle of its last record."""
    data = lab("tls12_missing_intermediate_openssl").read_bytes()
    ends = pcap_record_ends(data)
    assert len(ends) >= 8 and ends[-1] == len(data)
    cut = ends[-2] + 10  # 10 bytes into the last record: a record header cut short... and more
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:cut])
    return path, len(ends) - 1


def test_truncated_file_prints_what_came_before(tmp_path: Path) -> None:
    path, complete = _cut_capture(tmp_path)
    proc = run_cli("--no-color", str(path))
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert str(path) in line
    out = proc.stdout.decode()
    assert f"{complete} frames" in out  # the frames before the cut are all there
    assert "stream 0" in out and "unknown_ca" in out  # the client's fatal alert came before the cut


def test_truncated_file_json_still_has_connections(tmp_path: Path) -> None:
    path, complete = _cut_capture(tmp_path)
    proc = run_cli("--json", str(path))
    assert proc.returncode == 2
    one_line_error(proc)
    report = json.loads(proc.stdout)
    assert report["truncated"] is True and report["frames"] == complete
    assert len(report["connections"]) == 1


# -- output formats ---------------------------------------------------------------------------------

def test_json_output() -> None:
    path = lab("tls13_success")
    proc = run_cli("--json", str(path))
    assert proc.returncode == 0
    report = json.loads(proc.stdout)
    assert {"capture", "connections"} <= set(report)
    assert report["capture"].endswith("capture.pcap")
    conns = report["connections"]
    assert len(conns) == 1
    c = conns[0]
    assert c["server_name"] == "www.lab.test" and c["version"] == "TLSv1.3" and c["established"] is True


def test_jsonl_output_is_one_object_per_line() -> None:
    path = lab("tls12_missing_intermediate_openssl")
    proc = run_cli("--jsonl", str(path))
    assert proc.returncode == 1
    lines = proc.stdout.decode().splitlines()
    assert lines
    objs = [json.loads(line) for line in lines]
    assert all(isinstance(o, dict) for o in objs)
    assert any(a.get("fatal") or a.get("level") == "fatal" for o in objs for a in o["alerts"])


def test_stdin_gives_the_same_report_as_the_file() -> None:
    path = lab("tls13_success")
    from_file = json.loads(run_cli("--json", str(path)).stdout)
    proc = run_cli("--json", "-", stdin=path.read_bytes())
    assert proc.returncode == 0, proc.stderr.decode()
    from_stdin = json.loads(proc.stdout)
    assert from_stdin["connections"] == from_file["connections"]
    assert from_stdin["frames"] == from_file["frames"]


def test_stdin_gzip_and_truncated(tmp_path: Path) -> None:
    import gzip

    data = lab("tls12_missing_intermediate_openssl").read_bytes()
    proc = run_cli("--jsonl", "-", stdin=gzip.compress(data))
    assert proc.returncode == 1
    ends = pcap_record_ends(data)
    proc = run_cli("--no-color", "-", stdin=data[: ends[3] + 5])
    assert proc.returncode == 2
    one_line_error(proc)


def test_empty_stdin() -> None:
    proc = run_cli("-", stdin=b"")
    assert proc.returncode == 2
    assert "empty" in one_line_error(proc)


@pytest.mark.parametrize("mode", ["--jsonl", "--json", "--no-color"])
def test_closed_stdout_pipe_is_quiet(mode: str) -> None:
    """``tlsdissect big.pcap | head -1``: the reader goes away early; no traceback, no noise."""
    path = lab("tls13_success")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "tlsdissect", mode, str(path), str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO_ROOT, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `head` exiting before reading anything
    err = proc.stderr.read()
    proc.wait(timeout=TIMEOUT_S)
    assert not err.strip(), err.decode()


def test_several_files_exit_with_the_worst_status() -> None:
    ok, failed = lab("tls13_success"), lab("tls12_missing_intermediate_openssl")
    proc = run_cli("--jsonl", str(ok), str(failed))
    assert proc.returncode == 1
    objs = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(objs) == 2
    assert [o["established"] for o in objs] == [True, False]
