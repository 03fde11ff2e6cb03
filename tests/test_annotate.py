"""--annotate: the capture written again as pcapng with the findings as packet comments.

tshark is the oracle that reads the file back (never our reader): it must see every original
frame with the same number, time (to the input's resolution), lengths, interface and link type;
the comments on the frames the JSON of the same run names; the verdict on the frame where
tshark itself sees the deciding alert or reset; and, with a key log, the handshake decrypted
from the embedded Decryption Secrets Block alone. Packet bytes are compared with dpkt.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import dpkt
import pytest

from tests.hostile.hostile_captures import SNI_LONG, SNI_TERMINAL, hostile_pcap
from tests.shared_captures import require_shared_captures
from tlsdissect.capture import pcapng_blocks as blocks
from tlsdissect.cli import main
from tlsdissect.keys.keylog import KeyLog

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "captures"
TSHARK = shutil.which("tshark")
EDITCAP = shutil.which("editcap")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed (the oracle that reads the file back)")
FRAME_FIELDS = ("frame.number", "frame.time_epoch", "frame.len", "frame.cap_len", "frame.interface_id",
                "frame.encap_type")


def _tshark(path: Path, tmp: Path, *args: str) -> str:
    """tshark with no preferences of a user's (no key log file: only what the file embeds)."""
    cfg = tmp / "wireshark-config"
    cfg.mkdir(exist_ok=True)
    env = {**os.environ, "WIRESHARK_CONFIG_DIR": str(cfg)}
    run = subprocess.run([TSHARK, "-r", str(path), "-o", "tls.keylog_file:", *args], capture_output=True,
                         text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout


def _frames(path: Path, tmp: Path, with_interface: bool = True) -> list[list[str]]:
    fields = [f for f in FRAME_FIELDS if with_interface or f != "frame.interface_id"]
    out = _tshark(path, tmp, "-T", "fields", *[x for f in fields for x in ("-e", f)])
    return [line.split("\t") for line in out.splitlines()]


def _comments(path: Path, tmp: Path) -> dict[int, list[str]]:
    """frame -> its comments, as tshark reads them (JSON: commas inside a comment stay)."""
    out = _tshark(path, tmp, "-Y", "frame.comment", "-T", "json", "-e", "frame.number", "-e", "frame.comment")
    found: dict[int, list[str]] = {}
    for pkt in json.loads(out or "[]"):
        layers = pkt["_source"]["layers"]
        found[int(layers["frame.number"][0])] = layers["frame.comment"]
    return found


def _ours(comments: dict[int, list[str]]) -> dict[int, list[str]]:
    return {f: [c for c in cs if c.startswith("tlsdissect")] for f, cs in comments.items()
            if any(c.startswith("tlsdissect") for c in cs)}


def _run(capsys: Any, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _packets(path: Path) -> list[bytes]:
    """Packet bytes in file order, by dpkt (pcap or pcapng)."""
    with open(path, "rb") as f:
        head = f.read(4)
        f.seek(0)
        data = gzip.decompress(f.read()) if head[:2] == b"\x1f\x8b" else f.read()
    import io

    reader = dpkt.pcapng.Reader(io.BytesIO(data)) if data[:4] == b"\x0a\x0d\x0d\x0a" else dpkt.pcap.Reader(io.BytesIO(data))
    return [bytes(buf) for _ts, buf in reader]


def _secrets_blocks(path: Path) -> list[tuple[int, bytes]]:
    """The Decryption Secrets Blocks of a little-endian pcapng, walked per the specification."""
    data = path.read_bytes()
    pos, found = 0, []
    while pos + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, pos)
        if btype == 0x0000000A:
            stype, slen = struct.unpack_from("<II", data, pos + 8)
            found.append((stype, data[pos + 16:pos + 16 + slen]))
        pos += blen
    return found


# -- the lab: comments where the JSON's findings are, verdicts where tshark sees the end -----

LAB_CASES = ("tls12_missing_intermediate_openssl", "tls13_untrusted_root_curl", "middlebox_reset",
             "tls_to_plaintext_server", "server_no_response", "tls12_renegotiation_client_cert_openssl",
             "tls13_success")


@needs_tshark
@pytest.mark.parametrize("name", LAB_CASES)
def test_comments_sit_on_the_frames_the_json_names(name: str, tmp_path: Path, capsys: Any) -> None:
    src = LAB / name / "capture.pcap"
    out = tmp_path / "annotated.pcapng"
    rc, text, err = _run(capsys, "--json", "--annotate", str(out), str(src))
    assert rc in (0, 1), err
    report = json.loads(text)
    expected: dict[int, list[str]] = {}
    for c in report["connections"]:
        d = c["diagnosis"]
        head = f"tlsdissect tcp.stream {c['stream']}: "
        expected.setdefault(c["first_frame"], []).append(f"{head}{d['outcome']}, cause {d['cause']} "
                                                         f"({d['confidence']}): {d['explanation']}")
        for ev in d["evidence"]:
            for frame in ev["frames"][:8] or [c["first_frame"]]:
                expected.setdefault(frame, []).append(f"{head}evidence: {ev['text']}")
        for line in d["remedy"]:
            expected.setdefault(c["first_frame"], []).append(f"{head}remedy: {line}")
    got = _ours(_comments(out, tmp_path))
    verdicts = {f: [c for c in cs if ": verdict: " in c] for f, cs in got.items()}
    verdicts = {f: v for f, v in verdicts.items() if v}
    assert sum(len(v) for v in verdicts.values()) == len(report["connections"])
    without_verdicts = {f: sorted(c for c in cs if ": verdict: " not in c) for f, cs in got.items()}
    assert {f: cs for f, cs in without_verdicts.items() if cs} == {f: sorted(cs) for f, cs in expected.items()}
    # every original frame is there with its number, time, lengths and link type
    assert _frames(out, tmp_path, with_interface=False) == _frames(src, tmp_path, with_interface=False)
    assert _packets(out) == _packets(src)
    assert f"{out}: " in err and "comment(s)" in err


@needs_tshark
@pytest.mark.parametrize("name,display_filter", [
    ("tls12_missing_intermediate_openssl", "tls.alert_message"),
    ("middlebox_reset", "tcp.flags.reset == 1"),
    ("tls_to_plaintext_server", "tcp.flags.fin == 1"),
])
def test_the_verdict_is_on_the_frame_tshark_sees_end_the_connection(name: str, display_filter: str,
                                                                   tmp_path: Path, capsys: Any) -> None:
    src = LAB / name / "capture.pcap"
    out = tmp_path / "annotated.pcapng"
    assert _run(capsys, "--annotate", str(out), str(src))[0] in (0, 1)
    first_end: dict[int, int] = {}  # tcp.stream -> the first frame tshark matches in it
    for line in _tshark(src, tmp_path, "-Y", display_filter, "-T", "fields", "-e", "tcp.stream",
                        "-e", "frame.number").splitlines():
        stream, frame = line.split("\t")
        first_end.setdefault(int(stream), int(frame))
    verdicts = {int(c.split()[2].rstrip(":")): f for f, cs in _comments(out, tmp_path).items()
                for c in cs if ": verdict: " in c}
    assert verdicts == first_end


@needs_tshark
def test_evidence_about_hellos_is_on_the_frames_tshark_shows_the_hellos_in(tmp_path: Path, capsys: Any) -> None:
    src = LAB / "tls12_missing_intermediate_openssl" / "capture.pcap"
    out = tmp_path / "annotated.pcapng"
    main(["--annotate", str(out), str(src)])
    capsys.readouterr()
    shown_in = {kind: {int(n) for n in _tshark(src, tmp_path, "-Y", f"tls.handshake.type == {code}", "-T", "fields",
                                              "-e", "frame.number").split()}
                for kind, code in (("ClientHello", 1), ("ServerHello", 2))}
    placed = 0
    for frame, cs in _comments(out, tmp_path).items():
        for c in cs:
            for kind, frames in shown_in.items():
                if f"evidence: {kind} " in c:
                    assert frame in frames, (frame, c)
                    placed += 1
    assert placed == 2


# -- key logs: the connections' lines embedded, Wireshark decrypts with nothing else ----------

@needs_tshark
def test_embedded_key_log_decrypts_http_without_a_key_log_option(tmp_path: Path, capsys: Any) -> None:
    case = LAB / "mtls_success_tls13"
    src, keylog = case / "capture.pcap", case / "keylog.txt"
    foreign = tmp_path / "keys.txt"
    # the capture's lines, and one session that is not in the capture: it must stay out
    stranger = "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + "ab" * 32 + " " + "cd" * 32
    foreign.write_text(keylog.read_text() + stranger + "\n")
    out = tmp_path / "annotated.pcapng"
    rc, _, err = _run(capsys, "--keylog", str(foreign), "--annotate", str(out), str(src))
    assert rc == 0, err
    assert _tshark(src, tmp_path, "-Y", "http") == ""  # (no keys: nothing to see)
    assert "HTTP" in _tshark(out, tmp_path, "-Y", "http")
    (stype, data), = _secrets_blocks(out)
    assert stype == 0x544C534B
    lines = data.rstrip(b"\0").decode("ascii").splitlines()
    given = [line for line in keylog.read_text().splitlines() if line and not line.startswith("#")]
    assert sorted(lines) == sorted(given)
    assert stranger not in lines
    assert "key log line(s) embedded" in err


@needs_tshark
def test_no_key_log_no_secrets_block(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "annotated.pcapng"
    main(["--annotate", str(out), str(LAB / "tls13_untrusted_root_curl" / "capture.pcap")])
    capsys.readouterr()
    assert _secrets_blocks(out) == []
    assert _tshark(out, tmp_path, "-Y", "tls.handshake.type == 11") == ""  # TLS 1.3: encrypted


def test_key_log_lines_for_named_sessions_only() -> None:
    cr1, cr2 = bytes(range(32)), bytes(range(1, 33))
    text = (f"CLIENT_RANDOM {cr1.hex()} {'11' * 48}\n"
            f"CLIENT_RANDOM {cr2.hex()} {'22' * 48}\n"
            f"RSA {'33' * 8} {'44' * 48}\n"
            f"RSA {'55' * 8} {'66' * 48}\n")
    log = KeyLog.from_text(text)
    assert log.lines_for([cr2, bytes.fromhex("55" * 8), cr2]) == [
        f"CLIENT_RANDOM {cr2.hex()} {'22' * 48}", f"RSA {'55' * 8} {'66' * 48}"]
    assert log.lines_for([bytes(32)]) == []


# -- pcapng in: interfaces, resolutions, comments and secrets kept ---------------------------

@needs_tshark
@pytest.mark.skipif(EDITCAP is None, reason="editcap not installed (adds the capture's own comments)")
def test_pcapng_with_its_own_comments_keeps_them_first(tmp_path: Path, capsys: Any) -> None:
    root = require_shared_captures()
    original = root / "ntop+nDPI/tests/cfgs/default/pcap/tls_2_reasms_b.pcapng"  # (a section comment too)
    src = tmp_path / "commented.pcapng"
    subprocess.run([EDITCAP, "-a", "1:first, own", "-a", "5:own note", str(original), str(src)], check=True,
                   capture_output=True)
    out = tmp_path / "annotated.pcapng"
    assert _run(capsys, "--annotate", str(out), str(src))[0] in (0, 1)
    before, after = _comments(src, tmp_path), _comments(out, tmp_path)
    assert before == {1: ["first, own"], 5: ["own note"]}
    for frame, own in before.items():
        assert after[frame][:len(own)] == own  # kept, ours appended after
    assert _ours(after)
    assert _frames(out, tmp_path) == _frames(src, tmp_path)
    assert _packets(out) == _packets(src)
    capinfos = shutil.which("capinfos")
    if capinfos:
        info = [[line for line in subprocess.run([capinfos, "-k", str(p)], capture_output=True, text=True)
                 .stdout.splitlines() if line.startswith("Capture comment")] for p in (src, out)]
        assert "TraceWrangler" in info[0][0] and info[0] == info[1]


@needs_tshark
@pytest.mark.parametrize("relpath", [
    "ntop+nDPI/tests/cfgs/default/pcap/anydesk.pcapng",  # 3 interfaces, micro- and nanoseconds
    "ntop+nDPI/tests/cfgs/default/pcap/steam.pcapng",  # 4 interfaces
    "Lekensteyn+wireshark-notes/tls/http-chunked-ssl.pcapng",  # nanoseconds
])
def test_pcapng_interfaces_and_resolutions_kept(relpath: str, tmp_path: Path, capsys: Any) -> None:
    src = require_shared_captures() / relpath
    out = tmp_path / "annotated.pcapng"
    assert _run(capsys, "--annotate", str(out), str(src))[0] in (0, 1)
    assert _frames(out, tmp_path) == _frames(src, tmp_path)


@needs_tshark
def test_pcapng_with_secrets_keeps_them(tmp_path: Path, capsys: Any) -> None:
    src = require_shared_captures() / "FoxIO-LLC+ja4/pcap/chrome-cloudflare-quic-with-secrets.pcapng"
    out = tmp_path / "annotated.pcapng"
    assert _run(capsys, "--annotate", str(out), str(src))[0] in (0, 1)
    # (EncryptedExtensions: readable only with the embedded key log)
    decrypted = "-Y", "tls.handshake.type == 8", "-T", "fields", "-e", "frame.number"
    assert _tshark(out, tmp_path, *decrypted) == _tshark(src, tmp_path, *decrypted) != ""
    assert _frames(out, tmp_path) == _frames(src, tmp_path)
    # the QUIC handshakes get their lines too
    assert any("tlsdissect QUIC" in c for cs in _comments(out, tmp_path).values() for c in cs)


# -- pcap variants: gzip'd, nanoseconds ------------------------------------------------------

@needs_tshark
def test_gzipped_capture(tmp_path: Path, capsys: Any) -> None:
    plain = LAB / "tls12_missing_intermediate_openssl" / "capture.pcap"
    src = tmp_path / "capture.pcap.gz"
    src.write_bytes(gzip.compress(plain.read_bytes()))
    out_gz, out_plain = tmp_path / "gz.pcapng", tmp_path / "plain.pcapng"
    main(["--annotate", str(out_gz), str(src)])
    main(["--annotate", str(out_plain), str(plain)])
    capsys.readouterr()
    assert _comments(out_gz, tmp_path) == _comments(out_plain, tmp_path) != {}
    assert _packets(out_gz) == _packets(plain)


def _nanosecond_copy(pcap: bytes) -> bytes:
    """The same little-endian microsecond pcap as a nanosecond pcap: each fraction times 1000
    plus a few nanoseconds that a microsecond writer would lose."""
    out = bytearray(pcap)
    out[:4] = b"\x4d\x3c\xb2\xa1"
    pos = 24
    while pos < len(out):
        sec, usec, caplen = struct.unpack_from("<III", out, pos)
        struct.pack_into("<II", out, pos, sec, usec * 1000 + 789)
        pos += 16 + caplen
    return bytes(out)


@needs_tshark
def test_nanosecond_pcap_keeps_its_resolution(tmp_path: Path, capsys: Any) -> None:
    src = tmp_path / "ns.pcap"
    src.write_bytes(_nanosecond_copy((LAB / "tls13_success" / "capture.pcap").read_bytes()))
    out = tmp_path / "annotated.pcapng"
    main(["--annotate", str(out), str(src)])
    capsys.readouterr()
    times = [row[1] for row in _frames(out, tmp_path, with_interface=False)]
    assert times == [row[1] for row in _frames(src, tmp_path, with_interface=False)]
    assert all(t.endswith("789") for t in times)


# -- hostile strings: one UTF-8 line each, escaped as the text view escapes them -------------

@needs_tshark
def test_hostile_strings_are_escaped_in_comments(tmp_path: Path, capsys: Any) -> None:
    src = tmp_path / "hostile.pcap"
    src.write_bytes(hostile_pcap())
    out = tmp_path / "annotated.pcapng"
    main(["--annotate", str(out), str(src)])
    capsys.readouterr()
    comments = [c for cs in _ours(_comments(out, tmp_path)).values() for c in cs]
    assert comments
    for c in comments:
        assert c.isprintable(), repr(c)
        assert len(c) < 4000 + 200
    joined = "\n".join(comments)
    assert "www.example\\x1b]0;pwned title\\x07" in joined  # SNI_TERMINAL, escaped
    assert SNI_TERMINAL not in joined and "\x1b" not in joined and "\u202e" not in joined
    assert SNI_LONG not in joined and "characters in all" in joined


# -- the block layer --------------------------------------------------------------------------

def test_comments_go_after_the_options_a_block_has() -> None:
    epb = blocks.block(blocks.BT_EPB, struct.pack("<IIIII", 0, 1, 2, 3, 3) + b"abc\0"
                       + blocks.options_list([(blocks.OPT_COMMENT, b"old"), (2, b"\0\0\0\1")]))
    new = blocks.with_comments(epb, [b"new one"], "<")
    assert new is not None
    assert blocks.comment_options(new, "<") == [b"old", b"new one"]
    assert new[8:8 + 24] == epb[8:8 + 24]  # header and packet bytes as they were
    assert struct.unpack_from("<I", new, 4)[0] == len(new) == struct.unpack_from("<I", new, len(new) - 4)[0]


def test_a_block_whose_options_run_past_it_is_left_alone() -> None:
    body = struct.pack("<IIIII", 0, 1, 2, 3, 3) + b"abc\0" + struct.pack("<HH", 1, 200) + b"xxxx"
    assert blocks.with_comments(blocks.block(blocks.BT_EPB, body), [b"c"], "<") is None
    caplen_too_long = struct.pack("<IIIII", 0, 1, 2, 999, 999) + b"abc\0"
    assert blocks.with_comments(blocks.block(blocks.BT_EPB, caplen_too_long), [b"c"], "<") is None


def test_big_endian_blocks() -> None:
    epb = blocks.enhanced_packet(0, 5, b"\1\2\3\4\5", 5, [b"x"], endian=">")
    assert blocks.comment_options(epb, ">") == [b"x"]
    assert blocks.comment_options(blocks.with_comments(epb, [b"y"], ">") or b"", ">") == [b"x", b"y"]


def test_an_option_longer_than_its_length_field_is_refused() -> None:
    with pytest.raises(ValueError):
        blocks.option(blocks.OPT_COMMENT, b"x" * 70000)


# -- the command line's refusals and a damaged input ------------------------------------------

def test_one_capture_file_only(tmp_path: Path, capsys: Any) -> None:
    src = str(LAB / "tls13_success" / "capture.pcap")
    out = str(tmp_path / "a.pcapng")
    rc, _, err = _run(capsys, "--annotate", out, src, src)
    assert rc == 2 and "one capture file" in err
    rc, _, err = _run(capsys, "--annotate", out, "-")
    assert rc == 2 and "one capture file" in err
    assert not os.path.exists(out)


def test_never_overwrites_its_input(tmp_path: Path, capsys: Any) -> None:
    src = tmp_path / "c.pcap"
    data = (LAB / "tls13_success" / "capture.pcap").read_bytes()
    src.write_bytes(data)
    rc, _, err = _run(capsys, "--annotate", str(src), str(src))
    assert rc == 2 and "overwrite" in err
    assert src.read_bytes() == data


@needs_tshark
def test_a_truncated_capture_gives_the_frames_before_the_damage(tmp_path: Path, capsys: Any) -> None:
    data = (LAB / "tls12_missing_intermediate_openssl" / "capture.pcap").read_bytes()
    src = tmp_path / "cut.pcap"
    src.write_bytes(data[:-30])
    out = tmp_path / "annotated.pcapng"
    rc, _, err = _run(capsys, "--annotate", str(out), str(src))
    assert rc == 2  # (the input is damaged) but the annotated copy is written
    frames = _frames(out, tmp_path, with_interface=False)
    assert len(frames) == len(_packets(LAB / "tls12_missing_intermediate_openssl" / "capture.pcap")) - 1
    assert _ours(_comments(out, tmp_path))


def test_library_report_annotate_and_our_reader_agree(tmp_path: Path) -> None:
    import tlsdissect

    src = LAB / "tls12_missing_intermediate_openssl" / "capture.pcap"
    report = tlsdissect.analyze(src)
    done = report.annotate(tmp_path / "a.pcapng")
    assert done.frames == report.frames and done.connections == 1 and done.comments_not_placed == 0
    again = tlsdissect.analyze(tmp_path / "a.pcapng")
    strip = ("capture", "format")
    assert {k: v for k, v in again.to_dict().items() if k not in strip} == \
        {k: v for k, v in report.to_dict().items() if k not in strip}
    with pytest.raises(tlsdissect.TlsDissectError):
        tlsdissect.analyze(src.read_bytes()).annotate(tmp_path / "b.pcapng")  # (no path to copy from)


def test_past_the_memory_cap_connections_are_counted_not_kept(tmp_path: Path) -> None:
    import tlsdissect
    from tlsdissect.report.annotate import Annotations, connection_comments

    report = tlsdissect.analyze(LAB / "middlebox_reset" / "capture.pcap")  # two connections
    first = sum(len(text.encode()) for _, text in connection_comments(report.connections[0]))
    notes = Annotations(max_bytes=first)
    for conn in report:
        notes.add(conn)
    done = notes.write(LAB / "middlebox_reset" / "capture.pcap", tmp_path / "a.pcapng")
    assert (done.connections, done.connections_not_annotated) == (1, 1)
    assert done.comments == len(connection_comments(report.connections[0]))


@needs_tshark
def test_jobs_give_the_same_file(tmp_path: Path, capsys: Any) -> None:
    src = str(LAB / "middlebox_reset" / "capture.pcap")
    one, two = tmp_path / "one.pcapng", tmp_path / "two.pcapng"
    main(["--annotate", str(one), src])
    main(["--jobs", "2", "--annotate", str(two), src])
    capsys.readouterr()
    assert one.read_bytes() == two.read_bytes()


@needs_tshark
def test_blocks_that_take_no_comment_still_count_as_frames(tmp_path: Path) -> None:
    """A Simple Packet Block (no options) and a custom block (a frame to Wireshark): their
    comments are counted as not placed, and the packet after them keeps its number."""
    from tlsdissect.capture.rewrite import rewrite_as_pcapng

    pkt = bytes(range(60))
    src = tmp_path / "mixed.pcapng"
    src.write_bytes(blocks.section_header() + blocks.interface_description(1, 65535)
                    + blocks.block(0x3, struct.pack("<I", len(pkt)) + pkt)
                    + blocks.block(0x0BAD, struct.pack("<I", 32473) + b"custom data")
                    + blocks.enhanced_packet(0, 1_700_000_000_000_000, pkt, 60, [b"own"]))
    out = tmp_path / "out.pcapng"
    with open(out, "wb") as f:
        done = rewrite_as_pcapng(src, f, {1: [b"a"], 2: [b"b"], 3: [b"c"], 4: [b"d"]})
    assert (done.frames, done.comments, done.comments_not_placed) == (3, 1, 3)
    assert _comments(out, tmp_path) == {3: ["own", "c"]}
    assert _frames(out, tmp_path) == _frames(src, tmp_path)
