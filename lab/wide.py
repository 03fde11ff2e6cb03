"""The wide lab: servers and clients the Apache-era lab never used, each scenario in its own
network namespace (`unshare -n`: only a loopback, so ports never collide and iptables rules
stay inside).

Servers: HAProxy, lighttpd, stunnel, gnutls-serv, nginx in more configurations, openssl
s_server options, the Go and Node.js peers of lab/peers/, Python ssl helpers and relays.
Clients: curl, openssl s_client, gnutls-cli, the Go and Node.js peers, Python's ssl module.

Every sidecar's `expected` also carries `cause_family` (groundtruth.FAMILIES) and `held_out`
(true: kept out of the tests that tune the diagnosis rules; lab/score.py reports it apart).
The causes the wide lab needed beyond the Apache-era ones were proposed in
groundtruth.PROPOSED_CAUSES; tlsdissect's catalogue has them now.
"""
from __future__ import annotations

from groundtruth import FAMILIES
from servers import NginxSpec
from scenarios import (CLIENT_OTHER, CURL, HOST, PY_CLIENT, TLS12,
                       TLS13, URL, Scenario, alert, curl, expect, gnutls, s_client, sc)

WIDE: list[Scenario] = []

CLIENT_REVOKED = ["--cert", "{pki}/client-revoked.crt", "--key", "{pki}/client-revoked.key"]
GO_CLIENT = ["{goclient}", "client", "-connect", "127.0.0.1:{port}", "-sni", HOST, "-cafile",
             "{pki}/root.crt", "-keylog", "{keylog}"]
NODE_CLIENT = ["node", "{nodepeer}", "client", "--port", "{port}", "--cafile", "{pki}/root.crt",
               "--keylog", "{keylog}"]
GOOD = ["-cert", "{pki}/leaf-good.crt", "-key", "{pki}/leaf-good.key", "-cert_chain",
        "{pki}/chain-inter.pem"]


def go_client(*extra: str) -> dict:
    return {"client": GO_CLIENT + list(extra), "client_kind": "go"}


def node_client(*extra: str) -> dict:
    return {"client": NODE_CLIENT + list(extra), "client_kind": "node"}


def py_client(*extra: str) -> dict:
    return {"client": PY_CLIENT + list(extra), "client_kind": "python"}


def w(name: str, description: str, server: tuple, client: dict, expected: dict,
      held_out: bool = False, **kw) -> None:
    """One wide-lab scenario: its own network namespace, family and held-out mark added."""
    expected = dict(expected, cause_family=FAMILIES[expected["cause"]], held_out=held_out)
    WIDE.append(sc(name, description, server, client, expected, netns=True, **kw))


def haproxy_tls(crt: str = "haproxy-good.pem", bind_extra: str = "") -> tuple:
    """HAProxy terminating TLS itself and answering every request with a small page."""
    return ("haproxy", f"""frontend lab
  mode http
  option httplog
  bind 127.0.0.1:{{port}} ssl crt {{pki}}/{crt} {bind_extra}
  http-request return status 200 content-type text/plain string "TLS lab (HAProxy)"
""")


def lighttpd(pem: str = "fullchain-good.pem", key: str = "leaf-good.key", extra: str = "") -> tuple:
    return ("lighttpd", f'ssl.pemfile = "{{pki}}/{pem}"\nssl.privkey = "{{pki}}/{key}"\n{extra}')


def stunnel(cert: str = "fullchain-good.pem", key: str = "leaf-good.key",
            *extra: str) -> tuple:
    return ("stunnel", [f"cert = {{pki}}/{cert}", f"key = {{pki}}/{key}", *extra])


def gnutls_serv(*extra: str, cert: str = "fullchain-good.pem", key: str = "leaf-good.key") -> tuple:
    return ("gnutls-serv", ["--http", "--x509certfile", f"{{pki}}/{cert}", "--x509keyfile",
                            f"{{pki}}/{key}", *extra])


def go_server(*extra: str, cert: str = "fullchain-good.pem", key: str = "leaf-good.key") -> tuple:
    return ("go", ["-listen", "127.0.0.1:{port}", "-cert", f"{{pki}}/{cert}", "-key",
                   f"{{pki}}/{key}", *extra])


