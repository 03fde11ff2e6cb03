"""The command line on a capture an attacker wrote (tests/hostile/hostile_captures.py), as an
analyst runs it: in a subprocess, every text view and the JSON.

What must hold: the text views print no control character (but the newline), no DEL, no C1
control and no bidi control that the capture chose, and only the colour codes we write; every
line starts as a line of ours (capture data never starts one); every suggested check command,
read by a shell (shlex.split; bash comments), is exactly the argv we mean, with the server name as one
argument, or is withheld with a reason; and the JSON keeps every capture string exactly.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile import hostile_captures as hc
from tlsdissect.diagnosis.causes import CAUSES

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_IP, SERVER_PORT = "198.51.100.7", "443"

BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
SGR = re.compile("\x1b\\[[0-9;]*m")  # the colour codes rich writes for our styles

# How every line of the text view starts (what the renderer itself writes first).
OUR_LINE = re.compile(
    r"(?:"
    r"|.*: \d+ frames, \d+ TLS connection\(s\).*"  # the capture line (its file name first)
    r"|warning: .*"
    r"|[✗?•✓] stream \d+  .*"  # a connection's first line
    r"|    (?:… )?\S.*"  # verdict, explanation, cause, fix, check, wireshark, hidden
    r"|         \S.*"  # a remedy's further lines
    r"|      - .*"  # evidence
    r"| +\d+  client [→←] server  .*"  # the timeline (the arrow from the sender)
    r"|    fingerprints  client      JA4 \S+  JA3 [0-9a-f]+"  # -v: the fingerprints
    r"|                  (?:server      JA4S \S+  JA3S [0-9a-f]+|certificate JA4X \S+)"
    r"|      (?:versions|cipher suites \(\d+\)|groups \(\d+\)|key shares|signature schemes \(\d+\)|ALPN"
    r"|server name): .*"  # -v: what a refused client offered
    r"|    [├└]─ \[\d+\] .*|    [│ ]       (?:issuer|validity|names|key): .*"  # -v: the certificate tree
    r"|      frame       time  client .*"  # -v: the ladder's heading
    r"|summary:|  connections: \d+ \(.*\)|  failures by cause:|  servers with the most failures .*"  # the summary
    r"|     +\d+  \S.*|    … and \d+ more server\(s\)"  # ... its rows (a count first)
    r"|\d+ established connection\(s\) not listed: .*"
    r"| +\d+ +\d+\.\d{6}  \|(?:─ .* ─*▶|◀─* .* ─)\|"  # -v: a ladder row, an arrow either way
    r")"
)


def _run(pcap: Path, *args: str, colour: bool = False) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TERM")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    if colour:
        env["FORCE_COLOR"] = "1"
        env["TERM"] = "xterm-256color"
    return subprocess.run([sys.executable, "-m", "tlsdissect", *args, str(pcap)], capture_output=True,
                          env=env, cwd=REPO_ROOT, check=False, timeout=120)


@pytest.fixture(scope="module")
def pcap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "hostile.pcap"
    path.write_bytes(hc.hostile_pcap())
    return path


@pytest.fixture(scope="module")
def report(pcap: Path) -> dict:
    proc = _run(pcap, "--json")
    assert proc.returncode == 1, proc.stderr  # failed handshakes, nothing else
    return json.loads(proc.stdout)


def _unsafe_characters(text: str) -> list[str]:
    return sorted({repr(c) for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F
                   or c in BIDI_CONTROLS})


TEXT_VIEWS = {
    "default": ((), False),
    "no-color": (("--no-color",), False),
    "verbose": (("-v",), False),
    "no-color verbose": (("--no-color", "-v"), False),
    "colour terminal": ((), True),
    "colour terminal verbose": (("-v",), True),
}


@pytest.mark.parametrize("view", list(TEXT_VIEWS))
def test_the_text_view_prints_nothing_the_capture_could_steer_the_terminal_with(pcap: Path, view: str) -> None:
    args, colour = TEXT_VIEWS[view]
    proc = _run(pcap, *args, colour=colour)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == b""
    raw = proc.stdout
    text = raw.decode("utf-8")
    if colour:
        assert SGR.search(text), "the colour view was not forced"
        text = SGR.sub("", text)
    assert not [b for b in text.encode("utf-8") if (b < 0x20 and b != 0x0A) or b == 0x7F]
    assert _unsafe_characters(text) == []
    lines = text.split("\n")
    assert lines[-1] == ""
    for line in lines[:-1]:
        assert OUR_LINE.fullmatch(line), f"a line we did not start: {line[:120]!r}"
        assert not line.lstrip().startswith(("FAKE", "[bold", "$(")), line[:120]
    # Every connection is there, one first line each, and the forged one is not.
    assert len(re.findall(r"^[✗?•✓] stream \d+  ", text, re.M)) == len(hc.SCENARIOS)
    assert "stream 9  ESTABLISHED" not in re.findall(r"^[✗?•✓] stream 9 .*", text, re.M)[0]


def test_capture_data_is_shown_escaped_not_dropped(pcap: Path) -> None:
    """The analyst still sees what the capture holds: each hostile character as its escape."""
    text = _run(pcap, "--no-color", "-v").stdout.decode("utf-8")
    assert r"www.example\x1b]0;pwned title\x07\x1b[2J" in text
    assert r"\nFAKE: Handshake OK\r\nFAKE stream 9" in text
    assert r"CN=evil\x1b[2J\u202egnp.exe\x9b2J\nFAKE: Handshake OK" in text
    assert "x.example[bold red]FAKE[/bold red] :thumbs_up:" in text  # markup and emoji codes as they are
    assert r"h2\x1b]0;pwned title" in text  # the ALPN on the connection's first line
    first = next(line for line in text.splitlines() if line.startswith("✗ stream 4 "))
    assert "…[5,012 characters in all]…" in first and len(first) < 400  # the long name, cut


def test_the_json_keeps_every_capture_string_exactly(report: dict) -> None:
    conns = {c["stream"]: c for c in report["connections"]}
    assert len(conns) == len(hc.SCENARIOS)
    for stream, scenario in enumerate(hc.SCENARIOS):
        assert conns[stream]["server_name"] == scenario.server_name, scenario.name
    assert conns[7]["alpn"] == hc.ALPN
    leaf = conns[6]["server_certificates"][0]
    assert leaf["subject_common_name"] == hc.CERT_CN
    assert leaf["san_dns"][0] == "san" + hc.ESCAPES + hc.FORGED_LINE + ".example"
    assert hc.CERT_CN in conns[6]["diagnosis"]["explanation"]


def _intended_argv(cause: str, name: str) -> list[str]:
    """The argv the cause's check means for this server and name, from the catalogue's template
    read by a shell, with the name put in as one argument after the shell has split the rest."""
    marker = "NAMEMARKER"
    template = CAUSES[cause].check.replace("{host}", SERVER_IP).replace("{port}", SERVER_PORT)
    return [name if word == marker else word.replace(marker, name)
            for word in shlex.split(template.replace("{sni}", marker), comments=True)]


def test_a_check_command_is_exactly_the_intended_argv_or_withheld_with_a_reason(report: dict) -> None:
    seen = {"command": 0, "withheld": 0}
    for conn, scenario in zip(sorted(report["connections"], key=lambda c: c["stream"]), hc.SCENARIOS):
        diag = conn["diagnosis"]
        command, withheld = diag["check_command"], diag["check_command_withheld"]
        name = scenario.server_name or SERVER_IP
        if scenario.server_name in (hc.SNI_VALID, None):
            assert withheld is None and command is not None, scenario.name
            assert shlex.split(command, comments=True) == _intended_argv(diag["cause"], name), scenario.name
            seen["command"] += 1
        else:
            assert command is None, (scenario.name, command)
            assert withheld and "not a DNS name or an IP address" in withheld, scenario.name
            seen["withheld"] += 1
    assert seen == {"command": 5, "withheld": 5}


def test_the_valid_name_check_command_by_hand(report: dict) -> None:
    """One argv written out, so the test does not only trust the template's reading."""
    diag = report["connections"][5]["diagnosis"]
    assert diag["cause"] == "sni_rejected"
    argv = shlex.split(diag["check_command"], comments=True)
    assert argv == ["openssl", "s_client", "-connect", "198.51.100.7:443", "-servername", "www.lab.test"]


def test_the_text_view_says_why_a_command_is_withheld(pcap: Path) -> None:
    text = _run(pcap, "--no-color").stdout.decode("utf-8")
    withheld = [line for line in text.splitlines() if line.startswith("    check: none suggested, ")]
    assert len(withheld) == 5
    assert "it is 5012 characters long, more than 253" in withheld[4]


def test_file_names_in_error_messages_are_shown_escaped(tmp_path: Path) -> None:
    """A file name is not capture data, but an archive of captures can name its files: the CLI's
    messages on standard error escape it too (and a missing file is an ordinary error)."""
    name = tmp_path / "x\x1b]0;title\x07\nFAKE: ok.pcap"
    proc = _run(name)
    assert proc.returncode == 2
    err = proc.stderr.decode("utf-8")
    assert err.startswith("tlsdissect: ") and err.count("\n") == 1
    assert r"x\x1b]0;title\x07\nFAKE: ok.pcap: no such file" in err
