"""The sixth wide lab (`wide6_*`): peers and failure modes no earlier lab used, held out.

Every scenario here is held out (`expected.held_out: true`): it measures how the diagnosis
does on captures it was never tuned on. What is new against the five earlier wide labs:

- servers: h2o 2.2 (OpenSSL), Caddy 2.6 (Go crypto/tls behind certmagic), lighttpd with its
  GnuTLS module (mod_gnutls), a Ruby openssl server, a PHP stream-socket server and ncat
  --ssl; Caddy and h2o also as reverse proxies whose own TLS leg to the upstream fails;
- clients: Python requests, httpx and aiohttp (their own TLS defaults), Ruby's openssl, PHP's
  stream sockets (which checks the peer name itself, after the handshake), wget2 (GnuTLS) and
  ncat --ssl;
- failure modes: a TLS 1.0/1.1 client against Caddy and h2o, a TLS 1.3-only client against a
  TLS 1.2-only GnuTLS server, DHE-only and RSA-key-exchange-only clients against ECDHE-only
  servers, an unknown SNI refused by Caddy (which has no certificate for it), an ALPN list
  the server does not share (Caddy h2 only), a wildcard that does not cover a two-label name,
  a client that connects by IP address to a certificate without IP SAN, a SHA-1-signed leaf,
  a clientAuth-only server leaf, client certificates missing, expired and serverAuth-only,
  a client-initiated renegotiation refused by Go (Caddy) and a server-initiated one refused
  by the Go client (Apache), a proxy refusing its upstream's chain, plain HTTP to Caddy's TLS
  port (Go answers it with an HTTP 400);
- controls: successes with the new peers, a HelloRetryRequest (Caddy P-384 only), a
  resumption the server declines (h2o without tickets or cache: a second full handshake), a
  long certificate chain with 400 names (lighttpd/GnuTLS, aiohttp) and a keep-alive
  connection left idle until h2o closes it.

Key logs: SSLKEYLOGFILE for curl, wget2 (GnuTLS) and the Python HTTP clients, -keylogfile for
s_client and for openssl s_server as the upstream of a proxy, -keylog for the Go client.

Ground truth is what the peers said (client error and exit status, the server's log line) and
tshark's reading of the alerts, mapped to the catalogue's cause ids; tlsdissect was not run to
decide any expected value. The captures were made with a fresh PKI of their own: its CA
certificates are in `captures/_trust_wide6/`.
"""
from __future__ import annotations

import shlex
from pathlib import Path

from groundtruth import FAMILIES
from scenarios import CURL, HOST, TLS12, URL, Scenario, alert, expect, sc
from scenarios import GET, RENEG_LOCATION
from wide3 import _deb, _out, command, lighttpd_tls
from wide5 import apache_vhost, curl, gnutls, s_server

WIDE6: list[Scenario] = []
TRUST = "_trust_wide6"
HERE = Path(__file__).resolve().parent
DEBIAN_PYTHON = "/usr/bin/python3"  # python3-requests, -httpx, -aiohttp are Debian's
NAMES = f"127.0.0.1 {HOST} a.b.lab.test unknown.lab.test"  # the clients' /etc/hosts


def w6(name: str, description: str, server: tuple, client: dict, expected: dict,
       **kw) -> None:
    """One held-out scenario of the sixth wide lab, in its own network namespace. `{scen}` in
    the client's or a command server's argv becomes the scenario's work folder."""
    assert name.startswith("wide6_"), name
    work = f"lab/work/{name}"
    expected = dict(expected, cause_family=FAMILIES[expected["cause"]], held_out=True)
    client = dict(client, client=[a.replace("{scen}", work) for a in client["client"]])
    kind, spec = server
    if kind == "command":
        spec = dict(spec, argv=[a.replace("{scen}", str(HERE.parent / work))
                                for a in spec["argv"]])
    if kind == "lighttpd-tls":  # GnuTLS's own lines ("GNUTLS_E_...", "gnutls_handshake")
        kw.setdefault("log_pattern", r"(?i)gnutls|mod_gnutls")
    WIDE6.append(sc(name, description, (kind, spec), client, expected, netns=True,
                    trust=TRUST, **kw))


# ----------------------------------------------------------------------- versions (sidecars)
def _openssl() -> str:
    return _out(["openssl", "version"]).split(" (")[0]


def h2o_version() -> str:
    return (_out(["h2o", "--version"]).splitlines() or ["h2o"])[0] + f" ({_openssl()})"


def caddy_version() -> str:
    return f"Caddy {_out(['caddy', 'version']).split()[0]} ({_out(['go', 'version']).split()[2]}" \
           " crypto/tls, Debian's build)"


def ruby_version() -> str:
    v = _out(["ruby", "-ropenssl", "-e", "print RUBY_VERSION, ' ', OpenSSL::VERSION, ' ', "
              "OpenSSL::OPENSSL_LIBRARY_VERSION"]).split(" ", 2)
    return f"Ruby {v[0]} openssl {v[1]} ({v[2] if len(v) > 2 else ''}; lab/peers/ruby_peer.rb)"


