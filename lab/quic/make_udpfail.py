"""Lab captures of the failures that are UDP's own (issue 20, item 4): real QUIC and DTLS peers
on loopback inside a private network namespace (``unshare -n``), with iptables making the path
fail: nothing listening (ICMP port unreachable), a REJECT rule (host unreachable, administratively
prohibited), a DROP rule (blocked UDP, with and without the client falling back to TCP), a rule
dropping datagrams above a size, a rule letting only the client's first datagram through (the
server stalls at its anti-amplification limit), Version Negotiation with no version in common,
Retry (completing, and through a balancer whose servers do not share their token key), and a
client that rebinds to a new port mid-connection.

    sudo python lab/quic/make_udpfail.py OUTDIR [SCENARIO...]     (root: unshare -n, iptables, tcpdump)

Peers: aioquic (lab/quic/peers.py), ngtcp2's GnuTLS examples (gtlsclient, gtlsserver, Debian's
ngtcp2-client/-server), openssl s_client/s_server and gnutls-cli, curl for the TCP fall-back.
Each scenario's expected.json holds the set-up's cause (the ground truth: what the rule does),
what every peer printed, and tshark's listing of the capture (the oracle for frames, ICMP errors,
sizes and packet types). About a third are held out (``held_out``): made after the rules and never
tuned on.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from make_captures import HERE, PORT, _pki

AIOQUIC_SERVER = "{py} {peers} server {port} {cert} {key} h3"
AIOQUIC_CLIENT = "QUIC_TIMEOUT=4 {py} {peers} client {port} {root} h3"
NG_SERVER = "gtlsserver -q 127.0.0.1 {port} {key} {cert}"
NG_CLIENT = ("timeout 8 gtlsclient -q --handshake-timeout=3s --exit-on-all-streams-close 127.0.0.1 {port} "
             "https://www.lab.test/; echo exit=$?")
TLS_SERVER = "openssl s_server -quiet -accept {port} -cert {cert} -key {key} -www"
CURL = ("curl -sS -o /dev/null -w 'curl: HTTP %{{http_code}} over TCP, TLS ok\\n' --cacert {root} "
        "--resolve www.lab.test:{port}:127.0.0.1 https://www.lab.test:{port}/; echo exit=$?")
GNUTLS_TCP = ("echo | timeout 5 gnutls-cli --x509cafile={root} -p {port} --sni-hostname=www.lab.test --verify-hostname=www.lab.test "
              "127.0.0.1; echo exit=$?")
DROP_UDP = f"iptables -A INPUT -p udp --dport {PORT} -j DROP"
# Only the client's first datagram to the server passes (xt_recent remembers the source).
FIRST_ONLY = (f"iptables -A INPUT -p udp --dport {PORT} -m recent --name quic --rcheck -j DROP; "
              f"iptables -A INPUT -p udp --dport {PORT} -m recent --name quic --set -j ACCEPT")
# Datagrams whose IP packet is 1300 bytes or more are dropped: 1200-byte Initials pass, 1350 do not.
DROP_LARGE = f"iptables -A INPUT -p udp --dport {PORT} -m length --length 1300:65535 -j DROP"


@dataclass(frozen=True)
class Scenario:
    cause: str
    what: str
    clients: tuple[str, ...]
    servers: tuple[str, ...] = ()
    setup: str = ""
    held_out: bool = False
    protocol: str = "quic"
    flow: int = 0  # which flow of report.quic / report.dtls the cause is about
    capture: str = "udp or icmp or icmp6 or tcp"
    fat_certificate: bool = False  # a leaf with 200 names: a first flight of more than 3 x 1200 bytes
    routed: int = 0  # 4 or 6: client, router and server in three namespaces, the router's link to the
    # server with an MTU of 1280 (the router answers larger packets with ICMP "fragmentation needed" or
    # ICMPv6 "packet too big"); the capture is on the client's link. {server} is the server's address.


SCENARIOS: dict[str, Scenario] = {
    "udp_quic_port_unreachable": Scenario(
        "udp_port_unreachable", "no server: the aioquic client's Initials draw ICMP port unreachable",
        (AIOQUIC_CLIENT,)),
    "udp_quic_host_unreachable": Scenario(
        "host_unreachable", "a REJECT rule answers the aioquic client's Initials with ICMP host unreachable",
        (AIOQUIC_CLIENT,), (AIOQUIC_SERVER,),
        f"iptables -A INPUT -p udp --dport {PORT} -j REJECT --reject-with icmp-host-unreachable"),
    "udp_quic_blocked": Scenario(
        "server_no_response", "a DROP rule: the aioquic client's Initials are retransmitted, never answered",
        (AIOQUIC_CLIENT,), (AIOQUIC_SERVER,), DROP_UDP),
    "udp_quic_fallback_tcp": Scenario(
        "quic_fell_back_to_tcp", "UDP is dropped; the aioquic client gives up and curl fetches the page over TCP "
        "from the same address and port", (AIOQUIC_CLIENT, CURL), (AIOQUIC_SERVER, TLS_SERVER), DROP_UDP),
    "udp_quic_large_dropped": Scenario(
        "path_mtu_blackhole", "the path drops IP packets of 1300 bytes and more: the aioquic client padding its "
        "Initials to 1350 bytes gets no answer, a second client padding to 1200 completes",
        ("QUIC_MAX_DATAGRAM=1350 " + AIOQUIC_CLIENT, AIOQUIC_CLIENT), (AIOQUIC_SERVER,), DROP_LARGE),
    "udp_quic_amplification_stall": Scenario(
        "amplification_limit_stall", "only the client's first datagram reaches the aioquic server, whose first "
        "flight (a certificate with 200 names) is larger than 3 x 1200 bytes: it stops at the limit",
        (AIOQUIC_CLIENT,), (AIOQUIC_SERVER,), FIRST_ONLY, fat_certificate=True),
    "udp_quic_vn_no_common": Scenario(
        "protocol_version_mismatch", "ngtcp2's client speaks only QUIC v2 draft; the aioquic server answers with "
        "Version Negotiation (v1, v2)",
        ("timeout 8 gtlsclient -q --handshake-timeout=3s --version=v2draft --preferred-versions=v2draft "
         "127.0.0.1 {port} https://www.lab.test/; echo exit=$?",), (AIOQUIC_SERVER,)),
    "udp_quic_retry_ok": Scenario(
        "ok", "the aioquic server validates the client's address with a Retry; the handshake completes",
        (AIOQUIC_CLIENT,), ("QUIC_RETRY=1 " + AIOQUIC_SERVER,)),
    "udp_quic_retry_token_rejected": Scenario(
        "quic_address_validation_failed", "a balancer sends the client's first Initial to one aioquic server "
        "(which answers with a Retry) and the rest to another, which does not know the first's token key",
        (AIOQUIC_CLIENT,),
        (f"{{py}} {HERE / 'lb_proxy.py'} {{port}} {PORT + 1} {PORT + 2} {{t}}/proxy.txt",
         f"QUIC_RETRY=1 {{py}} {{peers}} server {PORT + 1} {{cert}} {{key}} h3",
         f"QUIC_RETRY=1 {{py}} {{peers}} server {PORT + 2} {{cert}} {{key}} h3"),
        capture=f"port {PORT} or icmp"),
    "udp_quic_ng_retry_ok": Scenario(
        "ok", "ngtcp2's server validates the address with a Retry (--validate-addr); its client completes",
        (NG_CLIENT,), (NG_SERVER + " -V",)),
    "udp_quic_ng_nat_rebinding": Scenario(
        "ok", "ngtcp2's client moves to a new local port 1 s after the handshake without path validation (NAT "
        "rebinding, --nat-rebinding) and sends its request 2 s after it; the aioquic server keeps the connection",
        ("timeout 8 gtlsclient -q --change-local-addr=1s --nat-rebinding --delay-stream=2s "
         "--exit-on-all-streams-close --handshake-timeout=3s 127.0.0.1 {port} https://www.lab.test/; echo exit=$?",),
        (AIOQUIC_SERVER,)),
    "udp_quic_ng_fragmentation_needed": Scenario(
        "path_mtu_blackhole", "ngtcp2's client sends 1400-byte datagrams (--max-udp-payload-size, don't-fragment "
        "set) through a router whose link to the server has an MTU of 1280: ICMP fragmentation needed, then the "
        "client's kernel refuses its datagrams (sendmsg: Message too long)",
        ("timeout 8 gtlsclient -q --max-udp-payload-size=1400 --handshake-timeout=3s --exit-on-all-streams-close "
         "{server} {port} https://www.lab.test/; echo exit=$?",), ("gtlsserver -q {server} {port} {key} {cert}",),
        routed=4),
    "udp_dtls_port_unreachable": Scenario(
        "udp_port_unreachable", "no DTLS server: openssl s_client -dtls1_2's ClientHello draws ICMP port unreachable",
        ("echo | timeout 5 openssl s_client -dtls1_2 -connect 127.0.0.1:{port} -servername www.lab.test; "
         "echo exit=$?",), protocol="dtls"),
    # -- held out: made after the rules, never tuned on -----------------------------------------
    "udp_quic_ng_port_unreachable": Scenario(
        "udp_port_unreachable", "no server: ngtcp2's client's Initials draw ICMP port unreachable",
        (NG_CLIENT,), held_out=True),
    "udp_quic_ng_admin_prohibited": Scenario(
        "host_unreachable", "a REJECT rule answers ngtcp2's client with ICMP administratively prohibited",
        (NG_CLIENT,), (AIOQUIC_SERVER,),
        f"iptables -A INPUT -p udp --dport {PORT} -j REJECT --reject-with icmp-admin-prohibited", held_out=True),
    "udp_quic_ng_fallback_tcp": Scenario(
        "quic_fell_back_to_tcp", "UDP is dropped; ngtcp2's client gives up and gnutls-cli connects over TCP to "
        "the same address and port", (NG_CLIENT, GNUTLS_TCP), (NG_SERVER, TLS_SERVER), DROP_UDP, held_out=True),
    "udp_quic_ng_large_dropped": Scenario(
        "path_mtu_blackhole", "the path drops IP packets of 1300 bytes and more: ngtcp2's client sending 1400-byte "
        "datagrams gets no answer, then one sending 1200-byte datagrams completes",
        (NG_CLIENT.replace("gtlsclient -q", "gtlsclient -q --max-udp-payload-size=1400"), NG_CLIENT),
        (AIOQUIC_SERVER,), DROP_LARGE, held_out=True),
    "udp_quic_ng_amplification_stall": Scenario(
        "amplification_limit_stall", "only the aioquic client's first datagram reaches ngtcp2's server, whose "
        "certificate has 200 names", (AIOQUIC_CLIENT,), (NG_SERVER,), FIRST_ONLY, held_out=True,
        fat_certificate=True),
    "udp_quic_ng_vn_no_common": Scenario(
        "protocol_version_mismatch", "the aioquic client speaks only QUIC v2; ngtcp2's server (v1, v2 draft) "
        "answers with Version Negotiation", (AIOQUIC_CLIENT + " 6b3343cf",), (NG_SERVER,), held_out=True),
    "udp_quic_ng_retry_token_rejected": Scenario(
        "quic_address_validation_failed", "a balancer sends ngtcp2's client's first Initial to one ngtcp2 server "
        "(--validate-addr: it answers with a Retry) and the rest to another, which does not know the first's token "
        "key", (NG_CLIENT,),
        (f"{{py}} {HERE / 'lb_proxy.py'} {{port}} {PORT + 1} {PORT + 2} {{t}}/proxy.txt",
         f"gtlsserver -q -V 127.0.0.1 {PORT + 1} {{key}} {{cert}}", f"gtlsserver -q -V 127.0.0.1 {PORT + 2} {{key}} {{cert}}"),
        capture=f"port {PORT} or icmp", held_out=True),
    "udp_quic_ng_packet_too_big_v6": Scenario(
        "path_mtu_blackhole", "over IPv6, ngtcp2's client sends 1400-byte datagrams through a router whose link to "
        "the server has an MTU of 1280: ICMPv6 packet too big",
        ("timeout 8 gtlsclient -q --max-udp-payload-size=1400 --handshake-timeout=3s --exit-on-all-streams-close "
         "{server} {port} https://www.lab.test/; echo exit=$?",), ("gtlsserver -q {server} {port} {key} {cert}",),
        routed=6, held_out=True),
    "udp_dtls_gnutls_port_unreachable": Scenario(
        "udp_port_unreachable", "no DTLS server: gnutls-cli --udp's ClientHello draws ICMP port unreachable",
        ("echo | timeout 5 gnutls-cli --udp --insecure -p {port} 127.0.0.1; echo exit=$?",),
        protocol="dtls", held_out=True),
}


def _fat_pki(folder: Path) -> tuple[Path, Path, Path]:
    """A root and a leaf for www.lab.test with 200 more names: (cert, key, root)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "QUIC Lab Root")])
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(root_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("www.lab.test")] + [x509.DNSName(f"host-{i:03d}.www.lab.test") for i in range(200)]
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "www.lab.test")]))
            .issuer_name(root_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(names), critical=False).sign(root_key, hashes.SHA256()))
    paths = [folder / n for n in ("leaf.pem", "leaf.key", "root.pem")]
    paths[0].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    paths[2].write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return paths[0], paths[1], paths[2]


