"""The seventh wide lab (`wide7_*`): transport and middlebox failures no earlier lab made, held out.

Every scenario here is held out (`expected.held_out: true`). What is new against the six
earlier wide labs:

- a receiver that stops reading mid-download (its TCP window closes and stays zero) while the
  server gives up on its send timeout: nginx `send_timeout`, Apache `Timeout`, lighttpd
  `server.max-write-idle`; and a zero window that opens again (control);
- TCP keep-alive probes nobody answers (iptables drops the peer's packets after the TLS
  session is up): socat as the prober on the client side and on the server side; keep-alives
  that are answered (control);
- a relay between client and server with both legs in the capture that changes one byte of
  the server's random, of the client's random (TLS 1.2 with RSA key exchange: the server finds
  out), or of an application_data record in either direction, or that resets both legs
  mid-download; a byte-transparent relay (control). The relay is lab/peers/wide7_peer.py;
- socat as a TLS client (OPENSSL: address, keep-alive options, client certificates), HAProxy
  as a TLS client to a backend that requires a client certificate.

Key logs: SSLKEYLOGFILE for curl, -keylogfile for s_client, -keylog for the Go client, --keylog
for the Erlang client and the stall client (Python ssl).

Ground truth is what the peers said (client error and exit status, the server's or the relay's
log line) and tshark's reading of the alerts, mapped to the catalogue's cause ids; tlsdissect
was not run to decide any expected value. The captures were made with a fresh PKI of their own:
its CA certificates are in `captures/_trust_wide7/`.
"""
from __future__ import annotations

import shlex
from pathlib import Path

from groundtruth import FAMILIES
from scenarios import HOST, Scenario, alert, expect, sc
from servers import NginxSpec
from wide import haproxy_tls, lighttpd
from wide3 import _out, command, erlang_client
from wide4 import haproxy_to_upstream, socat_tls, socat_version
from wide5 import apache_vhost, curl, go_client, s_client

WIDE7: list[Scenario] = []
TRUST = "_trust_wide7"
HERE = Path(__file__).resolve().parent
PEER = str(HERE / "peers" / "wide7_peer.py")
DOCROOT = HERE / "work" / "docroot"
BIG = f"head -c 16000000 /dev/zero > {DOCROOT}/big.bin"  # larger than any socket buffer
MID = f"head -c 400000 /dev/zero > {DOCROOT}/mid.bin"
# send buffers of at most 64 kB in the scenario's namespace (loopback would let a server queue
# megabytes, all of which then cross the wire after the reader resumes)
WMEM = "sysctl -q -w net.ipv4.tcp_wmem='4096 16384 65536'"


def w7(name: str, description: str, server: tuple, client: dict, expected: dict,
       **kw) -> None:
    """One held-out scenario of the seventh wide lab, in its own network namespace. `{scen}`
    in the client's or a command server's argv becomes the scenario's work folder."""
    assert name.startswith("wide7_"), name
    work = f"lab/work/{name}"
    expected = dict(expected, cause_family=FAMILIES[expected["cause"]], held_out=True)
    client = dict(client, client=[a.replace("{scen}", work) for a in client["client"]])
    def placed(server: tuple) -> tuple:
        kind, spec = server
        if kind == "command":
            spec = dict(spec, argv=[a.replace("{scen}", str(HERE.parent / work))
                                    for a in spec["argv"]])
        return kind, spec

    if kw.get("upstream") is not None:  # (the captures' first run left the upstream's
        kw["upstream"] = placed(kw["upstream"])  # {scen} literal: a folder in the cwd)
    WIDE7.append(sc(name, description, placed(server), client, expected, netns=True,
                    trust=TRUST, **kw))


def peer_version() -> str:
    return "lab/peers/wide7_peer.py (Python " + _out(
        ["python3", "-c", "import ssl, sys; print(sys.version.split()[0], ssl.OPENSSL_VERSION)"])


CLIENT_VERSIONS = {"socat": socat_version, "stall": lambda: peer_version() + " stall-client"}