def php_version() -> str:
    v = _out(["php", "-r", "echo PHP_VERSION, ' ', OPENSSL_VERSION_TEXT;"]).split(" ", 1)
    return f"PHP {v[0]} stream sockets ({v[1] if len(v) > 1 else ''}; lab/peers/php_peer.php)"


def ncat_version() -> str:
    return _out(["ncat", "--version"]).split(" ( ")[0] + f" ({_openssl()})"


def wget2_version() -> str:
    return (_out(["wget2", "--version"]).splitlines() or ["wget2"])[0].split(" - ")[0] + \
        f" (GnuTLS {_deb('libgnutls30')})"


def pyhttp_version(lib: str) -> str:
    v = _out([DEBIAN_PYTHON, "-c", f"import {lib}, ssl, sys; print({lib}.__version__, "
              "sys.version.split()[0], ssl.OPENSSL_VERSION)"]).split(" ", 2)
    return f"{lib} {v[0]} (Python {v[1]} ssl, {v[2]}; lab/peers/pyhttp_client.py)"


CLIENT_VERSIONS = {"ruby": ruby_version, "php": php_version, "ncat": ncat_version,
                   "wget2": wget2_version, "requests": lambda: pyhttp_version("requests"),
                   "httpx": lambda: pyhttp_version("httpx"),
                   "aiohttp": lambda: pyhttp_version("aiohttp")}


# --------------------------------------------------------------------------------- servers
H2O_CONF = """user: root
error-log: /dev/stderr
access-log: /dev/stderr
%(global)s
listen:
  host: 127.0.0.1
  port: {port}
  ssl:
    certificate-file: {pki}/%(cert)s
    key-file: {pki}/%(key)s
    ocsp-update-interval: 0
%(ssl)s
hosts:
  "www.lab.test:{port}":
    paths:
      /:
%(path)s
"""


def h2o(*ssl: str, cert: str = "fullchain-good.pem", key: str = "leaf-good.key",
        path: str = "file.dir: {wd}/docroot", glob: str = "") -> tuple:
    """h2o on the scenario port (TLS), `ssl` lines added under listen.ssl, `path` the handler
    of / (a file directory, or proxy.reverse.url), `glob` top-level lines."""
    conf = H2O_CONF % {"cert": cert, "key": key, "global": glob,
                       "ssl": "\n".join(f"    {s}" for s in ssl),
                       "path": "\n".join(f"        {p}" for p in path.splitlines())}
    script = (f"mkdir -p {{wd}}/docroot && printf 'TLS lab h2o\\n' > {{wd}}/docroot/index.html "
              f"&& printf %s {shlex.quote(conf)} > {{wd}}/h2o.conf && exec h2o -c {{wd}}/h2o.conf")
    return command("h2o", ["sh", "-c", script], h2o_version)


CADDYFILE = """{
  admin off
  debug
  auto_https disable_redirects
  skip_install_trust
  http_port %(http_port)s
  storage file_system {wd}/caddy-data
%(global)s
}
%(site)s {
  bind 127.0.0.1
%(body)s
}
"""


def caddy(*tls: str, cert: str = "fullchain-good.pem", key: str = "leaf-good.key",
          site: str = "https://www.lab.test:{port}", body: str = 'respond "TLS lab caddy" 200',
          glob: str = "", manual_tls: bool = True, http_port: str = "{upstream}") -> tuple:
    """Caddy (Caddyfile) with the given certificate and `tls` sub-directives for one site;
    its log (JSON, debug: the Go TLS handshake errors) on stderr. Its plain-HTTP port (for
    redirects, switched off) is `http_port`."""
    tls_block = (f"  tls {{pki}}/{cert} {{pki}}/{key} {{\n"
                 + "".join(f"    {t}\n" for t in tls) + "  }\n") if manual_tls else ""
    conf = CADDYFILE % {"global": glob, "site": site, "http_port": http_port,
                        "body": tls_block + "\n".join(f"  {b}" for b in body.splitlines())}
    script = (f"printf %s {shlex.quote(conf)} > {{wd}}/Caddyfile && HOME={{wd}} "
              "XDG_DATA_HOME={wd} XDG_CONFIG_HOME={wd} exec caddy run --config {wd}/Caddyfile "
              "--adapter caddyfile")
    return command("caddy", ["sh", "-c", script], caddy_version)


def lighttpd_gnutls(pem: str = "fullchain-good.pem", key: str = "leaf-good.key",
                    extra: str = "") -> tuple:
    """lighttpd 1.4 with its GnuTLS module (lighttpd-mod-gnutls)."""
    return lighttpd_tls("mod_gnutls", pem, key, extra)