TSHARK_FIELDS = ("frame.number", "ip.src", "ip.dst", "udp.srcport", "udp.dstport", "udp.length", "icmp.type",
                 "icmp.code", "quic.long.packet_type", "quic.version", "quic.supported_version", "tcp.flags")


def _tshark(capture: Path) -> list[str]:
    """tshark's listing of every frame: the fields the tests compare with (the oracle)."""
    args = ["tshark", "-n", "-r", str(capture), "-d", f"udp.port=={PORT},quic", "-T", "fields", "-E", "separator=|"]
    for f in TSHARK_FIELDS:
        args += ["-e", f]
    return subprocess.run(args, capture_output=True, text=True).stdout.strip().splitlines()[:300]


NETNS = ("udpf_c", "udpf_r", "udpf_s")


def _routed_script(sc: Scenario, t: Path, servers: str, clients: str, stop: str) -> str:
    """Three namespaces (client, router, server) joined by veth pairs; the router's link to the
    server has an MTU of 1280. The peers run in theirs; tcpdump on the client's link."""
    v6 = sc.routed == 6
    a = ["fd77:1::2/64", "fd77:1::1/64", "fd77:2::1/64", "fd77:2::2/64"] if v6 else \
        ["10.77.1.2/24", "10.77.1.1/24", "10.77.2.1/24", "10.77.2.2/24"]
    extra = " nodad" if v6 else ""
    gw_c, gw_s = a[1], a[2]
    fam = "-6 " if v6 else ""
    lines = [f"ip netns add {n}; ip -n {n} link set lo up" for n in NETNS] + [
        "ip link add udpf_c0 netns udpf_c type veth peer name udpf_r0 netns udpf_r",
        "ip link add udpf_r1 netns udpf_r type veth peer name udpf_s0 netns udpf_s",
        f"ip -n udpf_c addr add {a[0]} dev udpf_c0{extra}; ip -n udpf_c link set udpf_c0 up",
        f"ip -n udpf_r addr add {a[1]} dev udpf_r0{extra}; ip -n udpf_r link set udpf_r0 up",
        f"ip -n udpf_r addr add {a[2]} dev udpf_r1{extra}; ip -n udpf_r link set udpf_r1 up mtu 1280",
        f"ip -n udpf_s addr add {a[3]} dev udpf_s0{extra}; ip -n udpf_s link set udpf_s0 up mtu 1280",
        f"ip {fam}-n udpf_c route add default via {gw_c.split('/')[0]}",
        f"ip {fam}-n udpf_s route add default via {gw_s.split('/')[0]}",
        "ip netns exec udpf_r sysctl -qw " + ("net.ipv6.conf.all.forwarding=1" if v6 else "net.ipv4.ip_forward=1"),
        f"ip netns exec udpf_c tcpdump -i udpf_c0 -U -w {t}/cap.pcap '{sc.capture}' 2>/dev/null & TD=$!; sleep 1",
        f"{servers}sleep 1.5", clients, f"sleep 1; {'kill ' + stop + ';' if stop else ''} sleep 0.5; kill $TD; wait"]
    return "; ".join(lines)