# ------------------------------------------------------------------------ servers and clients
def relay(mode: str, skip: int = 0) -> tuple:
    """The relay on the scenario port in front of the upstream (port+1)."""
    return command("relay", ["python3", PEER, "relay", "{port}", "{upstream}", "--mode", mode,
                             "--skip", str(skip)], lambda: peer_version() + " relay")


def nginx(**kw) -> tuple:
    return ("nginx", NginxSpec(**kw))


def stall_client(*extra: str, keylog: bool = True) -> dict:
    argv = ["python3", "lab/peers/wide7_peer.py", "stall-client", "--port", "{port}",
            "--cafile", "{pki}/root.crt"] + (["--keylog", "{keylog}"] if keylog else [])
    return {"client": argv + list(extra), "client_kind": "stall"}


SOCAT_TLS = ("cafile={pki}/root.crt", f"snihost={HOST}", f"commonname={HOST}")


def socat_client(*options: str, stdin_wait: int = 2, before: str = "") -> dict:
    """socat with an OPENSSL: address (its own verification: cafile, commonname), stdin the
    request, held open `stdin_wait` seconds; `before` runs first in the background."""
    addr = ",".join(["OPENSSL:127.0.0.1:{port}", *SOCAT_TLS, *options])
    script = (before + f"(printf 'GET / HTTP/1.0\\r\\nHost: {HOST}\\r\\n\\r\\n'; "
              f"sleep {stdin_wait}) | exec socat -d -d - {addr}")
    return {"client": ["sh", "-c", script], "client_kind": "socat"}


def socat_echo(*options: str) -> tuple:
    """socat OPENSSL-LISTEN echoing what it reads (cat): a long-lived connection."""
    addr = ",".join(["OPENSSL-LISTEN:{port}", "bind=127.0.0.1", "reuseaddr",
                     "cert={pki}/fullchain-good.pem", "key={pki}/leaf-good.key", "verify=0",
                     *options])
    return command("socat", ["socat", "-d", "-d", addr, "EXEC:cat"], socat_version)


KEEPALIVE = ("keepalive", "keepidle=2", "keepintvl=1", "keepcnt=3")
TLS12_NGINX = nginx(protocols="TLSv1.2")
ERL12 = ("--versions", "tlsv1.2")
PHASE_APP = "application_data"


# -------------------------------------------------------------------------------- controls
w7("wide7_relay_pass_success_curl_nginx13",
   "curl (key log) fetches / through the relay in front of nginx (TLS 1.3); the relay "
   "forwards every byte unchanged. Two legs in the capture; stream 0 is the client's.",
   relay("pass"), curl(),
   expect("TLSv1.3", "established", "ok", None, None, None, None, stream=0),
   upstream=nginx())
w7("wide7_zero_window_recovers_stall_nginx13",
   "nginx (send_timeout 10s) serves a 400 kB file; the Python stall client (8 kB receive "
   "buffer, key log) reads 16 kB, stops reading for 3 s (its window closes), then reads the "
   "rest: the window opens again and the download completes.",
   nginx(extra=["send_timeout 10s"]), stall_client("--path", "/mid.bin", "--pause", "3"),
   expect("TLSv1.3", "established", "ok", None, None, None, None), setup=(MID, WMEM))
w7("wide7_keepalive_answered_socat13",
   "socat OPENSSL-LISTEN echoes what it reads; the socat client (keepalive, keepidle 2 s, "
   "keepintvl 1 s, keepcnt 3) sends a request line, then stays idle 7 s: its keep-alive "
   "probes are answered, and it closes when its input ends. No key log.",
   socat_echo(), socat_client(*KEEPALIVE, stdin_wait=7),
   expect("TLSv1.3", "established", "ok", None, None, None, None))
w7("wide7_success_socat_haproxy12",
   "HAProxy terminates TLS 1.2 (ssl-max-ver TLSv1.2) and answers with a small page; the socat "
   "client (cafile, commonname www.lab.test) sends GET. No key log.",
   haproxy_tls(bind_extra="ssl-max-ver TLSv1.2"), socat_client(),
   expect("TLSv1.2", "established", "ok", None, None, None, None))
