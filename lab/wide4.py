"""The fourth wide lab (`wide4_*`): failure modes and peers the earlier labs never used, held out.

Every scenario here is held out (`expected.held_out: true`): it measures how the diagnosis does
on failures it was never tuned on. The earlier labs broke handshakes with the classic
certificate, version, cipher, group, ALPN, SNI and client-certificate faults and a few relays;
this one adds failure modes none of them made, and uses peers in roles they never had:

- certificate paths: an "intermediate" that is no CA (basicConstraints CA:FALSE), an
  intermediate whose name constraints exclude the server's name, a chain deeper than the
  client's verify depth, an OCSP must-staple leaf served without a staple, a clientAuth-only
  server leaf, an expired and a serverAuth-only client certificate;
- a reverse proxy as the TLS *client* failing to its upstream (nginx `proxy_ssl_verify`,
  HAProxy `server ... ssl verify required`);
- old against new: a TLS 1.0/1.1-only client against a modern server, a modern client against
  a TLS 1.0-only server, a 3DES-only client, a DH group too small for the client;
- client-initiated renegotiation refused by nginx;
- transport and path: SYNs dropped by a firewall (connect timeout), a REJECT with ICMP
  (port unreachable, administratively prohibited), a firewall reset in the middle of the
  response, a server that accepts and never answers;
- not TLS: plain HTTP to a TLS port and TLS to a plain-HTTP port, by clients not used before;
- controls: a HelloRetryRequest success.

Peers new to these roles: wget (Debian's is GnuTLS 3.7), socat (OpenSSL), urllib3 (the HTTP core
of Python requests; lab/peers/urllib3_client.py), nginx and HAProxy as TLS clients to an
upstream, plus the Go and Node.js peers of lab/peers/ and openssl s_server.

Key logs: SSLKEYLOGFILE for curl and wget (GnuTLS reads it), Python's keylog_filename for the
urllib3 client, -keylog for the Go and Node.js peers, `openssl s_server -keylogfile`.

Ground truth is what the peers said (client error and exit status, the server's log line) and
tshark's reading of the alerts, mapped to the catalogue's cause ids; tlsdissect was not run to
decide any expected value. The captures were made with a fresh PKI of their own: its CA
certificates are in `captures/_trust_wide4/`.
"""
from __future__ import annotations

import shlex
from pathlib import Path

from groundtruth import FAMILIES
from scenarios import CURL, HOST, TLS12, URL, Scenario, alert, curl, expect, gnutls, sc
from servers import NginxSpec
from wide import GO_CLIENT, go_server, haproxy_tls, node_client, node_server, stunnel
from wide3 import _deb, _out, command, openssl_server

WIDE4: list[Scenario] = []
TRUST = "_trust_wide4"
HERE = Path(__file__).resolve().parent


def w4(name: str, description: str, server: tuple, client: dict, expected: dict,
       **kw) -> None:
    """One held-out scenario of the fourth wide lab, in its own network namespace.
    `{scen}` in the client's or server's argv becomes the scenario's work folder."""
    assert name.startswith("wide4_"), name
    work = f"lab/work/{name}"
    expected = dict(expected, cause_family=FAMILIES[expected["cause"]], held_out=True)
    client = dict(client, client=[a.replace("{scen}", work) for a in client["client"]])
    kind, spec = server
    if kind == "command":
        spec = dict(spec, argv=[a.replace("{scen}", str(HERE.parent / work)) for a in spec["argv"]])
    WIDE4.append(sc(name, description, (kind, spec), client, expected, netns=True, trust=TRUST,
                    **kw))


# ----------------------------------------------------------------------- versions (sidecars)
def wget_version() -> str:
    return (_out(["wget", "--version"]).splitlines() or ["wget"])[0].split(" built")[0] + \
        f" (GnuTLS {_deb('libgnutls30')})"


def urllib3_version() -> str:
    v = _out(["python3", "-c", "import urllib3, ssl, sys; print(urllib3.__version__, "
              "sys.version.split()[0], ssl.OPENSSL_VERSION)"]).split(" ", 2)
    if len(v) < 3:
        return "urllib3 (lab/peers/urllib3_client.py)"
    return f"urllib3 {v[0]} (Python {v[1]} ssl, {v[2]}; lab/peers/urllib3_client.py)"