def node_server(*extra: str, cert: str = "fullchain-good.pem", key: str = "leaf-good.key") -> tuple:
    return ("node", ["--port", "{port}", "--cert", f"{{pki}}/{cert}", "--key", f"{{pki}}/{key}",
                     *extra])


def s_server(*extra: str) -> tuple:
    return ("s_server", [*extra])


# ------------------------------------------------------------- successes on new stacks
w("wide_haproxy_success_go",
  "HAProxy 2.6 terminating TLS (crt = leaf + intermediate + key) and answering with "
  "'http-request return'; the Go client (crypto/tls, TLS 1.3) fetches /.",
  haproxy_tls(), go_client(),
  expect("TLSv1.3", "established", "ok", None, None, None, None))
w("wide_stunnel_success_node",
  "stunnel 5 with the good chain in front of a shell script answering HTTP (exec); the Node.js "
  "client (TLS 1.2 at most) fetches /.",
  stunnel(), node_client("--max", "TLSv1.2"),
  expect("TLSv1.2", "established", "ok", None, None, None, None))
w("wide_gnutls_serv_success_python",
  "gnutls-serv --http with the good chain (GnuTLS 3.7, TLS 1.3); the Python ssl client fetches /.",
  gnutls_serv(), py_client(),
  expect("TLSv1.3", "established", "ok", None, None, None, None))

# ---------------------------------------------------------------- server rejects the hello
w("wide_alpn_mismatch_go_curl",
  "The Go server (crypto/tls) speaks only the ALPN protocol acme-tls/1 (as an ACME TLS-ALPN-01 "
  "responder); curl offers h2 and http/1.1 (TLS 1.3). Go 1.19 picks the protocol while "
  "writing EncryptedExtensions, so its ServerHello is already out: the fatal "
  "no_application_protocol alert is encrypted under the handshake keys.",
  go_server("-alpn", "acme-tls/1"), curl(*TLS13),
  expect("TLSv1.3", "failed", "alpn_mismatch", "server", "alert",
         alert("server", 120, encrypted=True), "server_hello"))
w("wide_alpn_mismatch_node_go",
  "The Node.js server (node:tls) with ALPNProtocols ['acme-tls/1']; the Go client offers h2 and "
  "http/1.1 (TLS 1.3).",
  node_server("--alpn", "acme-tls/1"), go_client("-alpn", "h2,http/1.1"),
  expect(None, "failed", "alpn_mismatch", "server", "alert", alert("server", 120),
         "client_hello"), held_out=True)
w("wide_inappropriate_fallback_s_server",
  "openssl s_server accepts TLS 1.2 and 1.3; openssl s_client retries as a fallback would: "
  "-tls1_2 -fallback_scsv (TLS_FALLBACK_SCSV in the cipher list). The server knows it could "
  "have done better and refuses the downgrade with inappropriate_fallback.",
  s_server(*GOOD, "-www"), s_client("-tls1_2", "-fallback_scsv"),
  expect(None, "failed", "inappropriate_fallback", "server", "alert", alert("server", 86),
         "client_hello"))
w("wide_inappropriate_fallback_nginx",
  "nginx (TLS 1.2 and 1.3) and the same fallback retry from openssl s_client -tls1_2 "
  "-fallback_scsv.",
  ("nginx", NginxSpec()), s_client("-tls1_2", "-fallback_scsv"),
  expect(None, "failed", "inappropriate_fallback", "server", "alert", alert("server", 86),
         "client_hello"))
w("wide_no_common_sigalg_haproxy",
  "HAProxy serves only an ECDSA P-256 certificate; openssl s_client -tls1_3 -sigalgs "
  "rsa_pss_rsae_sha256:rsa_pkcs1_sha256 offers only RSA signature schemes, so the server has "
  "no way to sign its CertificateVerify.",
  haproxy_tls("haproxy-ecdsa.pem"),
  s_client("-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256:rsa_pkcs1_sha256:rsa_pss_rsae_sha384"),
  expect(None, "failed", "no_common_signature_scheme", "server", "alert",
         alert("server", 40), "client_hello"))
