"""The lab's scenarios: how each is built and what it must show (hand-written ground truth).

A scenario names a server (kind + spec), a client command, and the "expected"
block of expected.json.  The expectation is our reading of the setup (which
side must object, with which alert, at which phase); run.py checks it against
what tshark, the client and the server report, and prints any disagreement.

Command templates may use {port}, {upstream}, {pki} (lab/work/pki relative to
the repo root) and {keylog}.  Ports are given by position in SCENARIOS, so new
scenarios go at the end.
"""
from __future__ import annotations

from dataclasses import dataclass

from capture import ALERTS
from servers import ApacheSpec, NginxSpec

HOST = "www.lab.test"
GET = "GET / HTTP/1.1\r\nHost: www.lab.test\r\nConnection: close\r\n\r\n"
GET_SECURE = "GET /secure/ HTTP/1.1\r\nHost: www.lab.test\r\nConnection: close\r\n\r\n"

CURL = ["curl", "-sS", "--max-time", "5", "-o", "/dev/null", "-w", "http_code=%{http_code}\\n",
        "--cacert", "{pki}/root.crt", "--resolve", "www.lab.test:{port}:127.0.0.1"]
URL = "https://www.lab.test:{port}/"
URL_SECURE = "https://www.lab.test:{port}/secure/"
S_CLIENT = ["openssl", "s_client", "-connect", "127.0.0.1:{port}", "-servername", HOST,
            "-CAfile", "{pki}/root.crt", "-verify_return_error", "-keylogfile", "{keylog}",
            "-ign_eof"]
PY_CLIENT = ["python3", "lab/helpers.py", "client", "--port", "{port}", "--cafile",
             "{pki}/root.crt", "--keylog", "{keylog}"]
GNUTLS = ["gnutls-cli", "--x509cafile", "{pki}/root.crt", "--sni-hostname", HOST,
          "--verify-hostname", HOST, "-p", "{port}", "127.0.0.1"]
CLIENT_GOOD = ["--cert", "{pki}/client-good.crt", "--key", "{pki}/client-good.key"]
CLIENT_OTHER = ["--cert", "{pki}/client-other.crt", "--key", "{pki}/client-other.key"]
CLIENT_EXPIRED = ["--cert", "{pki}/client-expired.crt", "--key", "{pki}/client-expired.key"]
SC_CLIENT_GOOD = ["-cert", "{pki}/client-good.crt", "-key", "{pki}/client-good.key"]

TLS12 = ["--tlsv1.2", "--tls-max", "1.2"]
TLS13 = ["--tlsv1.3"]
ONLY12 = "-all +TLSv1.2"
ONLY13 = "-all +TLSv1.3"


def mtls(extra: list[str] | None = None, ca: str = "corp-ca.crt") -> list[str]:
    return [f"SSLCACertificateFile {{pki}}/{ca}",
            "SSLVerifyClient require", "SSLVerifyDepth 2"] + (extra or [])


def alert(sender: str, code: int, encrypted: bool = False, level: str = "fatal") -> dict:
    return {"sender": sender, "level": level, "code": code, "name": ALERTS[code],
            "encrypted": encrypted}


def expect(version: str | None, outcome: str, cause: str, aborted_by: str | None,
           how: str | None, alert_: dict | None, failure_point: str | None,
           server_name: str | None = HOST, hidden_in_session: bool = False,
           stream: int | None = None, late_alert: dict | None = None, refined_cause: str | None = None) -> dict:
    """hidden_in_session: the failure shows only inside the encrypted session (an HTTP error
    answer, no alert), so only the key log can reveal it. stream: which tcp.stream of the
    capture the expectation is about, when the capture holds several connections."""
    exp = {"server_name": server_name, "version": version, "outcome": outcome, "cause": cause,
           "aborted_by": aborted_by, "how": how, "alert": alert_,
           "needs_keylog": bool(alert_ and alert_["encrypted"]) or hidden_in_session,
           "failure_point": failure_point}
    if hidden_in_session:
        exp["hidden_in_session"] = True
    if stream is not None:
        exp["stream"] = stream
    if late_alert is not None:
        exp["late_alert"] = late_alert
    if refined_cause is not None:
        exp["refined_cause"] = refined_cause
    return exp


OK12 = expect("TLSv1.2", "established", "ok", None, None, None, None)
OK13 = expect("TLSv1.3", "established", "ok", None, None, None, None)


@dataclass
class Scenario:
    name: str
    description: str
    server: tuple  # ("apache", ApacheSpec) | ("nginx", NginxSpec) | ("s_server", argv) | ("helper", argv)
    client: list[str]
    client_kind: str  # curl | s_client | gnutls-cli | python | go | node
    expected: dict
    stdin: str | None = None
    keylog_env: bool = False  # client reads SSLKEYLOGFILE (curl, gnutls-cli)
    log_pattern: str | None = None
    upstream: tuple | None = None
    client_timeout: float = 20.0
    settle: float = 0.5
    packet_limit: int | None = None  # tcpdump -c: the capture itself stops early
    netns: bool = False  # run in its own network namespace (unshare -n; the wide lab)
    setup: tuple[str, ...] = ()  # shell commands run in that namespace first ({port})
    postprocess: str | None = None  # "start_at_server_hello": editcap the capture's start off
    port: int | None = None  # a fixed port instead of the one given by position (netns only,
    # where nothing else listens): e.g. 443, where the port alone says "this is TLS"
    capture_icmp: bool = False  # capture ICMP too (a firewall's REJECT with an ICMP error)
    trust: str | None = None  # captures/<folder> for the CA certificates (default _trust, or
    # _trust_wide for netns scenarios): each lab generation keeps the PKI its captures were made with


def apache(**kw) -> tuple:
    return ("apache", ApacheSpec(**kw))


def curl(*extra: str, url: str = URL) -> dict:
    return {"client": CURL + list(extra) + [url], "client_kind": "curl", "keylog_env": True}


def s_client(*extra: str, stdin: str = GET) -> dict:
    return {"client": S_CLIENT + list(extra), "client_kind": "s_client", "stdin": stdin}


