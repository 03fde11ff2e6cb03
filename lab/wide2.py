"""The second wide lab (`wide2_*`): a held-out set made after the rules were tuned on `wide_*`.

Every scenario here is held out (`expected.held_out: true`): it is never used to tune the
diagnosis rules, only to check that they generalise (lab/score.py reports it with the other
held-out rows). The pairings are ones the first wide lab did not use: gnutls-cli as the client of
nginx, HAProxy and Go; openssl s_client against lighttpd, stunnel, gnutls-serv, Go and Node.js;
the Go client against Node.js and lighttpd; the Node.js client against HAProxy, Go, lighttpd and
s_server; curl against a Python ssl server and a plain-text Go port; stunnel as a client; and
firewall rules (iptables REJECT / DROP) inside the scenario's own network namespace.

Ground truth is what the peers said (the client's error and exit status, the server's log line)
and tshark's reading of the alerts, mapped to the catalogue's cause ids; tlsdissect was not run
to decide any expected value. The captures were made with a later PKI than `wide_*`: their CA
certificates are in `captures/_trust_wide2/`.
"""
from __future__ import annotations

import shlex

from groundtruth import FAMILIES
from scenarios import CURL, GET, HOST, TLS12, TLS13, Scenario, alert, curl, expect, gnutls, \
    s_client, sc
from servers import NginxSpec
from wide import (GOOD, go_client, go_server, gnutls_serv, haproxy_tls, lighttpd, node_client,
                  node_server, s_server, stunnel)

WIDE2: list[Scenario] = []
TRUST = "_trust_wide2"

GNUTLS12 = ("--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2")
GNUTLS13 = ("--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3")
GNUTLS_OTHER_CERT = ("--x509certfile", "{pki}/client-other.crt", "--x509keyfile",
                     "{pki}/client-other.key")


def w2(name: str, description: str, server: tuple, client: dict, expected: dict,
       **kw) -> None:
    """One held-out scenario of the second wide lab, in its own network namespace."""
    assert name.startswith("wide2_"), name
    expected = dict(expected, cause_family=FAMILIES[expected["cause"]], held_out=True)
    WIDE2.append(sc(name, description, server, client, expected, netns=True, trust=TRUST, **kw))


# A Python ssl client (TLS 1.2) that keeps the connection alive after one response and then
# closes the socket without close_notify, as a pooled HTTP client being shut down would.
KEEPALIVE_CLIENT = """import socket, ssl, sys
c = ssl.create_default_context(cafile='lab/work/pki/root.crt')
c.maximum_version = ssl.TLSVersion.TLSv1_2
c.keylog_filename = sys.argv[2]
s = c.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[1])), 5),
                  server_hostname='www.lab.test')
s.sendall(b'GET / HTTP/1.1\\r\\nHost: www.lab.test\\r\\n\\r\\n')
data = b''
while b'\\r\\n\\r\\n' not in data:
    data += s.recv(4096)
head, _, body = data.partition(b'\\r\\n\\r\\n')
length = int([h.split(b':')[1] for h in head.split(b'\\r\\n') if h.lower().startswith(b'content-length')][0])
while len(body) < length:
    body += s.recv(4096)
print(s.version(), head.split(b'\\r\\n')[0].decode(), len(body), 'body bytes')
s.close()
"""


def stunnel_client(*options: str) -> dict:
    """stunnel 5 as a TLS client in inetd mode: no `accept`, so the plaintext side is stunnel's
    own stdin/stdout (the HTTP request comes from printf); the configuration is read from
    descriptor 3 (`-fd 3`). stunnel writes no key log."""
    conf = "\n".join(["client = yes", "connect = 127.0.0.1:{port}", "debug = info",
                      "syslog = no", "output = /dev/stderr", *options])
    request = shlex.quote(GET.encode("unicode_escape").decode())
    script = f"printf {request} | stunnel4 -fd 3 3<<EOF\n{conf}\nEOF"
    return {"client": ["sh", "-c", script], "client_kind": "stunnel"}


# ------------------------------------------------------------------------------- success
w2("wide2_success_go_gnutls",
   "The Go server (crypto/tls) with the good chain; gnutls-cli (TLS 1.3) sends GET / and reads "
   "the answer; the Go server ends with close_notify.",
   go_server(), gnutls(),
   expect("TLSv1.3", "established", "ok", None, None, None, None))

# ----------------------------------------------------------------- server rejects the hello
w2("wide2_version_mismatch_go_gnutls",
   "The Go server accepts only TLS 1.3 (-min 1.3); gnutls-cli offers only TLS 1.2 "
   "(priority NORMAL:-VERS-ALL:+VERS-TLS1.2). Go answers the ClientHello with protocol_version.",
   go_server("-min", "1.3"), gnutls(*GNUTLS12),
   expect(None, "failed", "protocol_version_mismatch", "server", "alert", alert("server", 70),
          "client_hello"))
