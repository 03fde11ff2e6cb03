"""Live capture (``tlsdissect -i IFACE``), checked against the peers and against a file of the same traffic.

A network namespace of its own (``unshare -n``, or ``unshare -rn`` as an unprivileged user) gives a
quiet loopback interface. In it an OpenSSL server takes two handshakes: one that succeeds (the
client trusts the self-signed certificate) and one that fails (a TLS 1.2 client with
``-verify_return_error`` that does not). Three live tlsdissect runs watch it (``--jsonl --count 2``,
the text view stopped by SIGINT, the text view stopped by SIGTERM) while tcpdump (or dumpcap)
writes the same packets to a file. What must hold: what the peers said (s_client's protocol and
cipher, its verify error, the alert number s_server read) is what the live runs report, and the
live verdicts are the ones tlsdissect gives for the file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

import pytest

from tlsdissect.capture.live import PACKET_OUTGOING, LiveCapture
from tlsdissect.capture.packet import TICK

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
PORT = 4433

SCENARIO = r"""
set -u
ip link set lo up
cd "$DIR"
wait_for() {  # wait_for TEXT FILE...: until every FILE holds TEXT (30 s at most: a loaded machine)
    local text=$1; shift
    for _ in $(seq 600); do
        local all=1
        for f in "$@"; do grep -qi "$text" "$f" 2>/dev/null || all=0; done
        [ $all = 1 ] && return 0
        sleep 0.05
    done
    echo "timed out waiting for '$text' in $*" >&2; return 1
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem -days 2 \
    -subj /CN=localhost 2>/dev/null
live=("$PY" -m tlsdissect -i lo --filter "tcp port $PORT")  # (simple commands: $! is tlsdissect's own pid)
"${live[@]}" --jsonl --count 2 --duration 40 > a.jsonl 2> a.err & A=$!
FORCE_COLOR=1 "${live[@]}" --duration 40 > b.txt 2> b.err & B=$!
"${live[@]}" --no-color --duration 40 > c.txt 2> c.err & C=$!
if command -v tcpdump >/dev/null; then
    tcpdump -i lo -U -w file.pcap "tcp port $PORT" 2> w.err & W=$!
else
    dumpcap -i lo -f "tcp port $PORT" -w file.pcap 2> w.err & W=$!
fi
wait_for "capturing on" a.err b.err c.err || exit 1
wait_for "listening on\|capturing on" w.err || exit 1
openssl s_server -quiet -accept $PORT -cert cert.pem -key key.pem -naccept 2 < /dev/null > server.out 2>&1 & S=$!
for _ in $(seq 200); do ss -ltn | grep -q ":$PORT " && break; sleep 0.05; done
echo | openssl s_client -connect 127.0.0.1:$PORT -servername localhost -CAfile cert.pem -verify_return_error \
    > client1.out 2>&1
echo | openssl s_client -connect 127.0.0.1:$PORT -servername localhost -tls1_2 -verify_return_error \
    > client2.out 2>&1
wait $A; echo $? > a.rc
kill -INT $B; kill -TERM $C
wait $B; echo $? > b.rc
wait $C; echo $? > c.rc
kill -INT $W; wait $W
kill $S 2>/dev/null; wait $S 2>/dev/null
exit 0
"""


def _namespace_command() -> Optional[list[str]]:
    """How to enter a new network namespace here (as root, or in a user namespace), or None."""
    if shutil.which("unshare") is None:
        return None
    for cmd in (["unshare", "-n"], ["unshare", "-rn"]):
        try:
            if subprocess.run([*cmd, "true"], capture_output=True, timeout=10).returncode == 0:
                return cmd
        except (OSError, subprocess.TimeoutExpired):
            pass
    return None


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("scapy", reason="live capture needs scapy (the [live] extra)")
    for tool in ("openssl", "ip", "ss"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    if shutil.which("tcpdump") is None and shutil.which("dumpcap") is None:
        pytest.skip("neither tcpdump nor dumpcap is installed (they write the file the live verdicts are compared with)")
    enter = _namespace_command()
    if enter is None:
        pytest.skip("cannot make a network namespace here (unshare -n and unshare -rn are not permitted)")
    folder = tmp_path_factory.mktemp("live")
    env = {**ENV, "DIR": str(folder), "PY": sys.executable, "PORT": str(PORT)}
    run = subprocess.run([*enter, "bash", "-c", SCENARIO], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return folder


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _file_run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tlsdissect", *args, str(folder / "file.pcap")], env=ENV,
                          capture_output=True, text=True, timeout=120)


def test_live_verdicts_are_what_the_peers_said(scenario: Path) -> None:
    conns = sorted(_lines(scenario / "a.jsonl"), key=lambda c: c["stream"])
    assert (scenario / "a.rc").read_text().strip() == "1"  # a handshake failed: exit status 1
    assert [c["capture"] for c in conns] == ["lo", "lo"]
    good, bad = conns
    client1 = (scenario / "client1.out").read_text()
    client2 = (scenario / "client2.out").read_text()
    server = (scenario / "server.out").read_text()
    # 1. s_client verified the certificate and says which protocol and cipher it got.
    assert "Verify return code: 0 (ok)" in client1
    protocol = re.search(r"Protocol\s*:\s*(\S+)", client1) or re.search(r"New, (TLSv[\d.]+), Cipher is", client1)
    cipher = re.search(r"Cipher is (\S+)", client1)
    assert protocol and cipher, client1
    assert good["established"] is True and good["server_name"] == "localhost"
    assert good["version"] == protocol.group(1)
    assert good["cipher"] == "TLS_" + cipher.group(1).removeprefix("TLS_")  # (OpenSSL and IANA name it alike)
    # 2. The TLS 1.2 client refused the self-signed certificate; the server read alert 48 (unknown_ca).
    assert "verify error:num=18:self-signed certificate" in client2
    assert "SSL alert number 48" in server
    assert bad["established"] is False and bad["version"] == "TLSv1.2"
    assert [(a["sender"], a["level"], a["code"]) for a in bad["alerts"]] == [("client", "fatal", 48)]
    assert bad["diagnosis"]["cause"] == "server_cert_self_signed"


def _verdict(conn: dict[str, Any]) -> dict[str, Any]:
    """A connection's JSON without what a live socket and a file legitimately tell apart: the
    capture's name, and times (tcpdump writes microseconds; the socket gives nanoseconds)."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "capture" and "time" not in k and k != "ts"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(conn)  # type: ignore[no-any-return]


def test_live_verdicts_equal_the_verdicts_of_the_same_traffic_in_a_file(scenario: Path) -> None:
    live = sorted(_lines(scenario / "a.jsonl"), key=lambda c: c["stream"])
    run = _file_run(scenario, "--jsonl")
    assert run.returncode == 1, run.stderr
    from_file = sorted(_lines_of(run.stdout), key=lambda c: c["stream"])
    assert len(from_file) == 2
    assert [_verdict(c) for c in live] == [_verdict(c) for c in from_file]


def _lines_of(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_the_text_view_shows_each_connection_and_the_summary_when_stopped(scenario: Path) -> None:
    for name, signal_name in (("c", "SIGTERM"), ("b", "SIGINT")):
        assert (scenario / f"{name}.rc").read_text().strip() == "1", f"stopped by {signal_name}"
        assert "Traceback" not in (scenario / f"{name}.err").read_text()
    plain = (scenario / "c.txt").read_text()
    marks = re.findall(r"^([✓✗]) stream (\d+) .* (ESTABLISHED|FAILED)$", plain, re.M)
    assert sorted(marks) == [("✓", "0", "ESTABLISHED"), ("✗", "1", "FAILED")]
    # Each connection is printed as it ends, as the file's text view prints it (that one puts the
    # failures first); the capture line with the counts comes when the capture stops.
    file_text = _file_run(scenario, "--no-color").stdout
    assert _blocks(plain) == _blocks(file_text)
    frames = re.match(r"\S+: (\d+) frames, 2 TLS connection", file_text)
    assert frames, file_text
    assert plain.rstrip().splitlines()[-1] == \
        f"lo: {frames.group(1)} frames, 2 TLS connection(s) — 1 failed, 1 established"
    # The failure is highlighted as the file view highlights it (FORCE_COLOR: bold red).
    coloured = (scenario / "b.txt").read_text()
    assert re.search(r"\x1b\[1;31m✗ stream 1", coloured), coloured[:400]
    assert re.search(r"\x1b\[1;32m✓ stream 0", coloured)


def _blocks(text: str) -> set[str]:
    """The connections of a text view (each from its ✓/✗ line to the next blank line)."""
    return {b.strip() for b in re.findall(r"^[✓✗] stream .*?(?=\n\n|\Z)", text, re.M | re.S)}


def _cli(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "tlsdissect", *args], env=ENV, capture_output=True,
                          text=True, timeout=60)


def test_an_unknown_interface_is_named_in_a_clear_error() -> None:
    pytest.importorskip("scapy", reason="live capture needs scapy (the [live] extra)")
    names = [name for _, name in socket.if_nameindex()]
    r = _cli("-i", "nosuch0", "--duration", "1")
    assert r.returncode == 2
    assert r.stderr.startswith("tlsdissect: no network interface named 'nosuch0' (here: ")
    assert all(n in r.stderr for n in names) and "Traceback" not in r.stderr and not r.stdout


def test_the_any_pseudo_interface_is_refused_in_words() -> None:
    pytest.importorskip("scapy", reason="live capture needs scapy (the [live] extra)")
    r = _cli("-i", "any")
    assert r.returncode == 2 and "the 'any' pseudo-interface is not supported: name one of " in r.stderr
    assert "Traceback" not in r.stderr


def test_without_cap_net_raw_the_error_says_what_is_needed() -> None:
    pytest.importorskip("scapy", reason="live capture needs scapy (the [live] extra)")
    if os.geteuid() == 0:
        # root without CAP_NET_RAW: setpriv takes it out of the bounding set (so exec does not grant it)
        if shutil.which("setpriv") is None:
            pytest.skip("running as root and setpriv is not installed: cannot take CAP_NET_RAW away")
        prefix: tuple[str, ...] = ("setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw")
        if subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
            pytest.skip("setpriv cannot drop CAP_NET_RAW here")
    else:
        prefix = ()  # an ordinary user: no CAP_NET_RAW already (unless the interpreter was given it)
    r = _cli("-i", "lo", "--duration", "1", prefix=prefix)
    if r.returncode == 0:
        pytest.skip("this interpreter may capture without root (it has CAP_NET_RAW as a file capability)")
    assert r.returncode == 2, r.stderr
    assert "no permission to capture on lo" in r.stderr and "CAP_NET_RAW" in r.stderr and "root" in r.stderr
    assert "Traceback" not in r.stderr and not r.stdout


def test_a_filter_that_does_not_compile_is_a_clear_error() -> None:
    pytest.importorskip("scapy", reason="live capture needs scapy (the [live] extra)")
    if _namespace_command() is None and os.geteuid() != 0:
        pytest.skip("needs CAP_NET_RAW to get as far as the filter")
    r = _cli("-i", "lo", "--filter", "tcp prot 443", "--duration", "1")
    assert r.returncode == 2, r.stderr
    assert "capture filter 'tcp prot 443'" in r.stderr and "syntax error" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("args, message", [
    (("-i", "lo", "x.pcap"), "give no capture files with it"),
    (("--count", "2", "x.pcap"), "--count goes with -i IFACE"),
    (("--filter", "tcp", "x.pcap"), "--filter goes with -i IFACE"),
    ((), "give a capture file"),
    (("-i", "lo", "--count", "0"), "must be 1 or more"),
    (("-i", "lo", "--duration", "-1"), "seconds above 0"),
])
def test_live_options_are_checked(args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from tlsdissect.cli import main

    with pytest.raises(SystemExit) as stop:  # (argparse's usage error)
        main(list(args))
    assert stop.value.code == 2 and message in capsys.readouterr().err


# -- the capture loop itself, on a socket pair instead of an interface -------------------------

class _Pair:
    """A PacketSource fed through a datagram socket pair: byte 0 the packet type, then the frame."""

    def __init__(self, loopback: bool) -> None:
        self.ours, self.theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.linktype = 1
        self.loopback = loopback
        self.closed = False

    def send(self, pkttype: int, frame: bytes) -> None:
        self.theirs.send(bytes([pkttype]) + frame)

    def fileno(self) -> int:
        return self.ours.fileno()

    def receive(self) -> Optional[tuple[float, bytes, int]]:
        data = self.ours.recv(65536)
        return time.time(), data[1:], data[0]

    def drops(self) -> int:
        return 0

    def close(self) -> None:
        self.closed = True
        self.ours.close()
        self.theirs.close()


def _ethernet_tcp(sport: int, flags: int, dport: int = 443, seq: int = 1000, ack: int = 0) -> bytes:
    """An Ethernet + IPv4 + TCP frame (127.0.0.1 both ways) with TCP flags ``flags``."""
    import struct

    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, b"\x7f\0\0\1", b"\x7f\0\0\1")
    return b"\0" * 12 + b"\x08\x00" + ip + tcp


def test_the_loop_numbers_frames_drops_loopback_copies_and_ticks() -> None:
    pair = _Pair(loopback=True)
    cap = LiveCapture(pair, "lo", duration=0.6, tick=0.1)
    pair.send(PACKET_OUTGOING, _ethernet_tcp(5000, 0x02))  # the outgoing copy: dropped
    pair.send(0, _ethernet_tcp(5000, 0x02))  # the incoming copy: frame 1
    pair.send(0, _ethernet_tcp(5001, 0x02))  # frame 2
    start = time.time()
    items = list(cap.segments())
    took = time.time() - start
    packets = [i for i in items if i[3] is not None]
    ticks = [i for i in items if i[3] is None]
    assert [(p[0], p[2]) for p in packets] == [(1, 1), (2, 1)]
    assert packets[0][6] == 0x02 and packets[1][3] != packets[0][3]  # a SYN, another flow
    assert ticks and all(t[6] == TICK for t in ticks) and len(ticks) <= 8
    assert 0.55 <= took < 2.0  # --duration ended it
    assert cap.info.frames == 2 and cap.info.format == "live"
    cap.close()
    assert pair.closed


def test_the_outgoing_copy_is_kept_on_other_interfaces_and_stop_ends_the_loop() -> None:
    pair = _Pair(loopback=False)
    cap = LiveCapture(pair, "eth0", tick=0.05)
    pair.send(PACKET_OUTGOING, _ethernet_tcp(5000, 0x02))  # sent by this host: kept
    frames = []
    for frame, _ts, _lt, data in cap._frames():
        if data is not None:
            frames.append(frame)
            cap.stop()  # (what the command line's SIGINT and SIGTERM handlers do)
    assert frames == [1]
    cap.close()


def test_the_summary_of_a_long_run_remembers_a_bounded_number_of_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from tlsdissect.report import summary as summary_module

    monkeypatch.setattr(summary_module, "MAX_SERVERS", 3)
    summary = summary_module.Summary()
    for i in range(12):  # 12 failures at 6 servers: 3 told apart, the failures at the others counted
        diag = SimpleNamespace(outcome="failed", cause="server_cert_self_signed")
        summary.add(SimpleNamespace(diagnosis=diag, server_name=None, server=f"10.0.0.{i % 6}:443",
                                    first_frame=i + 1, stream=i))
    assert len(summary.servers) == 3 and summary.untracked_failures == 6
    lines = [text for text, _ in summary.lines()]
    assert "        12  server_cert_self_signed" in lines
    assert any("6 failure(s) at other servers" in text for text in lines)


def test_a_connection_is_reported_while_the_capture_runs_once_it_has_ended() -> None:
    """The capture's ticks sweep the table and a finished connection waits at most RELAY_WAIT:
    without them it would come out only at the capture's end (a file's connection waits for 64
    more to end, and a quiet interface brings no packets to move capture time)."""
    from tlsdissect.pipeline.live import iter_live

    syn, fin, ack, rst = 0x02, 0x01, 0x10, 0x04
    pair = _Pair(loopback=False)
    cap = LiveCapture(pair, "test0", duration=30, tick=0.1)
    for sport, dport, flags, seq, acked in ((5000, 443, syn, 1000, 0), (443, 5000, syn | ack, 9000, 1001),
                                            (5000, 443, ack, 1001, 9001), (5000, 443, fin | ack, 1001, 9001),
                                            (443, 5000, fin | ack, 9001, 1002), (5000, 443, ack, 1002, 9002),
                                            (5001, 443, syn, 7000, 0), (443, 5001, rst | ack, 0, 7001)):
        pair.send(0, _ethernet_tcp(sport, flags, dport, seq, acked))
    start = time.time()
    got = []
    for conn in iter_live(cap, diagnose=False):
        got.append((conn.stream, conn.client, conn.partial, round(time.time() - start, 1)))
        if len(got) == 2:
            cap.stop()
    took = time.time() - start
    assert [g[:3] for g in got] == [(0, "127.0.0.1:5000", False), (1, "127.0.0.1:5001", False)]
    assert took < 10, got  # CLOSED_LINGER (2 s) + a sweep + RELAY_WAIT, not the 30 s of the duration


def test_an_interface_that_fails_during_the_capture_ends_it_as_a_cut_file() -> None:
    class Failing(_Pair):
        def receive(self) -> Optional[tuple[float, bytes, int]]:
            raise OSError(100, "Network is down")

    pair = Failing(loopback=False)
    cap = LiveCapture(pair, "eth9", duration=10, tick=0.05)
    pair.send(0, _ethernet_tcp(5000, 0x02))
    items = list(cap.segments())
    assert all(i[3] is None for i in items)  # (ticks only)
    assert cap.info.truncated and cap.info.truncation_reason == "capturing on eth9 failed after frame 0: Network is down"
    cap.close()


def test_at_the_stop_the_packets_already_queued_are_still_read() -> None:
    pair = _Pair(loopback=False)
    cap = LiveCapture(pair, "eth0", tick=0.05)
    for port in (5000, 5001, 5002):
        pair.send(0, _ethernet_tcp(port, 0x02))
    cap.stop()  # (before a single packet was read: they were captured all the same)
    frames = [frame for frame, _ts, _lt, data in cap._frames() if data is not None]
    assert frames == [1, 2, 3]
    cap.close()