def gnutls(*extra: str) -> dict:
    return {"client": GNUTLS + list(extra), "client_kind": "gnutls-cli", "keylog_env": True,
            "stdin": GET}


def sc(name: str, description: str, server: tuple, client: dict, expected: dict, **kw) -> Scenario:
    return Scenario(name=name, description=description, server=server, expected=expected,
                    **client, **kw)


SCENARIOS: list[Scenario] = []
add = SCENARIOS.append

# ---------------------------------------------------------------- a. successes
add(sc("tls12_success",
       "Apache httpd 2.4 + mod_ssl serving www.lab.test with leaf + intermediate (SSLProtocol "
       "-all +TLSv1.2 +TLSv1.3); curl limited to TLS 1.2 trusts the lab root and fetches /.",
       apache(), curl(*TLS12), OK12))
add(sc("tls13_success",
       "Apache httpd + mod_ssl, same good chain; curl --tlsv1.3 fetches / over TLS 1.3.",
       apache(), curl(*TLS13), OK13))
add(sc("mtls_success_tls12",
       "Apache with SSLVerifyClient require and SSLCACertificateFile = Corp Client CA; curl "
       "limited to TLS 1.2 presents a good Corp client certificate (alice).",
       apache(vhost_extra=mtls()), curl(*TLS12, *CLIENT_GOOD), OK12))
add(sc("mtls_success_tls13",
       "Apache with SSLVerifyClient require (Corp Client CA); curl --tlsv1.3 presents the good "
       "Corp client certificate; the CertificateRequest and client Certificate are encrypted.",
       apache(vhost_extra=mtls()), curl(*TLS13, *CLIENT_GOOD), OK13))
add(sc("tls13_success_openssl",
       "openssl s_server -tls1_3 -www with the good leaf and -cert_chain intermediate; openssl "
       "s_client -tls1_3 verifies against the lab root and sends GET /.",
       ("s_server", ["-cert", "{pki}/leaf-good.crt", "-key", "{pki}/leaf-good.key",
                     "-cert_chain", "{pki}/chain-inter.pem", "-tls1_3", "-www"]),
       s_client("-tls1_3"), OK13))
add(sc("tls12_success_nginx",
       "nginx 1.22 with ssl_certificate = leaf + intermediate, ssl_protocols TLSv1.2 TLSv1.3; "
       "curl limited to TLS 1.2 fetches /.",
       ("nginx", NginxSpec()), curl(*TLS12), OK12))

# ------------------------------------------------------- b. server certificate
add(sc("tls12_missing_intermediate_curl",
       "Apache sends only the leaf (SSLCertificateFile = leaf, no intermediate); curl (TLS 1.2) "
       "trusts only the root, cannot build the chain and aborts with a fatal alert.",
       apache(cert="leaf-good.crt"), curl(*TLS12),
       expect("TLSv1.2", "failed", "server_chain_incomplete", "client", "alert",
              alert("client", 48), "server_certificate")))
add(sc("tls12_missing_intermediate_openssl",
       "Apache sends only the leaf; openssl s_client -tls1_2 -verify_return_error trusts only the "
       "root and aborts.",
       apache(cert="leaf-good.crt"), s_client("-tls1_2"),
       expect("TLSv1.2", "failed", "server_chain_incomplete", "client", "alert",
              alert("client", 48), "server_certificate")))
add(sc("tls13_missing_intermediate_curl",
       "TLS 1.3 twin: Apache sends only the leaf; curl --tlsv1.3 aborts. OpenSSL's client has not "
       "installed its handshake write keys yet when it rejects the server Certificate, so its "
       "alert goes out as a plaintext record (content type 21) although the server flight was "
       "encrypted.",
       apache(cert="leaf-good.crt"), curl(*TLS13),
       expect("TLSv1.3", "failed", "server_chain_incomplete", "client", "alert",
              alert("client", 48), "server_certificate")))
add(sc("tls12_untrusted_root_curl",
       "Apache serves a leaf + intermediate issued under 'Rogue Root CA', which the client does not "
       "trust; curl (TLS 1.2) trusts only the lab root.",
       apache(cert="fullchain-rogue.pem", key="leaf-rogue.key"), curl(*TLS12),
       expect("TLSv1.2", "failed", "server_cert_untrusted", "client", "alert",
              alert("client", 48), "server_certificate")))
add(sc("tls12_untrusted_root_gnutls",
       "Same rogue chain on Apache; gnutls-cli (TLS 1.2 priority) with only the lab root as CA. "
       "GnuTLS verifies, then sends its own choice of alert.",
       apache(cert="fullchain-rogue.pem", key="leaf-rogue.key"),
       gnutls("--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2"),
       expect("TLSv1.2", "failed", "server_cert_untrusted", "client", "alert",
              alert("client", 42), "server_certificate")))
add(sc("tls13_untrusted_root_curl",
       "TLS 1.3 twin of the rogue chain: curl --tlsv1.3; as with every OpenSSL client rejecting "
       "a TLS 1.3 server certificate, the alert is sent in plaintext.",
       apache(cert="fullchain-rogue.pem", key="leaf-rogue.key"), curl(*TLS13),
       expect("TLSv1.3", "failed", "server_cert_untrusted", "client", "alert",
              alert("client", 48), "server_certificate")))
add(sc("tls12_self_signed_curl",
       "Apache serves a self-signed www.lab.test certificate (openssl req -x509); curl (TLS 1.2) "
       "trusts only the lab root.",
       apache(cert="leaf-selfsigned.crt", key="leaf-selfsigned.key"), curl(*TLS12),
       expect("TLSv1.2", "failed", "server_cert_self_signed", "client", "alert",
              alert("client", 48), "server_certificate")))
add(sc("tls12_expired_curl",
       "Apache serves a leaf (signed by the lab intermediate, chain sent) whose validity ended "
       "2025-01-01 (openssl ca -startdate 20240101000000Z -enddate 20250101000000Z); curl TLS 1.2.",
       apache(cert="fullchain-expired.pem", key="leaf-expired.key"), curl(*TLS12),
       expect("TLSv1.2", "failed", "server_cert_expired", "client", "alert",
              alert("client", 45), "server_certificate")))