def ruby_server(*extra: str, cert: str = "fullchain-good.pem",
                key: str = "leaf-good.key") -> tuple:
    return command("ruby", ["ruby", str(HERE / "peers" / "ruby_peer.rb"), "server", "--port",
                            "{port}", "--cert", f"{{pki}}/{cert}", "--key", f"{{pki}}/{key}",
                            *extra], ruby_version)


def php_server(*extra: str, cert: str = "fullchain-good.pem",
               key: str = "leaf-good.key") -> tuple:
    return command("php", ["php", str(HERE / "peers" / "php_peer.php"), "server", "--port",
                           "{port}", "--cert", f"{{pki}}/{cert}", "--key", f"{{pki}}/{key}",
                           *extra], php_version)


NCAT_ANSWER = ("head -n 1 >/dev/null\n"
               "printf 'HTTP/1.0 200 OK\\r\\nContent-Length: 13\\r\\n\\r\\nTLS lab ncat\\n'\n")


def ncat_server(cert: str = "fullchain-good.pem", key: str = "leaf-good.key") -> tuple:
    """ncat --ssl -l -k answering each connection with a small HTTP page (--sh-exec)."""
    script = (f"mkdir -p {{wd}} && printf %s {shlex.quote(NCAT_ANSWER)} > {{wd}}/answer.sh && "
              f"exec ncat -v --ssl --ssl-cert {{pki}}/{cert} --ssl-key {{pki}}/{key} -l -k "
              "127.0.0.1 {port} --sh-exec 'sh {wd}/answer.sh'")
    return command("ncat", ["sh", "-c", script], ncat_version)


def squid_version() -> str:
    return (_out(["squid", "--version"]).splitlines() or ["squid"])[0].replace(
        "Squid Cache: Version", "Squid")


SQUID_CONF = """http_port 127.0.0.1:{port}
acl SSL_ports port 443 %(ports)s
acl CONNECT method CONNECT
http_access deny CONNECT !SSL_ports
http_access allow localhost
http_access deny all
cache deny all
cache_mem 8 MB
hosts_file {wd}/hosts
access_log stdio:{wd}/access.log
cache_log {wd}/cache.log
pid_filename {wd}/squid.pid
coredump_dir {wd}
logfile_rotate 0
shutdown_lifetime 1 seconds
cache_effective_user proxy
"""


def squid(ports: str = "") -> tuple:
    """Squid 5 as a forward proxy on the scenario port: CONNECT only to port 443 and `ports`
    (Debian's default rule), names from a hosts file of its own; its access log is followed
    onto the server log (Squid, running as `proxy`, cannot open the driver's pipe itself)."""
    conf = SQUID_CONF % {"ports": ports}
    script = (f"mkdir -p {{wd}} && chmod 777 {{wd}} && printf %s {shlex.quote(conf)} > "
              f"{{wd}}/squid.conf && echo {shlex.quote(NAMES)} > {{wd}}/hosts && touch "
              "{wd}/access.log && chmod 666 {wd}/access.log && "
              "(timeout 30 tail -n +1 -F {wd}/access.log &) && "
              "exec squid -N -d 1 -f {wd}/squid.conf")
    return command("squid", ["sh", "-c", script], squid_version)


# --------------------------------------------------------------------------------- clients
def _hosts(argv: list[str]) -> list[str]:
    """Run argv in a mount namespace whose /etc/hosts maps the lab's names to 127.0.0.1 (for
    clients without a --resolve of their own)."""
    script = (f"echo {shlex.quote(NAMES)} > {{scen}}/hosts && mount --bind {{scen}}/hosts "
              "/etc/hosts && exec " + shlex.join(argv))
    return ["unshare", "-m", "sh", "-c", script]


def pyhttp(lib: str, *extra: str, url: str = URL, keylog: bool = True) -> dict:
    argv = [DEBIAN_PYTHON, "lab/peers/pyhttp_client.py", "--lib", lib, "--url", url,
            "--cafile", "{pki}/root.crt", *extra]
    return {"client": _hosts(argv), "client_kind": lib, "keylog_env": keylog}


def wget2(*extra: str, url: str = URL, keylog: bool = True) -> dict:
    argv = ["wget2", "-O", "/dev/null", "--tries=1", "--timeout=5", "--no-tcp-fastopen",
            "--no-hsts", "--no-ocsp", "--ca-certificate={pki}/root.crt", *extra, url]
    return {"client": _hosts(argv), "client_kind": "wget2", "keylog_env": keylog}


def ruby_client(*extra: str, host: str = HOST) -> dict:
    return {"client": ["ruby", "lab/peers/ruby_peer.rb", "client", "--port", "{port}", "--host",
                       host, "--cafile", "{pki}/root.crt", *extra], "client_kind": "ruby"}


def php_client(*extra: str) -> dict:
    return {"client": ["php", "lab/peers/php_peer.php", "client", "--port", "{port}",
                       "--cafile", "{pki}/root.crt", *extra], "client_kind": "php"}