def socat_version() -> str:
    line = next((ln for ln in _out(["socat", "-V"]).splitlines() if "socat version" in ln),
                "socat")
    ssl = _out(["openssl", "version"]).split(" (")[0]
    return " ".join(line.split()[:3]) + f" ({ssl})"


CLIENT_VERSIONS = {"wget": wget_version, "urllib3": urllib3_version}


# --------------------------------------------------------------------------------- servers
def nginx(**kw) -> tuple:
    return ("nginx", NginxSpec(**kw))


SOCAT_ANSWER = ("head -n 1 >/dev/null\n"
                "printf 'HTTP/1.0 200 OK\\r\\nContent-Length: 14\\r\\n\\r\\nTLS lab socat\\n'\n")


def socat_tls(*options: str, cert: str = "fullchain-good.pem",
              key: str = "leaf-good.key", verify: str = "0") -> tuple:
    """socat as a TLS server (OPENSSL-LISTEN) answering each connection with a small HTTP
    page from a shell command."""
    addr = ",".join(["OPENSSL-LISTEN:{port}", "bind=127.0.0.1", "reuseaddr", "fork",
                     f"cert={{pki}}/{cert}", f"key={{pki}}/{key}", f"verify={verify}", *options])
    # the answer is a script file: socat's address syntax would eat quotes, ':' and ','
    script = (f"mkdir -p {{scen}} && printf %s {shlex.quote(SOCAT_ANSWER)} > {{scen}}/answer.sh "
              f"&& exec socat -d -d {addr} 'SYSTEM:sh {{scen}}/answer.sh'")
    return command("socat", ["sh", "-c", script], socat_version)


def socat_plain(banner_script: str) -> tuple:
    """socat with a plain-text service (a shell script) on the port: no TLS at all."""
    script = (f"mkdir -p {{scen}} && printf %s {shlex.quote(banner_script)} > {{scen}}/plain.sh "
              "&& exec socat -d -d TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork "
              "'SYSTEM:sh {scen}/plain.sh'")
    return command("socat", ["sh", "-c", script], socat_version)


SMTP = ("printf '220 mail.lab.test ESMTP ready\\r\\n'\n"
        "head -c 1 >/dev/null\n"
        "printf '500 5.5.2 Error: bad syntax\\r\\n'\n")


def socat_silent() -> tuple:
    """socat accepting TCP connections whose other end is `sleep 30`: the kernel ACKs the
    ClientHello, nobody ever answers it."""
    return command("socat", ["socat", "-d", "-d", "TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr",
                             "SYSTEM:sleep 30"], socat_version)


def haproxy_to_upstream(server_line: str) -> tuple:
    """HAProxy with a plain-HTTP front on the scenario port, relaying to the upstream over TLS
    as a client (`server` line options): the capture's stream 1 is HAProxy's TLS leg."""
    return ("haproxy", f"""frontend lab
  mode http
  option httplog
  bind 127.0.0.1:{{port}}
  log-format "%ci:%cp [%tr] %ft %b/%s %ST %tsc backend_ssl_error=%[ssl_bc_err_str]"
  default_backend up
backend up
  mode http
  server up 127.0.0.1:{{upstream}} {server_line}
""")


def nginx_to_upstream(*directives: str) -> tuple:
    """nginx terminating TLS (good chain, TLS 1.2) and proxying to the upstream over TLS with
    the given proxy_ssl_* directives: stream 0 is the client's leg, stream 1 nginx's own
    TLS client leg."""
    return nginx(protocols="TLSv1.2", extra=[
        "location / { proxy_pass https://127.0.0.1:{upstream}; proxy_ssl_server_name on; "
        "proxy_ssl_name www.lab.test; proxy_ssl_protocols TLSv1.2; " + " ".join(
            d + ";" for d in directives) + " }"])


# --------------------------------------------------------------------------------- clients
def wget(*extra: str, url: str = URL) -> dict:
    """wget (GnuTLS) in a mount namespace whose /etc/hosts maps www.lab.test to 127.0.0.1
    (wget has no --resolve); one try, 5 s timeout; key log through SSLKEYLOGFILE."""
    hosts = "{scen}/hosts"
    argv = ["wget", "-O", "/dev/null", "--tries=1", "--timeout=5",
            "--ca-certificate={pki}/root.crt", *extra, url]
    script = (f"echo '127.0.0.1 {HOST}' > {hosts} && mount --bind {hosts} /etc/hosts && exec "
              + shlex.join(argv))
    return {"client": ["unshare", "-m", "sh", "-c", script], "client_kind": "wget",
            "keylog_env": True}