add(sc("tls12_not_yet_valid_curl",
       "Apache serves a leaf valid only from 2034-01-01 (openssl ca -startdate 20340101000000Z); "
       "curl TLS 1.2.",
       apache(cert="fullchain-notyet.pem", key="leaf-notyet.key"), curl(*TLS12),
       expect("TLSv1.2", "failed", "server_cert_not_yet_valid", "client", "alert",
              alert("client", 42), "server_certificate")))
add(sc("tls12_hostname_mismatch_openssl",
       "Apache serves a valid chain for other.example.test; openssl s_client -tls1_2 "
       "-verify_hostname www.lab.test checks the name during the handshake and aborts "
       "(X509_V_ERR_HOSTNAME_MISMATCH maps to bad_certificate).",
       apache(cert="fullchain-wronghost.pem", key="leaf-wronghost.key"),
       s_client("-tls1_2", "-verify_hostname", HOST),
       expect("TLSv1.2", "failed", "server_cert_hostname_mismatch", "client", "alert",
              alert("client", 42), "server_certificate")))
add(sc("tls12_hostname_mismatch_curl",
       "Apache serves a valid chain for other.example.test; curl (TLS 1.2) to www.lab.test. curl "
       "7.88 checks the host name itself after the handshake, so the handshake completes; curl "
       "then sends no request, only an encrypted close_notify (warning, needs the key log to tell "
       "from a fatal alert) and closes; no fatal alert is ever sent. Its socket ends with RST "
       "because the server's own close_notify arrived unread.",
       apache(cert="fullchain-wronghost.pem", key="leaf-wronghost.key"), curl(*TLS12),
       expect("TLSv1.2", "failed", "server_cert_hostname_mismatch", "client", "alert",
              alert("client", 0, encrypted=True, level="warning"), "server_certificate")))

# ----------------------------------------------------- c. protocol and client certs
add(sc("version_mismatch_client12_server13",
       "Apache SSLProtocol -all +TLSv1.3; curl --tls-max 1.2 offers at most TLS 1.2.",
       apache(protocol=ONLY13), curl("--tls-max", "1.2"),
       expect(None, "failed", "protocol_version_mismatch", "server", "alert",
              alert("server", 70), "client_hello")))
add(sc("version_mismatch_client13_server12",
       "Apache SSLProtocol -all +TLSv1.2; curl --tlsv1.3 offers only TLS 1.3 (supported_versions).",
       apache(protocol=ONLY12), curl(*TLS13),
       expect(None, "failed", "protocol_version_mismatch", "server", "alert",
              alert("server", 70), "client_hello")))
add(sc("tls12_no_shared_cipher",
       "Apache TLS 1.2 only with SSLCipherSuite ECDHE-RSA-AES256-GCM-SHA384; curl TLS 1.2 with "
       "--ciphers ECDHE-RSA-AES128-GCM-SHA256.",
       apache(protocol=ONLY12, vhost_extra=["SSLCipherSuite ECDHE-RSA-AES256-GCM-SHA384"]),
       curl(*TLS12, "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"),
       expect(None, "failed", "no_shared_cipher", "server", "alert", alert("server", 40),
              "client_hello")))
add(sc("tls10_client_legacy_rejected",
       "Modern Apache (SSLProtocol -all +TLSv1.2 +TLSv1.3); openssl s_client -tls1 with "
       "-cipher DEFAULT@SECLEVEL=0 so the client may offer TLS 1.0 at all.",
       apache(), s_client("-tls1", "-cipher", "DEFAULT@SECLEVEL=0"),
       expect(None, "failed", "legacy_protocol_rejected", "server", "alert", alert("server", 70),
              "client_hello")))
add(sc("tls11_client_legacy_rejected",
       "Modern Apache; openssl s_client -tls1_1 -cipher DEFAULT@SECLEVEL=0.",
       apache(), s_client("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"),
       expect(None, "failed", "legacy_protocol_rejected", "server", "alert", alert("server", 70),
              "client_hello")))
add(sc("tls12_client_cert_missing",
       "Apache SSLVerifyClient require (Corp Client CA); curl TLS 1.2 has no client certificate "
       "and answers the CertificateRequest with an empty Certificate.",
       apache(vhost_extra=mtls()), curl(*TLS12),
       expect("TLSv1.2", "failed", "client_cert_missing", "server", "alert", alert("server", 40),
              "client_certificate")))
add(sc("tls13_client_cert_missing",
       "TLS 1.3 twin: Apache SSLVerifyClient require; curl --tlsv1.3 without a certificate. The "
       "server's alert is encrypted; curl only learns of it on its first read.",
       apache(vhost_extra=mtls()), curl(*TLS13),
       expect("TLSv1.3", "failed", "client_cert_missing", "server", "alert",
              alert("server", 116, encrypted=True), "client_certificate")))
add(sc("tls12_client_cert_unknown_ca",
       "Apache SSLVerifyClient require trusting only Corp Client CA; curl TLS 1.2 presents a "
       "certificate issued by 'Other CA'.",
       apache(vhost_extra=mtls()), curl(*TLS12, *CLIENT_OTHER),
       expect("TLSv1.2", "failed", "client_cert_rejected", "server", "alert", alert("server", 48),
              "client_certificate")))
add(sc("tls13_client_cert_unknown_ca",
       "TLS 1.3 twin: curl --tlsv1.3 presents the Other CA certificate; the server's alert is "
       "encrypted.",
       apache(vhost_extra=mtls()), curl(*TLS13, *CLIENT_OTHER),
       expect("TLSv1.3", "failed", "client_cert_rejected", "server", "alert",
              alert("server", 48, encrypted=True), "client_certificate")))
add(sc("tls12_client_cert_expired",
       "Apache SSLVerifyClient require (Corp Client CA); curl TLS 1.2 presents a Corp client "
       "certificate that expired on 2025-01-01.",
       apache(vhost_extra=mtls()), curl(*TLS12, *CLIENT_EXPIRED),
       expect("TLSv1.2", "failed", "client_cert_rejected", "server", "alert", alert("server", 45),
              "client_certificate")))