def ncat_client(*extra: str) -> dict:
    return {"client": ["ncat", "--ssl", "--ssl-verify", "--ssl-trustfile", "{pki}/root.crt",
                       "--ssl-servername", HOST, *extra, "127.0.0.1", "{port}"],
            "client_kind": "ncat", "stdin": GET}


def go_client(*extra: str, keylog: bool = True) -> dict:
    argv = ["{goclient}", "client", "-connect", "127.0.0.1:{port}", "-sni", HOST, "-cafile",
            "{pki}/root.crt"] + (["-keylog", "{keylog}"] if keylog else [])
    return {"client": argv + list(extra), "client_kind": "go"}


CLIENT_CERT = ("--cert", "{pki}/client-good.crt", "--key", "{pki}/client-good.key")
CADDY_MTLS = ("client_auth {\n      mode require_and_verify\n"
              "      trusted_ca_cert_file {pki}/corp-ca.crt\n    }")
LEGACY = "DEFAULT:@SECLEVEL=0"


# -------------------------------------------------------------------------------- controls
w6("wide6_success_requests_h2o13",
   "h2o 2.2 (OpenSSL) serves the good chain; Python requests (key log) fetches / over TLS 1.3.",
   h2o(), pyhttp("requests"),
   expect("TLSv1.3", "established", "ok", None, None, None, None))
w6("wide6_success_ruby_caddy13",
   "Caddy 2.6 serves the good chain (manual certificate); the Ruby openssl client fetches /. "
   "No key log.",
   caddy(), ruby_client(),
   expect("TLSv1.3", "established", "ok", None, None, None, None))
w6("wide6_success_httpx_lighttpd_gnutls13",
   "lighttpd 1.4 with mod_gnutls (GnuTLS) serves the good chain; httpx (key log) fetches /.",
   lighttpd_gnutls(), pyhttp("httpx"),
   expect("TLSv1.3", "established", "ok", None, None, None, None))
w6("wide6_success_php_ruby_server12",
   "The Ruby openssl server (TLS 1.2 at most) serves the good chain; the PHP stream-socket "
   "client fetches /. No key log.",
   ruby_server("--max", "TLS1_2"), php_client("--host", HOST),
   expect("TLSv1.2", "established", "ok", None, None, None, None))
w6("wide6_success_ncat_h2o13",
   "h2o serves the good chain; ncat --ssl --ssl-verify (OpenSSL, SNI www.lab.test) sends a GET "
   "from its input and prints the answer. No key log.",
   h2o(), ncat_client(),
   expect("TLSv1.3", "established", "ok", None, None, None, None))
w6("wide6_success_ruby_php_server13",
   "The PHP stream-socket server serves the good chain (any version: TLS 1.3 chosen); the "
   "Ruby openssl client fetches /. No key log.",
   php_server(), ruby_client(),
   expect("TLSv1.3", "established", "ok", None, None, None, None))
w6("wide6_hello_retry_success_wget2_caddy13",
   "Caddy allows only the group P-384 (tls curves secp384r1); wget2 (GnuTLS, key log) sends "
   "key shares for X25519 and P-256 and lists P-384 among its groups: Caddy answers with a "
   "HelloRetryRequest, wget2 retries with P-384 and fetches /.",
   caddy("curves secp384r1"), wget2("--no-http2"),
   expect("TLSv1.3", "established", "ok", None, None, None, None))
w6("wide6_resumption_declined_gnutls_h2o13",
   "h2o with session resumption off (ssl-session-resumption mode: off: no tickets, no cache); "
   "gnutls-cli --resume (key log) connects twice and offers the first session again; h2o "
   "makes a full handshake the second time ('This is a NOT a resumed session'). Stream 1 is "
   "the second connection.",
   h2o(glob="ssl-session-resumption:\n  mode: off"), gnutls("--resume"),
   expect("TLSv1.3", "established", "ok", None, None, None, None, stream=1))
w6("wide6_big_chain_success_aiohttp_lighttpd_gnutls12",
   "lighttpd with mod_gnutls (TLS 1.2) serves a leaf with 400 DNS names under four "
   "intermediates (fullchain-big, about 20 kB of certificates); aiohttp (key log) fetches /.",
   lighttpd_gnutls("fullchain-big.pem", "leaf-big.key",
                   'ssl.openssl.ssl-conf-cmd = ("MaxProtocol" => "TLSv1.2")'),
   pyhttp("aiohttp"),
   expect("TLSv1.2", "established", "ok", None, None, None, None))
w6("wide6_keepalive_idle_close_s_client_h2o",
   "h2o closes idle HTTP/1.1 connections after 2 s (http1-request-timeout: 2); openssl "
   "s_client (key log) sends one keep-alive request, reads the answer and stays idle; h2o "
   "closes the connection after the timeout.",
   h2o(glob="http1-request-timeout: 2"),
   {"client": ["sh", "-c", "(printf 'GET / HTTP/1.1\\r\\nHost: www.lab.test\\r\\n\\r\\n'; "
               "sleep 5) | exec openssl s_client -connect 127.0.0.1:{port} -servername "
               f"{HOST} -CAfile {{pki}}/root.crt -verify_return_error -keylogfile {{keylog}}"],
    "client_kind": "s_client"},
   expect("TLSv1.3", "established", "ok", None, None, None, None))

