"""Record loopback traffic with tcpdump and read it back with tshark.

tshark is the independent reader of our captures: the alerts and message
sequence written into expected.json come from it, never from tlsdissect.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# RFC 8446 section 6 / RFC 5246 section 7.2 alert names (tshark prints numbers).
ALERTS = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
    22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure",
    41: "no_certificate", 42: "bad_certificate", 43: "unsupported_certificate",
    44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
    47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error",
    51: "decrypt_error", 60: "export_restriction", 70: "protocol_version",
    71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback",
    90: "user_canceled", 100: "no_renegotiation", 109: "missing_extension",
    110: "unsupported_extension", 112: "unrecognized_name", 113: "bad_certificate_status_response",
    115: "unknown_psk_identity", 116: "certificate_required", 120: "no_application_protocol",
}
LEVELS = {1: "warning", 2: "fatal"}


@dataclass
class Tcpdump:
    """A running tcpdump writing one scenario's pcap."""

    pcap: Path
    bpf: str
    count: int | None = None  # tcpdump -c: stop by itself after this many packets
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.pcap.unlink(missing_ok=True)
        # -U: write each packet at once; -s 0: whole packets; -n: no DNS.
        limit = ["-c", str(self.count)] if self.count else []
        self.proc = subprocess.Popen(
            ["tcpdump", "-i", "lo", "-U", "-s", "0", "-n", *limit, "-w", str(self.pcap), self.bpf],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        # tcpdump says "listening on lo" once the capture is armed.
        deadline = time.time() + 10
        buf = b""
        assert self.proc.stderr is not None
        while time.time() < deadline and b"listening on" not in buf:
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.2)
            if ready:
                chunk = os.read(self.proc.stderr.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
        if b"listening on" not in buf:
            raise RuntimeError(f"tcpdump did not start: {buf.decode(errors='replace')}")
        time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None:
            return
        time.sleep(0.7)  # let the last packets (FIN/RST) reach the capture
        if self.proc.poll() is not None:  # -c reached: tcpdump already finished
            return
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def tshark_fields(pcap: Path, display: str, fields: list[str], keylog: Path | None,
                  extra: tuple[str, ...] = ()) -> list[list[str]]:
    argv = ["tshark", "-n", "-r", str(pcap), "-Y", display, "-T", "fields", "-E", "separator=|",
            *extra]
    if keylog is not None and keylog.exists():
        argv += ["-o", f"tls.keylog_file:{keylog}"]
    for f in fields:
        argv += ["-e", f]
    out = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=60)
    return [line.split("|") for line in out.stdout.splitlines() if line.strip()]


def tshark_alerts(pcap: Path, keylog: Path | None) -> list[dict]:
    """Every TLS alert tshark decodes, with whether the key log was needed to read it."""
    fields = ["frame.number", "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport", "ipv6.src",
              "ipv6.dst",
              "tls.alert_message.level", "tls.alert_message.desc"]
    # Without the HTTP dissector: once a plain-text HTTP answer has claimed a conversation (a TLS
    # client talking to an HTTP server), tshark would no longer read the client's later alert.
    # Alerts inside TLS sessions read the same either way.
    no_http = ("--disable-protocol", "http")
    plain = {r[0]: r for r in tshark_fields(pcap, "tls.alert_message", fields, None, no_http)}
    rows = (tshark_fields(pcap, "tls.alert_message", fields, keylog, no_http) if keylog
            else list(plain.values()))
    alerts = []
    for r in rows:
        frame, src, sport, dst, dport, src6, dst6, levels, descs = r
        src, dst = src or f"[{src6}]", dst or f"[{dst6}]"
        # One frame may hold several alert records; tshark joins them with commas.
        level_list = levels.split(",") if levels else [""]
        desc_list = descs.split(",") if descs else [""]
        for lvl, desc in zip(level_list, desc_list):
            encrypted = not (frame in plain and plain[frame][8])
            entry = {"frame": int(frame), "src": f"{src}:{sport}", "dst": f"{dst}:{dport}",
                     "level": LEVELS.get(int(lvl), lvl) if lvl else None,
                     "code": int(desc) if desc else None,
                     "name": ALERTS.get(int(desc), "unknown") if desc else None,
                     "encrypted": encrypted}
            alerts.append(entry)
    return alerts


VERSIONS = {"0x0300": "SSLv3", "0x0301": "TLSv1.0", "0x0302": "TLSv1.1", "0x0303": "TLSv1.2",
            "0x0304": "TLSv1.3"}


def tshark_hello_facts(pcap: Path) -> dict:
    """What tshark says the ServerHello chose, which SNI names ClientHellos carried, and
    which ports the ClientHellos went to (the server side of each TLS connection)."""
    versions: set[str] = set()
    for legacy, supported in tshark_fields(
            pcap, "tls.handshake.type == 2",
            ["tls.handshake.version", "tls.handshake.extensions.supported_version"], None):
        raw = (supported or legacy).split(",")[0]
        versions.add(VERSIONS.get(raw, raw))
    hellos = tshark_fields(pcap, "tls.handshake.type == 1",
                           ["tls.handshake.extensions_server_name", "tcp.dstport"], None)
    names = {r[0] for r in hellos if r[0]}
    server_ports = {int(r[1]) for r in hellos if r[1]}
    return {"versions": versions, "sni": names, "server_ports": server_ports}


def alert_text(a: dict) -> str:
    if a["code"] is None:
        return f"frame {a['frame']} {a['src']}->{a['dst']} encrypted alert (undecrypted)"
    enc = " [encrypted, decoded with keylog]" if a["encrypted"] else ""
    return f"frame {a['frame']} {a['src']}->{a['dst']} {a['level']} {a['name']} ({a['code']}){enc}"


def tshark_summary(pcap: Path, keylog: Path | None) -> str:
    """One line per frame: the human check of the message sequence."""
    columns = ('"No.","%m","Time","%Rt","Source","%s","Sport","%uS","Destination","%d",'
               '"Dport","%uD","Len","%L","Info","%i"')
    argv = ["tshark", "-n", "-r", str(pcap), "-o", f"gui.column.format:{columns}"]
    if keylog is not None and keylog.exists():
        argv += ["-o", f"tls.keylog_file:{keylog}"]
    return subprocess.run(argv, check=False, capture_output=True, text=True, timeout=60).stdout