add(sc("tls12_client_cert_not_in_ca_list",
       "Apache SSLVerifyClient require with SSLCACertificateFile and SSLCADNRequestFile both = Corp "
       "Client CA, so the CertificateRequest names only Corp; the curl client (TLS 1.2) presents "
       "its Other CA certificate anyway (OpenSSL clients send a configured cert whatever the list).",
       apache(vhost_extra=mtls(["SSLCADNRequestFile {pki}/corp-ca.crt"])),
       curl(*TLS12, *CLIENT_OTHER),
       expect("TLSv1.2", "failed", "client_cert_rejected", "server", "alert", alert("server", 48),
              "client_certificate")))
add(sc("tls12_client_cert_not_in_ca_list_but_trusted",
       "Apache trusts both Corp Client CA and Other CA (SSLCACertificateFile) but its "
       "CertificateRequest names only Corp (SSLCADNRequestFile); curl TLS 1.2 presents the Other "
       "CA certificate. The CA list is only a hint: the server accepts the certificate.",
       apache(vhost_extra=mtls(["SSLCADNRequestFile {pki}/corp-ca.crt"], ca="client-cas-both.pem")),
       curl(*TLS12, *CLIENT_OTHER), OK12))

# ------------------------------------------------ d. renegotiation, PHA, odd peers
RENEG_LOCATION = ["SSLCACertificateFile {pki}/corp-ca.crt", "<Location /secure>",
                  "  SSLVerifyClient require", "  SSLVerifyDepth 2", "</Location>"]
RENEG_DESC = ("Apache TLS 1.2 only; the vhost needs no client certificate but <Location /secure> has "
              "SSLVerifyClient require (Corp Client CA), so a request for /secure/ makes Apache send "
              "a HelloRequest and renegotiate with a CertificateRequest. ")
PHA_DESC = ("Apache with TLS 1.3; <Location /secure> has SSLVerifyClient require (Corp Client CA), "
            "which in TLS 1.3 is done with post-handshake authentication (a CertificateRequest after "
            "the handshake, only if the client offered the post_handshake_auth extension). ")

add(sc("tls12_renegotiation_client_cert_openssl",
       RENEG_DESC + "openssl s_client -tls1_2 with the good Corp client certificate sends "
       "GET /secure/ and answers the renegotiation with its certificate.",
       apache(protocol=ONLY12, vhost_extra=RENEG_LOCATION),
       s_client("-tls1_2", *SC_CLIENT_GOOD, stdin=GET_SECURE), OK12))
add(sc("tls12_renegotiation_no_client_cert_openssl",
       RENEG_DESC + "openssl s_client -tls1_2 without a certificate renegotiates and sends an empty "
       "Certificate; Apache fails the renegotiation with an alert encrypted under the first "
       "handshake's keys.",
       apache(protocol=ONLY12, vhost_extra=RENEG_LOCATION),
       s_client("-tls1_2", stdin=GET_SECURE),
       expect("TLSv1.2", "failed", "client_cert_missing", "server", "alert",
              alert("server", 40, encrypted=True), "renegotiation")))
add(sc("tls12_renegotiation_refused_openssl",
       RENEG_DESC + "openssl s_client -tls1_2 -no_renegotiation (with the good certificate "
       "configured) refuses the HelloRequest with a no_renegotiation warning alert (100); Apache "
       "then ends the connection with a fatal handshake_failure (both alerts encrypted under "
       "the first handshake's keys) and logs an HTTP 403 for the request.",
       apache(protocol=ONLY12, vhost_extra=RENEG_LOCATION),
       s_client("-tls1_2", "-no_renegotiation", *SC_CLIENT_GOOD, stdin=GET_SECURE),
       expect("TLSv1.2", "failed", "renegotiation_refused", "server", "alert",
              alert("server", 40, encrypted=True), "renegotiation"),
       log_pattern=r"AH02261|[Rr]e-negotiation"))
add(sc("tls12_renegotiation_client_cert_curl",
       RENEG_DESC + "curl --tls-max 1.2 with the good client certificate requests /secure/. "
       "curl 7.88 over OpenSSL 3 (HTTP/1.1) accepts the server-initiated renegotiation and sends "
       "its certificate: HTTP 200.",
       apache(protocol=ONLY12, vhost_extra=RENEG_LOCATION),
       curl(*TLS12, *CLIENT_GOOD, url=URL_SECURE), OK12,
       log_pattern=r"AH02226"))
add(sc("tls13_pha_success_openssl",
       PHA_DESC + "openssl s_client -tls1_3 -enable_pha with the good Corp certificate requests "
       "/secure/ and answers the post-handshake CertificateRequest.",
       apache(vhost_extra=RENEG_LOCATION),
       s_client("-tls1_3", "-enable_pha", *SC_CLIENT_GOOD, stdin=GET_SECURE), OK13))
add(sc("tls13_pha_no_cert_openssl",
       PHA_DESC + "openssl s_client -tls1_3 -enable_pha without a certificate answers the "
       "post-handshake CertificateRequest with an empty Certificate.",
       apache(vhost_extra=RENEG_LOCATION),
       s_client("-tls1_3", "-enable_pha", stdin=GET_SECURE),
       expect("TLSv1.3", "failed", "client_cert_missing", "server", "alert",
              alert("server", 116, encrypted=True), "post_handshake_auth")))
add(sc("tls13_pha_client_cert_curl",
       PHA_DESC + "curl 7.88 --tlsv1.3 with the good client certificate: curl offers "
       "post_handshake_auth (it enables it whenever OpenSSL supports it), answers the "
       "post-handshake CertificateRequest and gets HTTP 200.",
       apache(vhost_extra=RENEG_LOCATION),
       curl(*TLS13, *CLIENT_GOOD, url=URL_SECURE), OK13))