# -------------------------------------------------------------------------------- versions
w6("wide6_legacy_tls11_client_curl_caddy",
   "Caddy (TLS 1.2 and 1.3, Go's defaults); curl offers TLS 1.0 and 1.1 only (--tlsv1.0 "
   "--tls-max 1.1, ciphers at @SECLEVEL=0 so that OpenSSL 3 sends them at all). No key log.",
   caddy(), curl("--tlsv1.0", "--tls-max", "1.1", "--ciphers", LEGACY, keylog=False),
   expect(None, "failed", "legacy_protocol_rejected", "server", "alert", alert("server", 70),
          "client_hello"))
w6("wide6_legacy_tls10_client_ruby_h2o",
   "h2o with minimum-version TLSv1.2; the Ruby client allows TLS 1.0 only (min and max "
   "TLS1, ciphers at @SECLEVEL=0). h2o refuses the hello and closes (FIN) without the alert "
   "OpenSSL made (it logs nothing); the Ruby client ('unexpected eof while reading') answers "
   "the FIN with a fatal decode_error. No key log.",
   h2o("minimum-version: TLSv1.2"),
   ruby_client("--min", "TLS1", "--max", "TLS1", "--ciphers", LEGACY),
   expect(None, "failed", "legacy_protocol_rejected", "server", "fin", None, "client_hello",
          late_alert=alert("client", 50)))
w6("wide6_tls13_only_client_php_lighttpd_gnutls12",
   "lighttpd with mod_gnutls allows TLS 1.2 at most (MaxProtocol TLSv1.2); the PHP client "
   "asks for TLS 1.3 only (STREAM_CRYPTO_METHOD_TLSv1_3_CLIENT). GnuTLS finds no suite it "
   "may use ('GNUTLS_E_NO_CIPHER_SUITES') and lighttpd closes (FIN) without an alert. No key "
   "log.",
   lighttpd_gnutls(extra='ssl.openssl.ssl-conf-cmd = ("MaxProtocol" => "TLSv1.2")'),
   php_client("--host", HOST, "--method", "tls13"),
   expect(None, "failed", "protocol_version_mismatch", "server", "fin", None, "client_hello"))
w6("wide6_tls13_client_php_server12",
   "The PHP stream-socket server accepts TLS 1.2 only (STREAM_CRYPTO_METHOD_TLSv1_2_SERVER); "
   "curl asks for TLS 1.3 (--tlsv1.3). No key log.",
   php_server("--method", "tls12"), curl("--tlsv1.3", keylog=False),
   expect(None, "failed", "protocol_version_mismatch", "server", "alert", alert("server", 70),
          "client_hello"))

# ------------------------------------------------------------------------- ciphers, ALPN, SNI
w6("wide6_dhe_only_client_curl_caddy12",
   "Caddy (Go: ECDHE suites only, no finite-field DHE); curl (TLS 1.2) offers only "
   "DHE-RSA-AES128-GCM-SHA256 and DHE-RSA-AES256-GCM-SHA384. No key log.",
   caddy(), curl(*TLS12, "--ciphers", "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384",
                 keylog=False),
   expect(None, "failed", "no_shared_cipher", "server", "alert", alert("server", 40),
          "client_hello"))
w6("wide6_rsa_kex_only_client_ruby_h2o12",
   "h2o allows only ECDHE suites (cipher-suite ECDHE+AESGCM) in TLS 1.2; the Ruby client "
   "(TLS 1.2 at most) offers only RSA key exchange (AES128-GCM-SHA256:AES256-GCM-SHA384). h2o "
   "closes (FIN) without an alert; the Ruby client answers with a fatal decode_error. No key "
   "log.",
   h2o("cipher-suite: ECDHE+AESGCM", "max-version: TLSv1.2"),
   ruby_client("--max", "TLS1_2", "--ciphers", "AES128-GCM-SHA256:AES256-GCM-SHA384"),
   expect(None, "failed", "no_shared_cipher", "server", "fin", None, "client_hello",
          late_alert=alert("client", 50)))
w6("wide6_sni_unknown_curl_caddy",
   "Caddy has a certificate for www.lab.test only; curl (key log) asks for unknown.lab.test. "
   "Caddy has no certificate to send for that name.",
   caddy(),
   curl(url="https://unknown.lab.test:{port}/") | {
       "client": CURL[:-2] + ["--resolve", "unknown.lab.test:{port}:127.0.0.1",
                              "https://unknown.lab.test:{port}/"]},
   expect(None, "failed", "sni_rejected", "server", "alert", alert("server", 80),
          "client_hello", server_name="unknown.lab.test"))