w("wide_no_common_sigalg_gnutls_serv",
  "gnutls-serv serves only an ECDSA P-256 certificate; gnutls-cli (TLS 1.2) allows only RSA "
  "signatures (priority NORMAL:-SIGN-ALL:+SIGN-RSA-SHA256:+SIGN-RSA-PSS-RSAE-SHA256).",
  gnutls_serv(cert="fullchain-ecdsa.pem", key="leaf-ecdsa.key"),
  gnutls("--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:+SIGN-RSA-SHA256:"
         "+SIGN-RSA-PSS-RSAE-SHA256"),
  expect(None, "failed", "no_common_signature_scheme", "server", "alert",
         alert("server", 40), "client_hello"), held_out=True)
w("wide_no_common_group_s_server",
  "openssl s_server -groups X448 (TLS 1.3 only); curl --tlsv1.3 --curves P-256 offers only "
  "P-256: no key-exchange group in common.",
  s_server(*GOOD, "-www", "-tls1_3", "-groups", "X448"), curl(*TLS13, "--curves", "P-256"),
  expect(None, "failed", "no_common_group", "server", "alert", alert("server", 40),
         "client_hello"))
w("wide_no_common_group_node_nginx",
  "nginx with ssl_ecdh_curve X448 (TLS 1.2 and 1.3); the Node.js client with ecdhCurve P-256.",
  ("nginx", NginxSpec(extra=["ssl_ecdh_curve X448"])),
  node_client("--groups", "P-256"),
  expect(None, "failed", "no_common_group", "server", "alert", alert("server", 40),
         "client_hello"), held_out=True)