add(sc("tls13_pha_not_offered_python",
       PHA_DESC + "A Python ssl client (post_handshake_auth left off, the default) with the good "
       "client certificate loaded requests /secure/ over TLS 1.3. It never offers the "
       "extension, so Apache cannot ask for the certificate and answers HTTP 403 over the "
       "established connection; no alert.",
       apache(vhost_extra=RENEG_LOCATION),
       {"client": PY_CLIENT + ["--tls13", "--path", "/secure/", "--cert",
                               "{pki}/client-good.crt", "--key", "{pki}/client-good.key"],
        "client_kind": "python"},
       expect("TLSv1.3", "established", "client_cert_missing", "server", "fin", None,
              "post_handshake_auth", hidden_in_session=True),
       log_pattern=r"post-handshake|AH10158|AH02229|AH02263"))
SNI_VHOSTS = """<VirtualHost 127.0.0.1:{port}>
  ServerName api.lab.test
  SSLEngine on
  SSLCertificateFile {pki}/fullchain-good.pem
  SSLCertificateKeyFile {pki}/leaf-good.key
</VirtualHost>"""
STRICT = {"protocol": ONLY12, "vhost_extra": ["SSLStrictSNIVHostCheck on"],
          "extra_vhosts": [SNI_VHOSTS]}
STRICT_DESC = ("Apache with two name-based TLS vhosts on one port (www.lab.test, the first and so "
               "the default, and api.lab.test), both with SSLStrictSNIVHostCheck on. ")
add(sc("sni_unknown_apache_strict",
       STRICT_DESC + "openssl s_client -tls1_2 sends SNI unknown.lab.test and Host: "
       "unknown.lab.test. Apache 2.4 does not abort the handshake for an unknown SNI name: it "
       "falls back to the default vhost without any alert, and as the Host header maps to the "
       "same vhost the strict check passes and the request gets HTTP 200.",
       apache(**STRICT),
       {"client": ["openssl", "s_client", "-connect", "127.0.0.1:{port}", "-servername",
                   "unknown.lab.test", "-CAfile", "{pki}/root.crt", "-keylogfile", "{keylog}",
                   "-ign_eof", "-tls1_2"], "client_kind": "s_client",
        "stdin": "GET / HTTP/1.1\r\nHost: unknown.lab.test\r\nConnection: close\r\n\r\n"},
       expect("TLSv1.2", "established", "ok", None, None, None, None,
              server_name="unknown.lab.test")))
add(sc("sni_missing_apache_strict",
       STRICT_DESC + "openssl s_client -tls1_2 -noservername sends no SNI at all and asks for "
       "Host: api.lab.test; the handshake completes on the default vhost, then the strict check "
       "refuses the request with HTTP 403 (no alert).",
       apache(**STRICT),
       {"client": ["openssl", "s_client", "-connect", "127.0.0.1:{port}", "-noservername",
                   "-CAfile", "{pki}/root.crt", "-keylogfile", "{keylog}", "-ign_eof", "-tls1_2"],
        "client_kind": "s_client",
        "stdin": "GET / HTTP/1.1\r\nHost: api.lab.test\r\nConnection: close\r\n\r\n"},
       expect("TLSv1.2", "established", "sni_rejected", "server", "fin", None, "application_data",
              server_name=None, hidden_in_session=True),
       log_pattern=r"AH02033|AH02032|SNI"))
add(sc("sni_unknown_nginx_reject_handshake",
       "nginx with a default_server block that has ssl_reject_handshake on and a www.lab.test "
       "server; curl (TLS 1.2) asks for unknown.lab.test via SNI and nginx aborts the handshake.",
       ("nginx", NginxSpec(extra_http="""  server {
    listen 127.0.0.1:{port} ssl default_server;
    ssl_reject_handshake on;
  }""")),
       {"client": CURL[:-2] + ["--resolve", "unknown.lab.test:{port}:127.0.0.1", *TLS12,
                               "https://unknown.lab.test:{port}/"],
        "client_kind": "curl", "keylog_env": True},
       expect(None, "failed", "sni_rejected", "server", "alert", alert("server", 112),
              "client_hello", server_name="unknown.lab.test")))
add(sc("plaintext_http_on_tls_port",
       "Apache TLS vhost; curl sends a plain HTTP request (http://) to the TLS port. mod_ssl "
       "notices the non-TLS bytes and answers in plain HTTP with 400 Bad Request.",
       apache(), {"client": CURL[:-4] + ["--resolve", "www.lab.test:{port}:127.0.0.1",
                                          "http://www.lab.test:{port}/"],
                  "client_kind": "curl"},
       expect(None, "not_tls", "plaintext_http_on_tls_port", "server", "fin", None,
              "client_hello", server_name=None),
       log_pattern=r"AH02261|plain HTTP|speaking|HTTP"))
add(sc("tls_to_plaintext_server",
       "Apache with a plain-HTTP vhost (no SSLEngine) on the port; curl speaks TLS 1.2 to it; "
       "Apache answers the ClientHello bytes with an HTTP 400 page.",
       apache(ssl=False), curl(*TLS12),
       expect(None, "not_tls", "tls_to_plaintext_server", "server", "fin", None, "client_hello")))
add(sc("middlebox_reset",
       "curl (TLS 1.2) connects to a Python relay on the scenario port, which forwards to Apache on "
       "port+1. The relay passes the ClientHello and the first 64 bytes of Apache's answer, then "
       "closes both sockets with SO_LINGER 0, so each side receives an RST. The capture on lo "
       "shows both legs (client<->relay and relay<->Apache).",
       ("helper", ["rst-relay", "{port}", "{upstream}"]), curl(*TLS12),
       expect("TLSv1.2", "failed", "middlebox_reset", "middlebox", "rst", None, "server_hello",
              stream=0),
       upstream=apache(protocol=ONLY12)))
add(sc("server_no_response",
       "A Python listener accepts the TCP connection, reads the ClientHello and never answers; "
       "curl (--max-time 3) gives up and closes.",
       ("helper", ["silent", "{port}"]),
       {"client": ["curl", "-sS", "--max-time", "3", "-o", "/dev/null", "--cacert",
                   "{pki}/root.crt", "--resolve", "www.lab.test:{port}:127.0.0.1", URL],
        "client_kind": "curl", "keylog_env": True},
       expect(None, "incomplete", "server_no_response", "client", "no_response", None,
              "client_hello"), settle=1.0))