w6("wide6_alpn_unknown_s_client_caddy13",
   "Caddy offers h2 and http/1.1 (ALPN); openssl s_client (key log) offers only spdy/3 "
   "(-alpn spdy/3).",
   caddy(),
   {"client": ["openssl", "s_client", "-connect", "127.0.0.1:{port}", "-servername", HOST,
               "-CAfile", "{pki}/root.crt", "-verify_return_error", "-keylogfile", "{keylog}",
               "-alpn", "spdy/3", "-ign_eof"], "client_kind": "s_client", "stdin": GET},
   expect("TLSv1.3", "failed", "alpn_mismatch", "server", "alert",
          alert("server", 120, encrypted=True), "server_hello"))

# ---------------------------------------------------------------------- server certificates
w6("wide6_wildcard_mismatch_requests_h2o13",
   "h2o serves a leaf for *.lab.test (trusted); Python requests (key log) asks for "
   "a.b.lab.test, which a one-label wildcard does not cover. urllib3 1.26 checks the name "
   "itself after the handshake ('hostname a.b.lab.test doesn't match *.lab.test'): its "
   "Finished is sent, then it closes without an alert; h2o's tickets arrive unread, so the "
   "close is a reset (in a first run a FIN went out before the tickets came, then the reset).",
   h2o(cert="fullchain-wildcard.pem", key="leaf-wildcard.key"),
   pyhttp("requests", url="https://a.b.lab.test:{port}/"),
   expect("TLSv1.3", "failed", "client_rejected_cert_silently", "client", "rst", None,
          "server_certificate", server_name="a.b.lab.test"))
w6("wide6_ip_san_mismatch_php_s_server13",
   "openssl s_server (key log) serves a leaf naming www.lab.test only (no IP address SAN); "
   "the PHP client connects to 127.0.0.1 without a peer_name, so PHP checks the certificate "
   "against the address, and sends '127.0.0.1' as its SNI (which RFC 6066 forbids). PHP "
   "checks the name itself after the handshake ('Peer certificate subjectAltName did not "
   "match expected name') and closes with an encrypted close_notify.",
   s_server("-www", cert="dnsonly", keylog=True), php_client(),
   expect("TLSv1.3", "failed", "client_rejected_cert_silently", "client", "alert",
          alert("client", 0, encrypted=True, level="warning"), "server_certificate",
          server_name="127.0.0.1"))
w6("wide6_ip_san_mismatch_curl_lighttpd_gnutls12",
   "lighttpd with mod_gnutls (TLS 1.2) serves the leaf naming www.lab.test only; curl "
   "(key log) asks for https://127.0.0.1:port/ (no SNI for an address). curl checks the "
   "name after the handshake ('no alternative certificate subject name matches target host "
   "name 127.0.0.1', exit 60) and closes with an encrypted close_notify.",
   lighttpd_gnutls("fullchain-dnsonly.pem", "leaf-dnsonly.key",
                   'ssl.openssl.ssl-conf-cmd = ("MaxProtocol" => "TLSv1.2")'),
   curl(url="https://127.0.0.1:{port}/"),
   expect("TLSv1.2", "failed", "client_rejected_cert_silently", "client", "alert",
          alert("client", 0, encrypted=True, level="warning"), "server_certificate",
          server_name=None))
w6("wide6_sha1_leaf_wget2_lighttpd_gnutls13",
   "lighttpd with mod_gnutls serves a leaf the Lab Intermediate signed with SHA-1; wget2 "
   "(GnuTLS, key log) refuses it ('The certificate chain uses insecure algorithm', exit 5): "
   "after the server's flight it sends its ChangeCipherSpec, then resets the connection, no "
   "alert and no Finished.",
   lighttpd_gnutls("fullchain-sha1.pem", "leaf-sha1.key"), wget2(),
   expect("TLSv1.3", "failed", "client_rejected_cert_silently", "client", "rst", None,
          "server_certificate"))
w6("wide6_server_eku_client_auth_httpx_caddy13",
   "Caddy serves the leaf whose extendedKeyUsage is clientAuth only; httpx (key log) refuses "
   "it for a server.",
   caddy(cert="fullchain-wrongeku.pem", key="leaf-wrongeku.key"), pyhttp("httpx"),
   expect("TLSv1.3", "failed", "server_cert_wrong_usage", "client", "alert",
          alert("client", 43), "server_certificate"))
w6("wide6_untrusted_ncat_h2o13",
   "h2o serves the Rogue Root's chain; ncat --ssl-verify (OpenSSL) trusts the lab root only. "
   "No key log.",
   h2o(cert="fullchain-rogue.pem", key="leaf-rogue.key"), ncat_client(),
   expect("TLSv1.3", "failed", "server_cert_untrusted", "client", "alert", alert("client", 48),
          "server_certificate"))
w6("wide6_expired_aiohttp_ncat_server13",
   "ncat --ssl -l serves the expired leaf; aiohttp (key log) refuses it ('certificate has "
   "expired') and closes (FIN) right after the server's flight without the alert OpenSSL "
   "made (asyncio aborts the transport before flushing it).",
   ncat_server("fullchain-expired.pem", "leaf-expired.key"), pyhttp("aiohttp"),
   expect("TLSv1.3", "failed", "client_rejected_cert_silently", "client", "fin", None,
          "server_certificate"))