def make(name: str, out: Path) -> None:
    sc = SCENARIOS[name]
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        if sc.fat_certificate:
            cert, key, root = _fat_pki(t)
        else:
            cert, key, root, _ = _pki(t)
        server = ("fd77:2::2" if sc.routed == 6 else "10.77.2.2") if sc.routed else "127.0.0.1"
        values = {"py": sys.executable, "peers": HERE / "peers.py", "port": PORT, "cert": cert, "key": key,
                  "root": root, "t": t, "server": server}
        server_ns = "ip netns exec udpf_s " if sc.routed else ""
        client_ns = "ip netns exec udpf_c " if sc.routed else ""
        servers = "".join(f"{server_ns}{cmd.format(**values)} > {t}/server{i}.txt 2>&1 & S{i}=$!; "
                          for i, cmd in enumerate(sc.servers))
        stop = " ".join(f"$S{i}" for i in range(len(sc.servers)))
        clients = "; ".join(f"( {client_ns}sh -c '{cmd.format(**values)}' ) > {t}/client{i}.txt 2>&1"
                            if sc.routed else f"( {cmd.format(**values)} ) > {t}/client{i}.txt 2>&1"
                            for i, cmd in enumerate(sc.clients))
        if sc.routed:
            try:
                subprocess.run(["sh", "-c", _routed_script(sc, t, servers, clients, stop)], check=True, timeout=90)
            finally:
                for n in NETNS:
                    subprocess.run(["ip", "netns", "del", n], capture_output=True)
        else:
            script = (f"ip link set lo up; {sc.setup + ';' if sc.setup else ''} "
                      f"tcpdump -i lo -U -w {t}/cap.pcap '{sc.capture}' 2>/dev/null & TD=$!; sleep 1; "
                      f"{servers}sleep 1.5; {clients}; sleep 1; {'kill ' + stop + ';' if stop else ''} "
                      f"sleep 0.5; kill $TD; wait")
            subprocess.run(["unshare", "-n", "sh", "-c", script], check=True, timeout=90)
        said = {p.stem: "".join(line for line in p.read_text(errors="replace").splitlines(True)
                                if not line.startswith("Using document root"))[-2000:].replace(str(t), "$TMP")
                for p in sorted(t.glob("*.txt"))}
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "capture.pcap").write_bytes((t / "cap.pcap").read_bytes())
    (folder / "expected.json").write_text(json.dumps({
        "scenario": name, "description": sc.what, "held_out": sc.held_out,
        "made_with": {"setup": sc.setup or None, "date": datetime.date.today().isoformat(),
                      "tools": "aioquic, ngtcp2 0.12 (gtlsclient/gtlsserver), openssl, gnutls-cli, curl"},
        "observed": {"peers": said, "tshark": _tshark(folder / "capture.pcap")},
        "expected": {"cause": sc.cause, "protocol": sc.protocol, "flow": sc.flow},
    }, indent=2) + "\n")


def main() -> None:
    if sys.argv[1] == "--oracle":  # tshark's listing again, for scenarios already made: --oracle OUTDIR
        for sidecar in sorted(Path(sys.argv[2]).glob("*/expected.json")):
            doc = json.loads(sidecar.read_text())
            doc["observed"]["tshark"] = _tshark(sidecar.parent / "capture.pcap")
            sidecar.write_text(json.dumps(doc, indent=2) + "\n")
        return
    out = Path(sys.argv[1])
    for name in (sys.argv[2:] or list(SCENARIOS)):
        make(name, out)
        print(name, json.loads((out / name / "expected.json").read_text())["observed"]["peers"])


if __name__ == "__main__":
    main()