add(sc("large_chain_success",
       "nginx serves a leaf with 403 subjectAltNames plus a 4-intermediate chain (root > inter > "
       "inter2 > inter3 > inter4 > leaf, about 16 KB of DER); a Python ssl client sets "
       "TCP_MAXSEG 1400 before connecting so the server flight spans many TCP segments as on "
       "Ethernet, and SO_RCVBUF 4096 so its small receive window keeps loopback's segmentation "
       "offload from sending the flight as a few 64 KB super-segments. TLS 1.2 so the "
       "Certificate message is visible.",
       ("nginx", NginxSpec(cert="fullchain-big.pem", key="leaf-big.key", protocols="TLSv1.2")),
       {"client": PY_CLIENT + ["--maxseg", "1400", "--rcvbuf", "4096"], "client_kind": "python"},
       OK12))

# ------------------------------------------- e. more twins and odd endings (appended)
add(sc("tls13_no_shared_cipher",
       "Apache TLS 1.3 only with SSLCipherSuite TLSv1.3 TLS_AES_256_GCM_SHA384; curl --tlsv1.3 "
       "--tls13-ciphers TLS_AES_128_GCM_SHA256 offers no suite the server accepts.",
       apache(protocol=ONLY13, vhost_extra=["SSLCipherSuite TLSv1.3 TLS_AES_256_GCM_SHA384"]),
       curl(*TLS13, "--tls13-ciphers", "TLS_AES_128_GCM_SHA256"),
       expect(None, "failed", "no_shared_cipher", "server", "alert", alert("server", 40),
              "client_hello")))
add(sc("tls13_hostname_mismatch_curl",
       "TLS 1.3 twin of the curl host-name mismatch: Apache serves a valid chain for "
       "other.example.test; curl --tlsv1.3 to www.lab.test completes the handshake (its "
       "Finished is sent), then checks the name, sends an encrypted close_notify and closes.",
       apache(cert="fullchain-wronghost.pem", key="leaf-wronghost.key"), curl(*TLS13),
       expect("TLSv1.3", "failed", "server_cert_hostname_mismatch", "client", "alert",
              alert("client", 0, encrypted=True, level="warning"), "server_certificate")))
add(sc("tls13_expired_curl",
       "TLS 1.3 twin of the expired server certificate (leaf ended 2025-01-01); curl --tlsv1.3. "
       "The OpenSSL client's alert is plaintext (see tls13_missing_intermediate_curl).",
       apache(cert="fullchain-expired.pem", key="leaf-expired.key"), curl(*TLS13),
       expect("TLSv1.3", "failed", "server_cert_expired", "client", "alert",
              alert("client", 45), "server_certificate")))
add(sc("tls13_untrusted_root_gnutls",
       "Apache serves the Rogue Root chain; gnutls-cli restricted to TLS 1.3 trusts only the lab "
       "root. Unlike OpenSSL, GnuTLS sends its alert under the handshake keys.",
       apache(cert="fullchain-rogue.pem", key="leaf-rogue.key"),
       gnutls("--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3"),
       expect("TLSv1.3", "failed", "server_cert_untrusted", "client", "alert",
              alert("client", 42, encrypted=True), "server_certificate")))
add(sc("tls13_client_cert_expired",
       "TLS 1.3 twin: Apache SSLVerifyClient require (Corp Client CA); curl --tlsv1.3 presents the "
       "expired Corp client certificate; the server's alert is encrypted.",
       apache(vhost_extra=mtls()), curl(*TLS13, *CLIENT_EXPIRED),
       expect("TLSv1.3", "failed", "client_cert_rejected", "server", "alert",
              alert("server", 45, encrypted=True), "client_certificate")))
add(sc("tls13_hello_retry_success",
       "Apache with SSLOpenSSLConfCmd Groups P-256 (TLS 1.3 only); curl --tlsv1.3 --curves "
       "X25519:P-256 sends a key share for X25519 only, so the server answers with a "
       "HelloRetryRequest asking for P-256 and the second ClientHello succeeds.",
       apache(protocol=ONLY13, vhost_extra=["SSLOpenSSLConfCmd Groups P-256"]),
       curl(*TLS13, "--curves", "X25519:P-256"), OK13))
add(sc("server_closed_on_hello",
       "A Python listener reads the ClientHello and closes the connection normally (FIN) without "
       "any alert, like an overloaded server or a proxy that drops TLS it does not like; curl "
       "(TLS 1.2).",
       ("helper", ["fin-on-hello", "{port}"]), curl(*TLS12),
       expect(None, "failed", "server_closed_without_alert", "server", "fin", None,
              "client_hello")))
add(sc("tcp_connection_refused",
       "Nothing listens on the port; curl's SYN is answered by the kernel with RST, before any "
       "TLS byte.",
       ("none", None), curl(*TLS12),
       expect(None, "failed", "connection_reset", "server", "rst", None, "tcp_connect",
              server_name=None)))
add(sc("reset_after_handshake",
       "A Python ssl server (OpenSSL underneath, good chain) completes the TLS 1.2 handshake with "
       "curl, reads the HTTP request, then resets the connection with SO_LINGER 0 instead of "
       "answering: a crash or a killed worker after the handshake.",
       ("helper", ["tls-reset", "{port}", "{pki}/fullchain-good.pem", "{pki}/leaf-good.key"]),
       curl(*TLS12),
       expect("TLSv1.2", "established", "connection_reset", "server", "rst", None,
              "application_data")))
add(sc("middlebox_blackhole_after_first_flight",
       "curl (TLS 1.2, --max-time 3) connects to a Python relay in front of Apache (port+1). The "
       "relay carries all client bytes but only Apache's first flight (ServerHello .. "
       "ServerHelloDone); Apache's ChangeCipherSpec + Finished reach the relay and are swallowed. "
       "The client leg shows the client's Finished left unanswered until curl times out and "
       "closes; the server leg shows Apache's Finished sent.",
       ("helper", ["blackhole-relay", "{port}", "{upstream}"]),
       {"client": ["curl", "-sS", "--max-time", "3", "-o", "/dev/null", "--cacert",
                   "{pki}/root.crt", "--resolve", "www.lab.test:{port}:127.0.0.1", *TLS12, URL],
        "client_kind": "curl", "keylog_env": True},
       expect("TLSv1.2", "incomplete", "server_no_response", "client", "no_response", None,
              "finished", stream=0),
       upstream=apache(protocol=ONLY12), settle=1.0))
