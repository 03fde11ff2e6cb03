"""The catalogue of failure causes: one id each, what it means, and what to change.

Ids are stable (users' scripts match on them). ``docs/causes.md`` documents each with its
signature in the bytes and an example capture. Every cause falls in one ``family`` of
:data:`CAUSE_FAMILIES`, the coarse reading the lab judges a diagnosis on when the exact cause is
hidden (lab/score.py). Remedies name Apache mod_ssl directives first (what most of our users
run), then nginx and HAProxy where the cause has lines for them, then general advice for other
servers and clients; ``check`` is a command that confirms the fix, with ``{host}``, ``{port}``
and ``{sni}`` (and ``{starttls}``, the plain-text protocol) filled in by :func:`suggested_check`. An analyst pastes it into a shell: a note
after it is a shell comment with no quote of its own (in parentheses it was a syntax error, and
an apostrophe left the shell waiting for the closing quote), and the values, the server name
chosen by whoever wrote the capture among them, are quoted.

The alert model (:mod:`tlsdissect.diagnosis.alerts`) names these ids as an alert's candidate
causes. A cause that narrows a broader one says so in ``refines``: the diagnosis names the
broader id where it cannot tell the narrower one (the lab's Apache-era sidecars expect
``server_cert_rejected`` for a revoked server certificate and for one without serverAuth).
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass

# The families, with what the causes in each have in common.
CAUSE_FAMILIES: dict[str, str] = {
    "ok": "the handshake succeeded (an alert after the finished exchange included)",
    "server_rejects_hello": "the server refuses what the ClientHello offers or asks for",
    "client_rejects_server_cert": "the client refuses the server's certificate or its status",
    "client_rejects_server_params": "the client refuses another choice of the server (key-exchange parameters, ECH)",
    "server_rejects_client_cert": "the server refuses the client's certificate, or its absence",
    "path_or_middlebox": "something between the two ends dropped, reset or changed the bytes",
    "after_handshake": "the handshake succeeded, then the session failed (renegotiation, the data itself)",
    "transport": "a side went silent, reset or closed the connection without saying why in TLS",
    "not_tls": "one side does not speak TLS on this connection",
    "unknown": "the capture cannot tell, or the reason lies inside a peer",
}


@dataclass(frozen=True)
class Cause:
    id: str
    title: str
    family: str  # a key of CAUSE_FAMILIES
    meaning: str  # what happened, in plain words (docs/causes.md's "Meaning")
    apache: tuple[str, ...] = ()
    nginx: tuple[str, ...] = ()
    haproxy: tuple[str, ...] = ()
    general: tuple[str, ...] = ()
    check: str = ""
    refines: str = ""  # the broader id the diagnosis names where it cannot tell this one


_S_CLIENT = "openssl s_client -connect {host}:{port} -servername {sni}"

CAUSES: dict[str, Cause] = {c.id: c for c in (
    Cause(
        "ok", "The handshake succeeded",
        family="ok",
        meaning="The handshake completed and nothing went wrong that the capture shows.",
    ),
    Cause(
        "protocol_version_mismatch", "No TLS version both sides accept",
        family="server_rejects_hello",
        meaning="The client and the server have no TLS version in common (for example a client limited to TLS "
                "1.2 and a server that only allows TLS 1.3).",
        apache=("Let the server accept a version the client offers: SSLProtocol (e.g. `SSLProtocol -all +TLSv1.2 +TLSv1.3`).",),
        general=("Enable on the server a protocol version the client offers, or configure the client to offer one the server accepts (e.g. curl --tlsv1.2 / --tls-max).",),
        check=_S_CLIENT + " -tls1_2   # and -tls1_3",
    ),
    Cause(
        "legacy_protocol_rejected", "The client only speaks an obsolete protocol (SSLv3/TLS 1.0/1.1)",
        family="server_rejects_hello",
        meaning="The client offers nothing newer than SSLv3, TLS 1.0 or TLS 1.1, and the server no longer "
                "accepts those. Modern OpenSSL refuses them at its default security level even when the "
                "configuration seems to allow them.",
        apache=("Upgrade the client to TLS 1.2 or 1.3. Only as a stop-gap for a client you cannot change: add +TLSv1.1/+TLSv1 to SSLProtocol and `@SECLEVEL=0` to SSLCipherSuite (insecure).",),
        general=("Update the client's TLS library or its configuration so it offers TLS 1.2 or newer; modern OpenSSL builds refuse TLS 1.0/1.1 at the default security level.",),
        check=_S_CLIENT + " -tls1_2",
    ),
    Cause(
        "no_shared_cipher", "No cipher suite (or group / signature algorithm) in common",
        family="server_rejects_hello",
        meaning="The client and the server support a common version but no cipher suite (or key exchange "
                "group, or signature algorithm) they both accept.",
        apache=("Allow a suite the client offers: SSLCipherSuite (TLS <= 1.2) or `SSLCipherSuite TLSv1.3 ...` (TLS 1.3); check SSLOpenSSLConfCmd Curves/Groups and the certificate key type (an ECDSA-only certificate needs ECDSA suites).",),
        general=("Compare the client's offered suites with the server's enabled ones (`openssl ciphers -v 'SERVER-STRING'`) and enable a common, strong suite on either side.",),
        check=_S_CLIENT + " -cipher 'ECDHE-RSA-AES128-GCM-SHA256'",
    ),
    Cause(
        "server_cert_untrusted", "The client does not trust the root CA of the server's chain",
        family="client_rejects_server_cert",
        meaning="The server's chain is complete up to a CA, but the client does not trust the root that issued "
                "it (a private CA, a test CA, a corporate TLS-inspection CA).",
        apache=("If the certificate should be publicly trusted, get it from a public CA; otherwise add the issuing root CA to the client's trust store (SSLCertificateFile/SSLCertificateChainFile only decide what the server sends).",),
        general=("Install the root CA certificate in the client's trust store (e.g. curl --cacert root.pem, update-ca-certificates, the Java keystore), or use a certificate from a CA the client already trusts.",),
        check="curl -v --cacert ROOT-CA.pem https://{sni}:{port}/",
    ),
    Cause(
        "tls_interception_untrusted", "A TLS-inspection proxy re-signed the server's certificate with a CA the client does not trust",
        family="client_rejects_server_cert",
        meaning="Something between the client and the server terminates TLS and presents its own certificate for "
                "the server's name, issued by its own CA: a corporate secure web gateway or firewall that "
                "decrypts traffic (Zscaler, Netskope, FortiGate, Palo Alto, ...), an antivirus web shield, or a "
                "debugging proxy (mitmproxy, Burp, Fiddler, Charles). Browsers on a managed machine trust that "
                "CA; clients with their own CA bundle (Python's certifi, Java's cacerts, Node.js, Go, curl with "
                "--cacert, containers) do not, and refuse: 'works in the browser, fails in the script'.",
        apache=("Not an Apache setting: the server's own certificate never reaches the client.",),
        general=(
            "Add the inspection CA (ask the proxy's administrators for it, or export it from a browser on the same "
            "network) to this client's trust store: Python requests REQUESTS_CA_BUNDLE or SSL_CERT_FILE, Node.js "
            "NODE_EXTRA_CA_CERTS, Java keytool -importcert into the JRE's cacerts, curl --cacert or CURL_CA_BUNDLE, Go "
            "and OpenSSL the system store (update-ca-certificates) or SSL_CERT_FILE.",
            "Or have the destination exempted from inspection (the usual answer for certificate pinning, mutual TLS "
            "and non-browser APIs), or go around the proxy where policy allows.",
        ),
        check=_S_CLIENT + " -showcerts   # the issuer names the inspection product, not a public CA",
        refines="server_cert_untrusted",
    ),
    Cause(
        "server_chain_incomplete", "The server does not send the intermediate CA certificate",
        family="client_rejects_server_cert",
        meaning="The server sends its own certificate but not the intermediate CA certificate(s) between it "
                "and the root. Browsers often hide this by fetching the intermediate themselves; OpenSSL, "
                "curl, Java and most other clients fail.",
        apache=("Send the intermediate: append it to the file named by SSLCertificateFile (leaf first, then intermediates), or on Apache < 2.4.8 use SSLCertificateChainFile.",),
        general=("Configure the server to send the full chain (leaf + intermediates, e.g. nginx ssl_certificate with fullchain.pem). Browsers may hide the problem by fetching the issuer; OpenSSL, curl, Java and most other clients do not.",),
        check=_S_CLIENT + " -showcerts   # expect 'Verify return code: 0 (ok)' and more than one certificate",
    ),
    Cause(
        "server_cert_self_signed", "The server presents a self-signed certificate",
        family="client_rejects_server_cert",
        meaning="The server presents a certificate it signed itself, and the client has not been told to trust "
                "exactly that certificate.",
        apache=("Replace the certificate in SSLCertificateFile/SSLCertificateKeyFile with one issued by a CA the clients trust, or distribute this certificate to the clients as a trusted one.",),
        general=("Use a CA-issued certificate, or import exactly this certificate into the client's trust store (pinning).",),
        check=_S_CLIENT + " -verify_return_error",
    ),
    Cause(
        "server_cert_expired", "The server's certificate had expired",
        family="client_rejects_server_cert",
        meaning="The server's certificate (or one in its chain) had expired when the connection was made, by "
                "the client's clock.",
        apache=("Renew the certificate and point SSLCertificateFile/SSLCertificateKeyFile at the new files, then reload Apache (apachectl graceful).",),
        general=("Renew the certificate (automate it, e.g. with ACME/certbot) and reload the server; check the client's clock too.",),
        check=_S_CLIENT + " 2>/dev/null | openssl x509 -noout -dates",
    ),
    Cause(
        "server_cert_not_yet_valid", "The server's certificate was not yet valid",
        family="client_rejects_server_cert",
        meaning="The server's certificate is dated in the future compared with the client's clock; usually a "
                "wrong clock (client, or the machine that issued the certificate).",
        apache=("Check the clocks (client and server) and the certificate's notBefore; reissue the certificate if it was dated in the future.",),
        general=("A certificate valid only from a future date is usually a clock problem: fix NTP on the client (or on the machine that issued the certificate).",),
        check=_S_CLIENT + " 2>/dev/null | openssl x509 -noout -dates",
    ),
    Cause(
        "server_cert_hostname_mismatch", "The server's certificate is not valid for the requested name",
        family="client_rejects_server_cert",
        meaning="The certificate is valid but not for the name the client asked for (the SNI).",
        apache=("Serve the right certificate for this name: a <VirtualHost> with ServerName/ServerAlias matching the SNI and its own SSLCertificateFile, or a certificate whose subjectAltName lists the name.",),
        general=("Request the certificate for every name clients use (subjectAltName), or make the client connect with the name the certificate carries.",),
        check=_S_CLIENT + " 2>/dev/null | openssl x509 -noout -ext subjectAltName",
    ),
    Cause(
        "server_cert_rejected", "The client rejected the server's certificate (the exact reason is not visible)",
        family="client_rejects_server_cert",
        meaning="The client refused the server's certificate, but the capture does not show why. This is the "
                "honest answer when the certificate itself is not visible: TLS 1.3 encrypts it, so without the "
                "key log we know *that* the client refused it, not which of the certificate causes applies.",
        apache=("Check the chain the server sends (SSLCertificateFile with intermediates), its validity dates and names, and whether the client trusts the root.",),
        general=("Run the client with verbose TLS output or supply the key log (SSLKEYLOGFILE) to see the certificate and the alert.",),
        check=_S_CLIENT + " -showcerts -verify_return_error",
    ),
    Cause(
        "client_cert_missing", "The server requires a client certificate and the client sent none",
        family="server_rejects_client_cert",
        meaning="The server requires a client certificate (mutual TLS) and the client sent none.",
        apache=("Give the client a certificate issued by a CA in SSLCACertificateFile, or relax SSLVerifyClient (optional / none) for this location.",),
        general=("Configure the client with its certificate and key (curl --cert/--key, openssl s_client -cert/-key), issued by a CA the server accepts.",),
        check=_S_CLIENT + " -cert client.pem -key client.key",
    ),
    Cause(
        "client_cert_rejected", "The server rejected the client certificate",
        family="server_rejects_client_cert",
        meaning="The client sent a certificate and the server refused it: issued by a CA the server does not "
                "trust, expired, or not allowed for client authentication.",
        apache=("Make SSLCACertificateFile (and SSLCADNRequestFile/Path, which set the CA list sent to clients) contain the CA that issued the client certificate; check SSLVerifyDepth and the certificate's validity and clientAuth usage.",),
        general=("Issue the client certificate from a CA the server trusts for client authentication, within its validity period and with the clientAuth extended key usage.",),
        check=_S_CLIENT + " -cert client.pem -key client.key -state",
    ),
    Cause(
        "renegotiation_refused", "A renegotiation was refused",
        family="after_handshake",
        meaning="In TLS 1.2 one side asked to renegotiate and the other refused. Usually the server asked "
                "(Apache does this to request a client certificate for one `<Location>` or `<Directory>`) and "
                "the client refused — HTTP/2 forbids renegotiation and many clients disable it; or a client "
                "started a renegotiation itself and the server (OpenSSL by default) refused it with a "
                "`no_renegotiation` warning alert.",
        apache=("Avoid renegotiation: move SSLVerifyClient require from <Location>/<Directory> to the <VirtualHost> level (client certificate in the first handshake), or use TLS 1.3 post-handshake auth with clients that support it.",),
        general=("Per-directory client authentication forces a renegotiation that many clients (HTTP/2, curl, browsers) refuse; request the certificate in the initial handshake instead.",
                 "A client that starts a renegotiation itself is refused by servers that forbid client-initiated renegotiation (OpenSSL's default): reconnect instead of renegotiating.",),
        check=_S_CLIENT + " -cert client.pem -key client.key   # then request the protected path",
    ),
    Cause(
        "sni_rejected", "The server refused the requested server name (SNI)",
        family="server_rejects_hello",
        meaning="The server refused the server name the client asked for, or refused a client that sent no "
                "name.",
        apache=("Add a <VirtualHost> whose ServerName/ServerAlias matches the SNI, or turn off SSLStrictSNIVHostCheck if clients without SNI must be served.",),
        general=("Make the client send the right server name (SNI) and the server have a virtual host/certificate for it.",),
        check=_S_CLIENT + "   # with the exact host name clients use",
    ),
    Cause(
        "plaintext_http_on_tls_port", "Plain HTTP was sent to a TLS port",
        family="not_tls",
        meaning="The client spoke plain HTTP (`http://`) to a port that expects TLS.",
        apache=("Use https:// on the client; or, if plain HTTP must be served, give it its own Listen/VirtualHost without SSLEngine on.",),
        general=("The client spoke plain HTTP to a port that expects TLS: use https:// (or the TLS port) in the client's URL.",),
        check="curl -v https://{host}:{port}/",
    ),
    Cause(
        "tls_to_plaintext_server", "TLS was sent to a port that speaks plain text",
        family="not_tls",
        meaning="The client started TLS (`https://`) to a port whose server speaks plain text (plain HTTP, "
                "SMTP, ...).",
        apache=("Enable TLS on that VirtualHost (SSLEngine on with SSLCertificateFile/KeyFile) or point the client at the TLS port.",),
        general=("The server on this port does not speak TLS: use http:// or the right port, or enable TLS on the server.",),
        check="curl -v http://{host}:{port}/",
    ),
    Cause(
        "starttls_not_offered", "The server did not offer TLS on this plain-text connection (STARTTLS)",
        family="not_tls",
        meaning="The connection began in plain text (SMTP, IMAP, POP3, FTP, LDAP, XMPP, PostgreSQL, MySQL) and the "
                "server did not offer to switch to TLS: its capability list (the EHLO reply, IMAP CAPABILITY, POP3 "
                "CAPA, FTP FEAT, the XMPP stream features, the MySQL greeting's flags) has no STARTTLS, or it "
                "answered PostgreSQL's SSLRequest with 'N'. A client that requires TLS gives up there; one that "
                "allows plain text goes on unencrypted.",
        general=(
            "Postfix: give smtpd a certificate and key (smtpd_tls_chain_files, or smtpd_tls_cert_file and smtpd_tls_key_file) and set smtpd_tls_security_level = may in main.cf (encrypt on the submission service in master.cf), then `postfix reload`: the EHLO reply then lists STARTTLS.",
            "Exim: set tls_certificate and tls_privatekey in the main configuration; tls_advertise_hosts (default *) decides who is offered STARTTLS.",
            "Dovecot: ssl = yes (or required) with ssl_cert = </path/cert.pem and ssl_key = </path/key.pem (10-ssl.conf): IMAP CAPABILITY then lists STARTTLS and POP3 CAPA lists STLS.",
            "vsftpd: ssl_enable=YES with rsa_cert_file and rsa_private_key_file; ProFTPD: TLSEngine on with TLSRSACertificateFile and TLSRSACertificateKeyFile (FEAT then lists AUTH TLS).",
            "OpenLDAP (slapd): set olcTLSCertificateFile and olcTLSCertificateKeyFile on cn=config (TLSCertificateFile and TLSCertificateKeyFile in slapd.conf); the root DSE then lists the StartTLS OID 1.3.6.1.4.1.1466.20037.",
            "XMPP: Prosody: a certificate for the host (`prosodyctl cert import`, or ssl = { certificate = ..., key = ... }); ejabberd: certfiles and starttls: true on the c2s listener.",
            "PostgreSQL: ssl = on with ssl_cert_file and ssl_key_file in postgresql.conf, then reload: the server then answers the SSLRequest 'S' instead of 'N'.",
            "MySQL/MariaDB: give the server ssl_cert and ssl_key (and ssl_ca) in my.cnf and restart (MySQL 8 makes its own at first start; MariaDB needs them configured): the greeting then carries CLIENT_SSL.",
            "If the server cannot do TLS, point the client at one that does; a client that requires TLS (curl --ssl-reqd, sslmode=require, --ssl-mode=REQUIRED) is right not to go on in plain text.",
        ),
        check="openssl s_client -connect {host}:{port} -starttls {starttls}",
    ),
    Cause(
        "starttls_refused", "The server refused to start TLS (STARTTLS) on this plain-text connection",
        family="not_tls",
        meaning="The client asked to switch to TLS (STARTTLS, POP3 STLS, FTP AUTH TLS, the LDAP StartTLS "
                "operation, XMPP <starttls/>) and the server refused with a code and words of its own (SMTP 454 "
                "\"TLS not available due to local problem\", IMAP NO or BAD, POP3 -ERR, an FTP 4xx or 5xx, an LDAP "
                "resultCode other than success, XMPP <failure/>, a PostgreSQL ErrorResponse); or it refused the "
                "session before the client could ask (SMTP 421 or 554, IMAP BYE, a MySQL error packet). Servers "
                "refuse TLS when their certificate or key cannot be loaded, or when it is switched off for the "
                "client.",
        general=(
            "Postfix: 454 4.7.0 \"TLS not available due to local problem\" means smtpd could not load the certificate or key of smtpd_tls_chain_files or smtpd_tls_cert_file/smtpd_tls_key_file (the mail log says which): fix the files or their permissions, then `postfix reload`.",
            "Exim: a 454 to STARTTLS means tls_certificate or tls_privatekey failed to load (see the main and panic logs).",
            "Dovecot: a NO, BAD or -ERR to STARTTLS or STLS follows an ssl_cert or ssl_key that could not be read (see the log), or ssl = no.",
            "vsftpd: a 5xx to AUTH TLS means ssl_enable=NO or an unreadable rsa_cert_file; ProFTPD: TLSEngine off, or no usable TLSRSACertificateFile.",
            "OpenLDAP (slapd): resultCode 52 (unavailable) or 2 (protocolError) to StartTLS means the olcTLSCertificateFile/olcTLSCertificateKeyFile are missing or unreadable by the slapd user (slaptest -u, then the file permissions); 1 (operationsError): TLS is already on.",
            "XMPP: <failure/> to <starttls/> means the server could not load a certificate for this domain (Prosody: `prosodyctl check certs`; ejabberd: the certfiles for the host).",
            "PostgreSQL: an ErrorResponse to the SSLRequest comes from a server refusing the connection (its message says why) or too old to know the request.",
            "MySQL/MariaDB: an error packet instead of the greeting refuses the connection itself (1130: host not allowed; 1040: too many connections): fix the account or limit it names.",
            "Read the server's log at that time: the refusal's words name the cause. A client that must not send in plain text is right to stop here.",
        ),
        check="openssl s_client -connect {host}:{port} -starttls {starttls}",
    ),
    Cause(
        "proxy_connect_refused", "The proxy refused to open the tunnel (HTTP CONNECT, SOCKS) the TLS connection needed",
        family="not_tls",
        meaning="The client reaches the server through an HTTP proxy: it sends `CONNECT host:port` and TLS runs "
                "inside the tunnel once the proxy answers 2xx. The proxy answered otherwise: 407 Proxy "
                "Authentication Required (it wants credentials: its Proxy-Authenticate header names the scheme), "
                "403 Forbidden (its policy refuses this host or port: many proxies allow CONNECT to 443 only), 502, "
                "503 or 504 (it could not reach the server: name resolution, a firewall, the server down), 405 or "
                "501 (not a proxy that does CONNECT). A SOCKS proxy refuses with its reply code instead (SOCKS 5: "
                "02 connection not allowed by ruleset, 04 host unreachable, 05 connection refused, FF no acceptable "
                "authentication method; SOCKS 4: 5B). The client never got to TLS.",
        apache=("Apache as the forward proxy (mod_proxy_connect): ProxyRequests On, AllowCONNECT listing the "
                "destination port (AllowCONNECT 443 8443), and a <Proxy \"*\"> block that grants the client; a 407 comes "
                "from the AuthType/Require lines of that block.",),
        general=(
            "407: give the client its proxy credentials (curl --proxy-user, HTTPS_PROXY=http://user:pass@proxy:port, a "
            "client that speaks the scheme Proxy-Authenticate names, e.g. NTLM or Negotiate), or exempt the destination.",
            "403: ask for the destination (or its port) to be allowed (Squid: http_access and the SSL_ports / "
            "CONNECT acl; Apache: AllowCONNECT), or reach it without the proxy (NO_PROXY).",
            "502/503/504: the proxy cannot reach the server: check its DNS and outbound firewall for that host and port "
            "(the proxy's own log names the error).",
            "SOCKS: a reply 02 is the proxy's rule set (Dante: the socks pass/block rules; ssh -D: PermitOpen); 04 or 05: "
            "the proxy cannot reach or connect to the target; FF or a failed username/password: give the client the "
            "credentials the proxy wants (curl --proxy-user, socks5://user:pass@proxy).",
        ),
        check="curl -v --proxy http://{host}:{port} https://HOST:PORT/   # HOST:PORT: the CONNECT target",
    ),
    Cause(
        "middlebox_reset", "A device between client and server reset the connection",
        family="path_or_middlebox",
        meaning="Something between the client and the server (firewall, IPS, proxy, load balancer) reset the "
                "connection; neither endpoint chose to.",
        general=("Look at firewalls, IPS/DPI, proxies and load balancers on the path: their logs for this connection, TLS inspection or SNI filtering policies, and idle timeouts.",),
        check=_S_CLIENT + "   # from a host on the server side of the middlebox, to compare",
    ),
    Cause(
        "connection_reset", "The connection was reset without a TLS alert",
        family="transport",
        meaning="A side reset the TCP connection without sending a TLS alert: a closed port, a crash, a killed "
                "worker, a server rejecting the client at the TCP level.",
        general=("Check the server's error log at that time (process crashes, connection limits, TLS errors logged but not sent), and any middlebox on the path.",),
        check=_S_CLIENT,
    ),
    Cause(
        "server_no_response", "The server never answered",
        family="transport",
        meaning="The server (or the path to it) went silent: no answer to the SYN, to the ClientHello, or to "
                "the client's later handshake flight.",
        general=("Check that the service behind this port really speaks TLS and is not hung (overloaded, waiting on a backend, a firewall silently dropping), and the client's timeout.",),
        check=_S_CLIENT + " -state",
    ),
    Cause(
        "server_closed_without_alert", "The server closed the connection without a TLS alert",
        family="transport",
        meaning="The server closed the connection (FIN) during the handshake without a TLS alert. The reason "
                "is in the server's log, not on the wire.",
        apache=("Look in the Apache error log (LogLevel ssl:info) at that time for the reason mod_ssl gave.",),
        general=("The server gave up without saying why on the wire: its own log has the reason (handshake error, SNI/vhost policy, resource limits).",),
        check=_S_CLIENT + " -state",
    ),
    Cause(
        "client_closed_without_alert", "The client closed the connection without a TLS alert",
        family="transport",
        meaning="The client closed the connection during the handshake without a TLS alert (a crashed client, "
                "a scanner, a timeout, a client that checks something itself and gives up silently).",
        general=("The client gave up silently: its own error message (certificate verification, host name check, timeout) is the reason; run it verbosely or supply its key log.",),
        check=_S_CLIENT + " -verify_return_error",
    ),
    Cause(
        "alpn_mismatch", "No application protocol (ALPN) in common",
        family="server_rejects_hello",
        meaning="The client offered application protocols (ALPN: h2, http/1.1, grpc-exp, ...) and the server supports "
                "none of them; RFC 7301 has the server refuse the handshake with no_application_protocol.",
        apache=("Offer what clients ask for with `Protocols h2 http/1.1` (mod_http2 loaded for h2); a VirtualHost "
                "limited to `Protocols h2` refuses clients that only speak http/1.1.",),
        nginx=("Enable HTTP/2 with `http2 on;` (1.25.1+) or `listen 443 ssl http2;`; for TLS in the stream module "
               "set `ssl_alpn` to the protocols the clients use.",),
        haproxy=("List the clients' protocols on the bind line: `bind :443 ssl crt site.pem alpn h2,http/1.1`.",),
        general=("Compare the ClientHello's ALPN list with the server's and add a common protocol on either side "
                 "(a gRPC client needs h2 end to end).",),
        check=_S_CLIENT + " -alpn h2,http/1.1",
    ),
    Cause(
        "inappropriate_fallback", "The client fell back to a lower version and the server refused the fallback",
        family="server_rejects_hello",
        meaning="The client retried at a lower protocol version after an earlier attempt failed and marked the retry "
                "with TLS_FALLBACK_SCSV; the server supports a higher version, so it refuses (RFC 7507). The real "
                "cause is whatever broke the first, higher-version attempt.",
        apache=("Nothing in SSLProtocol causes this alert: find the client's earlier attempt (the connection just "
                "before, same client) and fix what broke it, often a device in front of Apache or a timeout.",),
        nginx=("Look for the earlier failed attempt from the same client in the capture and in error_log "
               "(level info shows SSL handshake errors).",),
        haproxy=("Look for the earlier failed attempt in the HAProxy log (`log-format` with `%sslv`, or "
                 "`option httplog`) and fix it.",),
        general=("Keep TLS_FALLBACK_SCSV support on the server; make the first attempt succeed. Current clients "
                 "no longer fall back, so a fallback suggests an old client or a path that breaks TLS 1.3/1.2.",),
        check=_S_CLIENT + "   # the highest version the client has should succeed",
        refines="protocol_version_mismatch",
    ),
    Cause(
        "no_common_group", "No key-exchange group (curve) in common",
        family="server_rejects_hello",
        meaning="The client's supported_groups / key_share list and the server's allowed groups do not meet, for "
                "example a client that offers only post-quantum hybrids or only FFDHE groups, or a server limited to "
                "one curve.",
        apache=("Allow a group the client offers: `SSLOpenSSLConfCmd Groups X25519:secp256r1:secp384r1` "
                "(Apache 2.4.8+ with OpenSSL 1.1.1+).",),
        nginx=("`ssl_ecdh_curve X25519:prime256v1:secp384r1;` (the default `auto` uses OpenSSL's list).",),
        haproxy=("`ssl-default-bind-curves X25519:P-256:P-384` in the global section, or `curves` on the bind line.",),
        general=("Compare the ClientHello's supported_groups and key_share with the server's groups and enable "
                 "one both accept.",),
        check=_S_CLIENT + " -groups X25519:P-256",
        refines="no_shared_cipher",
    ),
    Cause(
        "no_common_signature_scheme", "No signature algorithm in common with the server's certificate key",
        family="server_rejects_hello",
        meaning="The server cannot sign with a scheme the client accepts for its certificate's key: an RSA-only server "
                "and a client that offers only ECDSA schemes (or only RSA-PSS with PSS keys), a client that no longer "
                "accepts SHA-1 or PKCS#1 v1.5, or a certificate key type the client does not support.",
        apache=("Serve a certificate of a key type the client can verify; Apache can hold an RSA and an ECDSA "
                "certificate side by side (two SSLCertificateFile/SSLCertificateKeyFile pairs). "
                "`SSLOpenSSLConfCmd SignatureAlgorithms` widens or narrows the server's list.",),
        nginx=("Configure both an RSA and an ECDSA certificate (two ssl_certificate/ssl_certificate_key pairs); "
               "`ssl_conf_command SignatureAlgorithms ...` (1.19.4+) sets the list.",),
        haproxy=("Load an RSA and an ECDSA certificate for the site (a crt-list, or `site.pem.rsa` and "
                 "`site.pem.ecdsa` bundles) so HAProxy picks the one the client can use.",),
        general=("Compare the ClientHello's signature_algorithms with the leaf's key: RSA needs rsa_pss_rsae_* or "
                 "rsa_pkcs1_*, an ECDSA P-256 key needs ecdsa_secp256r1_sha256, Ed25519 needs ed25519.",),
        check=_S_CLIENT + " -sigalgs 'rsa_pss_rsae_sha256:ecdsa_secp256r1_sha256'",
        refines="no_shared_cipher",
    ),
    Cause(
        "handshake_signature_invalid", "A handshake signature does not verify with the certificate's key",
        family="path_or_middlebox",
        meaning="The signature in the ServerKeyExchange (TLS 1.2) or CertificateVerify (TLS 1.3, or the client's in "
                "mutual TLS) does not verify with the public key of the certificate that was sent: the private key is "
                "not the certificate's, a hardware or OS signer (HSM, PKCS#11, Windows CNG) makes bad RSA-PSS "
                "signatures, or bytes changed on the way.",
        apache=("Check that SSLCertificateKeyFile belongs to SSLCertificateFile (`openssl x509 -noout -pubkey -in "
                "cert.pem` and `openssl pkey -pubout -in key.pem` must print the same key); with a hardware key, "
                "test RSA-PSS signing.",),
        nginx=("The same check for ssl_certificate and ssl_certificate_key; with keys from an engine or provider, "
               "test RSA-PSS signing.",),
        haproxy=("HAProxy refuses a mismatched key at load time, so suspect the signer (engine/provider) or the "
                 "path: compare captures taken on both sides.",),
        general=("Compare the certificate's and the key's public keys; if they match, test the signer's RSA-PSS "
                 "support and look for a device that rewrites handshake bytes.",),
        check=_S_CLIENT + " -sigalgs rsa_pss_rsae_sha256",
    ),
    Cause(
        "handshake_transcript_mismatch", "The two sides computed different handshake transcripts",
        family="path_or_middlebox",
        meaning="A Finished message (or a TLS 1.3 PSK binder) did not match what the receiver computed: a device on the "
                "path changed a handshake message, the two sides disagree on extended_master_secret or resumption "
                "state, their pre-shared keys differ, or one side has a bug.",
        apache=("Look for a device that rewrites the handshake (TLS inspection, WAN optimiser) by comparing captures "
                "from both ends; update OpenSSL/mod_ssl; for TLS-PSK both sides need the same key.",),
        nginx=("The same: compare captures from both ends; disable session resumption for a test "
               "(`ssl_session_tickets off; ssl_session_cache off;`).",),
        haproxy=("The same; `no-tls-tickets` on the bind line disables ticket resumption for a test.",),
        general=("Compare the handshake bytes captured at each end; if they are equal, the bug is in one of the "
                 "two TLS stacks (try another client).",),
        check=_S_CLIENT + " -no_ticket",
    ),
    Cause(
        "record_corrupted_in_transit", "A protected record failed its integrity check",
        family="path_or_middlebox",
        meaning="A record's authentication tag or MAC did not verify (bad_record_mac): its bytes changed between the "
                "two ends, or the two sides derived different keys (a device that rewrote the key exchange, a faulty "
                "NIC offload or crypto accelerator, a stack bug).",
        apache=("mod_ssl is rarely the cause: compare captures taken on the Apache host and at the client; if "
                "SSLCryptoDevice names an engine, try without it.",),
        nginx=("Compare captures from both ends; with kernel TLS (`ssl_conf_command Options KTLS`) or an "
               "`ssl_engine`, try without it.",),
        haproxy=("Compare a capture taken on the HAProxy host with one taken at the client: a difference in the "
                 "record bytes locates the device that alters them.",),
        general=("Look for TCP retransmissions and checksum errors, NIC offloads (`ethtool -K IF tso off gso off "
                 "gro off` for a test), VPN/MTU problems and TLS inspection on the path.",),
        check=_S_CLIENT,
    ),
    Cause(
        "weak_server_key", "The server's certificate chain is too weak for the client",
        family="client_rejects_server_cert",
        meaning="The client refuses a key or signature in the server's chain as too weak for its policy: RSA keys below "
                "2048 bits, SHA-1 or MD5 signatures, explicit EC parameters (OpenSSL security level, Java "
                "jdk.certpath.disabledAlgorithms, browser policy).",
        apache=("Reissue the certificate with an RSA 2048+ or ECDSA P-256 key signed with SHA-256 (and chain "
                "SHA-256 intermediates) and point SSLCertificateFile/SSLCertificateKeyFile at it.",),
        nginx=("Install the reissued certificate and key in ssl_certificate / ssl_certificate_key.",),
        haproxy=("Install the reissued certificate and key in the .pem named by `crt`.",),
        general=("Check every certificate of the chain with `openssl x509 -noout -text` (Public-Key bits, "
                 "Signature Algorithm). Lowering the client's security level (@SECLEVEL=1) is only a stop-gap.",),
        check=_S_CLIENT + " -showcerts 2>/dev/null | openssl x509 -noout -text | grep -E 'Public-Key|Signature Algorithm'",
        refines="server_cert_rejected",
    ),
    Cause(
        "weak_dh_group", "The server's Diffie-Hellman group is too small for the client",
        family="client_rejects_server_params",
        meaning="The server chose a DHE suite and sent DH parameters smaller than the client accepts (1024 bits or "
                "less since Logjam; OpenSSL's default security level wants 2048).",
        apache=("Prefer ECDHE suites in SSLCipherSuite and give DHE 2048-bit or larger parameters: append "
                "`openssl dhparam 2048` output to the SSLCertificateFile file (Apache 2.4.8+ otherwise sizes them "
                "to the key).",),
        nginx=("`ssl_dhparam /etc/nginx/dhparam.pem;` with 2048-bit or larger parameters, or drop the DHE suites "
               "from ssl_ciphers.",),
        haproxy=("`tune.ssl.default-dh-param 2048` in the global section, or `ssl-dh-param-file` with larger "
                 "parameters.",),
        general=("Use ECDHE suites, or DHE with at least 2048-bit groups (RFC 7919 ffdhe2048 or larger).",),
        check=_S_CLIENT + " -cipher 'DHE' -tls1_2",
        refines="no_shared_cipher",
    ),
    Cause(
        "server_cert_revoked", "The server's certificate is revoked",
        family="client_rejects_server_cert",
        meaning="The client learned from OCSP (often the response the server staples) or a CRL that the server's "
                "certificate, or an intermediate, was revoked by its CA.",
        apache=("Get a new certificate (revocation is final) and point SSLCertificateFile/SSLCertificateKeyFile at "
                "it; with SSLUseStapling on, restart so the stapled response is for the new certificate.",),
        nginx=("Install the new certificate in ssl_certificate; with `ssl_stapling on` reload so the stapled "
               "response is refreshed.",),
        haproxy=("Install the new certificate (`set ssl cert` on the runtime API, or the .pem and a reload) and its "
                 "fresh .ocsp file if stapling.",),
        general=("Check the status: `openssl ocsp -issuer chain.pem -cert leaf.pem -url $(openssl x509 -noout "
                 "-ocsp_uri -in leaf.pem)`; replace the certificate.",),
        check=_S_CLIENT + " -status",
        refines="server_cert_rejected",
    ),
    Cause(
        "client_cert_revoked", "The client's certificate is revoked",
        family="server_rejects_client_cert",
        meaning="The server checked the client certificate against a CRL (or OCSP) and found it revoked.",
        apache=("Issue the client a new certificate; if it should not be revoked, check that "
                "SSLCARevocationFile/SSLCARevocationPath hold the current CRL (and SSLCARevocationCheck).",),
        nginx=("Issue a new client certificate; `ssl_crl` must name the current CRL.",),
        haproxy=("Issue a new client certificate; `crl-file` on the bind line must name the current CRL.",),
        general=("Look the serial number up in the issuing CA's CRL (`openssl crl -in crl.pem -noout -text`).",),
        check=_S_CLIENT + " -cert client.pem -key client.key",
        refines="client_cert_rejected",
    ),
    Cause(
        "server_cert_wrong_usage", "The server's certificate is not meant for TLS servers",
        family="client_rejects_server_cert",
        meaning="The leaf's keyUsage / extendedKeyUsage do not allow TLS server authentication (for example a "
                "clientAuth-only certificate), or its key type is one the client does not support.",
        apache=("Reissue the certificate with extendedKeyUsage serverAuth and keyUsage digitalSignature (plus "
                "keyEncipherment for RSA key exchange) and install it in SSLCertificateFile.",),
        nginx=("Install a certificate with extendedKeyUsage serverAuth in ssl_certificate.",),
        haproxy=("Install a certificate with extendedKeyUsage serverAuth in the .pem named by `crt`.",),
        general=("`openssl x509 -noout -ext keyUsage,extendedKeyUsage -in leaf.pem` shows what the certificate "
                 "allows.",),
        check=_S_CLIENT + " 2>/dev/null | openssl x509 -noout -ext keyUsage,extendedKeyUsage",
        refines="server_cert_rejected",
    ),
    Cause(
        "ocsp_staple_invalid", "The stapled OCSP response is not acceptable",
        family="client_rejects_server_cert",
        meaning="The server stapled an OCSP response (CertificateStatus, or status_request in the TLS 1.3 Certificate) "
                "that the client rejects: expired, for another certificate, an error response, or badly signed.",
        apache=("With `SSLUseStapling on`, set `SSLStaplingReturnResponderErrors off` so errors are not stapled, "
                "keep SSLStaplingCache, and make sure Apache reaches the CA's OCSP responder.",),
        nginx=("`ssl_stapling on; ssl_stapling_verify on;` with `ssl_trusted_certificate` holding the issuer and a "
               "working `resolver`.",),
        haproxy=("Refresh the .ocsp file next to the certificate (or `ocsp-update on`, HAProxy 2.8+).",),
        general=("Decode the staple (`openssl s_client -status`) and compare its thisUpdate/nextUpdate and "
                 "certificate ID with the leaf.",),
        check=_S_CLIENT + " -status",
        refines="server_cert_rejected",
    ),
    Cause(
        "ocsp_staple_missing", "The certificate requires a stapled OCSP response and the server sent none",
        family="client_rejects_server_cert",
        meaning="The server's certificate carries the TLS Feature extension status_request (RFC 7633, \"OCSP "
                "must-staple\"): it may only be accepted with a stapled OCSP response. The client asked for one and "
                "the server stapled nothing, so a client that enforces must-staple refuses the certificate.",
        apache=("`SSLUseStapling on` with an `SSLStaplingCache` (mod_ssl staples only when Apache can reach the "
                "CA's OCSP responder), or reissue the certificate without the must-staple extension.",),
        nginx=("`ssl_stapling on; ssl_stapling_verify on;` with `ssl_trusted_certificate` and a `resolver`; nginx "
               "fetches the response lazily, so the first handshakes after a reload go without a staple: prime it "
               "with `ssl_stapling_file`, or reissue the certificate without must-staple.",),
        haproxy=("Put a fresh .ocsp file next to the certificate (or `ocsp-update on`, HAProxy 2.8+).",),
        general=("`openssl x509 -noout -ext tlsfeature -in leaf.pem` shows the must-staple flag; "
                 "`openssl s_client -status` shows whether the server staples. Enable stapling or reissue "
                 "without `tlsfeature = status_request`.",),
        check=_S_CLIENT + " -status",
        refines="server_cert_rejected",
    ),
    Cause(
        "psk_identity_unknown", "The server does not know the client's pre-shared key identity",
        family="server_rejects_hello",
        meaning="TLS-PSK (a configured shared key, not session resumption): the identity the client presents is not "
                "one the server has (RFC 4279).",
        apache=("mod_ssl has no TLS-PSK configuration: the PSK endpoint is another program (stunnel, an IoT "
                "gateway, openssl s_server -psk); give both sides the same identity and key.",),
        nginx=("nginx offers no TLS-PSK configuration either: fix the identity on the program that terminates "
               "TLS-PSK.",),
        haproxy=("If HAProxy only relays this traffic in TCP mode, fix the identity on the real endpoint behind it.",),
        general=("Compare the identity in the ClientHello's pre_shared_key (TLS 1.3) or ClientKeyExchange (TLS 1.2 "
                 "PSK suites) with the server's list.",),
        check="openssl s_client -connect {host}:{port} -psk_identity ID -psk HEXKEY",
    ),
    Cause(
        "ech_rejected", "The server did not accept the client's Encrypted Client Hello",
        family="client_rejects_server_params",
        meaning="The client sent Encrypted Client Hello (ECH) with a configuration the server could not use (stale keys "
                "published in DNS, a server without ECH); the server completed the handshake for the outer public name "
                "and the client aborted with ech_required, normally to retry with the configuration the server sent.",
        apache=("Apache httpd does not terminate ECH: make sure the DNS HTTPS record for the site does not carry an "
                "`ech=` configuration that no server holds, or terminate ECH in a front end that has its keys.",),
        nginx=("Publish in DNS only ECH configurations the TLS front end holds, and rotate DNS and server keys "
               "together.",),
        haproxy=("The same: the ECH keys on the TLS front end must match the DNS HTTPS record.",),
        general=("Compare the ECHConfig in DNS (`dig TYPE65 name`) with the server's; a retry right after with "
                 "the server's retry_configs should succeed.",),
        check="dig +short TYPE65 {sni}",
    ),
    Cause(
        "access_policy_denied", "A policy on the peer denied this connection",
        family="server_rejects_hello",
        meaning="Nothing in the TLS parameters is wrong: the sender's access policy refused this client, name or "
                "(valid) certificate, for example an IP allow-list, an SNI allow-list or a certificate that verifies "
                "but is not authorised.",
        apache=("Check the access rules for this VirtualHost (Require, `SSLRequire` / `Require expr` on the client "
                "certificate's fields) and the error log.",),
        nginx=("Check allow/deny rules and any map on `$ssl_client_s_dn` or `$ssl_server_name` that refuses.",),
        haproxy=("Check `tcp-request connection reject` / `http-request deny` rules and ACLs on `ssl_c_*` and "
                 "`ssl_fc_sni`.",),
        general=("The sender's log names the rule; the capture only shows that a policy said no.",),
        check=_S_CLIENT,
    ),
    Cause(
        "peer_internal_error", "The peer failed for an internal reason",
        family="unknown",
        meaning="The sender hit an error of its own unrelated to the peer's messages: an unreadable key or "
                "certificate file, a failing callback (SNI, certificate selection), a crypto device error, exhausted "
                "memory or limits.",
        apache=("Read the error log at that time with `LogLevel ssl:debug`: unreadable key, SSLCryptoDevice errors, "
                "failing children.",),
        nginx=("Read error_log at level info or debug for the connection.",),
        haproxy=("Read the HAProxy log (`show errors`, `show events` on the runtime API) and check maxconn and "
                 "`tune.ssl.*` limits.",),
        general=("The reason is in the sender's own log; the capture only shows that it gave up.",),
        check=_S_CLIENT,
    ),
    Cause(
        "tls_implementation_bug", "One side broke the TLS protocol",
        family="unknown",
        meaning="A message was malformed, out of order, or valid but rejected as if it were not: a parser bug, an old "
                "or unusual stack, an extension or GREASE value one side cannot handle, a record larger than allowed.",
        apache=("Update OpenSSL and mod_ssl; if only one kind of client fails, compare its ClientHello with a "
                "working client's and report it to that client's vendor.",),
        nginx=("Update nginx's OpenSSL; compare the failing client's hello with a working one.",),
        haproxy=("Update HAProxy's TLS library; compare the failing client's hello with a working one.",),
        general=("Find the message that breaks the RFC (tlsdissect's parser warnings help), update that side's "
                 "implementation, or switch off the feature that triggers it on the other side as a stop-gap.",),
        check=_S_CLIENT + " -msg",
    ),
    Cause(
        "middlebox_tampering", "A device on the path altered the TLS handshake",
        family="path_or_middlebox",
        meaning="Something between client and server changed the handshake: a TLS-inspecting proxy that re-terminates "
                "TLS, an IPS stripping extensions, a protocol-unaware proxy rewriting bytes, or a downgrade (a TLS 1.3 "
                "client sees the downgrade sentinel in a TLS 1.2 ServerHello).",
        apache=("Capture on the Apache host and at the client: if the hellos or certificates differ, a device in "
                "between edits TLS; exempt this traffic from inspection.",),
        nginx=("The same comparison of captures from both ends.",),
        haproxy=("The same; if HAProxy itself is the inspecting hop, check its `ssl` bind and server options.",),
        general=("Compare the server certificate the client received with the one the server sends; an issuer "
                 "of the inspection product's CA is the tell.",),
        check=_S_CLIENT + " -showcerts   # from the network of the client, then from that of the server",
    ),
    Cause(
        "handshake_canceled", "The sender's application abandoned the handshake",
        family="transport",
        meaning="The user or the application on the sending side gave up (user_canceled): a dismissed certificate "
                "prompt, a timeout in the application, a cancelled request.",
        apache=("Nothing on the server: the client gave up; its own log says why.",),
        nginx=("Nothing on the server: the client gave up; its own log says why.",),
        haproxy=("Nothing on HAProxy: the peer gave up; check client timeouts if it happens in bulk.",),
        general=("Look at the sending application (timeouts, prompts, cancelled requests).",),
    ),
    Cause(
        "late_alert_after_success", "A fatal alert came after the handshake had succeeded",
        family="ok",
        meaning="The handshake completed and data flowed; a fatal alert came only afterwards. Often it changes "
                "nothing: the exchange had finished and the alert answers the peer's close (lighttpd answers a close "
                "without close_notify with decode_error). Otherwise it ended a working session: an application-level "
                "refusal carried as an alert, a KeyUpdate or renegotiation problem, or records that failed to "
                "decrypt mid-stream. When the exchange was over, the diagnosis reports it in after_handshake, not "
                "as its cause: the connection stays established with cause ok.",
        apache=("Read the error log at the alert's time; per-directory client authentication (SSLVerifyClient "
                "inside <Location>) is a common source.",),
        nginx=("Read error_log at the alert's time.",),
        haproxy=("Read the HAProxy log at the alert's time (termination state of the session).",),
        general=("The alert's name and what preceded it (renegotiation, KeyUpdate, a request) decide; supply the "
                 "key log to read encrypted alerts.",),
    ),
    Cause(
        "client_rejected_cert_silently", "The client gave up on the server's certificate without a specific alert",
        family="client_rejects_server_cert",
        meaning="The client refused the server's certificate but said so only with close_notify, user_canceled or a "
                "plain close, often after the handshake had completed: Node.js verifies after the handshake and destroys "
                "the socket; curl with OpenSSL checks the host name after the handshake and sends close_notify.",
        apache=("Check what the client checks: the chain in SSLCertificateFile (leaf and intermediates), its dates, "
                "and that ServerName/ServerAlias match the certificate's subjectAltName.",),
        nginx=("Check the chain in ssl_certificate (full chain), its dates and names.",),
        haproxy=("Check the chain in the .pem named by `crt`, its dates and names.",),
        general=("Run the client verbosely (curl -v, NODE_DEBUG=tls, -Djavax.net.debug=ssl): its own error "
                 "names the reason.",),
        check=_S_CLIENT + " -verify_return_error -verify_hostname {sni}",
        refines="server_cert_rejected",
    ),
    Cause(
        "path_mtu_blackhole", "Large packets are lost on the path (path-MTU black hole)",
        family="path_or_middlebox",
        meaning="Full-size TCP segments (typically the server's certificate flight) are dropped on the way and the "
                "ICMP 'fragmentation needed' that would shrink them never arrives; small packets pass, so the "
                "ClientHello gets through and the handshake stalls with retransmissions and no alert.",
        apache=("Not an Apache setting: clamp the TCP MSS on the router or VPN (`iptables -t mangle -A FORWARD -p "
                "tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu`) or allow ICMP type 3 code 4; a "
                "shorter chain in SSLCertificateFile (no extra certificates, ECDSA) also helps.",),
        nginx=("Clamp the MSS on the path, or lower it for the listener (`listen 443 ssl ... ` on a host route "
               "with a smaller advmss); trim ssl_certificate to leaf and intermediates.",),
        haproxy=("Set `mss` on the bind line (e.g. `bind :443 ssl crt site.pem mss 1360`).",),
        general=("Compare the largest segment that is acknowledged with the ones retransmitted; fix the MTU or "
                 "MSS on the path.",),
        check="ping -M do -s 1472 {host}   # lower -s until it passes",
    ),
    Cause(
        "packets_dropped_on_path", "The packets of one side stop arriving, whatever their size",
        family="path_or_middlebox",
        meaning="One side answered, but from some point on its packets never reached the other side: they are "
                "retransmitted again and again and never acknowledged, small and large alike (unlike a path-MTU "
                "black hole, where small packets pass). A firewall or relay dropping the flow, or a broken route.",
        apache=("Not an Apache setting: find the device between client and server that drops the server's packets "
                "(capture on both sides of it; its logs, its connection-tracking table).",),
        nginx=("Not an nginx setting: find the device on the path that drops the server's packets.",),
        haproxy=("If HAProxy is the relay, check its log for the session's termination state and `timeout "
                 "client` / `timeout server`; otherwise find the device on the path that drops the packets.",),
        general=("Capture on both sides of each device on the path to find where the packets disappear; check "
                 "firewall rules and connection-tracking timeouts.",),
        check="traceroute -T -p {port} {host}",
    ),
    Cause(
        "udp_port_unreachable", "Nothing listens on the server's UDP port (ICMP port unreachable)",
        family="transport",
        meaning="The client's QUIC Initial or DTLS ClientHello was answered by an ICMP port unreachable quoting it: "
                "the server's host is reachable but no process listens on that UDP port (the QUIC/DTLS service is "
                "down, or listens on another port or address). The UDP form of a TCP reset to the SYN.",
        apache=("Apache httpd does not speak QUIC or DTLS: whatever advertises HTTP/3 for this site (an Alt-Svc "
                "header, an HTTPS DNS record with h3) points clients at a UDP port nothing serves; remove it or put "
                "an HTTP/3 proxy in front.",),
        nginx=("Add `listen 443 quic reuseport;` next to `listen 443 ssl;` (nginx >= 1.25 built with HTTP/3), or "
               "stop advertising h3 (`add_header Alt-Svc`) for a server that does not listen on UDP.",),
        haproxy=("Add a QUIC listener (`bind quic4@:443 ssl crt site.pem alpn h3`) or stop advertising h3.",),
        general=("Start the QUIC/DTLS service, or point the client at the UDP port it listens on (`ss -ulnp` on "
                 "the server shows what is bound).",),
        check="nc -vzu {host} {port}",
    ),
    Cause(
        "host_unreachable", "The server's host or network cannot be reached (ICMP unreachable)",
        family="path_or_middlebox",
        meaning="A router or firewall answered the client's packets with an ICMP host/network unreachable or "
                "'administratively prohibited' quoting them: no route to the server, its address does not "
                "answer on its link, or a firewall rejects the traffic on its way. Over TCP any ICMP error "
                "answering the SYN (port unreachable included, iptables REJECT's default) is a firewall's or "
                "a router's: a host with nothing listening answers TCP with a reset.",
        apache=("Not an Apache setting: check the server's address and the route and firewall rules between "
                "client and server for this port.",),
        nginx=("Not an nginx setting: check the route and the firewall rules for this port.",),
        haproxy=("Not an HAProxy setting: check the route and the firewall rules for this port.",),
        general=("The ICMP error's sender is the device to look at: its routing table or its reject rule "
                 "(e.g. `iptables -L -n -v | grep -i reject`).",),
        check="traceroute -U -p {port} {host}",
    ),
    Cause(
        "quic_fell_back_to_tcp", "QUIC got no answer; the client fell back to TCP",
        family="transport",
        meaning="The client's QUIC Initial packets went unanswered and the same client then opened a TCP "
                "connection to the same server: UDP to that port is blocked or dropped on the way, or the server "
                "does not speak HTTP/3 there, and the client fell back to HTTP over TLS on TCP.",
        apache=("Apache httpd does not speak HTTP/3: if a CDN or module advertises h3 (Alt-Svc), stop it; "
                "otherwise this fall-back is expected and harmless.",),
        nginx=("If HTTP/3 is wanted: `listen 443 quic reuseport;` with `add_header Alt-Svc 'h3=\":443\"; "
               "ma=86400';`, and open UDP 443 in every firewall on the way.",),
        haproxy=("If HTTP/3 is wanted: `bind quic4@:443 ssl crt site.pem alpn h3` and open UDP 443 on the way.",),
        general=("Allow UDP to the server's port (host firewall, security group, load balancer listener), or "
                 "stop advertising HTTP/3 for a server that does not serve it.",),
        check="curl --http3-only -sv -o /dev/null https://{sni}:{port}/",
    ),
    Cause(
        "quic_address_validation_failed", "The server's address validation (Retry) never completes",
        family="transport",
        meaning="The server answered the client's Initial with a Retry (RFC 9000 §8.1.2) and then never accepted "
                "the client: the client's next Initials, carrying the Retry's token, went unanswered or drew "
                "another Retry, or the client never sent the token back. Typically servers behind one address that "
                "do not share the key their Retry tokens are made with.",
        apache=("Apache httpd does not speak QUIC: look at the HTTP/3 proxy or CDN in front of it.",),
        nginx=("Give every nginx instance behind the address the same `quic_host_key` file (it protects the "
               "Retry tokens), or route by connection ID; `quic_retry off;` avoids Retry altogether.",),
        haproxy=("Set the same `cluster-secret` in the global section of every HAProxy behind the address (it "
                 "protects the Retry tokens).",),
        general=("Make the client's second Initial reach a server that can check the token (a shared token key, "
                 "or a load balancer that routes by connection ID), and check that the client echoes the token.",),
    ),
    Cause(
        "amplification_limit_stall", "The server waits at its anti-amplification limit: the client's datagrams "
        "stop reaching it",
        family="path_or_middlebox",
        meaning="Until a QUIC server has validated the client's address it may send at most three times the bytes "
                "it received (RFC 9000 §8.1). The server sent that much and then nothing, while the client kept "
                "sending: the client's later datagrams never reach the server, so it stays blocked with the rest "
                "of its first flight (typically a long certificate chain) unsent.",
        apache=("Apache httpd does not speak QUIC: look at the HTTP/3 proxy or CDN in front of it.",),
        nginx=("Find what drops the client's later datagrams (a stateful firewall or NAT, a load balancer "
               "sending them elsewhere); a shorter chain (ECDSA, no extra certificates in `ssl_certificate`) "
               "fits the first flight in the limit.",),
        haproxy=("Find what drops the client's later datagrams; a shorter chain in the `crt` file (ECDSA, no "
                 "extra certificates) fits the first flight in the limit.",),
        general=("Capture on both sides of the firewalls, NATs and load balancers between them to find where the "
                 "client's datagrams after the first are lost; a smaller certificate chain helps the server "
                 "finish within the limit.",),
    ),
    Cause(
        "truncated_response", "The data stopped before the sender finished",
        family="after_handshake",
        meaning="Application data ended without close_notify, cut by a FIN or reset mid-response: a crashed or "
                "restarted server process, a proxy or load-balancer timeout, or a length mismatch.",
        apache=("Check the error log for crashed children and raise Timeout / ProxyTimeout for slow backends.",),
        nginx=("Check error_log; raise `proxy_read_timeout` / `send_timeout` for slow backends.",),
        haproxy=("Check the session's termination state in the log; raise `timeout server` / `timeout client`.",),
        general=("Compare where the data stops with the Content-Length or framing; look at timeouts on every hop.",),
        check="curl -v https://{sni}:{port}/ -o /dev/null",
    ),
    Cause(
        "receiver_stopped_reading", "One side stopped reading (its TCP window stayed zero)",
        family="transport",
        meaning="After the handshake one side's TCP receive window stayed at zero: its application stopped reading "
                "what arrived (hung, blocked on something else, overloaded, or paused), so the other side could "
                "send nothing more, only probe, and then gave up on a send timeout, or the reader was killed.",
        apache=("A client that stops reading is dropped after `Timeout` (default 60 s): find why it stops reading, or "
                "raise Timeout for clients known to be slow; for a backend that stops reading, see ProxyTimeout.",),
        nginx=("`send_timeout` (default 60 s) closes a connection whose client stopped reading "
               "(`reset_timedout_connection on` makes it a reset): find why the client stops, or raise it.",),
        haproxy=("`timeout client` / `timeout server` end a connection whose peer's window stays closed: find why "
                 "that side stops reading, or raise the timeout.",),
        general=("Find why the receiving application stopped reading (a hung thread, back-pressure from its own "
                 "upstream, a full disk, a process stopped in a debugger); the zero window names the side.",),
    ),
    Cause(
        "keepalive_unanswered", "The peer stopped answering TCP keep-alives",
        family="transport",
        meaning="An established connection went quiet and one side's TCP probes (keep-alives, or window probes) got "
                "no answer: the peer, or the path to it, was gone (a NAT, firewall or load balancer that had dropped "
                "the idle connection from its table, a host that crashed or lost its network); the prober's TCP then "
                "gave up on the connection.",
        apache=("Keep idle connections shorter-lived than the idle timeout of any NAT or firewall on the path "
                "(KeepAliveTimeout; for proxied backends `ProxyPass ... keepalive=On` and a shorter ttl).",),
        nginx=("Keep `keepalive_timeout` (and an upstream's `keepalive_timeout`) below the idle timeout of the NAT or "
               "firewall on the path; `listen ... so_keepalive=30s::` probes sooner.",),
        haproxy=("`option clitcpka` / `option srvtcpka` with `clitcpka-idle` / `srvtcpka-idle` below the "
                 "firewall's idle timeout, or shorter `timeout client` / `timeout server`.",),
        general=("Send keep-alives more often than the shortest idle timeout on the path (or raise that timeout), and "
                 "check whether the peer host was still up at that time.",),
    ),
    Cause(
        "nonstandard_alert", "The peer sent an alert code that is not registered",
        family="unknown",
        meaning="The alert description is not in the IANA registry: a private or experimental implementation, a "
                "protocol that is not TLS, or a corrupted record.",
        apache=("Nothing to change in mod_ssl for the code itself: identify the peer's software and read its log.",),
        nginx=("Identify the peer's software and read its log.",),
        haproxy=("Identify the peer's software and read its log.",),
        general=("Check that the connection really carries TLS and that the record bytes were not altered.",),
    ),
    Cause(
        "not_tls", "The connection does not carry TLS",
        family="not_tls",
        meaning="The connection carries something other than TLS, and it is neither plain HTTP to a TLS port "
                "nor TLS to a plain-text server. Such connections are listed when they use a TLS port or with "
                "`--all`.",
        general=("Nothing TLS happened on this connection; check that the client and server use the protocol and port you expect.",),
    ),
    Cause(
        "unknown", "The cause could not be determined",
        family="unknown",
        meaning="The capture does not hold what would decide the cause.",
        general=("The capture lacks what would decide it; see the explanation for what is missing.",),
    ),
)}


# The servers whose remedy lines fit a STARTTLS protocol (the prefix of the line; a line
# without one of these prefixes is general and always given).
STARTTLS_SERVERS: dict[str, tuple[str, ...]] = {
    "smtp": ("Postfix:", "Exim:"), "imap": ("Dovecot:",), "pop3": ("Dovecot:",),
    "ftp": ("vsftpd:",), "ldap": ("OpenLDAP (slapd):",), "xmpp": ("XMPP:",),
    "postgresql": ("PostgreSQL:",), "mysql": ("MySQL/MariaDB:",),
}
_EVERY_STARTTLS_SERVER = tuple(p for prefixes in STARTTLS_SERVERS.values() for p in prefixes)


def starttls_remedy_lines(cause_id: str, protocol: str) -> list[str]:
    """The cause's remedy lines for a server of ``protocol`` (its servers' lines and the
    general ones)."""
    mine = STARTTLS_SERVERS.get(protocol, ())
    return [line for line in remedy_lines(cause_id)
            if line.startswith(mine) or not line.startswith(_EVERY_STARTTLS_SERVER)]


# Remedy lines per cause, composed once: every failed connection asks for them.
_REMEDIES: dict[str, tuple[str, ...]] = {
    c.id: (tuple(f"Apache httpd (mod_ssl): {x}" for x in c.apache) + tuple(f"nginx: {x}" for x in c.nginx)
           + tuple(f"HAProxy: {x}" for x in c.haproxy) + c.general)
    for c in CAUSES.values()
}


def remedy_lines(cause_id: str) -> list[str]:
    lines = _REMEDIES.get(cause_id)
    return list(lines) if lines is not None else []


def check_command(cause_id: str, host: str, port: str, sni: str) -> str | None:
    """The cause's check command for this server and name, or None (see suggested_check)."""
    return suggested_check(cause_id, host, port, sni)[0]