w6("wide6_self_signed_php_caddy13",
   "Caddy serves the self-signed leaf; the PHP client (peer_name www.lab.test) refuses it. No "
   "key log.",
   caddy(cert="leaf-selfsigned.crt", key="leaf-selfsigned.key"), php_client("--host", HOST),
   expect("TLSv1.3", "failed", "server_cert_self_signed", "client", "alert",
          alert("client", 48), "server_certificate"))
w6("wide6_missing_intermediate_ruby_lighttpd_gnutls12",
   "lighttpd with mod_gnutls (TLS 1.2) serves the leaf without its intermediate; the Ruby "
   "client trusts the lab root only. No key log.",
   lighttpd_gnutls("leaf-good.crt", "leaf-good.key",
                   'ssl.openssl.ssl-conf-cmd = ("MaxProtocol" => "TLSv1.2")'), ruby_client(),
   expect("TLSv1.2", "failed", "server_chain_incomplete", "client", "alert",
          alert("client", 48), "server_certificate"))
w6("wide6_not_yet_valid_wget2_caddy13",
   "Caddy serves the leaf valid from 2034 only; wget2 (GnuTLS, key log) refuses it ('The "
   "certificate chain uses not yet valid certificate', exit 5): ChangeCipherSpec, then a "
   "reset, no alert.",
   caddy(cert="fullchain-notyet.pem", key="leaf-notyet.key"), wget2(),
   expect("TLSv1.3", "failed", "client_rejected_cert_silently", "client", "rst", None,
          "server_certificate"))

# ---------------------------------------------------------------------- client certificates
w6("wide6_client_cert_missing_curl_caddy13",
   "Caddy requires a client certificate from the Corp Client CA (client_auth mode "
   "require_and_verify); curl (key log) has none. Go 1.19 refuses the empty Certificate with "
   "bad_certificate, not certificate_required ('tls: client didn't provide a certificate').",
   caddy(CADDY_MTLS), curl(),
   expect("TLSv1.3", "failed", "client_cert_missing", "server", "alert",
          alert("server", 42, encrypted=True), "client_certificate"))
w6("wide6_client_cert_expired_ruby_caddy12",
   "Caddy (TLS 1.2 at most: tls protocols tls1.2 tls1.2) requires a Corp Client CA "
   "certificate; the Ruby client presents bob's expired one. No key log.",
   caddy(CADDY_MTLS, "protocols tls1.2 tls1.2"),
   ruby_client("--cert", "{pki}/client-expired.crt", "--key", "{pki}/client-expired.key"),
   expect("TLSv1.2", "failed", "client_cert_rejected", "server", "alert", alert("server", 42),
          "client_certificate"))
w6("wide6_client_cert_wrong_eku_php_ruby_server12",
   "The Ruby openssl server (TLS 1.2) requires a Corp Client CA certificate (VERIFY_PEER | "
   "FAIL_IF_NO_PEER_CERT); the PHP client presents carol's, whose extendedKeyUsage is "
   "serverAuth only. No key log.",
   ruby_server("--max", "TLS1_2", "--client-ca", "{pki}/corp-ca.crt"),
   php_client("--host", HOST, "--cert", "{pki}/client-wrongeku.crt", "--key",
              "{pki}/client-wrongeku.key"),
   expect("TLSv1.2", "failed", "client_cert_rejected", "server", "alert", alert("server", 43),
          "client_certificate"))
w6("wide6_client_cert_missing_wget2_lighttpd_gnutls13",
   "lighttpd with mod_gnutls requires a client certificate (ssl.verifyclient.activate, "
   "enforce; ssl.ca-file the Corp Client CA); wget2 (key log) has none. GnuTLS logs "
   "'GNUTLS_E_CERTIFICATE_REQUIRED' and lighttpd closes (FIN) without sending the alert; wget2 "
   "still sends its HTTP/2 request and a close_notify and exits 0.",
   lighttpd_gnutls(extra='ssl.verifyclient.activate = "enable"\n'
                         'ssl.verifyclient.enforce = "enable"\n'
                         'ssl.ca-file = "{pki}/corp-ca.crt"'),
   wget2(),
   expect("TLSv1.3", "failed", "client_cert_missing", "server", "fin", None,
          "client_certificate"))

# ---------------------------------------------------------------------------- renegotiation
w6("wide6_client_renegotiation_s_client_caddy12",
   "Caddy (TLS 1.2 at most); openssl s_client (key log) completes the handshake and asks to "
   "renegotiate ('R' on its input). Go's server never renegotiates: it answers the new "
   "ClientHello with a fatal unexpected_message (encrypted), then a close_notify.",
   caddy("protocols tls1.2 tls1.2"),
   {"client": ["sh", "-c", "(printf 'R\\n'; sleep 3) | exec openssl s_client -connect "
               f"127.0.0.1:{{port}} -servername {HOST} -CAfile {{pki}}/root.crt "
               "-verify_return_error -keylogfile {keylog}"], "client_kind": "s_client"},
   expect("TLSv1.2", "failed", "renegotiation_refused", "server", "alert",
          alert("server", 10, encrypted=True), "renegotiation"))