w("wide_no_shared_cipher_gnutls_serv_node",
  "gnutls-serv allows only AES-256-GCM (TLS 1.2, priority NORMAL:-VERS-ALL:+VERS-TLS1.2:"
  "-CIPHER-ALL:+AES-256-GCM); the Node.js client (TLS 1.2) offers only "
  "ECDHE-RSA-AES128-GCM-SHA256.",
  gnutls_serv("--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM"),
  node_client("--max", "TLSv1.2", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"),
  expect(None, "failed", "no_shared_cipher", "server", "alert", alert("server", 40),
         "client_hello"))
w("wide_version_mismatch_node_python",
  "The Node.js server accepts only TLS 1.3 (minVersion); a Python ssl client limited to "
  "TLS 1.2 (maximum_version) connects.",
  node_server("--min", "TLSv1.3"),
  {"client": ["python3", "-c",
              "import socket,ssl,sys\n"
              "c=ssl.create_default_context(cafile='lab/work/pki/root.crt')\n"
              "c.maximum_version=ssl.TLSVersion.TLSv1_2\n"
              "c.keylog_filename=sys.argv[2]\n"
              "try:\n"
              "  s=c.wrap_socket(socket.create_connection(('127.0.0.1',int(sys.argv[1])),5),"
              "server_hostname='www.lab.test')\n"
              "except (OSError,ssl.SSLError) as e:\n"
              "  print('error:',e,file=sys.stderr); sys.exit(1)\n",
              "{port}", "{keylog}"], "client_kind": "python"},
  expect(None, "failed", "protocol_version_mismatch", "server", "alert", alert("server", 70),
         "client_hello"))

# ------------------------------------------------------- client rejects the server cert
w("wide_unknown_ca_haproxy_curl",
  "HAProxy serves the Rogue Root chain; curl (TLS 1.2) trusts only the lab root.",
  haproxy_tls("haproxy-rogue.pem"), curl(*TLS12),
  expect("TLSv1.2", "failed", "server_cert_untrusted", "client", "alert", alert("client", 48),
         "server_certificate"))
w("wide_unknown_ca_lighttpd_go",
  "lighttpd serves the Rogue Root chain; the Go client (TLS 1.3) trusts only the lab root. Go "
  "sends bad_certificate under its handshake keys.",
  lighttpd("fullchain-rogue.pem", "leaf-rogue.key"), go_client(),
  expect("TLSv1.3", "failed", "server_cert_untrusted", "client", "alert",
         alert("client", 42, encrypted=True), "server_certificate"))
w("wide_expired_lighttpd_python",
  "lighttpd serves the expired leaf (chain sent); the Python ssl client (TLS 1.3) aborts.",
  lighttpd("fullchain-expired.pem", "leaf-expired.key"), py_client(),
  expect("TLSv1.3", "failed", "server_cert_expired", "client", "alert", alert("client", 45),
         "server_certificate"))
w("wide_expired_stunnel_gnutls",
  "stunnel serves the expired leaf; gnutls-cli (TLS 1.2) aborts with its usual "
  "bad_certificate, whatever the reason (the dates are in the certificate).",
  stunnel("fullchain-expired.pem", "leaf-expired.key"),
  gnutls("--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2"),
  expect("TLSv1.2", "failed", "server_cert_expired", "client", "alert", alert("client", 42),
         "server_certificate"))
w("wide_hostname_mismatch_go_go",
  "The Go server serves a valid chain for other.example.test; the Go client asks for "
  "www.lab.test (TLS 1.3) and aborts with bad_certificate under its handshake keys.",
  go_server(cert="fullchain-wronghost.pem", key="leaf-wronghost.key"), go_client(),
  expect("TLSv1.3", "failed", "server_cert_hostname_mismatch", "client", "alert",
         alert("client", 42, encrypted=True), "server_certificate"))
w("wide_hostname_mismatch_gnutls_serv_curl13",
  "gnutls-serv serves the other.example.test chain; curl --tlsv1.3 to www.lab.test completes "
  "the handshake, then checks the name, sends an encrypted close_notify and closes.",
  gnutls_serv(cert="fullchain-wronghost.pem", key="leaf-wronghost.key"), curl(*TLS13),
  expect("TLSv1.3", "failed", "server_cert_hostname_mismatch", "client", "alert",
         alert("client", 0, encrypted=True, level="warning"), "server_certificate"),
  held_out=True)
w("wide_weak_rsa1024_lighttpd_curl",
  "lighttpd serves a leaf with a 1024-bit RSA key (signed by the lab intermediate; the server "
  "needs CipherString DEFAULT@SECLEVEL=0 to load it); curl (TLS 1.2, Debian's OpenSSL at "
  "security level 2) refuses the key as too small.",
  lighttpd("fullchain-rsa1024.pem", "leaf-rsa1024.key",
           'ssl.openssl.ssl-conf-cmd = ("CipherString" => "DEFAULT@SECLEVEL=0")'),
  curl(*TLS12),
  expect("TLSv1.2", "failed", "weak_server_key", "client", "alert", alert("client", 42),
         "server_certificate"))
w("wide_weak_rsa1024_s_server_python",
  "openssl s_server -cipher DEFAULT@SECLEVEL=0 serves the 1024-bit RSA leaf; the Python ssl "
  "client (TLS 1.3, security level 2) refuses it.",
  s_server("-cert", "{pki}/leaf-rsa1024.crt", "-key", "{pki}/leaf-rsa1024.key", "-cert_chain",
           "{pki}/chain-inter.pem", "-www",
           "-cipher", "DEFAULT@SECLEVEL=0"),
  py_client(),
  expect("TLSv1.3", "failed", "weak_server_key", "client", "alert", alert("client", 42),
         "server_certificate"), held_out=True)
w("wide_node_rejects_cert_fin_lighttpd",
  "lighttpd serves the Rogue Root chain; the Node.js client (TLS 1.3) reads the whole server "
  "flight, finds the chain untrusted (UNABLE_TO_GET_ISSUER_CERT_LOCALLY) and destroys the "
  "socket before sending its Finished: a bare FIN, no alert. lighttpd answers that close "
  "without close_notify with an encrypted fatal decode_error, after the fact.",
  lighttpd("fullchain-rogue.pem", "leaf-rogue.key"), node_client(),
  expect("TLSv1.3", "failed", "client_rejected_cert_silently", "client", "fin", None,
         "server_certificate", late_alert=alert("server", 50, encrypted=True)))
w("wide_node_rejects_cert_fin_go12",
  "The Go server (TLS 1.2 at most) serves the expired leaf; the Node.js client completes the "
  "TLS 1.2 handshake (both Finished messages), then checks the certificate, finds "
  "CERT_HAS_EXPIRED and closes with a bare FIN; the Go server answers with its close_notify.",
  go_server("-max", "1.2", cert="fullchain-expired.pem", key="leaf-expired.key"),
  node_client(),
  expect("TLSv1.2", "failed", "client_rejected_cert_silently", "client", "fin", None,
         "server_certificate"), held_out=True)

# ------------------------------------------------------ client rejects the server's params
w("wide_weak_dh1024_s_server_curl",
  "openssl s_server with -dhparam dh1024.pem (a 1024-bit finite-field group) and only DHE "
  "suites (-cipher DHE-RSA-AES128-GCM-SHA256@SECLEVEL=0, TLS 1.2); curl (security level 2) "
  "with --ciphers DHE-RSA-AES128-GCM-SHA256 refuses the ServerKeyExchange's group as too small.",
  s_server(*GOOD, "-www", "-tls1_2", "-dhparam", "{pki}/dh1024.pem", "-cipher",
           "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"),
  curl(*TLS12, "--ciphers", "DHE-RSA-AES128-GCM-SHA256"),
  expect("TLSv1.2", "failed", "weak_dh_group", "client", "alert", alert("client", 40),
         "key_exchange"))
w("wide_weak_dh1024_s_server_s_client",
  "The same 1024-bit DHE server (openssl s_server -dhparam); openssl s_client -tls1_2 -cipher "
  "DHE-RSA-AES128-GCM-SHA256 at the default security level.",
  s_server(*GOOD, "-www", "-tls1_2", "-dhparam", "{pki}/dh1024.pem", "-cipher",
           "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"),
  s_client("-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256"),
  expect("TLSv1.2", "failed", "weak_dh_group", "client", "alert", alert("client", 40),
         "key_exchange"), held_out=True)

# ------------------------------------------------------- server rejects the client cert
HAPROXY_MTLS = "ca-file {pki}/corp-ca.crt verify required"
w("wide_client_cert_revoked_haproxy",
  "HAProxy requires a client certificate (ca-file Corp Client CA, verify required) and checks "
  "the Corp CA's CRL (crl-file); curl (TLS 1.2) presents dave's certificate, revoked "
  "(keyCompromise).",
  haproxy_tls(bind_extra=HAPROXY_MTLS + " crl-file {pki}/corp-ca.crl"),
  curl(*TLS12, *CLIENT_REVOKED),
  expect("TLSv1.2", "failed", "client_cert_revoked", "server", "alert", alert("server", 44),
         "client_certificate"))
w("wide_client_cert_revoked_stunnel13",
  "stunnel with verifyChain = yes (CAfile Corp Client CA, CRLfile the Corp CRL); curl "
  "--tlsv1.3 presents the revoked certificate; the server's alert is encrypted.",
  stunnel("fullchain-good.pem", "leaf-good.key", "CAfile = {pki}/corp-ca.crt",
          "CRLfile = {pki}/corp-ca.crl", "verifyChain = yes"),
  curl(*TLS13, *CLIENT_REVOKED),
  expect("TLSv1.3", "failed", "client_cert_revoked", "server", "alert",
         alert("server", 44, encrypted=True), "client_certificate"), held_out=True)
w("wide_client_cert_revoked_nginx13",
  "nginx with ssl_verify_client on (Corp Client CA) and ssl_crl (the Corp CRL); curl "
  "--tlsv1.3 presents the revoked certificate. nginx completes the handshake and answers the "
  "request with HTTP 400 'The SSL certificate error' (certificate revoked in its log); no "
  "alert.",
  ("nginx", NginxSpec(extra=[
      "ssl_client_certificate {pki}/corp-ca.crt", "ssl_verify_client on", "ssl_verify_depth 2",
      "ssl_crl {pki}/corp-ca.crl"])),
  curl(*TLS13, *CLIENT_REVOKED),
  expect("TLSv1.3", "established", "client_cert_revoked", "server", "fin", None,
         "application_data", hidden_in_session=True),
  log_pattern=r"revoked|certificate verify error")
w("wide_client_cert_missing_stunnel13",
  "stunnel with verifyChain = yes (CAfile Corp Client CA); curl --tlsv1.3 has no client "
  "certificate: the server's certificate_required is encrypted.",
  stunnel("fullchain-good.pem", "leaf-good.key", "CAfile = {pki}/corp-ca.crt",
          "verifyChain = yes"),
  curl(*TLS13),
  expect("TLSv1.3", "failed", "client_cert_missing", "server", "alert",
         alert("server", 116, encrypted=True), "client_certificate"))
w("wide_capture_starts_after_client_hello",
  "HAProxy requires a client certificate from Corp Client CA; curl (TLS 1.2) presents the "
  "Other CA certificate and HAProxy answers unknown_ca. The capture was then cut with editcap "
  "so that it starts at the server's first flight (ServerHello): the ClientHello and the TCP "
  "handshake are missing, as when tcpdump is started late. The unknown_ca still concerns the "
  "client certificate (it follows the client's Certificate).",
  haproxy_tls(bind_extra=HAPROXY_MTLS), curl(*TLS12, *CLIENT_OTHER),
  expect("TLSv1.2", "failed", "client_cert_rejected", "server", "alert", alert("server", 48),
         "client_certificate", server_name=None),
  postprocess="start_at_server_hello", held_out=True)

# ------------------------------------------------------------ path and middleboxes
RELAY_NGINX12 = ("nginx", NginxSpec(protocols="TLSv1.2"))
w("wide_ske_signature_flipped_relay_curl",
  "curl (TLS 1.2, ECDHE-RSA) connects to a Python relay (port) in front of nginx (port+1). The "
  "relay flips the last bit of the ServerKeyExchange (the end of the RSA signature over the "
  "ECDHE parameters); curl's signature check fails and it aborts with decrypt_error. Two legs "
  "in the capture; stream 0 is the client's.",
  ("helper", ["flip-relay", "{port}", "{upstream}", "--what", "ske"]), curl(*TLS12),
  expect("TLSv1.2", "failed", "handshake_signature_invalid", "client", "alert",
         alert("client", 51), "key_exchange", stream=0),
  upstream=("nginx", NginxSpec(protocols="TLSv1.2")))
w("wide_ske_signature_flipped_relay_gnutls",
  "gnutls-cli (TLS 1.2) through the same bit-flipping relay, in front of lighttpd.",
  ("helper", ["flip-relay", "{port}", "{upstream}", "--what", "ske"]),
  gnutls("--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2"),
  expect("TLSv1.2", "failed", "handshake_signature_invalid", "client", "alert",
         alert("client", 51), "key_exchange", stream=0),
  upstream=lighttpd(), held_out=True)
w("wide_record_flipped_relay_curl",
  "curl (TLS 1.2) through a Python relay in front of nginx; the relay flips one bit in the "
  "middle of the server's first application_data record (the HTTP response). curl's record "
  "check fails: bad_record_mac, encrypted under the session keys.",
  ("helper", ["flip-relay", "{port}", "{upstream}", "--what", "record", "--direction", "s2c"]),
  curl(*TLS12),
  expect("TLSv1.2", "established", "record_corrupted_in_transit", "client", "alert",
         alert("client", 20, encrypted=True), "application_data", stream=0),
  upstream=RELAY_NGINX12)
w("wide_record_flipped_relay_stunnel13",
  "The Python ssl client (TLS 1.3) through the relay in front of stunnel; the relay flips one "
  "bit in the client's second application_data record (the first is its encrypted Finished, "
  "the second the HTTP request). stunnel's OpenSSL answers bad_record_mac, encrypted.",
  ("helper", ["flip-relay", "{port}", "{upstream}", "--what", "record", "--direction", "c2s",
              "--skip", "1"]),
  py_client(),
  expect("TLSv1.3", "established", "record_corrupted_in_transit", "server", "alert",
         alert("server", 20, encrypted=True), "application_data", stream=0),
  upstream=stunnel(), held_out=True)
PMTU = ("ip link set lo mtu 1500",
        "iptables -A INPUT -i lo -p tcp --sport {port} -m length --length 1200:65535 -j DROP")
w("wide_path_mtu_blackhole_nginx_curl",
  "A path-MTU black hole in the scenario's namespace: the loopback's MTU is 1500 and an "
  "iptables INPUT rule drops every packet of 1200 bytes or more coming from the server port, "
  "after tcpdump has seen it (as if a link with a smaller MTU dropped them and no ICMP came "
  "back). nginx (TLS 1.2) sends its first flight in full-size segments; they are retransmitted "
  "and never acknowledged; curl gives up after 4 s.",
  ("nginx", NginxSpec(protocols="TLSv1.2")),
  {"client": CURL[:2] + ["--max-time", "4"] + CURL[4:] + TLS12 + [URL], "client_kind": "curl",
   "keylog_env": True},
  expect("TLSv1.2", "incomplete", "path_mtu_blackhole", "client", "no_response", None,
         "server_hello"),
  setup=PMTU, settle=0.5)
w("wide_path_mtu_blackhole_go_python",
  "The same black hole (MTU 1500, packets of 1200 bytes or more from the server dropped after "
  "capture) in front of the Go server (TLS 1.3); the Python ssl client times out after 5 s.",
  go_server(), py_client(),
  expect("TLSv1.3", "incomplete", "path_mtu_blackhole", "client", "no_response", None,
         "server_hello"),
  setup=PMTU, held_out=True)
w("wide_haproxy_tcp_timeout_resets_both",
  "HAProxy in TCP mode (option nolinger, timeout server 1s) relays to a Python ssl server on "
  "port+1, which completes the TLS 1.2 handshake, reads the request and never answers. "
  "When HAProxy's server timeout fires it closes the client leg with a FIN (no TLS: HAProxy "
  "only relays bytes) and resets the server leg; curl says 'Empty reply from server'. The "
  "client is curl; stream 0 is its leg, where the proxy's close looks like the server's.",
  ("haproxy", """frontend lab
  mode tcp
  option nolinger
  timeout client 10s
  bind 127.0.0.1:{port}
  default_backend up
backend up
  mode tcp
  option nolinger
  timeout server 1s
  server s1 127.0.0.1:{upstream}
"""),
  curl(*TLS12),
  expect("TLSv1.2", "established", "server_closed_without_alert", "middlebox", "fin", None,
         "application_data", stream=0),
  held_out=True,
  upstream=("helper", ["tls-hold", "{port}", "{pki}/fullchain-good.pem",
                       "{pki}/leaf-good.key"]))

# ------------------------------------------------------------- after the handshake
w("wide_truncated_response_go_curl",
  "The Go server answers GET / with Content-Length: 20000, sends 3000 bytes of body and closes "
  "the TCP socket under its tls.Conn (FIN, no close_notify); curl (TLS 1.3) reports the "
  "truncated transfer.",
  go_server("-mode", "truncate"), curl(*TLS13),
  expect("TLSv1.3", "established", "truncated_response", "server", "fin", None,
         "application_data", hidden_in_session=True))
w("wide_truncated_response_python_go",
  "A Python ssl server answers with Content-Length: 20000, sends 3000 bytes and closes without "
  "close_notify (SSLSocket.close); the Go client (TLS 1.2) reads an unexpected EOF.",
  ("helper", ["tls-truncate", "{port}", "{pki}/fullchain-good.pem", "{pki}/leaf-good.key"]),
  go_client("-max", "1.2"),
  expect("TLSv1.2", "established", "truncated_response", "server", "fin", None,
         "application_data", hidden_in_session=True), held_out=True)
w("wide_lighttpd_h2_late_decode_error",
  "lighttpd (HTTP/2 on by default) and curl --http2 (TLS 1.3): a complete HTTP/2 exchange "
  "(200). curl then closes its socket (FIN) without a close_notify; lighttpd answers that "
  "close with an encrypted fatal decode_error, after the exchange: it changes nothing, the "
  "exchange succeeded (curl exits 0).",
  lighttpd(), curl(*TLS13, "--http2"),
  # The exchange succeeded, so the diagnosis' cause is ok (issue 16's must-hold: successful
  # connections stay established with cause ok whatever late alerts follow); the late alert is
  # the diagnosis' after_handshake problem, late_alert_after_success (tests/test_lab_diagnosis.py).
  expect("TLSv1.3", "established", "ok", None, None, None, None,
         late_alert=alert("server", 50, encrypted=True)))
w("wide_relay_resets_both_legs_node",
  "The Node.js client (TLS 1.3) through a Python relay in front of the Go server. The relay "
  "carries the handshake, and when the client's second application_data record (after its "
  "encrypted Finished: the HTTP request) arrives it resets both TCP connections (SO_LINGER 0), "
  "as a firewall killing a flow would. Stream 0 is the client's leg.",
  ("helper", ["flip-relay", "{port}", "{upstream}", "--what", "reset", "--direction", "c2s",
              "--skip", "1"]),
  node_client(),
  expect("TLSv1.3", "established", "middlebox_reset", "middlebox", "rst", None,
         "application_data", stream=0),
  upstream=go_server())

# ----------------------------------------------------------- more plain ones, more stacks
w("wide_version_mismatch_haproxy_curl",
  "HAProxy's bind line says ssl-min-ver TLSv1.3; curl --tls-max 1.2 offers at most TLS 1.2.",
  haproxy_tls(bind_extra="ssl-min-ver TLSv1.3"), curl("--tls-max", "1.2"),
  expect(None, "failed", "protocol_version_mismatch", "server", "alert", alert("server", 70),
         "client_hello"))
w("wide_no_shared_cipher_lighttpd_curl",
  "lighttpd limited to TLS 1.2 and ECDHE-RSA-AES256-GCM-SHA384 (ssl.openssl.ssl-conf-cmd "
  "CipherString, MaxProtocol); curl (TLS 1.2) offers only ECDHE-RSA-AES128-GCM-SHA256.",
  lighttpd(extra='ssl.openssl.ssl-conf-cmd = ("CipherString" => "ECDHE-RSA-AES256-GCM-SHA384", '
                 '"MaxProtocol" => "TLSv1.2")'),
  curl(*TLS12, "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"),
  expect(None, "failed", "no_shared_cipher", "server", "alert", alert("server", 40),
         "client_hello"), held_out=True)
w("wide_client_cert_missing_haproxy_go",
  "HAProxy requires a client certificate (ca-file Corp Client CA, verify required); the Go "
  "client (TLS 1.3) has none and sends an empty Certificate; HAProxy's certificate_required "
  "is encrypted.",
  haproxy_tls(bind_extra=HAPROXY_MTLS), go_client(),
  expect("TLSv1.3", "failed", "client_cert_missing", "server", "alert",
         alert("server", 116, encrypted=True), "client_certificate"), held_out=True)
w("wide_client_cert_unknown_ca_gnutls_serv",
  "gnutls-serv --require-client-cert --verify-client-cert trusting only Corp Client CA "
  "(--x509cafile); curl (TLS 1.2) presents the Other CA certificate. GnuTLS sends two fatal "
  "alerts in a row: access_denied (49), which decides, then bad_certificate (42).",
  gnutls_serv("--require-client-cert", "--verify-client-cert", "--x509cafile",
              "{pki}/corp-ca.crt"),
  curl(*TLS12, *CLIENT_OTHER),
  expect("TLSv1.2", "failed", "client_cert_rejected", "server", "alert", alert("server", 49),
         "client_certificate"))
w("wide_self_signed_stunnel_go",
  "stunnel serves a self-signed www.lab.test certificate; the Go client (TLS 1.2 at most) "
  "trusts only the lab root and aborts with bad_certificate.",
  stunnel("leaf-selfsigned.crt", "leaf-selfsigned.key"), go_client("-max", "1.2"),
  expect("TLSv1.2", "failed", "server_cert_self_signed", "client", "alert", alert("client", 42),
         "server_certificate"))
w("wide_not_yet_valid_gnutls_serv_python",
  "gnutls-serv serves the leaf valid only from 2034 (chain sent); the Python ssl client "
  "(TLS 1.3) aborts with a plaintext bad_certificate (OpenSSL's client has no handshake write "
  "keys yet), which gnutls-serv tries to decrypt ('Decryption has failed' in its log).",
  gnutls_serv(cert="fullchain-notyet.pem", key="leaf-notyet.key"), py_client(),
  expect("TLSv1.3", "failed", "server_cert_not_yet_valid", "client", "alert",
         alert("client", 42), "server_certificate"), held_out=True)
w("wide_missing_intermediate_haproxy_python",
  "HAProxy's crt file holds only the leaf and its key (no intermediate); the Python ssl client "
  "(TLS 1.3) trusts only the lab root and cannot build the chain.",
  haproxy_tls("haproxy-leafonly.pem"), py_client(),
  expect("TLSv1.3", "failed", "server_chain_incomplete", "client", "alert",
         alert("client", 48), "server_certificate"))
w("wide_lighttpd_success_gnutls",
  "lighttpd with the good chain; gnutls-cli (TLS 1.3) sends GET / and reads the answer.",
  lighttpd(), gnutls(),
  expect("TLSv1.3", "established", "ok", None, None, None, None), held_out=True)