# openssl s_client's -starttls names where they differ from the STARTTLS stage's protocol names.
_OPENSSL_STARTTLS = {"postgresql": "postgres"}


def suggested_check(cause_id: str, host: str, port: str, sni: str,
                    starttls: str = "smtp") -> tuple[str | None, str | None]:
    """(command, why withheld) for the cause's check: the command with ``host``, ``port`` and
    ``sni`` (``host`` when empty) filled in, each word that holds one quoted with shlex.quote so
    that the shell reads it as one argument whatever it contains. A name that is not a DNS name
    or an IP address is no name a server is reached by, and only a capture made to attack the
    reader holds one: then no command, and the reason instead. (None, None): the cause has none.
    ``starttls``: the plain-text protocol (results.starttls.StartTls.protocol) for ``{starttls}``."""
    c = CAUSES.get(cause_id)
    if c is None or not c.check:
        return None, None
    name = sni or host
    problem = _host_name_problem(name)
    if problem is not None:
        which = "server name (SNI)" if sni else "server address"
        return None, f"the {which} in the capture is not a DNS name or an IP address: {problem}"
    protocol = _OPENSSL_STARTTLS.get(starttls, starttls)
    return " ".join(_filled(word, host, port, name, protocol) if "{" in word else word
                    for word in c.check.split(" ")), None


