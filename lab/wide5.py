"""The fifth wide lab (`wide5_*`): more failure modes and peers no earlier lab used, held out.

Every scenario here is held out (`expected.held_out: true`): it measures how the diagnosis
does on captures it was never tuned on. What is new against the four earlier wide labs:

- revocation checked by the *client* from a CRL (curl --crlfile, gnutls-cli --x509crlfile,
  s_client -crl_check), and client certificates refused as revoked by Apache
  (SSLCARevocationFile), openssl s_server (-crl_check) and a Python asyncio server;
- server keys of other types: an Ed25519 leaf against clients that do not offer ed25519, and
  a P-521 leaf (a success);
- TLS-PSK: a PSK-only server against a certificate client, and a TLS 1.3 external-PSK
  success;
- STARTTLS with Dovecot IMAP (success, not offered, certificate failures after STARTTLS,
  implicit TLS on imaps) and Postfix SMTP (success, not offered, refused with 454, an untrusted
  chain);
- an HTTP proxy (tinyproxy) refusing CONNECT (403, 407) and a tunnel that works;
- public-key pinning (curl --pinnedpubkey), a mismatch and a match;
- a middlebox that filters on the SNI (an iptables string match: one resets, one drops), and
  an MTU black hole in front of Apache;
- groups and signature algorithms refused by Apache and openssl s_server;
- controls with unusual peers: small records (s_server -max_send_frag), a TLS 1.3 stateful
  ticket resumed (s_server -no_ticket, gnutls-cli --resume), record_size_limit from
  gnutls-cli, and the successes above.

Peers new to these roles: Apache httpd + mod_ssl in the wide labs' namespaces, a Python asyncio
*server* (lab/peers/asyncio_server.py; it closes without the alert OpenSSL made, since asyncio
aborts the transport before flushing it), Dovecot IMAP, Postfix smtpd, tinyproxy, the swaks SMTP
client, openssl s_server with -nocert -psk, -crl_check, -groups, -max_send_frag, -no_ticket,
and gnutls-cli with CRLs, priority strings and STARTTLS.

Key logs: SSLKEYLOGFILE for curl and gnutls-cli, -keylogfile for s_client, --keylog for the
Go and Node.js peers; 16 of the 35 scenarios have one.

Ground truth is what the peers said (client error and exit status, the server's log line) and
tshark's reading of the alerts, mapped to the catalogue's cause ids; tlsdissect was not run to
decide any expected value. The captures were made with a fresh PKI of their own: its CA
certificates are in `captures/_trust_wide5/`.
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

from groundtruth import FAMILIES
from scenarios import CURL, GNUTLS, HOST, TLS12, URL, Scenario, alert, apache, expect, sc
from wide import GO_CLIENT, NODE_CLIENT
from wide3 import _out, command

WIDE5: list[Scenario] = []
TRUST = "_trust_wide5"
HERE = Path(__file__).resolve().parent
PSK = "0123456789abcdef0123456789abcdef"
IMAP_BYE = "a LOGOUT\r\n"


def w5(name: str, description: str, server: tuple, client: dict, expected: dict,
       **kw) -> None:
    """One held-out scenario of the fifth wide lab, in its own network namespace."""
    assert name.startswith("wide5_"), name
    expected = dict(expected, cause_family=FAMILIES[expected["cause"]], held_out=True)
    if server[0] == "command" and server[1]["kind"] == "asyncio":  # its log line: the SSL error
        kw.setdefault("log_pattern", r"^ssl\.\w*Error")
    WIDE5.append(sc(name, description, server, client, expected, netns=True, trust=TRUST,
                    **kw))


# --------------------------------------------------------------------------------- servers
def _openssl() -> str:
    return _out(["openssl", "version"]).split(" (")[0]


def asyncio_version() -> str:
    return (f"Python {sys.version.split()[0]} asyncio + ssl ({_out(['python3', '-c', 'import ssl; print(ssl.OPENSSL_VERSION)'])}; "
            "lab/peers/asyncio_server.py)")


def asyncio_server(*extra: str, cert: str = "fullchain-good.pem", key: str = "leaf-good.key",
                   keylog: bool = False) -> tuple:
    argv = ["python3", str(HERE / "peers" / "asyncio_server.py"), "--port", "{port}", "--cert",
            f"{{pki}}/{cert}", "--key", f"{{pki}}/{key}", *extra]
    return command("asyncio", argv + (["--keylog", "{keylog}"] if keylog else []),
                   asyncio_version)


def s_server(*extra: str, keylog: bool = False, cert: str | None = "good") -> tuple:
    """openssl s_server with the options given; the good chain unless cert is None (-nocert)."""
    argv = ["openssl", "s_server", "-accept", "127.0.0.1:{port}"]
    if not cert:
        argv += ["-nocert"]
    if cert:
        argv += ["-cert", f"{{pki}}/leaf-{cert}.crt", "-key", f"{{pki}}/leaf-{cert}.key",
                 "-cert_chain", "{pki}/chain-inter.pem"]
    argv += ["-keylogfile", "{keylog}"] if keylog else []
    return command("s_server", argv + list(extra), lambda: f"openssl s_server ({_openssl()})")


DOVECOT_CONF = """base_dir = /tmp/dovecot-w5-{port}
state_dir = {wd}/state
log_path = /dev/stderr
info_log_path = /dev/stderr
verbose_ssl = yes
protocols = imap
listen = 127.0.0.1
ssl = %(ssl)s
ssl_cert = <{pki}/%(cert)s
ssl_key = <{pki}/%(key)s
auth_mechanisms = plain
passdb {
  driver = static
  args = password=lab
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home={wd}/home
}
mail_location = maildir:{wd}/mail
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %(imap)s
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %(imaps)s
  }
}
"""


def dovecot_version() -> str:
    return f"Dovecot {_out(['dovecot', '--version']).split()[0]} imap ({_openssl()})"


def dovecot(ssl: str = "yes", cert: str = "fullchain-good.pem", key: str = "leaf-good.key",
            implicit: bool = False) -> tuple:
    """Dovecot IMAP on the scenario port: STARTTLS (ssl = yes: offered, no: not offered) or
    implicit TLS (imaps) when `implicit`."""
    conf = DOVECOT_CONF % {"ssl": ssl, "cert": cert, "key": key,
                           "imap": "0" if implicit else "{port}",
                           "imaps": "{port}" if implicit else "0"}
    script = (f"mkdir -p /tmp/dovecot-w5-{{port}} {{wd}}/state {{wd}}/home && printf %s {shlex.quote(conf)} "
              "> {wd}/dovecot.conf && exec dovecot -F -c {wd}/dovecot.conf")
    return command("dovecot", ["sh", "-c", script], dovecot_version)


def apache_vhost(*extra: str, cert: str = "fullchain-good.pem", key: str = "leaf-good.key",
                 protocol: str = "-all +TLSv1.2 +TLSv1.3") -> tuple:
    return apache(cert=cert, key=key, protocol=protocol, vhost_extra=list(extra))


# --------------------------------------------------------------------------------- clients
def curl(*extra: str, url: str = URL, keylog: bool = True) -> dict:
    return {"client": CURL + list(extra) + [url], "client_kind": "curl", "keylog_env": keylog}


def gnutls(*extra: str, keylog: bool = True, stdin: str | None = None,
           base: list[str] = GNUTLS) -> dict:
    return {"client": base + list(extra), "client_kind": "gnutls-cli", "keylog_env": keylog,
            "stdin": stdin if stdin is not None else
            "GET / HTTP/1.1\r\nHost: www.lab.test\r\nConnection: close\r\n\r\n"}


def s_client(*extra: str, keylog: bool = True, stdin: str | None = None) -> dict:
    argv = ["openssl", "s_client", "-connect", "127.0.0.1:{port}", "-servername", HOST,
            "-CAfile", "{pki}/root.crt", "-verify_return_error", "-ign_eof"]
    argv += ["-keylogfile", "{keylog}"] if keylog else []
    return {"client": argv + list(extra), "client_kind": "s_client",
            "stdin": stdin if stdin is not None else
            "GET / HTTP/1.1\r\nHost: www.lab.test\r\nConnection: close\r\n\r\n"}


def go_client(*extra: str, keylog: bool = True) -> dict:
    argv = GO_CLIENT if keylog else GO_CLIENT[:-2]
    return {"client": argv + list(extra), "client_kind": "go"}


def node_client(*extra: str, keylog: bool = True) -> dict:
    argv = NODE_CLIENT if keylog else NODE_CLIENT[:-2]
    return {"client": argv + list(extra), "client_kind": "node"}


def pinned_curl(pin_key: str, *extra: str, url: str = URL) -> dict:
    """curl with --pinnedpubkey sha256//<hash of pin_key's public key>, the hash computed
    with openssl from the key file at run time."""
    pin = (f"openssl pkey -in lab/work/pki/{pin_key} -pubout -outform DER | openssl dgst "
           "-sha256 -binary | base64")
    argv = CURL + list(extra) + [url]
    script = f'pin=$({pin}) && exec {shlex.join(argv)} --pinnedpubkey "sha256//$pin"'
    return {"client": ["sh", "-c", script], "client_kind": "curl", "keylog_env": True}


CLIENT_VERSIONS: dict = {}
FIREWALL = "iptables -A INPUT -i lo -p tcp "
BLOCKED = "blocked.lab.test"
GET = "GET / HTTP/1.1\r\nHost: www.lab.test\r\nConnection: close\r\n\r\n"

# ----------------------------------------------------------------- revoked server certificate
w5("wide5_server_revoked_crl_curl_apache13",
   "Apache httpd + mod_ssl (TLS 1.3) serves leaf-revoked + Lab Intermediate; the Lab "
   "Intermediate's CRL lists the leaf as revoked (keyCompromise). curl (OpenSSL, key log) "
   "checks it with --crlfile and refuses the certificate as revoked; the alert goes out in "
   "plaintext (OpenSSL's client has not yet switched to its handshake keys).",
   apache_vhost(cert="fullchain-revoked.pem", key="leaf-revoked.key"),
   curl("--crlfile", "{pki}/inter.crl"),
   expect("TLSv1.3", "failed", "server_cert_revoked", "client", "alert",
          alert("client", 44), "server_certificate"))
w5("wide5_server_revoked_crl_gnutls_asyncio12",
   "The Python asyncio server (TLS 1.2 at most) serves the revoked leaf; gnutls-cli, given the "
   "Lab Intermediate's CRL (--x509crlfile; GnuTLS checks a CRL's signature against its CA "
   "file, which is why that holds the Lab Root and the Lab Intermediate), finds the "
   "certificate revoked. No key log.",
   asyncio_server("--tls-max", "1.2", cert="fullchain-revoked.pem", key="leaf-revoked.key"),
   gnutls("--x509crlfile", "{pki}/inter.crl", keylog=False,
          base=["gnutls-cli", "--x509cafile", "{pki}/root-and-inter.pem", *GNUTLS[3:]]),
   expect("TLSv1.2", "failed", "server_cert_revoked", "client", "alert", alert("client", 42),
          "server_certificate"))
w5("wide5_server_revoked_starttls_s_client_dovecot13",
   "Dovecot IMAP offers STARTTLS and serves the revoked leaf; openssl s_client -starttls imap "
   "with -crl_check and the Lab Intermediate's CRL (key log) refuses it after STARTTLS "
   "(TLS 1.3), its alert in plaintext.",
   dovecot(cert="fullchain-revoked.pem", key="leaf-revoked.key"),
   s_client("-starttls", "imap", "-crl_check", "-CRL", "{pki}/inter.crl", stdin=IMAP_BYE),
   expect("TLSv1.3", "failed", "server_cert_revoked", "client", "alert",
          alert("client", 44), "server_certificate"))

# ----------------------------------------------------------------- revoked client certificate
w5("wide5_client_revoked_crl_s_server_curl12",
   "openssl s_server (TLS 1.2) requires a client certificate from the Corp Client CA "
   "(-Verify 1) and checks it against the Corp Client CA's CRL (-crl_check, -CRL); curl "
   "presents dave's certificate, which that CRL lists as revoked. No key log.",
   s_server("-Verify", "1", "-CAfile", "{pki}/corp-ca.crt", "-crl_check", "-CRL",
            "{pki}/corp-ca.crl", "-verify_return_error", "-tls1_2", "-www"),
   curl(*TLS12, "--cert", "{pki}/client-revoked.crt", "--key", "{pki}/client-revoked.key",
        keylog=False),
   expect("TLSv1.2", "failed", "client_cert_revoked", "server", "alert", alert("server", 44),
          "client_certificate"))
w5("wide5_client_revoked_apache_gnutls13",
   "Apache httpd + mod_ssl (TLS 1.3) requires a client certificate (SSLVerifyClient require, "
   "Corp Client CA) and checks SSLCARevocationFile (the Corp CA's CRL, SSLCARevocationCheck "
   "leaf); gnutls-cli (key log) presents dave's revoked certificate.",
   apache_vhost("SSLCACertificateFile {pki}/corp-ca.crt", "SSLVerifyClient require",
                "SSLVerifyDepth 2", "SSLCARevocationFile {pki}/corp-ca.crl",
                "SSLCARevocationCheck leaf", protocol="-all +TLSv1.3"),
   gnutls("--x509certfile", "{pki}/client-revoked.crt", "--x509keyfile",
          "{pki}/client-revoked.key"),
   expect("TLSv1.3", "failed", "client_cert_revoked", "server", "alert",
          alert("server", 44, encrypted=True), "client_certificate"))
w5("wide5_client_revoked_asyncio_s_client12",
   "The Python asyncio server (TLS 1.2) requires a Corp Client CA certificate and loads the "
   "Corp CA's CRL (VERIFY_CRL_CHECK_LEAF); openssl s_client presents dave's revoked "
   "certificate. asyncio logs 'certificate verify failed: certificate revoked' and closes the "
   "connection (FIN) without sending the alert OpenSSL made (asyncio aborts the transport "
   "before flushing it); s_client answers with an encrypted alert and the server resets. No "
   "key log.",
   asyncio_server("--tls-max", "1.2", "--cafile", "{pki}/corp-ca.crt", "--crl",
                  "{pki}/corp-ca.crl"),
   s_client("-cert", "{pki}/client-revoked.crt", "-key", "{pki}/client-revoked.key",
            keylog=False),
   expect("TLSv1.2", "failed", "client_cert_revoked", "server", "fin", None,
          "client_certificate"))

# --------------------------------------------------------------- not yet valid, other names
w5("wide5_not_yet_valid_s_client_asyncio13",
   "The Python asyncio server (TLS 1.3) serves a leaf valid from 2034 only; openssl s_client "
   "(key log, -verify_return_error) refuses it: 'certificate is not yet valid', with a "
   "bad_certificate alert in plaintext.",
   asyncio_server(cert="fullchain-notyet.pem", key="leaf-notyet.key"), s_client(),
   expect("TLSv1.3", "failed", "server_cert_not_yet_valid", "client", "alert",
          alert("client", 42), "server_certificate"))
w5("wide5_not_yet_valid_gnutls_dovecot_imaps",
   "Dovecot on implicit TLS (imaps) serves the leaf valid from 2034 only; gnutls-cli refuses "
   "it ('The certificate chain uses not yet valid certificate'; key log).",
   dovecot(cert="fullchain-notyet.pem", key="leaf-notyet.key", implicit=True),
   gnutls(stdin=IMAP_BYE),
   expect("TLSv1.3", "failed", "server_cert_not_yet_valid", "client", "alert",
          alert("client", 42, encrypted=True), "server_certificate"))

# ---------------------------------------------------------------------- server key types
ED = "Ed25519 leaf (keys of type ED25519 sign only with the ed25519 scheme)"
w5("wide5_ed25519_key_s_client_apache13",
   f"Apache httpd + mod_ssl (TLS 1.3) has only an {ED}; openssl s_client offers only ECDSA, "
   "RSA-PSS and RSA PKCS#1 schemes (-sigalgs). The server cannot sign its CertificateVerify. "
   "No key log.",
   apache_vhost(cert="fullchain-ed25519.pem", key="leaf-ed25519.key", protocol="-all +TLSv1.3"),
   s_client("-sigalgs", "ECDSA+SHA256:RSA-PSS+SHA256:RSA+SHA256", keylog=False),
   expect(None, "failed", "no_common_signature_scheme", "server", "alert",
          alert("server", 40), "client_hello"))
w5("wide5_ed25519_key_gnutls_asyncio",
   f"The Python asyncio server has only an {ED}; gnutls-cli's priority string drops "
   "SIGN-EDDSA-ED25519, so its signature_algorithms list has no ed25519. asyncio logs 'no "
   "suitable signature algorithm' and closes (FIN) without an alert; gnutls-cli answers the "
   "close with unexpected_message.",
   asyncio_server(cert="fullchain-ed25519.pem", key="leaf-ed25519.key"),
   gnutls("--priority", "NORMAL:-SIGN-EDDSA-ED25519"),
   expect(None, "failed", "no_common_signature_scheme", "server", "fin", None, "client_hello",
          late_alert=alert("client", 10)))
w5("wide5_p521_key_success_go_asyncio13",
   "The Python asyncio server (TLS 1.3) serves a P-521 ECDSA leaf; the Go client (key log) "
   "verifies it (ecdsa_secp521r1_sha512) and fetches /.",
   asyncio_server(cert="fullchain-p521.pem", key="leaf-p521.key"), go_client(),
   expect("TLSv1.3", "established", "ok", None, None, None, None))

# ----------------------------------------------------------------------------------- PSK
w5("wide5_psk_only_server_curl12",
   "openssl s_server with no certificate and only PSK cipher suites (-nocert -psk, TLS 1.2); "
   "curl, a certificate client, offers no PSK suite: s_server finds no shared cipher.",
   s_server("-psk", PSK, "-tls1_2", "-cipher", "PSK", "-www", cert=None),
   curl(keylog=False),
   expect(None, "failed", "no_shared_cipher", "server", "alert", alert("server", 40),
          "client_hello"))
w5("wide5_psk_tls13_success_s_client_s_server",
   "openssl s_server (TLS 1.3, -nocert) with an external PSK for identity 'labclient'; "
   "s_client presents the same PSK and identity (key log): a TLS 1.3 PSK handshake without "
   "certificates.",
   s_server("-psk", PSK, "-psk_identity", "labclient", "-tls1_3", "-www", cert=None),
   s_client("-psk", PSK, "-psk_identity", "labclient", "-tls1_3"),
   expect("TLSv1.3", "established", "ok", None, None, None, None))

# ------------------------------------------------------------------------------ STARTTLS
w5("wide5_starttls_success_s_client_dovecot",
   "Dovecot IMAP offers STARTTLS with the good chain; openssl s_client -starttls imap (key "
   "log) upgrades and logs out.",
   dovecot(), s_client("-starttls", "imap", stdin=IMAP_BYE),
   expect("TLSv1.3", "established", "ok", None, None, None, None))
w5("wide5_starttls_not_offered_curl_dovecot",
   "Dovecot IMAP with ssl = no: its CAPABILITY has no STARTTLS; curl asks for imap:// with "
   "--ssl-reqd (TLS required) and gives up before any TLS.",
   dovecot(ssl="no"), curl("--ssl-reqd", url="imap://www.lab.test:{port}/", keylog=False),
   expect(None, "not_tls", "starttls_not_offered", "client", "fin", None, "client_hello",
          server_name=None))
w5("wide5_starttls_hostname_gnutls_dovecot",
   "Dovecot IMAP offers STARTTLS with the other.example.test chain (trusted, other name); "
   "gnutls-cli --starttls-proto=imap (key log) refuses it for www.lab.test.",
   dovecot(cert="fullchain-wronghost.pem", key="leaf-wronghost.key"),
   gnutls("--starttls-proto=imap", stdin=IMAP_BYE),
   expect("TLSv1.3", "failed", "server_cert_hostname_mismatch", "client", "alert",
          alert("client", 42, encrypted=True), "server_certificate"))

# ------------------------------------------------------------------------------- pinning
w5("wide5_pinned_key_mismatch_curl_apache13",
   "Apache httpd + mod_ssl (TLS 1.3) with the good, trusted chain; curl (key log) pins "
   "another public key (--pinnedpubkey sha256// of the Rogue leaf's key): after the handshake "
   "it refuses the server's key ('SSL: public key does not match pinned public key', exit 90) "
   "and closes with an encrypted close_notify.",
   apache_vhost(), pinned_curl("leaf-rogue.key"),
   expect("TLSv1.3", "failed", "client_rejected_cert_silently", "client", "alert",
          alert("client", 0, encrypted=True, level="warning"), "server_certificate"))
w5("wide5_pinned_key_success_curl_asyncio12",
   "The Python asyncio server (TLS 1.2) with the good chain; curl (key log) pins the server's "
   "own public key (--pinnedpubkey) and fetches /.",
   asyncio_server("--tls-max", "1.2"), pinned_curl("leaf-good.key"),
   expect("TLSv1.2", "established", "ok", None, None, None, None))

# ----------------------------------------------------------------------- path, middleboxes
w5("wide5_sni_filter_reset_gnutls_apache",
   f"Apache httpd listens; a packet filter in the namespace resets every packet to its port "
   f"that carries the name '{BLOCKED}' (iptables -m string, REJECT --reject-with tcp-reset: "
   "the reset is sent in the server's name). gnutls-cli asks for that name. No key log.",
   apache_vhost(),
   gnutls(keylog=False, base=["gnutls-cli", "--x509cafile", "{pki}/root.crt",
                              "--sni-hostname", BLOCKED, "--verify-hostname", BLOCKED, "-p",
                              "{port}", "127.0.0.1"]),
   expect(None, "failed", "middlebox_reset", "middlebox", "rst", None, "client_hello",
          server_name=BLOCKED),
   setup=(FIREWALL + "--dport {port} -m string --string " + BLOCKED
          + " --algo bm -j REJECT --reject-with tcp-reset",))
w5("wide5_sni_filter_drop_curl_asyncio",
   f"The Python asyncio server listens; a packet filter drops every packet to its port that "
   f"carries the name '{BLOCKED}' (iptables -m string -j DROP). curl asks for that name: the "
   "TCP handshake completes, the ClientHello is retransmitted and never acknowledged, curl "
   "gives up after 5 s.",
   asyncio_server(),
   curl(url=f"https://{BLOCKED}:{{port}}/", keylog=False) | {
       "client": CURL[:-2] + ["--resolve", f"{BLOCKED}:{{port}}:127.0.0.1",
                              f"https://{BLOCKED}:{{port}}/"]},
   expect(None, "incomplete", "packets_dropped_on_path", "client", "no_response", None,
          "client_hello", server_name=BLOCKED),
   setup=(FIREWALL + "--dport {port} -m string --string " + BLOCKED + " --algo bm -j DROP",),
   client_timeout=30.0)
w5("wide5_mtu_blackhole_curl_apache",
   "Apache httpd (TLS 1.2 and 1.3); a packet filter in the namespace drops the server's "
   "packets longer than 1200 bytes (iptables INPUT --sport -m length --length 1200:65535 -j "
   "DROP), as a path whose MTU is smaller than the server believes: the SYN-ACK and small "
   "packets pass, the server's flight with the certificates is retransmitted and never "
   "acknowledged; curl gives up after 5 s. No key log.",
   apache_vhost(), curl(keylog=False),
   expect("TLSv1.3", "incomplete", "path_mtu_blackhole", "client", "no_response", None,
          "server_hello"),
   setup=(FIREWALL + "--sport {port} -m length --length 1200:65535 -j DROP",),
   client_timeout=30.0)

# -------------------------------------------------------------- groups, client certificates
w5("wide5_group_p521_only_gnutls_s_server13",
   "openssl s_server (TLS 1.3 only) allows only the group P-521 (-groups P-521); gnutls-cli "
   "offers only X25519 and P-256 (priority NORMAL:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1). "
   "No key log.",
   s_server("-groups", "P-521", "-tls1_3", "-www"),
   gnutls("--priority", "NORMAL:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1", keylog=False),
   expect(None, "failed", "no_common_group", "server", "alert", alert("server", 40),
          "client_hello"))
w5("wide5_group_p384_only_curl_apache13",
   "Apache httpd + mod_ssl (TLS 1.3) allows only P-384 (SSLOpenSSLConfCmd Groups P-384); curl "
   "offers only X25519 (--curves X25519). No key log.",
   apache_vhost("SSLOpenSSLConfCmd Groups P-384", protocol="-all +TLSv1.3"),
   curl("--curves", "X25519", keylog=False),
   expect(None, "failed", "no_common_group", "server", "alert", alert("server", 40),
          "client_hello"))
w5("wide5_client_cert_missing_node_asyncio13",
   "The Python asyncio server (TLS 1.3) requires a Corp Client CA certificate (CERT_REQUIRED); "
   "the Node.js client (key log) has none, sends an empty Certificate, its Finished and the "
   "request. asyncio logs 'peer did not return a certificate' and closes (FIN) without the "
   "certificate_required alert (it aborts the transport before flushing it); the Node.js "
   "client ends without an answer and exits 0.",
   asyncio_server("--cafile", "{pki}/corp-ca.crt"), node_client(),
   expect("TLSv1.3", "failed", "client_cert_missing", "server", "fin", None,
          "client_certificate"))
w5("wide5_client_cert_unknown_ca_gnutls_s_server12",
   "openssl s_server (TLS 1.2) asks for an optional client certificate (-verify 1) but fails "
   "the handshake on any verification error (-verify_return_error), trusting the Corp Client "
   "CA; gnutls-cli presents mallory's certificate from the Other CA. No key log.",
   s_server("-verify", "1", "-verify_return_error", "-CAfile", "{pki}/corp-ca.crt", "-tls1_2",
            "-www"),
   gnutls("--x509certfile", "{pki}/client-other.crt", "--x509keyfile",
          "{pki}/client-other.key", keylog=False),
   expect("TLSv1.2", "failed", "client_cert_rejected", "server", "alert", alert("server", 48),
          "client_certificate"))

# -------------------------------------------------------------------------------- controls
w5("wide5_small_records_success_node_s_server12",
   "openssl s_server (TLS 1.2) sends records of at most 512 bytes (-max_send_frag 512), so "
   "its certificate flight spans many records; the Node.js client (key log) fetches /.",
   s_server("-max_send_frag", "512", "-tls1_2", "-www"), node_client(),
   expect("TLSv1.2", "established", "ok", None, None, None, None))
w5("wide5_resumption_stateful_success_gnutls_s_server13",
   "openssl s_server (TLS 1.3) with -no_ticket, which in TLS 1.3 means stateful tickets (a "
   "session cache on the server) instead of self-contained ones; gnutls-cli --resume (key "
   "log) connects twice and resumes the first session ('This is a resumed session'). Stream "
   "1 is the resumed connection.",
   s_server("-no_ticket", "-tls1_3", "-www"), gnutls("--resume"),
   expect("TLSv1.3", "established", "ok", None, None, None, None, stream=1))
w5("wide5_record_size_limit_success_gnutls_apache13",
   "Apache httpd + mod_ssl (TLS 1.3) with the good chain; gnutls-cli asks for records of at "
   "most 512 bytes (--recordsize 512: the record_size_limit extension, RFC 8449, is in its "
   "ClientHello), which OpenSSL 3.0 does not implement and so ignores. No key log.",
   apache_vhost(), gnutls("--recordsize", "512", keylog=False),
   expect("TLSv1.3", "established", "ok", None, None, None, None))


# ------------------------------------------------------------- SMTP STARTTLS (Postfix, swaks)
def postfix_version() -> str:
    return f"Postfix {_out(['postconf', '-d', '-h', 'mail_version'])} smtpd ({_openssl()})"


def postfix(*settings: str) -> tuple:
    """Postfix smtpd on the scenario port from a copy of Debian's configuration with the given
    main.cf settings (postconf -e), its master in the foreground (-d) and its log on stdout.
    No delivery: no local domains, no postmaster notices."""
    base = ["myhostname=mail.lab.test", "inet_interfaces=127.0.0.1", "inet_protocols=ipv4",
            "maillog_file=/dev/stdout", "mydestination=", "alias_maps=", "alias_database=",
            "relayhost=", "notify_classes=", "smtpd_tls_loglevel=1"]
    script = ("mkdir -p {wd}/pf && cp /etc/postfix/master.cf /etc/postfix/main.cf {wd}/pf/ && "
              "postconf -c {wd}/pf -e " + shlex.join(base + list(settings)) + " && "
              "postconf -c {wd}/pf -M '127.0.0.1:{port}/inet=127.0.0.1:{port} inet n - n - - "
              "smtpd' && postconf -c {wd}/pf -MX smtp/inet && "
              "exec /usr/lib/postfix/sbin/master -d -c {wd}/pf")
    return command("postfix", ["sh", "-c", script], postfix_version)


def postfix_tls(cert: str = "fullchain-good.pem", key: str = "leaf-good.key") -> tuple:
    return postfix(f"smtpd_tls_cert_file={{pki}}/{cert}", f"smtpd_tls_key_file={{pki}}/{key}",
                   "smtpd_tls_security_level=may")


def swaks_version() -> str:
    first = (_out(["swaks", "--version"]).splitlines() or ["swaks"])[0].split()
    sock = _out(["perl", "-MIO::Socket::SSL", "-e", "print $IO::Socket::SSL::VERSION"])
    ssl = _out(["perl", "-MNet::SSLeay", "-e", "print Net::SSLeay::SSLeay_version(0)"])
    return f"swaks {first[-1]} (Perl IO::Socket::SSL {sock}, {' '.join(ssl.split()[:2])})"


CLIENT_VERSIONS["swaks"] = swaks_version


def swaks(*extra: str) -> dict:
    """swaks (Perl, IO::Socket::SSL) asking for STARTTLS (--tls) and stopping after EHLO."""
    return {"client": ["swaks", "--server", "127.0.0.1:{port}", "--ehlo", "client.lab.test",
                       "--tls", "--quit-after", "EHLO", "--timeout", "5", *extra],
            "client_kind": "swaks"}


w5("wide5_smtp_starttls_refused_swaks_postfix",
   "Postfix smtpd with smtpd_tls_security_level = may, but its key file does not match its "
   "certificate (the Rogue leaf's key): it advertises STARTTLS in its EHLO answer, logs "
   "'TLS library problem: ... key values mismatch' and answers swaks' STARTTLS with '454 "
   "4.7.0 TLS not available due to local problem'; swaks gives up ('STARTTLS attempted but "
   "failed') and closes. No TLS record at all.",
   postfix_tls(key="leaf-rogue.key"), swaks(),
   expect(None, "not_tls", "starttls_refused", "client", "fin", None, "client_hello",
          server_name=None), log_pattern=r"TLS library problem|454|lost connection")
w5("wide5_smtp_starttls_not_offered_swaks_postfix",
   "Postfix smtpd with smtpd_tls_security_level = none: no STARTTLS in its EHLO answer; swaks "
   "(--tls: TLS required) stops there ('Host did not advertise STARTTLS') and closes.",
   postfix("smtpd_tls_security_level=none"), swaks(),
   expect(None, "not_tls", "starttls_not_offered", "client", "fin", None, "client_hello",
          server_name=None), log_pattern=r"disconnect|lost connection")
w5("wide5_smtp_starttls_untrusted_curl_postfix",
   "Postfix smtpd offers STARTTLS with the Rogue Root chain; curl (smtp://, --ssl-reqd, key "
   "log) upgrades and refuses the certificate ('unable to get local issuer certificate'), its "
   "alert in plaintext (TLS 1.3, before OpenSSL's client switches keys).",
   postfix_tls(cert="fullchain-rogue.pem", key="leaf-rogue.key"),
   curl("--ssl-reqd", url="smtp://www.lab.test:{port}/"),
   expect("TLSv1.3", "failed", "server_cert_untrusted", "client", "alert", alert("client", 48),
          "server_certificate"), log_pattern=r"SSL_accept error|lost connection")
w5("wide5_smtp_starttls_success_swaks_postfix",
   "Postfix smtpd offers STARTTLS with the good chain; swaks (which sends no server name) "
   "upgrades (TLS 1.3), says EHLO again and quits.",
   postfix_tls(), swaks(),
   expect("TLSv1.3", "established", "ok", None, None, None, None, server_name=None),
   log_pattern=r"TLS connection")


# ------------------------------------------------------------------ an HTTP proxy (tinyproxy)
def tinyproxy_version() -> str:
    return _out(["tinyproxy", "-v"]).strip() or "tinyproxy"


def tinyproxy(*lines: str) -> tuple:
    """tinyproxy in the foreground on the scenario port, in a mount namespace whose /etc/hosts
    maps www.lab.test to 127.0.0.1; its log on stdout."""
    conf = "\n".join(["Port {port}", "Listen 127.0.0.1", "User nobody", "Group nogroup",
                      "Timeout 10", "LogLevel Info", *lines]) + "\n"
    script = (f"mkdir -p {{wd}} && printf %s {shlex.quote(conf)} > {{wd}}/tinyproxy.conf && "
              f"echo '127.0.0.1 {HOST}' > {{wd}}/hosts && mount --bind {{wd}}/hosts /etc/hosts "
              "&& exec tinyproxy -d -c {wd}/tinyproxy.conf")
    return command("tinyproxy", ["unshare", "-m", "sh", "-c", script], tinyproxy_version)


PROXIED = URL.replace("{port}", "{upstream}")
w5("wide5_proxy_connect_forbidden_curl_tinyproxy",
   "curl goes through tinyproxy (-x http://127.0.0.1:port) to https://www.lab.test:<upstream>/; "
   "tinyproxy allows CONNECT to port 443 only (ConnectPort 443), logs 'Refused CONNECT method "
   "on port ...' and answers 403; curl: 'CONNECT tunnel failed, response 403'. No TLS.",
   tinyproxy("ConnectPort 443"),
   curl("-x", "http://127.0.0.1:{port}", url=PROXIED, keylog=False),
   expect(None, "not_tls", "proxy_connect_refused", "server", "fin", None, "client_hello",
          server_name=None), log_pattern=r"Refused")
w5("wide5_proxy_auth_required_curl_tinyproxy",
   "tinyproxy asks for credentials (BasicAuth); curl sends CONNECT without any and gets 407 "
   "Proxy Authentication Required ('CONNECT tunnel failed, response 407'). No TLS.",
   tinyproxy("BasicAuth lab secret"),
   curl("-x", "http://127.0.0.1:{port}", url=PROXIED, keylog=False),
   expect(None, "not_tls", "proxy_connect_refused", "server", "fin", None, "client_hello",
          server_name=None), log_pattern=r"Request")
w5("wide5_proxy_tunnel_success_curl_tinyproxy_asyncio",
   "curl (key log) goes through tinyproxy (ConnectPort = the upstream port) to the Python "
   "asyncio server (TLS 1.3): CONNECT, 200, then TLS inside the tunnel. Stream 0 is curl's "
   "connection to the proxy (CONNECT, then the TLS handshake); stream 1 the proxy's to the "
   "server.",
   tinyproxy("ConnectPort {upstream}"), curl("-x", "http://127.0.0.1:{port}", url=PROXIED),
   expect("TLSv1.3", "established", "ok", None, None, None, None, stream=0),
   upstream=asyncio_server())