def urllib3_client(*extra: str, url: str = URL) -> dict:
    return {"client": ["python3", "lab/peers/urllib3_client.py", "--url", url, "--cafile",
                       "{pki}/root.crt", "--keylog", "{keylog}", *extra],
            "client_kind": "urllib3"}


def go_client(*extra: str) -> dict:
    return {"client": GO_CLIENT + list(extra), "client_kind": "go"}


CURL_HTTP = {"client": CURL[:-4] + ["http://127.0.0.1:{port}/"], "client_kind": "curl"}
DHE = "DHE-RSA-AES128-GCM-SHA256"
FIREWALL = "iptables -A INPUT -i lo -p tcp --dport {port} "


# -------------------------------------------------------------------- certificate paths
w4("wide4_intermediate_not_ca_urllib3_nginx12",
   "nginx (TLS 1.2) serves leaf + 'Lab Not-a-CA Intermediate' + Lab Intermediate; the "
   "certificate that signed the leaf has basicConstraints CA:FALSE. The urllib3 client "
   "(OpenSSL) refuses it as a CA.",
   nginx(cert="fullchain-notca.pem", key="leaf-notca.key", protocols="TLSv1.2"),
   urllib3_client(),
   expect("TLSv1.2", "failed", "server_cert_rejected", "client", "alert", alert("client", 48),
          "server_certificate"))
w4("wide4_intermediate_not_ca_wget_haproxy13",
   "HAProxy serves the chain whose leaf is signed by a CA:FALSE intermediate; wget (GnuTLS, "
   "TLS 1.3, writing the key log) completes the handshake (its Finished is sent), then "
   "verifies the chain ('The certificate signer of www.lab.test was not a CA'), sends no "
   "alert and resets the connection (the server's tickets arrived unread).",
   haproxy_tls("haproxy-notca.pem"), wget("--secure-protocol=TLSv1_3"),
   expect("TLSv1.3", "failed", "client_rejected_cert_silently", "client", "rst", None,
          "server_certificate"))
w4("wide4_name_constraints_node_stunnel13",
   "stunnel serves leaf www.lab.test + 'Lab Corp-only Intermediate' (nameConstraints: "
   "permitted DNS .corp.test) + Lab Intermediate; the Node.js client (TLS 1.3) finds the name "
   "outside the permitted subtree ('permitted subtree violation') and closes with a bare FIN "
   "before its Finished; stunnel, still in SSL_accept, answers the FIN with an encrypted "
   "decode_error, after the client's decision.",
   stunnel("fullchain-nc.pem", "leaf-nc.key"), node_client(),
   expect("TLSv1.3", "failed", "client_rejected_cert_silently", "client", "fin", None,
          "server_certificate", late_alert=alert("server", 50, encrypted=True)))
w4("wide4_name_constraints_wget_nginx12",
   "nginx (TLS 1.2) serves the name-constrained chain (permitted DNS .corp.test, leaf "
   "www.lab.test); wget (GnuTLS, key log) completes the handshake, then finds the certificate "
   "not trusted and closes (FIN) without an alert.",
   nginx(cert="fullchain-nc.pem", key="leaf-nc.key", protocols="TLSv1.2"), wget(),
   expect("TLSv1.2", "failed", "client_rejected_cert_silently", "client", "fin", None,
          "server_certificate"))
w4("wide4_must_staple_wget_node13",
   "The Node.js server (TLS 1.3) serves a leaf with the TLS feature extension status_request "
   "(OCSP must-staple) and staples nothing; wget (GnuTLS, writing the key log) asks for a "
   "staple, completes the handshake, then refuses the certificate ('not trusted'; gnutls-cli "
   "against the same server says 'The certificate requires the server to include an OCSP "
   "status in its response, but the OCSP status is missing') and resets the connection "
   "without an alert.",
   node_server(cert="fullchain-muststaple.pem", key="leaf-muststaple.key"), wget(),
   expect("TLSv1.3", "failed", "client_rejected_cert_silently", "client", "rst", None,
          "server_certificate"))
