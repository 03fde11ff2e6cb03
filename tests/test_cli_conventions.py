"""Command-line conventions a new user expects: --version, --help with exit codes and examples,
NO_COLOR/FORCE_COLOR, -j 0, notes for a --stream or a key log that matched nothing, completion."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tlsdissect.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
TLS12 = ROOT / "captures" / "tls12_success" / "capture.pcap"
FAILED = ROOT / "captures" / "tls12_missing_intermediate_openssl" / "capture.pcap"
OTHER_KEYS = ROOT / "captures" / "tls13_success" / "keylog.txt"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tlsdissect", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=120)


def _on_a_terminal(*args: str, env: dict[str, str]) -> bytes:
    """The CLI's output as a terminal receives it (a pseudo-terminal: rich decides on colour)."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        full = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
        full.update({"PYTHONPATH": str(ROOT), "TERM": "xterm-256color", "COLUMNS": "120", **env})
        os.execvpe(sys.executable, [sys.executable, "-m", "tlsdissect", *args], full)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    return out


def test_version_prints_the_installed_version() -> None:
    import tlsdissect

    from tlsdissect.tcp import reassembly

    r = _cli("--version")
    assert r.returncode == 0
    # ... and which build runs: the compiled one's modules are extension modules (setup.py).
    build = "pure Python" if reassembly.__file__.endswith(".py") else "compiled with mypyc"
    assert r.stdout.strip() == f"tlsdissect {tlsdissect.__version__} ({build})"


def test_help_lists_exit_codes_and_examples() -> None:
    text = build_parser().format_help()
    assert "exit status:" in text and "examples:" in text
    for code in ("0  no handshake failed", "1  at least one handshake failed", "2  unusable input"):
        assert code in text


def test_no_color_is_honoured_on_a_terminal() -> None:
    coloured = _on_a_terminal(str(FAILED), env={})
    assert b"\x1b[" in coloured  # a terminal gets colour by default: the check below can fail
    plain = _on_a_terminal(str(FAILED), env={"NO_COLOR": "1"})
    assert b"FAILED" in plain or b"failed" in plain
    assert b"\x1b[" not in plain


def test_force_color_colours_a_pipe() -> None:
    assert "\x1b[" not in _cli(str(FAILED)).stdout
    assert "\x1b[" in _cli(str(FAILED), env={"FORCE_COLOR": "1"}).stdout


def test_jobs_zero_means_one_per_core() -> None:
    args = build_parser().parse_args(["-j", "0", "x.pcap"])
    assert args.jobs == (os.cpu_count() or 1)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["-j", "-1", "x.pcap"])
    assert _cli("-j", "0", str(TLS12)).returncode == 0


def test_a_stream_that_does_not_exist_is_noted() -> None:
    r = _cli("--stream", "99", str(TLS12))
    assert r.returncode == 0
    assert "no stream 99" in r.stderr and "1 TCP conversation" in r.stderr
    assert "no stream" not in _cli("--stream", "0", str(TLS12)).stderr


def test_a_key_log_without_this_captures_secrets_is_noted() -> None:
    r = _cli("--keylog", str(OTHER_KEYS), str(TLS12))
    assert "holds no secrets for this capture" in r.stderr
    own = _cli("--keylog", str(TLS12.parent / "keylog.txt"), str(TLS12))
    assert "holds no secrets" not in own.stderr


def test_shell_completion_is_generated() -> None:
    r = _cli("--print-completion", "bash")
    assert r.returncode == 0
    assert "tlsdissect" in r.stdout and "--keylog" in r.stdout


def _stop_midway(*args: str) -> tuple[int, str, str]:
    """Feed a capture through standard input, keep the pipe open (a live tcpdump's case), then
    SIGTERM the CLI once it has read it: the stop must leave a whole, valid output."""
    import fcntl
    import signal
    import struct
    import termios
    import time

    proc = subprocess.Popen([sys.executable, "-m", "tlsdissect", *args, "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdin is not None
    proc.stdin.write(FAILED.read_bytes())
    proc.stdin.flush()
    # Wait until it has read everything from the pipe (however long its start takes on a busy
    # machine: FIONREAD on the pipe says what is still unread), then a moment to decode it.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        unread = struct.unpack("i", fcntl.ioctl(proc.stdin.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
        if unread == 0:
            break
        time.sleep(0.05)
    time.sleep(1.0)  # (it has read the packets and waits for more)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out.decode(), err.decode()


def test_a_stopped_json_run_leaves_a_valid_document() -> None:
    import json

    rc, out, err = _stop_midway("--json")
    assert rc == 130, err
    doc = json.loads(out)
    assert doc["interrupted"] is True
    assert len(doc["connections"]) == 1  # still in the table (no capture time passed): handed out
    assert doc["connections"][0]["alerts"][0]["name"] == "unknown_ca"  # tshark: alert 48
    assert "stopped" in err


def test_a_stopped_text_run_shows_what_was_decoded() -> None:
    rc, out, err = _stop_midway("--no-color")
    assert rc == 130
    assert "unknown_ca" in out and "stopped" in err


def test_several_captures_with_json_make_one_document(tmp_path: Path) -> None:
    import json

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.pcap").write_bytes(FAILED.read_bytes())
    (tmp_path / "a.pcap").write_bytes(TLS12.read_bytes())
    (tmp_path / "notes.txt").write_text("not a capture")
    bad = tmp_path / "bad.pcap"
    bad.write_text("not a capture either")
    r = _cli("--json", str(tmp_path))  # a directory: its captures, recursively, sorted
    doc = json.loads(r.stdout)
    names = [Path(c["capture"]).name for c in doc["captures"]]
    assert names == ["a.pcap", "bad.pcap", "b.pcap"]
    assert "error" in doc["captures"][1] and "connections" not in doc["captures"][1]
    assert doc["captures"][2]["connections"][0]["alerts"][0]["code"] == 48
    assert r.returncode == 2  # the worst status wins: one file was unusable
    par = _cli("-j", "2", "--json", str(tmp_path / "a.pcap"), str(bad), str(tmp_path / "sub" / "b.pcap"))
    assert json.loads(par.stdout)["captures"][0]["connections"] == doc["captures"][0]["connections"]


def test_json_lines_say_which_capture_they_came_from(tmp_path: Path) -> None:
    import json

    r = _cli("--jsonl", str(TLS12), str(FAILED))
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["capture"] for x in lines] == [str(TLS12), str(FAILED)]
    assert lines[1]["alerts"][0]["name"] == "unknown_ca"


def test_a_quoted_pattern_is_expanded() -> None:
    r = _cli("--jsonl", str(ROOT / "captures" / "tls1[23]_success" / "capture.pcap"))
    assert r.stdout.count("\n") == 2