def _filled(word: str, host: str, port: str, name: str, starttls: str) -> str:
    """One word of a check template with the values in, quoted. Before ``:{port}`` (openssl's
    -connect, a URL) an IPv6 address goes in brackets: without them openssl refuses it as
    "malformed or ambiguous", and a URL cannot hold it."""
    if ":{port}" in word:
        host, name = _bracketed(host), _bracketed(name)
    return shlex.quote(word.format(host=host, port=port, sni=name, starttls=starttls))


def _bracketed(address: str) -> str:
    return f"[{address}]" if ":" in address else address


_LABEL = re.compile(r"[A-Za-z0-9_-]+")


def _host_name_problem(name: str) -> str | None:
    """Why ``name`` is neither a DNS name (letters, digits, '-' and '_' in labels of 1-63
    characters, not starting or ending with '-'; at most 253 characters and one final dot) nor
    an IPv4 or IPv6 address without a zone: None when it is one. Underscores are let through:
    DNS allows them, some internal hosts have them, and a shell gives them no meaning."""
    if "%" not in name:
        try:
            ipaddress.ip_address(name)
            return None
        except ValueError:
            pass
    if not name.isascii():
        return "it holds characters that are not ASCII (an international name is sent as xn--…)"
    labels = name[:-1].split(".") if name.endswith(".") else name.split(".")
    if len(name) > 253:
        return f"it is {len(name)} characters long, more than 253"
    for label in labels:
        if not label:
            return "it has an empty label"
        if len(label) > 63:
            return f"it has a label of {len(label)} characters, more than 63"
        if _LABEL.fullmatch(label) is None:
            return "it holds characters other than letters, digits, '-', '_' and '.'"
        if label[0] == "-" or label[-1] == "-":
            return "a label starts or ends with '-'"
    return None