w4("wide4_must_staple_gnutls_go12",
   "The Go server (TLS 1.2 at most) serves the OCSP must-staple leaf and staples nothing; "
   "gnutls-cli (key log) refuses the certificate for the missing OCSP status.",
   go_server("-max", "1.2", cert="fullchain-muststaple.pem", key="leaf-muststaple.key"),
   gnutls(),
   expect("TLSv1.2", "failed", "server_cert_rejected", "client", "alert", alert("client", 42),
          "server_certificate"))
w4("wide4_server_eku_client_auth_go_socat12",
   "socat (OPENSSL-LISTEN, TLS 1.2) serves a www.lab.test leaf whose extendedKeyUsage is "
   "clientAuth only; the Go client refuses it for a server.",
   socat_tls("openssl-max-proto-version=TLS1.2", cert="fullchain-wrongeku.pem",
             key="leaf-wrongeku.key"),
   go_client(),
   expect("TLSv1.2", "failed", "server_cert_wrong_usage", "client", "alert",
          alert("client", 42), "server_certificate"))

# ------------------------------------------------------- a reverse proxy as the TLS client
NGINX_PROXY_HOW = (
    "nginx completes the upstream handshake (its Finished is sent), then reads the verification "
    "result, logs 'upstream SSL certificate verify error', closes with an encrypted "
    "close_notify and answers curl 502. Stream 1 is nginx's leg; s_server writes the key log "
    "for it into the same file as curl.")
w4("wide4_proxy_verify_depth_nginx_s_server12",
   "curl (TLS 1.2, key log) asks nginx, which proxies over TLS 1.2 with proxy_ssl_verify on, "
   "proxy_ssl_trusted_certificate = lab root and proxy_ssl_verify_depth 2 to openssl s_server "
   "serving the leaf and four intermediates (root > inter > inter2 > inter3 > inter4 > leaf): "
   "deeper than nginx will verify (its words: '20:unable to get local issuer certificate'). "
   + NGINX_PROXY_HOW,
   nginx_to_upstream("proxy_ssl_verify on", "proxy_ssl_trusted_certificate {pki}/root.crt",
                     "proxy_ssl_verify_depth 2"),
   curl(*TLS12),
   expect("TLSv1.2", "failed", "client_rejected_cert_silently", "client", "alert",
          alert("client", 0, encrypted=True, level="warning"), "server_certificate", stream=1),
   upstream=openssl_server("-cert", "{pki}/leaf-deep.crt", "-key", "{pki}/leaf-deep.key",
                           "-cert_chain", "{pki}/chain-big.pem", "-www", "-tls1_2"))
w4("wide4_proxy_upstream_untrusted_nginx_s_server12",
   "curl (TLS 1.2, key log) asks nginx, which proxies over TLS 1.2 with proxy_ssl_verify on "
   "(lab root trusted) to openssl s_server serving the Rogue Root chain. " + NGINX_PROXY_HOW,
   nginx_to_upstream("proxy_ssl_verify on", "proxy_ssl_trusted_certificate {pki}/root.crt"),
   curl(*TLS12),
   expect("TLSv1.2", "failed", "client_rejected_cert_silently", "client", "alert",
          alert("client", 0, encrypted=True, level="warning"), "server_certificate", stream=1),
   upstream=openssl_server("-cert", "{pki}/leaf-rogue.crt", "-key", "{pki}/leaf-rogue.key",
                           "-cert_chain", "{pki}/chain-rogue.pem", "-www", "-tls1_2"))
w4("wide4_proxy_upstream_hostname_haproxy_nginx12",
   "curl sends plain HTTP to HAProxy, which relays over TLS (`server ... ssl verify required "
   "ca-file root verifyhost www.lab.test sni str(www.lab.test)`, TLS 1.2) to nginx serving the "
   "other.example.test chain (trusted, but not for www.lab.test). HAProxy aborts the "
   "handshake with internal_error, logs 503 SC-- 'certificate verify failed' (its "
   "ssl_bc_err_str) and answers curl 503. Stream 1 is HAProxy's leg.",
   haproxy_to_upstream("ssl verify required ca-file {pki}/root.crt verifyhost www.lab.test "
                       "sni str(www.lab.test) ssl-max-ver TLSv1.2"),
   CURL_HTTP,
   expect("TLSv1.2", "failed", "server_cert_hostname_mismatch", "client", "alert",
          alert("client", 80), "server_certificate", stream=1),
   upstream=nginx(cert="fullchain-wronghost.pem", key="leaf-wronghost.key"),
   log_pattern=r"backend_ssl_error")
