"""Key logs as found in the wild: Zeek's own format, CRLF line ends, comments, upper-case hex,
several files, and lines that are not understood (a warning, never a silent skip).

The expectation for every variant is the NSS key log the lab's client wrote for the same
capture: the same connections decrypt, to the same records (the lab's known plaintext is what
tests/test_decrypt_captures.py checks for the NSS form).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tlsdissect.keys.keylog import KeyLog, zeek_unescape

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "captures" / "tls12_success"

# The first line of Zeek's own test key log (testing/btest/scripts/policy/protocols/ssl/
# decryption-keylog.zeek): 28 bytes of client random, the 48-byte master secret.
ZEEK_SAMPLE = (
    "#fields\tclient_random\tsecret\n"
    "\\x0e\\x78\\x2d\\x35\\x63\\x95\\x5d\\x8a\\x30\\xa9\\xcf\\xb6\\x4f\\x47\\xf3\\x96\\x34\\x8a\\x1e\\x79\\x1a"
    "\\xa2\\x32\\x55\\xe2\\x2f\\xc5\\x7a\t"
    "\\x34\\x4f\\x12\\x65\\xbf\\x43\\x40\\xb3\\x61\\x6b\\xa0\\x16\\x5d\\x2b\\x4d\\xb9\\xb1\\xe8\\x4a\\x3d\\xa2"
    "\\x42\\x0e\\x38\\xab\\x01\\x50\\x62\\x84\\xcc\\x34\\xcd\\xe0\\x34\\x10\\xfe\\x1a\\x02\\x30\\x49\\x74\\x6c"
    "\\x46\\x43\\xa7\\x0c\\x67\\x0d\n")


def test_zeek_sample_line() -> None:
    log = KeyLog.from_text(ZEEK_SAMPLE)
    assert not log.malformed
    tail = bytes.fromhex("0e782d3563955d8a30a9cfb64f47f396348a1e791aa23255e22fc57a")
    master = log.master_secret_for(b"\x01\x02\x03\x04" + tail)  # any gmt_unix_time: Zeek leaves it out
    assert master is not None and master.hex().startswith("344f1265bf4340b3616ba0165d2b4db9")
    assert len(master) == 48


def test_zeek_escapes() -> None:
    assert zeek_unescape("\\x31\\x15\\xDD") == b"1\x15\xdd"  # either case, as in Zeek's sample
    assert zeek_unescape("ab\\\\c") == b"ab\\c"


def _zeek_form(nss: str) -> str:
    lines = ["#fields\tclient_random\tsecret"]
    for line in nss.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "CLIENT_RANDOM":
            esc = lambda b: "".join(f"\\x{x:02x}" for x in b)  # noqa: E731
            lines.append(esc(bytes.fromhex(parts[1])[4:]) + "\t" + esc(bytes.fromhex(parts[2])))
    return "\n".join(lines) + "\n"


def _decryption(keylogs: list[Path]) -> list:
    args = [sys.executable, "-m", "tlsdissect.cli", "--json", str(CAPTURE / "capture.pcap")]
    for k in keylogs:
        args += ["--keylog", str(k)]
    doc = json.loads(subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=120).stdout)
    return [(c["stream"], c.get("decryption", {}).get("records_decrypted"), c["ssl_history"]) for c in doc["connections"]]


def test_variants_decrypt_as_the_nss_log_does(tmp_path: Path) -> None:
    nss = (CAPTURE / "keylog.txt").read_text()
    want = _decryption([CAPTURE / "keylog.txt"])
    assert any(n for _, n, _ in want), "the NSS key log decrypts records of this capture"
    variants = {
        "zeek.log": _zeek_form(nss),
        "crlf.txt": "# written on Windows\r\n" + nss.replace("\n", "\r\n"),
        "upper.txt": "\n".join(" ".join([p[0], p[1].upper(), p[2].upper()]) if len(p := ln.split()) == 3 else ln
                               for ln in nss.splitlines()) + "\n",
    }
    for name, text in variants.items():
        (tmp_path / name).write_text(text, newline="")
        assert _decryption([tmp_path / name]) == want, name
    # the same secrets split over two files
    lines = nss.splitlines()
    (tmp_path / "a.txt").write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    (tmp_path / "b.txt").write_text("\n".join(lines[len(lines) // 2:]) + "\n")
    assert _decryption([tmp_path / "a.txt", tmp_path / "b.txt"]) == want


def test_lines_not_understood_are_a_warning(tmp_path: Path) -> None:
    bad = tmp_path / "keys.txt"
    bad.write_text((CAPTURE / "keylog.txt").read_text() + "CLIENT_RANDOM nothex secret\nhello world\n")
    run = subprocess.run([sys.executable, "-m", "tlsdissect.cli", "--json", "--keylog", str(bad),
                          str(CAPTURE / "capture.pcap")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    warnings = json.loads(run.stdout)["warnings"]
    (w,) = [w for w in warnings if w.startswith("key log")]
    assert "2 line(s) not understood" in w and "keys.txt:" in w
    assert "nothex" not in w  # where and why, never the line itself