w6("wide6_server_renegotiation_go_apache12",
   "Apache httpd + mod_ssl (TLS 1.2) asks for a client certificate for /secure/ only "
   "(SSLVerifyClient require in <Location /secure>), which in TLS 1.2 means a renegotiation "
   "(HelloRequest); the Go client (key log) fetches /secure/ and, as crypto/tls does by "
   "default, refuses to renegotiate: a warning no_renegotiation and a close_notify (local "
   "error: tls: no renegotiation); Apache ends the connection with a fatal handshake_failure "
   "(all encrypted).",
   apache_vhost(*RENEG_LOCATION, protocol="-all +TLSv1.2"),
   go_client("-path", "/secure/"),
   expect("TLSv1.2", "failed", "renegotiation_refused", "server", "alert",
          alert("server", 40, encrypted=True), "renegotiation"),
   log_pattern=r"AH02261|[Rr]e-negotiation|AH02225")

# ---------------------------------------------------------------- proxies and plain HTTP
w6("wide6_proxy_upstream_untrusted_caddy_s_server12",
   "Caddy takes plain HTTP on the scenario port and proxies to https://127.0.0.1:<upstream> "
   "(reverse_proxy, tls_server_name www.lab.test, the system's trust store); the upstream "
   "openssl s_server (TLS 1.2, key log) serves the Rogue Root's chain. curl gets 502. Stream "
   "0 is curl's plain request; stream 1 Caddy's TLS leg.",
   caddy(site="http://127.0.0.1:{port}", manual_tls=False,
         body="reverse_proxy https://127.0.0.1:{upstream} {\n  transport http {\n"
              "    tls_server_name www.lab.test\n  }\n}",
         http_port="{port}"),
   {"client": CURL[:-4] + ["http://127.0.0.1:{port}/"], "client_kind": "curl"},
   expect("TLSv1.2", "failed", "server_cert_untrusted", "client", "alert", alert("client", 42),
          "server_certificate", stream=1),
   upstream=command("s_server", ["openssl", "s_server", "-accept", "127.0.0.1:{port}", "-cert",
                                 "{pki}/leaf-rogue.crt", "-key", "{pki}/leaf-rogue.key",
                                 "-cert_chain", "{pki}/chain-rogue.pem", "-keylogfile",
                                 "{keylog}", "-tls1_2", "-www"],
                    lambda: f"openssl s_server ({_openssl()})"))
w6("wide6_plain_http_to_caddy_tls_port_curl",
   "Caddy serves TLS on the scenario port; curl sends a plain HTTP request to it "
   "(http://www.lab.test:port/). Go's HTTP server answers it in plain text with "
   "'400 Bad Request: Client sent an HTTP request to an HTTPS server.'",
   caddy(), {"client": CURL + ["http://www.lab.test:{port}/"], "client_kind": "curl"},
   expect(None, "not_tls", "plaintext_http_on_tls_port", "server", "fin", None, "client_hello",
          server_name=None))
w6("wide6_proxy_connect_denied_curl_squid",
   "curl goes through Squid (-x http://127.0.0.1:port) to https://www.lab.test:<upstream>/; "
   "Squid's default rule allows CONNECT to port 443 only ('http_access deny CONNECT "
   "!SSL_ports'): TCP_DENIED/403, curl 'CONNECT tunnel failed, response 403'. Squid keeps "
   "the connection open after its answer; curl resets it. No TLS.",
   squid(), curl("-x", "http://127.0.0.1:{port}", url=URL.replace("{port}", "{upstream}"),
                 keylog=False),
   expect(None, "not_tls", "proxy_connect_refused", "client", "rst", None, "client_hello",
          server_name=None), log_pattern=r"TCP_DENIED|DENIED")
w6("wide6_proxy_tunnel_untrusted_curl_squid_h2o13",
   "curl (key log) goes through Squid (CONNECT allowed to the upstream port) to h2o, which "
   "serves the Rogue Root's chain; curl refuses it inside the tunnel. Stream 0 is curl's "
   "connection to Squid (CONNECT, 200, then the TLS handshake); stream 1 Squid's to h2o.",
   squid(ports="{upstream}"),
   curl("-x", "http://127.0.0.1:{port}", url=URL.replace("{port}", "{upstream}")),
   expect("TLSv1.3", "failed", "server_cert_untrusted", "client", "alert", alert("client", 48),
          "server_certificate", stream=0),
   upstream=h2o(cert="fullchain-rogue.pem", key="leaf-rogue.key"), log_pattern=r"CONNECT")