w4("wide4_proxy_client_cert_missing_haproxy_s_server13",
   "curl sends plain HTTP to HAProxy, which relays over TLS 1.3 (`ssl verify required`, no "
   "client certificate) to openssl s_server requiring one (-Verify 1, Corp Client CA; it writes "
   "the key log). Stream 1 is HAProxy's leg.",
   haproxy_to_upstream("ssl verify required ca-file {pki}/root.crt sni str(www.lab.test)"),
   CURL_HTTP,
   expect("TLSv1.3", "failed", "client_cert_missing", "server", "alert",
          alert("server", 116, encrypted=True), "client_certificate", stream=1),
   upstream=openssl_server("-cert", "{pki}/leaf-good.crt", "-key", "{pki}/leaf-good.key",
                           "-cert_chain", "{pki}/chain-inter.pem", "-Verify", "1", "-CAfile",
                           "{pki}/corp-ca.crt", "-www"))

# ------------------------------------------------------------- client certificates refused
w4("wide4_client_cert_expired_urllib3_haproxy12",
   "HAProxy (TLS 1.2) requires a client certificate from the Corp Client CA (verify required); "
   "the urllib3 client presents bob's, expired 2025-01-01.",
   haproxy_tls(bind_extra="ssl-max-ver TLSv1.2 verify required ca-file {pki}/corp-ca.crt"),
   urllib3_client("--cert", "{pki}/client-expired.crt", "--key", "{pki}/client-expired.key"),
   expect("TLSv1.2", "failed", "client_cert_rejected", "server", "alert", alert("server", 45),
          "client_certificate"))
w4("wide4_client_cert_server_eku_wget_stunnel13",
   "stunnel (TLS 1.3) requires a client certificate from the Corp Client CA (verifyChain); "
   "wget (GnuTLS, key log) presents carol's, whose extendedKeyUsage is serverAuth only.",
   stunnel("fullchain-good.pem", "leaf-good.key", "CAfile = {pki}/corp-ca.crt",
           "verifyChain = yes"),
   wget("--certificate={pki}/client-wrongeku.crt", "--private-key={pki}/client-wrongeku.key"),
   expect("TLSv1.3", "failed", "client_cert_rejected", "server", "alert",
          alert("server", 43, encrypted=True), "client_certificate"))

w4("wide4_client_key_too_small_wget_haproxy13",
   "HAProxy (TLS 1.3, Debian's OpenSSL at security level 2) requires a client certificate from "
   "the Corp Client CA; wget (GnuTLS, key log) presents erin's, whose RSA key has 1024 bits. "
   "HAProxy logs 'SSL client certificate not trusted' (`openssl verify -auth_level 2` on the "
   "same certificate: 'EE certificate key too weak').",
   haproxy_tls(bind_extra="verify required ca-file {pki}/corp-ca.crt"),
   wget("--certificate={pki}/client-rsa1024.crt", "--private-key={pki}/client-rsa1024.key"),
   expect("TLSv1.3", "failed", "client_cert_rejected", "server", "alert",
          alert("server", 42, encrypted=True), "client_certificate"),
   log_pattern=r"SSL client certificate")
w4("wide4_client_chain_incomplete_urllib3_socat12",
   "socat (OPENSSL-LISTEN, TLS 1.2, verify=1) trusts the Corp Client CA root only; the "
   "urllib3 client presents frank's certificate, issued by the Corp Client Issuing CA (an "
   "intermediate), without that intermediate.",
   socat_tls("openssl-max-proto-version=TLS1.2", "cafile={pki}/corp-ca.crt", verify="1"),
   urllib3_client("--cert", "{pki}/client-viainter.crt", "--key", "{pki}/client-viainter.key"),
   expect("TLSv1.2", "failed", "client_cert_rejected", "server", "alert", alert("server", 48),
          "client_certificate"))

# ------------------------------------------------------------------ old against new, hello
w4("wide4_sni_missing_wget_nginx",
   "nginx: a default server with ssl_reject_handshake on, and www.lab.test; wget asks for "
   "https://127.0.0.1:port/ and so sends no server name.",
   nginx(extra_http="""  server {
    listen 127.0.0.1:{port} ssl default_server;
    ssl_reject_handshake on;
  }"""), wget(url="https://127.0.0.1:{port}/"),
   expect(None, "failed", "sni_rejected", "server", "alert", alert("server", 112),
          "client_hello", server_name=None))