w2("wide2_no_shared_cipher_node_go",
   "The Node.js server is limited to TLS 1.2 and the one suite DHE-RSA-AES256-GCM-SHA384; the Go "
   "client (TLS 1.2 and 1.3 offered) has no finite-field DHE suite at all.",
   node_server("--max", "TLSv1.2", "--ciphers", "DHE-RSA-AES256-GCM-SHA384"), go_client(),
   expect(None, "failed", "no_shared_cipher", "server", "alert", alert("server", 40),
          "client_hello"))
w2("wide2_no_common_group_haproxy_gnutls",
   "HAProxy's bind line allows only the X448 group (curves X448); gnutls-cli offers TLS 1.3 only "
   "and only secp256r1 (priority NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP256R1).",
   haproxy_tls(bind_extra="curves X448"),
   gnutls("--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP256R1"),
   expect(None, "failed", "no_common_group", "server", "alert", alert("server", 40),
          "client_hello"))
w2("wide2_no_common_sigalg_go_s_client",
   "The Go server has only an ECDSA P-256 certificate; openssl s_client -tls1_3 offers only RSA "
   "signature schemes (-sigalgs rsa_pss_rsae_sha256:rsa_pkcs1_sha256:rsa_pss_rsae_sha384). Go "
   "refuses before its ServerHello ('peer doesn't support any of the certificate's signature "
   "algorithms').",
   go_server(cert="fullchain-ecdsa.pem", key="leaf-ecdsa.key"),
   s_client("-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256:rsa_pkcs1_sha256:rsa_pss_rsae_sha384"),
   expect(None, "failed", "no_common_signature_scheme", "server", "alert", alert("server", 40),
          "client_hello"))
w2("wide2_alpn_mismatch_go_node",
   "The Go server speaks only the ALPN protocol acme-tls/1; the Node.js client offers h2 and "
   "http/1.1 (TLS 1.3). Go refuses while writing EncryptedExtensions, after its ServerHello: "
   "the no_application_protocol alert is encrypted under the handshake keys.",
   go_server("-alpn", "acme-tls/1"), node_client("--alpn", "h2,http/1.1"),
   expect("TLSv1.3", "failed", "alpn_mismatch", "server", "alert",
          alert("server", 120, encrypted=True), "server_hello"))
w2("wide2_inappropriate_fallback_stunnel_s_client",
   "stunnel (OpenSSL, TLS 1.2 and 1.3) with the good chain; openssl s_client retries as a "
   "browser's fallback would: -tls1_2 -fallback_scsv. stunnel refuses the downgrade.",
   stunnel(), s_client("-tls1_2", "-fallback_scsv"),
   expect(None, "failed", "inappropriate_fallback", "server", "alert", alert("server", 86),
          "client_hello"))

# ---------------------------------------------------------- client rejects the server cert
w2("wide2_hostname_mismatch_nginx_gnutls",
   "nginx serves a valid chain for other.example.test only; gnutls-cli (TLS 1.3) asks for "
   "www.lab.test (--verify-hostname) and aborts; GnuTLS sends its alert under the handshake "
   "keys.",
   ("nginx", NginxSpec(cert="fullchain-wronghost.pem", key="leaf-wronghost.key")),
   gnutls(*GNUTLS13),
   expect("TLSv1.3", "failed", "server_cert_hostname_mismatch", "client", "alert",
          alert("client", 42, encrypted=True), "server_certificate"))
w2("wide2_untrusted_root_haproxy_gnutls",
   "HAProxy serves the Rogue Root chain (leaf + Rogue Intermediate); gnutls-cli (TLS 1.2) "
   "trusts only the lab root.",
   haproxy_tls("haproxy-rogue.pem"), gnutls(*GNUTLS12),
   expect("TLSv1.2", "failed", "server_cert_untrusted", "client", "alert", alert("client", 42),
          "server_certificate"))
w2("wide2_missing_intermediate_lighttpd_s_client",
   "lighttpd's ssl.pemfile holds only the leaf (no intermediate); openssl s_client -tls1_2 "
   "trusts only the lab root and cannot build the chain.",
   lighttpd("leaf-good.crt"), s_client("-tls1_2"),
   expect("TLSv1.2", "failed", "server_chain_incomplete", "client", "alert",
          alert("client", 48), "server_certificate"))
w2("wide2_self_signed_gnutls_serv_s_client",
   "gnutls-serv serves a self-signed www.lab.test certificate; openssl s_client -tls1_3 trusts "
   "only the lab root. OpenSSL's client sends its alert as a plaintext record.",
   gnutls_serv(cert="leaf-selfsigned.crt", key="leaf-selfsigned.key"), s_client("-tls1_3"),
   expect("TLSv1.3", "failed", "server_cert_self_signed", "client", "alert", alert("client", 48),
          "server_certificate"))