add(sc("client_abandons_after_server_hello",
       "A client built from Python's ssl over memory BIOs sends a genuine OpenSSL TLS 1.3 "
       "ClientHello to Apache over a plain socket, reads Apache's first flight (ServerHello .. "
       "Finished) and closes the socket (FIN) without any alert, like a crashed client or a "
       "scanner.",
       apache(),
       {"client": ["python3", "lab/helpers.py", "abandon", "--port", "{port}", "--keylog",
                   "{keylog}"], "client_kind": "python"},
       expect("TLSv1.3", "failed", "client_closed_without_alert", "client", "fin", None,
              "server_hello")))
add(sc("tls12_resumption_openssl",
       "Apache (TLS 1.2 only, shmcb session cache and tickets on); openssl s_client -tls1_2 "
       "-reconnect makes one full handshake and then five more connections that resume the "
       "session (abbreviated handshakes: no Certificate, server sends CCS + Finished first); the "
       "last one sends GET /. Six TLS connections in one capture, all fine.",
       apache(protocol=ONLY12), s_client("-tls1_2", "-reconnect"), OK12))
TLS13_RESUME = (
    "for step in out in; do printf 'GET / HTTP/1.1\\r\\nHost: www.lab.test\\r\\n"
    "Connection: close\\r\\n\\r\\n' | openssl s_client -connect 127.0.0.1:{port} "
    "-servername www.lab.test -CAfile {pki}/root.crt -verify_return_error -keylogfile {keylog} "
    "-ign_eof -tls1_3 -sess_$step lab/work/tls13_resumption_openssl/session.pem || exit $?; done")
add(sc("tls13_resumption_openssl",
       "Apache (TLS 1.3). Two openssl s_client -tls1_3 runs: the first makes a full handshake, "
       "sends GET / and saves the session with its ticket (-sess_out); the second offers that "
       "ticket as a PSK (-sess_in, pre_shared_key extension) and resumes: its server flight has "
       "no Certificate. (s_client -reconnect does not resume in TLS 1.3: it reconnects before "
       "the ticket arrives.) Two TLS 1.3 connections in one capture, both fine.",
       apache(protocol=ONLY13),
       {"client": ["sh", "-c", TLS13_RESUME], "client_kind": "s_client"}, OK13))
add(sc("mtls_optional_no_cert_tls12",
       "Apache with SSLVerifyClient optional (Corp Client CA): the server sends a "
       "CertificateRequest, curl (TLS 1.2) has no certificate and answers with an empty "
       "Certificate message; that is allowed and the request gets HTTP 200.",
       apache(vhost_extra=["SSLCACertificateFile {pki}/corp-ca.crt", "SSLVerifyClient optional",
                           "SSLVerifyDepth 2"]),
       curl(*TLS12), OK12))
add(sc("capture_truncated_after_server_hello",
       "The same healthy exchange as tls12_success (Apache, curl TLS 1.2), but tcpdump was "
       "started with -c 6, so the capture stops after the server's first flight (SYN, SYN-ACK, "
       "ACK, ClientHello, ACK, ServerHello..ServerHelloDone). The handshake really succeeded; "
       "the capture cannot show it, so the honest reading is incomplete, ended by the capture.",
       apache(), curl(*TLS12),
       expect("TLSv1.2", "incomplete", "unknown", "unknown", "capture_ended", None,
              "key_exchange"),
       packet_limit=6))
add(sc("tls13_success_ipv6",
       "nginx listening on [::1] only (TLS 1.2 and 1.3); curl --tlsv1.3 resolves www.lab.test "
       "to ::1. The same healthy handshake as tls13_success, carried over IPv6.",
       ("nginx", NginxSpec(listen="[::1]")),
       {"client": CURL[:-2] + ["--resolve", "www.lab.test:{port}:[::1]", *TLS13, URL],
        "client_kind": "curl", "keylog_env": True}, OK13))
add(sc("tls13_split_client_hello",
       "Apache (TLS 1.3); a Python ssl client driven through memory BIOs writes its ClientHello "
       "to the socket in 150-byte pieces with TCP_NODELAY, so the ClientHello crosses four TCP "
       "segments (as big ClientHellos do on real paths); the handshake and GET / succeed.",
       apache(),
       {"client": ["python3", "lab/helpers.py", "split-hello", "--port", "{port}", "--cafile",
                   "{pki}/root.crt", "--keylog", "{keylog}"], "client_kind": "python"}, OK13))
NGINX_MTLS = ["ssl_client_certificate {pki}/corp-ca.crt", "ssl_verify_client on",
              "ssl_verify_depth 2"]
add(sc("nginx_client_cert_missing_tls12",
       "nginx with ssl_verify_client on (Corp Client CA); curl TLS 1.2 without a certificate. "
       "Unlike Apache, nginx does not abort the handshake: it completes it and answers the "
       "request with HTTP 400 'No required SSL certificate was sent'; no alert.",
       ("nginx", NginxSpec(extra=NGINX_MTLS)), curl(*TLS12),
       expect("TLSv1.2", "established", "client_cert_missing", "server", "fin", None,
              "application_data", hidden_in_session=True),
       log_pattern=r"client sent no required SSL certificate|certificate"))
add(sc("nginx_client_cert_unknown_ca_tls12",
       "nginx with ssl_verify_client on (Corp Client CA); curl TLS 1.2 presents the Other CA "
       "certificate. nginx accepts the handshake and rejects the request with HTTP 400 'The SSL "
       "certificate error'; no alert.",
       ("nginx", NginxSpec(extra=NGINX_MTLS)), curl(*TLS12, *CLIENT_OTHER),
       expect("TLSv1.2", "established", "client_cert_rejected", "server", "fin", None,
              "application_data", hidden_in_session=True),
       log_pattern=r"client SSL certificate verify error|certificate"))