w4("wide4_sni_unknown_node_haproxy",
   "HAProxy with strict-sni and a certificate for www.lab.test only; the Node.js client asks "
   "for other.lab.test.",
   haproxy_tls(bind_extra="strict-sni"), node_client("--sni", "other.lab.test"),
   expect(None, "failed", "sni_rejected", "server", "alert", alert("server", 112),
          "client_hello", server_name="other.lab.test"))
w4("wide4_legacy_tls10_client_urllib3_nginx",
   "The urllib3 client allows only TLS 1.0 (cipher string DEFAULT:@SECLEVEL=0, as an old "
   "client would); nginx speaks TLS 1.2 and 1.3.",
   nginx(), urllib3_client("--tls-min", "1.0", "--tls-max", "1.0", "--ciphers",
                           "DEFAULT:@SECLEVEL=0"),
   expect(None, "failed", "legacy_protocol_rejected", "server", "alert", alert("server", 70),
          "client_hello"))
w4("wide4_legacy_tls11_client_wget_go",
   "wget (GnuTLS) restricted to TLS 1.1 (its priority string, --ciphers); the Go server accepts "
   "TLS 1.2 and 1.3.",
   go_server(), wget("--ciphers=NORMAL:-VERS-ALL:+VERS-TLS1.1"),
   expect(None, "failed", "legacy_protocol_rejected", "server", "alert", alert("server", 70),
          "client_hello"))
w4("wide4_tls10_only_server_node_s_server",
   "openssl s_server speaks only TLS 1.0 (-tls1, DEFAULT@SECLEVEL=0; it writes the key log); "
   "the Node.js client (TLS 1.2 and 1.3) lists its versions in supported_versions, none of "
   "which the server speaks: s_server refuses the hello ('unsupported protocol').",
   openssl_server("-cert", "{pki}/leaf-good.crt", "-key", "{pki}/leaf-good.key",
                  "-cert_chain", "{pki}/chain-inter.pem", "-www", "-tls1", "-cipher",
                  "DEFAULT@SECLEVEL=0"),
   node_client(),
   expect(None, "failed", "protocol_version_mismatch", "server", "alert", alert("server", 70),
          "client_hello"))
w4("wide4_tls10_only_server_urllib3_socat",
   "socat (OPENSSL-LISTEN) speaks only TLS 1.0 (method=TLS1, cipher DEFAULT@SECLEVEL=0); the "
   "urllib3 client offers TLS 1.2 and 1.3 (supported_versions); socat's OpenSSL refuses the "
   "hello ('unsupported protocol').",
   socat_tls("openssl-min-proto-version=TLS1.0", "openssl-max-proto-version=TLS1.0",
             "cipher=DEFAULT@SECLEVEL=0"), urllib3_client(),
   expect(None, "failed", "protocol_version_mismatch", "server", "alert", alert("server", 70),
          "client_hello"))
w4("wide4_legacy_ciphers_client_urllib3_nginx12",
   "The urllib3 client (TLS 1.2) offers only the old RSA key-exchange CBC suites AES128-SHA "
   "and AES256-SHA, as an old client would; nginx (TLS 1.2) allows only ECDHE with AES-GCM "
   "or ChaCha20.",
   nginx(protocols="TLSv1.2", extra=["ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:"
                                     "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"]),
   urllib3_client("--tls-max", "1.2", "--ciphers", "AES128-SHA:AES256-SHA"),
   expect(None, "failed", "no_shared_cipher", "server", "alert", alert("server", 40),
          "client_hello"))
w4("wide4_weak_dh_urllib3_nginx12",
   "nginx (TLS 1.2) with ssl_dhparam = 1024-bit group (security level 0 to load it) and "
   "only the DHE suite "
   f"{DHE}; the urllib3 client offers only that suite and refuses the group as too small.",
   nginx(protocols="TLSv1.2", extra=["ssl_dhparam {pki}/dh1024.pem",
                                       f"ssl_ciphers {DHE}:@SECLEVEL=0"]),
   urllib3_client("--tls-max", "1.2", "--ciphers", DHE),
   expect("TLSv1.2", "failed", "weak_dh_group", "client", "alert", alert("client", 40),
          "key_exchange"))