w2("wide2_expired_node_s_client",
   "The Node.js server serves the expired leaf with its chain; openssl s_client -tls1_3 aborts "
   "with a plaintext alert.",
   node_server(cert="fullchain-expired.pem", key="leaf-expired.key"), s_client("-tls1_3"),
   expect("TLSv1.3", "failed", "server_cert_expired", "client", "alert", alert("client", 45),
          "server_certificate"))
w2("wide2_not_yet_valid_stunnel_client_go",
   "stunnel in client mode (inetd: the request on its stdin, CAfile the lab root, verifyChain, "
   "checkHost www.lab.test, TLS 1.2 at most) connects to the Go server, which serves the leaf "
   "valid only from 2034. stunnel writes no key log.",
   go_server(cert="fullchain-notyet.pem", key="leaf-notyet.key"),
   stunnel_client("CAfile = lab/work/pki/root.crt", "verifyChain = yes",
                  f"checkHost = {HOST}", f"sni = {HOST}", "sslVersionMax = TLSv1.2"),
   expect("TLSv1.2", "failed", "server_cert_not_yet_valid", "client", "alert",
          alert("client", 42), "server_certificate"))

# ---------------------------------------------------------- client rejects the server's params
w2("wide2_weak_dh1024_s_server_gnutls",
   "openssl s_server with a 1024-bit DH group (-dhparam dh1024.pem) and only "
   "DHE-RSA-AES128-GCM-SHA256 at @SECLEVEL=0 (TLS 1.2); gnutls-cli (TLS 1.2) at the MEDIUM "
   "security profile (%PROFILE_MEDIUM: at least 2048-bit groups) refuses the "
   "ServerKeyExchange's prime ('not long enough') with GnuTLS's own alert, "
   "insufficient_security. (The Node.js client, Node 20's OpenSSL settings, accepts the same "
   "server.)",
   s_server(*GOOD, "-www", "-tls1_2", "-dhparam", "{pki}/dh1024.pem", "-cipher",
            "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"),
   gnutls("--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2:%PROFILE_MEDIUM"),
   expect("TLSv1.2", "failed", "weak_dh_group", "client", "alert", alert("client", 71),
          "key_exchange"))

# --------------------------------------------------------- server rejects the client cert
w2("wide2_client_cert_missing_lighttpd_go",
   "lighttpd requires a client certificate (ssl.verifyclient.activate/enforce, ssl.ca-file the "
   "Corp Client CA); the Go client (TLS 1.2 at most) has none and sends an empty Certificate.",
   lighttpd(extra='ssl.ca-file = "{pki}/corp-ca.crt"\nssl.verifyclient.activate = "enable"\n'
                  'ssl.verifyclient.enforce = "enable"\nssl.verifyclient.depth = 2'),
   go_client("-max", "1.2"),
   expect("TLSv1.2", "failed", "client_cert_missing", "server", "alert", alert("server", 40),
          "client_certificate"))
w2("wide2_client_cert_unknown_ca_stunnel_gnutls",
   "stunnel requires a client certificate from the Corp Client CA (CAfile, verifyChain); "
   "gnutls-cli (TLS 1.3) presents mallory's certificate from Other CA. The server's alert is "
   "encrypted.",
   stunnel("fullchain-good.pem", "leaf-good.key", "CAfile = {pki}/corp-ca.crt",
           "verifyChain = yes"),
   gnutls(*GNUTLS13, *GNUTLS_OTHER_CERT),
   expect("TLSv1.3", "failed", "client_cert_rejected", "server", "alert",
          alert("server", 48, encrypted=True), "client_certificate"))

# ------------------------------------------------------------------------------- not TLS
w2("wide2_plaintext_http_go_curl",
   "The Go server listens for TLS on port 443; curl speaks plain HTTP (http://www.lab.test:443/) "
   "to it. crypto/tls finds that the first record is not a handshake ('first record does not "
   "look like a TLS handshake') and the server closes (FIN) without an alert or an answer.",
   go_server(), {"client": CURL[:8] + ["--resolve", "www.lab.test:{port}:127.0.0.1",
                                       "http://www.lab.test:{port}/"], "client_kind": "curl"},
   expect(None, "not_tls", "plaintext_http_on_tls_port", "server", "fin", None, "client_hello",
          server_name=None), port=443)