add(sc("tls12_server_cert_wrong_eku_curl",
       "Apache serves a leaf for www.lab.test (chain sent, lab root) whose extendedKeyUsage is "
       "clientAuth only; curl TLS 1.2 checks the purpose (X509_V_ERR_INVALID_PURPOSE) and aborts. "
       "The catalogue has no finer cause than server_cert_rejected for a wrong purpose.",
       apache(cert="fullchain-wrongeku.pem", key="leaf-wrongeku.key"), curl(*TLS12),
       expect("TLSv1.2", "failed", "server_cert_rejected", "client", "alert",
              alert("client", 43), "server_certificate")))
add(sc("tls12_server_cert_revoked_curl",
       "Apache serves a valid-looking leaf + intermediate whose leaf was revoked by the "
       "intermediate (openssl ca -revoke, -crl_reason keyCompromise); curl TLS 1.2 is given the "
       "intermediate's CRL with --crlfile and aborts. Written when the catalogue had no finer cause "
       "than server_cert_rejected for revocation; curl's \"certificate revoked\" proves the finer "
       "server_cert_revoked (refined_cause).",
       apache(cert="fullchain-revoked.pem", key="leaf-revoked.key"),
       curl(*TLS12, "--crlfile", "{pki}/inter.crl"),
       expect("TLSv1.2", "failed", "server_cert_rejected", "client", "alert",
              alert("client", 44), "server_certificate", refined_cause="server_cert_revoked")))
add(sc("tls12_client_cert_wrong_eku",
       "Apache SSLVerifyClient require (Corp Client CA); curl TLS 1.2 presents a Corp-issued "
       "certificate whose extendedKeyUsage is serverAuth only, so it is not valid for client "
       "authentication.",
       apache(vhost_extra=mtls()),
       curl(*TLS12, "--cert", "{pki}/client-wrongeku.crt", "--key", "{pki}/client-wrongeku.key"),
       expect("TLSv1.2", "failed", "client_cert_rejected", "server", "alert", alert("server", 43),
              "client_certificate")))
CLIENT_RENEG = (
    "(sleep 0.5; printf 'R\\n'; sleep 1; printf 'GET / HTTP/1.1\\r\\n"
    "Host: www.lab.test\\r\\nConnection: close\\r\\n\\r\\n'; sleep 1) | "
    "openssl s_client -connect 127.0.0.1:{port} -servername www.lab.test -CAfile "
    "{pki}/root.crt -verify_return_error -keylogfile {keylog} -tls1_2")
add(sc("tls12_client_renegotiation_rejected",
       "Apache TLS 1.2; openssl s_client -tls1_2 completes the handshake and is then told by the "
       "'R' line on its stdin (no -ign_eof, which would disable the command) to start a "
       "renegotiation itself: a new ClientHello, encrypted under the first handshake's keys. "
       "Apache's OpenSSL refuses client-initiated renegotiation with a warning no_renegotiation "
       "alert (100); s_client then gives up with a fatal handshake_failure (40). Both alerts are "
       "encrypted under the first handshake's keys.",
       apache(protocol=ONLY12),
       {"client": ["sh", "-c", CLIENT_RENEG],
        "client_kind": "s_client"},
       expect("TLSv1.2", "failed", "renegotiation_refused", "client", "alert",
              alert("client", 40, encrypted=True), "renegotiation"),
       log_pattern=r"SSL Library Error"))
add(sc("tls12_server_cert_sha1_curl",
       "Apache serves a www.lab.test leaf that the lab intermediate signed with SHA-1 (openssl ca "
       "-md sha1); the server needs SSLCipherSuite DEFAULT@SECLEVEL=0 even to load it. curl "
       "(TLS 1.2, Debian's default security level 2) rejects the weak signature (\"CA signature "
       "digest algorithm too weak\": the finer weak_server_key, refined_cause).",
       apache(cert="fullchain-sha1.pem", key="leaf-sha1.key",
              vhost_extra=["SSLCipherSuite DEFAULT@SECLEVEL=0"]), curl(*TLS12),
       expect("TLSv1.2", "failed", "server_cert_rejected", "client", "alert",
              alert("client", 42), "server_certificate", refined_cause="weak_server_key")))


# The wide lab (lab/wide.py): more servers and clients, each scenario in its own network
# namespace. Appended last so the ports above keep their positions.
from wide import WIDE  # noqa: E402

SCENARIOS.extend(WIDE)

# The second wide lab (lab/wide2.py): a held-out set added later, never used to tune the rules.
from wide2 import WIDE2  # noqa: E402

SCENARIOS.extend(WIDE2)

# The third wide lab (lab/wide3.py): stacks never used before (Java JSSE, NSS, Erlang/OTP,
# Botan, wolfSSL, mbedTLS), held out as a whole.
from wide3 import WIDE3  # noqa: E402

SCENARIOS.extend(WIDE3)

# The fourth wide lab (lab/wide4.py): failure modes and peers the earlier labs never used
# (certificate paths, reverse proxies as TLS clients, old against new, firewalls), held out.
from wide4 import WIDE4  # noqa: E402

SCENARIOS.extend(WIDE4)

# The fifth wide lab (lab/wide5.py): revocation, PSK, STARTTLS, pinning, SNI filters, other
# key types, with Apache, Dovecot and a Python asyncio server in new roles; held out as a whole.
from wide5 import WIDE5  # noqa: E402

SCENARIOS.extend(WIDE5)

# The sixth wide lab (lab/wide6.py): h2o, Caddy, lighttpd on GnuTLS, Ruby, PHP, ncat, wget2 and
# the Python HTTP libraries, with failure modes no earlier lab made; held out as a whole.
from wide6 import WIDE6  # noqa: E402

SCENARIOS.extend(WIDE6)

# The seventh wide lab (lab/wide7.py): zero windows, unanswered keep-alives and relays that
# change or reset a connection with both legs captured; socat as a TLS client; held out as a whole.
from wide7 import WIDE7  # noqa: E402

SCENARIOS.extend(WIDE7)