# ------------------------------------------------------------------------ after handshake
w4("wide4_client_renegotiation_nginx_s_client12",
   "nginx (TLS 1.2); openssl s_client completes the handshake and is then told by the 'R' line "
   "on its stdin to renegotiate: a new ClientHello under the first handshake's keys. nginx "
   "(OpenSSL 3: SSL_OP_NO_RENEGOTIATION) refuses with a warning no_renegotiation; s_client "
   "gives up with a fatal handshake_failure. Both alerts are encrypted.",
   nginx(protocols="TLSv1.2"),
   {"client": ["sh", "-c",
               "(sleep 0.5; printf 'R\\n'; sleep 1; printf 'GET / HTTP/1.1\\r\\nHost: "
               "www.lab.test\\r\\nConnection: close\\r\\n\\r\\n'; sleep 1) | openssl s_client "
               "-connect 127.0.0.1:{port} -servername www.lab.test -CAfile {pki}/root.crt "
               "-verify_return_error -keylogfile {keylog} -tls1_2"], "client_kind": "s_client"},
   expect("TLSv1.2", "failed", "renegotiation_refused", "client", "alert",
          alert("client", 40, encrypted=True), "renegotiation"))
w4("wide4_firewall_reset_mid_response_wget_nginx",
   "nginx (TLS 1.2) serves a 300 kB file to wget (GnuTLS, key log); a packet filter in the "
   "namespace (iptables OUTPUT: the server's packets, once the connection has carried 20 kB "
   "towards the client, -j REJECT --reject-with tcp-reset) kills the flow in the middle of "
   "the response. REJECT answers the sender: the reset goes to nginx in the client's name "
   "(nginx: 'Connection reset by peer'), nothing more reaches wget, which waits and gives up "
   "after 5 s ('Read error at byte 16140/300000 (Connection timed out)'), its FIN unanswered.",
   nginx(protocols="TLSv1.2",
         extra=["location = /big.bin { alias {pki}/../wide4-big.bin; }"]),
   wget(url="https://www.lab.test:{port}/big.bin"),
   expect("TLSv1.2", "established", "middlebox_reset", "middlebox", "rst", None,
          "application_data"),
   setup=("head -c 300000 /dev/urandom > " + str(HERE / "work" / "wide4-big.bin"),
          "iptables -A OUTPUT -o lo -p tcp --sport {port} -m connbytes --connbytes 20000: "
          "--connbytes-dir reply --connbytes-mode bytes -j REJECT --reject-with tcp-reset"))

w4("wide4_firewall_reset_to_client_urllib3_nginx",
   "nginx (TLS 1.3) serves a 300 kB file to the urllib3 client (key log); a packet filter in the "
   "namespace (iptables INPUT: the client's packets to the server port, once the connection "
   "has carried 20 kB towards the client, -j REJECT --reject-with tcp-reset) answers the "
   "client's next ACK with a reset in nginx's name, in the middle of the response.",
   nginx(extra=["location = /big.bin { alias {pki}/../wide4-big.bin; }"]),
   urllib3_client(url="https://www.lab.test:{port}/big.bin"),
   expect("TLSv1.3", "established", "middlebox_reset", "middlebox", "rst", None,
          "application_data"),
   setup=("head -c 300000 /dev/urandom > " + str(HERE / "work" / "wide4-big.bin"),
          FIREWALL + "-m connbytes --connbytes 20000: --connbytes-dir reply "
          "--connbytes-mode bytes -j REJECT --reject-with tcp-reset"))

# ------------------------------------------------------------------------- transport, path
w4("wide4_syn_dropped_wget_haproxy",
   "HAProxy listens, but a packet filter in the namespace drops every SYN to its port "
   "(iptables INPUT --syn -j DROP); wget (--timeout=5) retransmits its SYN and gives up.",
   haproxy_tls(), wget(),
   expect(None, "incomplete", "server_no_response", "client", "no_response", None,
          "tcp_connect", server_name=None),
   setup=(FIREWALL + "--syn -j DROP",), client_timeout=30.0)