w2("wide2_tls_to_plaintext_haproxy_gnutls",
   "HAProxy serves plain HTTP (no ssl on its bind line); gnutls-cli (TLS 1.2) starts a TLS "
   "handshake there and HAProxy answers the ClientHello with a plain-text HTTP 400 and closes "
   "(FIN). Only then does gnutls-cli ('An unexpected TLS packet was received') send a fatal "
   "unexpected_message, after the server's close: late, it changes nothing.",
   ("haproxy", """frontend lab
  mode http
  bind 127.0.0.1:{port}
  http-request return status 200 content-type text/plain string "plain HTTP (HAProxy)"
"""),
   gnutls(*GNUTLS12),
   expect(None, "not_tls", "tls_to_plaintext_server", "server", "fin", None, "client_hello",
          late_alert=alert("client", 10)))

# ------------------------------------------------------------------- path and middleboxes
w2("wide2_firewall_reset_after_hello_haproxy_node",
   "A packet filter inside the scenario's namespace (iptables INPUT: packets of 200 bytes or "
   "more to the server port -j REJECT --reject-with tcp-reset) answers the Node.js client's "
   "ClientHello with a TCP reset in HAProxy's name; HAProxy itself never sees the hello "
   "(tcpdump records it before the filter).",
   haproxy_tls(), node_client(),
   expect(None, "failed", "middlebox_reset", "middlebox", "rst", None, "client_hello"),
   setup=("iptables -A INPUT -i lo -p tcp --dport {port} -m length --length 200:65535 "
          "-j REJECT --reject-with tcp-reset",))
w2("wide2_firewall_drops_server_flight_nginx_go",
   "A packet filter inside the namespace silently drops everything the server sends after its "
   "SYN-ACK (iptables INPUT: from the server port, SYN flag clear -j DROP; tcpdump sees the "
   "packets before the filter, as a capture on the server's side would). nginx ACKs the Go "
   "client's ClientHello and sends its TLS 1.3 flight; neither arrives, so the client "
   "retransmits its ClientHello, nginx its flight, and the Go client (net/http, 5 s timeout) "
   "gives up: for the client the server went silent.",
   ("nginx", NginxSpec()), go_client(),
   expect("TLSv1.3", "incomplete", "server_no_response", "client", "no_response", None,
          "server_hello"),
   setup=("iptables -A INPUT -i lo -p tcp --sport {port} --tcp-flags SYN NONE -j DROP",))

# ------------------------------------------------------------------------ after the handshake
w2("wide2_truncated_response_python_curl",
   "A Python ssl server (TLS 1.3) answers with Content-Length: 20000, sends 3000 bytes and "
   "closes the socket without close_notify; curl reports the transfer cut short.",
   ("helper", ["tls-truncate", "{port}", "{pki}/fullchain-good.pem", "{pki}/leaf-good.key"]),
   curl(*TLS13),
   expect("TLSv1.3", "established", "truncated_response", "server", "fin", None,
          "application_data", hidden_in_session=True),
   log_pattern=r"without close_notify")
w2("wide2_success_lighttpd_node",
   "lighttpd with the good chain; the Node.js client (TLS 1.3) fetches / (HTTP/1.1, "
   "Connection: close), reads the whole answer and the server's close_notify, and exits with "
   "a bare FIN (no close_notify of its own).",
   lighttpd(), node_client(),
   expect("TLSv1.3", "established", "ok", None, None, None, None))
w2("wide2_late_decode_error_lighttpd_python12",
   "lighttpd with the good chain; a Python ssl client (TLS 1.2) sends GET / with HTTP/1.1 "
   "keep-alive (no Connection: close), reads the complete answer (Content-Length) and closes "
   "its socket without close_notify (SSLSocket.close). lighttpd, waiting for the next request, "
   "answers that close with a fatal decode_error: after a complete exchange, so it changes "
   "nothing (the client exits 0).",
   lighttpd(), {"client": ["python3", "-c", KEEPALIVE_CLIENT, "{port}", "{keylog}"],
                "client_kind": "python"},
   # cause ok, as wide_lighttpd_h2_late_decode_error: issue 16's must-hold (successful
   # connections stay established with cause ok whatever late alerts follow); the late alert is
   # the diagnosis' after_handshake problem (tests/test_lab_diagnosis.py).
   expect("TLSv1.2", "established", "ok", None, None, None, None,
          late_alert=alert("server", 50, encrypted=True)))

# ---------------------------------------- added last (ports are given by position)
w2("wide2_weak_rsa1024_go_s_client",
   "The Go server serves a leaf with a 1024-bit RSA key (signed by the lab intermediate, chain "
   "sent; Go 1.19 loads it without complaint); openssl s_client -tls1_3 at Debian's security "
   "level 2 refuses the key as too small ('EE certificate key too weak') with a plaintext "
   "alert. Go, expecting an encrypted record, logs 'bad record MAC'.",
   go_server(cert="fullchain-rsa1024.pem", key="leaf-rsa1024.key"), s_client("-tls1_3"),
   expect("TLSv1.3", "failed", "weak_server_key", "client", "alert", alert("client", 42),
          "server_certificate"))