w7("wide7_mtls_success_socat_socat13",
   "socat OPENSSL-LISTEN requires a client certificate from the Corp Client CA (verify=1, "
   "cafile corp-ca); the socat client presents alice's. No key log.",
   socat_tls("cafile={pki}/corp-ca.crt", verify="1"),
   socat_client("cert={pki}/client-good.crt", "key={pki}/client-good.key"),
   expect("TLSv1.3", "established", "ok", None, None, None, None))

# ------------------------------------------------------------------- receiver stopped reading
w7("wide7_zero_window_nginx_send_timeout13",
   "nginx (send_timeout 2s) serves a 16 MB file; the Python stall client (8 kB receive "
   "buffer, key log) reads 16 kB and stops reading for 6 s: its window stays zero, nginx "
   "probes it and gives up after 2 s ('client timed out ... while sending response'). Its "
   "FIN waits behind the queued data; when the client reads again it gets the rest, then "
   "the FIN without close_notify, and answers with a fatal decode_error (nginx resets).",
   nginx(extra=["send_timeout 2s"]), stall_client("--pause", "6"),
   expect("TLSv1.3", "established", "receiver_stopped_reading", "server", "fin", None,
          PHASE_APP, late_alert=alert("client", 50, encrypted=True)), setup=(BIG, WMEM),
   log_pattern=r"timed out")
w7("wide7_zero_window_apache_timeout12",
   "Apache httpd + mod_ssl (TLS 1.2, Timeout 2) serves a 16 MB file; the Python stall client "
   "(8 kB receive buffer) reads 16 kB and stops reading for 6 s; Apache gives up on its "
   "write ('(70007)The timeout specified has expired ... AH01993: SSL output filter write "
   "failed') and closes (FIN, no close_notify); the client reads the rest, then answers with "
   "an encrypted alert. No key log.",
   apache_vhost("Timeout 2", protocol="-all +TLSv1.2"),
   stall_client("--pause", "6", keylog=False),
   expect("TLSv1.2", "established", "receiver_stopped_reading", "server", "fin", None,
          PHASE_APP), setup=(BIG, WMEM), log_pattern=r"timeout|AH01993")
w7("wide7_zero_window_lighttpd_write_idle13",
   "lighttpd + mod_openssl (server.max-write-idle = 2) serves a 16 MB file; the Python stall "
   "client (8 kB receive buffer, key log) reads 16 kB and stops reading for 6 s; lighttpd "
   "gives up on its write (it logs nothing) and closes (FIN, no close_notify); the client "
   "reads the rest and answers with a fatal decode_error.",
   lighttpd(extra="server.max-write-idle = 2"), stall_client("--pause", "6"),
   expect("TLSv1.3", "established", "receiver_stopped_reading", "server", "fin", None,
          PHASE_APP, late_alert=alert("client", 50, encrypted=True)), setup=(BIG, WMEM),
   log_pattern=r"idle|timeout|write")

# ------------------------------------------------------------------------ keep-alives unanswered
w7("wide7_keepalive_unanswered_socat_client13",
   "socat OPENSSL-LISTEN echoes; the socat client (keepalive, keepidle 2 s, keepintvl 1 s, "
   "keepcnt 3) sends a line and stays idle. 2 s after it started an iptables rule drops "
   "everything the server sends (OUTPUT --sport port): the client's keep-alive probes go "
   "unanswered and its TCP gives up ('Connection timed out'). No key log.",
   socat_echo(),
   socat_client(*KEEPALIVE, stdin_wait=15,
                before="(sleep 2; iptables -A OUTPUT -p tcp --sport {port} -j DROP) & "),
   expect("TLSv1.3", "established", "keepalive_unanswered", "client", "rst", None, PHASE_APP))