w4("wide4_icmp_port_unreachable_urllib3_nginx",
   "nginx listens, but a packet filter in the namespace answers SYNs to its port with an ICMP "
   "port unreachable (iptables INPUT -j REJECT --reject-with icmp-port-unreachable); the "
   "urllib3 client gets 'Connection refused'. The capture keeps the ICMP messages.",
   nginx(), urllib3_client(),
   expect(None, "failed", "host_unreachable", "middlebox", "icmp", None, "tcp_connect",
          server_name=None),
   setup=(FIREWALL + "-j REJECT --reject-with icmp-port-unreachable",), capture_icmp=True)
w4("wide4_icmp_admin_prohibited_node_haproxy",
   "HAProxy listens, but a packet filter answers SYNs to its port with ICMP administratively "
   "prohibited (--reject-with icmp-admin-prohibited); the Node.js client gets EHOSTUNREACH. "
   "The capture keeps the ICMP messages.",
   haproxy_tls(), node_client(),
   expect(None, "failed", "host_unreachable", "middlebox", "icmp", None, "tcp_connect",
          server_name=None),
   setup=(FIREWALL + "-j REJECT --reject-with icmp-admin-prohibited",), capture_icmp=True)
w4("wide4_server_silent_wget_socat",
   "socat accepts the TCP connection and hands it to `sleep 30`: the ClientHello is "
   "acknowledged and never answered; wget (--timeout=5) gives up.",
   socat_silent(), wget(),
   expect(None, "incomplete", "server_no_response", "client", "no_response", None,
          "client_hello"), client_timeout=30.0, settle=1.0)

# --------------------------------------------------------------------------------- not TLS
w4("wide4_http_to_tls_port_wget_haproxy",
   "wget asks for http://www.lab.test:port/ (plain HTTP) on HAProxy's TLS port.",
   haproxy_tls(), wget(url="http://www.lab.test:{port}/"),
   expect(None, "not_tls", "plaintext_http_on_tls_port", "server", "fin", None,
          "client_hello", server_name=None))
w4("wide4_tls_to_http_port_urllib3_nginx",
   "nginx listens for plain HTTP only on the port (a second server block, no ssl); the urllib3 "
   "client speaks TLS to it and nginx answers the ClientHello bytes with an HTTP 400 page.",
   nginx(listen="127.0.0.2", extra_http="""  server {
    listen 127.0.0.1:{port};
    return 200 "plain http\\n";
  }"""), urllib3_client(),
   expect(None, "not_tls", "tls_to_plaintext_server", "server", "fin", None, "client_hello"))
w4("wide4_http_to_tls_port_urllib3_node",
   "The urllib3 client sends plain HTTP (http://www.lab.test:port/) to the Node.js TLS server.",
   node_server(), urllib3_client(url="http://www.lab.test:{port}/"),
   expect(None, "not_tls", "plaintext_http_on_tls_port", "server", "fin", None,
          "client_hello", server_name=None))

w4("wide4_tls_to_smtp_port_wget_socat",
   "socat runs a plain-text SMTP-like service on the port (a '220 ... ESMTP' banner first, then "
   "a 500 reply to whatever it reads); wget speaks TLS to it, reads the banner as a TLS record "
   "('An unexpected TLS packet was received') and resets the connection.",
   socat_plain(SMTP), wget(),
   expect(None, "not_tls", "tls_to_plaintext_server", "client", "rst", None, "client_hello"))

# -------------------------------------------------------------------------------- controls
w4("wide4_hello_retry_success_wget_haproxy13",
   "HAProxy (TLS 1.3) accepts only the group P-384 (curves secp384r1); wget (GnuTLS, key log) "
   "sends key shares for other groups, gets a HelloRetryRequest and completes on P-384.",
   haproxy_tls(bind_extra="curves secp384r1"), wget("--secure-protocol=TLSv1_3"),
   expect("TLSv1.3", "established", "ok", None, None, None, None))
w4("wide4_success_urllib3_socat13",
   "socat (OPENSSL-LISTEN, TLS 1.3 by default) with the good chain; the urllib3 client "
   "fetches / (key log).",
   socat_tls(), urllib3_client(),
   expect("TLSv1.3", "established", "ok", None, None, None, None))
w4("wide4_resumption_success_gnutls_nginx13",
   "nginx (TLS 1.3, session tickets); gnutls-cli --resume (key log) makes a full handshake, "
   "then a second connection resuming it with the ticket (PSK). Stream 1 is the resumed one.",
   nginx(protocols="TLSv1.3"), gnutls("--resume"),
   expect("TLSv1.3", "established", "ok", None, None, None, None, stream=1))