w7("wide7_keepalive_unanswered_socat_server13",
   "socat OPENSSL-LISTEN (keepalive, keepidle 2 s, keepintvl 1 s, keepcnt 3) echoes; the "
   "socat client (no keep-alive) sends a line and stays idle 9 s. 2 s after it started an "
   "iptables rule drops everything the client sends (OUTPUT --dport port): the server's "
   "keep-alive probes go unanswered and its TCP gives up. No key log.",
   socat_echo(*KEEPALIVE),
   socat_client(stdin_wait=9,
                before="(sleep 2; iptables -A OUTPUT -p tcp --dport {port} -j DROP) & "),
   expect("TLSv1.3", "established", "keepalive_unanswered", "server", "rst", None, PHASE_APP),
   log_pattern=r"timed out|E ")

# ------------------------------------------------------------------------------- relays
w7("wide7_relay_server_random_curl_nginx13",
   "curl (key log) through the relay in front of nginx (TLS 1.3); the relay changes one byte "
   "of the ServerHello's random. The two ends' transcripts differ, so curl cannot decrypt "
   "the server's encrypted flight. Stream 0 is the client's leg.",
   relay("server-random"), curl(),
   expect("TLSv1.3", "failed", "middlebox_tampering", "client", "alert", alert("client", 20),
          "server_hello", stream=0),
   upstream=nginx())
w7("wide7_relay_server_random_go_haproxy13",
   "The Go client through the relay in front of HAProxy (TLS 1.3); the relay changes one byte "
   "of the ServerHello's random. Go cannot decrypt the server's encrypted flight ('local "
   "error: tls: bad record MAC'): its alert goes out encrypted under the handshake keys it "
   "derived, then it resets. No key log. Stream 0 is the client's leg.",
   relay("server-random"), go_client(keylog=False),
   expect("TLSv1.3", "failed", "middlebox_tampering", "client", "alert",
          alert("client", 20, encrypted=True),
          "server_hello", stream=0),
   upstream=haproxy_tls())
w7("wide7_relay_client_random_rsa_kex_s_client_nginx12",
   "openssl s_client (key log; TLS 1.2, RSA key exchange AES128-GCM-SHA256: no signed "
   "ServerKeyExchange) through the relay in front of nginx; the relay changes one byte of "
   "the ClientHello's random. The two ends derive different keys; nginx cannot verify the "
   "client's Finished. Stream 0 is the client's leg.",
   relay("client-random"), s_client("-tls1_2", "-cipher", "AES128-GCM-SHA256"),
   expect("TLSv1.2", "failed", "middlebox_tampering", "server", "alert", alert("server", 20),
          "finished", stream=0),
   upstream=TLS12_NGINX)
w7("wide7_relay_app_s2c_go_nginx13",
   "The Go client (key log) fetches a 400 kB file through the relay in front of nginx (TLS "
   "1.3); the relay changes one byte in the middle of the server's ninth application_data "
   "record (inside the body). Stream 0 is the client's leg.",
   relay("app-s2c", skip=8), go_client("-path", "/mid.bin"),
   expect("TLSv1.3", "established", "record_corrupted_in_transit", "client", "alert",
          alert("client", 20, encrypted=True), PHASE_APP, stream=0),
   upstream=nginx(), setup=(MID, WMEM))
w7("wide7_relay_app_c2s_socat_nginx12",
   "The socat client (TLS 1.2) sends GET through the relay in front of nginx; the relay "
   "changes one byte in the middle of the client's first application_data record (the "
   "request). No key log. Stream 0 is the client's leg.",
   relay("app-c2s"), socat_client("openssl-max-proto-version=TLS1.2"),
   expect("TLSv1.2", "established", "record_corrupted_in_transit", "server", "alert",
          alert("server", 20, encrypted=True), PHASE_APP, stream=0),
   upstream=TLS12_NGINX)
w7("wide7_relay_reset_s2c_curl_apache13",
   "curl (key log) fetches a 16 MB file through the relay in front of Apache httpd (TLS "
   "1.3); when the server's ninth application_data record arrives the relay resets both TCP "
   "connections (SO_LINGER 0). Stream 0 is the client's leg.",
   relay("reset-s2c", skip=8), curl(url=f"https://{HOST}:{{port}}/big.bin"),
   expect("TLSv1.3", "established", "middlebox_reset", "middlebox", "rst", None, PHASE_APP,
          stream=0),
   upstream=apache_vhost(), setup=(BIG,))
w7("wide7_relay_reset_s2c_erlang_socat12",
   "The Erlang/OTP ssl client (TLS 1.2, key log) through the relay in front of socat "
   "OPENSSL-LISTEN; when the server's first application_data record (the HTTP answer) "
   "arrives the relay resets both connections. The Erlang peer reports no error (it prints "
   "the version and exits 0). Stream 0 is the client's leg.",
   relay("reset-s2c"), erlang_client(*ERL12),
   expect("TLSv1.2", "established", "middlebox_reset", "middlebox", "rst", None, PHASE_APP,
          stream=0),
   upstream=socat_tls())

# ------------------------------------------------------------------ certificates, socat, HAProxy
w7("wide7_client_cert_missing_socat_socat12",
   "socat OPENSSL-LISTEN (TLS 1.2 at most) requires a Corp Client CA certificate (verify=1); "
   "the socat client has none. No key log.",
   socat_tls("cafile={pki}/corp-ca.crt", "openssl-max-proto-version=TLS1.2", verify="1"),
   socat_client(),
   expect("TLSv1.2", "failed", "client_cert_missing", "server", "alert", alert("server", 40),
          "client_certificate"))
w7("wide7_untrusted_erlang_socat13",
   "socat OPENSSL-LISTEN serves the Rogue Root's chain; the Erlang/OTP ssl client trusts the "
   "lab root only.",
   socat_tls(cert="fullchain-rogue.pem", key="leaf-rogue.key"), erlang_client(),
   expect("TLSv1.3", "failed", "server_cert_untrusted", "client", "alert",
          alert("client", 48, encrypted=True),
          "server_certificate"))
w7("wide7_hostname_mismatch_socat_nginx13",
   "nginx serves the good chain (www.lab.test); the socat client expects the name "
   "api.lab.test (commonname=api.lab.test, SNI www.lab.test). socat checks the name itself "
   "after the handshake ('E certificate is valid but its commonName does not match hostname', "
   "exit 1), sends one 2-byte encrypted alert (its SSL_shutdown: close_notify, by socat's "
   "close path and the record's size) and then resets (the server's tickets unread). No key "
   "log.",
   nginx(),
   {"client": ["sh", "-c", "(printf 'GET / HTTP/1.0\\r\\n\\r\\n'; sleep 2) | exec socat -d -d "
               "- OPENSSL:127.0.0.1:{port},cafile={pki}/root.crt,snihost=www.lab.test,"
               "commonname=api.lab.test"], "client_kind": "socat"},
   expect("TLSv1.3", "failed", "client_rejected_cert_silently", "client", "alert",
          alert("client", 0, encrypted=True, level="warning"), "server_certificate"))
w7("wide7_proxy_backend_client_cert_missing_haproxy_socat13",
   "HAProxy takes plain HTTP on the scenario port and relays to a socat OPENSSL-LISTEN "
   "backend over TLS (ssl verify required, ca-file root, sni www.lab.test) without a client "
   "certificate; the backend requires one from the Corp Client CA (verify=1): socat logs 'peer "
   "did not return a certificate' and sends one encrypted alert; HAProxy answers 502. "
   "Stream 0 is curl's plain request; stream 1 HAProxy's TLS leg. No key log.",
   haproxy_to_upstream("ssl verify required ca-file {pki}/root.crt sni str(www.lab.test)"),
   {"client": ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}\\n",
               "http://127.0.0.1:{port}/"], "client_kind": "curl"},
   expect("TLSv1.3", "failed", "client_cert_missing", "server", "alert",
          alert("server", 116, encrypted=True), "client_certificate", stream=1),
   upstream=socat_tls("cafile={pki}/corp-ca.crt", verify="1"))
