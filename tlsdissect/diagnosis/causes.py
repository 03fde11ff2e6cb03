"""The catalogue of failure causes: one id each, what it means, and what to change.

Ids are stable (users' scripts match on them). ``docs/causes.md`` documents each with its
signature in the bytes and an example capture. Remedies name Apache mod_ssl directives first
(what most of our users run), then general advice for other servers and clients; ``check`` is
a command that confirms the fix, with ``{host}``, ``{port}`` and ``{sni}`` filled in by
:func:`suggested_check`. An analyst pastes it into a shell: a note after it is a shell comment
with no quote of its own (in parentheses it was a syntax error, and an apostrophe left the shell
waiting for the closing quote), and the values, the server name chosen by whoever wrote the
capture among them, are quoted.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    id: str
    title: str
    apache: tuple[str, ...] = ()
    general: tuple[str, ...] = ()
    check: str = ""


_S_CLIENT = "openssl s_client -connect {host}:{port} -servername {sni}"

CAUSES: dict[str, Cause] = {c.id: c for c in (
    Cause("ok", "The handshake succeeded"),
    Cause(
        "protocol_version_mismatch", "No TLS version both sides accept",
        apache=("Let the server accept a version the client offers: SSLProtocol (e.g. `SSLProtocol -all +TLSv1.2 +TLSv1.3`).",),
        general=("Enable on the server a protocol version the client offers, or configure the client to offer one the server accepts (e.g. curl --tlsv1.2 / --tls-max).",),
        check=_S_CLIENT + " -tls1_2   # and -tls1_3",
    ),
    Cause(
        "legacy_protocol_rejected", "The client only speaks an obsolete protocol (SSLv3/TLS 1.0/1.1)",
        apache=("Upgrade the client to TLS 1.2 or 1.3. Only as a stop-gap for a client you cannot change: add +TLSv1.1/+TLSv1 to SSLProtocol and `@SECLEVEL=0` to SSLCipherSuite (insecure).",),
        general=("Update the client's TLS library or its configuration so it offers TLS 1.2 or newer; modern OpenSSL builds refuse TLS 1.0/1.1 at the default security level.",),
        check=_S_CLIENT + " -tls1_2",
    ),
    Cause(
        "no_shared_cipher", "No cipher suite (or group / signature algorithm) in common",
        apache=("Allow a suite the client offers: SSLCipherSuite (TLS <= 1.2) or `SSLCipherSuite TLSv1.3 ...` (TLS 1.3); check SSLOpenSSLConfCmd Curves/Groups and the certificate key type (an ECDSA-only certificate needs ECDSA suites).",),
        general=("Compare the client's offered suites with the server's enabled ones (`openssl ciphers -v 'SERVER-STRING'`) and enable a common, strong suite on either side.",),
        check=_S_CLIENT + " -cipher 'ECDHE-RSA-AES128-GCM-SHA256'",
    ),
    Cause(
        "server_cert_untrusted", "The client does not trust the root CA of the server's chain",
        apache=("If the certificate should be publicly trusted, get it from a public CA; otherwise add the issuing root CA to the client's trust store (SSLCertificateFile/SSLCertificateChainFile only decide what the server sends).",),
        general=("Install the root CA certificate in the client's trust store (e.g. curl --cacert root.pem, update-ca-certificates, the Java keystore), or use a certificate from a CA the client already trusts.",),
        check="curl -v --cacert ROOT-CA.pem https://{sni}:{port}/",
    ),
    Cause(
        "server_chain_incomplete", "The server does not send the intermediate CA certificate",
        apache=("Send the intermediate: append it to the file named by SSLCertificateFile (leaf first, then intermediates), or on Apache < 2.4.8 use SSLCertificateChainFile.",),
        general=("Configure the server to send the full chain (leaf + intermediates, e.g. nginx ssl_certificate with fullchain.pem). Browsers may hide the problem by fetching the issuer; OpenSSL, curl, Java and most other clients do not.",),
        check=_S_CLIENT + " -showcerts   # expect 'Verify return code: 0 (ok)' and more than one certificate",
    ),
    Cause(
        "server_cert_self_signed", "The server presents a self-signed certificate",
        apache=("Replace the certificate in SSLCertificateFile/SSLCertificateKeyFile with one issued by a CA the clients trust, or distribute this certificate to the clients as a trusted one.",),
        general=("Use a CA-issued certificate, or import exactly this certificate into the client's trust store (pinning).",),
        check=_S_CLIENT + " -verify_return_error",
    ),
    Cause(
        "server_cert_expired", "The server's certificate had expired",
        apache=("Renew the certificate and point SSLCertificateFile/SSLCertificateKeyFile at the new files, then reload Apache (apachectl graceful).",),
        general=("Renew the certificate (automate it, e.g. with ACME/certbot) and reload the server; check the client's clock too.",),
        check=_S_CLIENT + " 2>/dev/null | openssl x509 -noout -dates",
    ),
    Cause(
        "server_cert_not_yet_valid", "The server's certificate was not yet valid",
        apache=("Check the clocks (client and server) and the certificate's notBefore; reissue the certificate if it was dated in the future.",),
        general=("A certificate valid only from a future date is usually a clock problem: fix NTP on the client (or on the machine that issued the certificate).",),
        check=_S_CLIENT + " 2>/dev/null | openssl x509 -noout -dates",
    ),
    Cause(
        "server_cert_hostname_mismatch", "The server's certificate is not valid for the requested name",
        apache=("Serve the right certificate for this name: a <VirtualHost> with ServerName/ServerAlias matching the SNI and its own SSLCertificateFile, or a certificate whose subjectAltName lists the name.",),
        general=("Request the certificate for every name clients use (subjectAltName), or make the client connect with the name the certificate carries.",),
        check=_S_CLIENT + " 2>/dev/null | openssl x509 -noout -ext subjectAltName",
    ),
    Cause(
        "server_cert_rejected", "The client rejected the server's certificate (the exact reason is not visible)",
        apache=("Check the chain the server sends (SSLCertificateFile with intermediates), its validity dates and names, and whether the client trusts the root.",),
        general=("Run the client with verbose TLS output or supply the key log (SSLKEYLOGFILE) to see the certificate and the alert.",),
        check=_S_CLIENT + " -showcerts -verify_return_error",
    ),
    Cause(
        "client_cert_missing", "The server requires a client certificate and the client sent none",
        apache=("Give the client a certificate issued by a CA in SSLCACertificateFile, or relax SSLVerifyClient (optional / none) for this location.",),
        general=("Configure the client with its certificate and key (curl --cert/--key, openssl s_client -cert/-key), issued by a CA the server accepts.",),
        check=_S_CLIENT + " -cert client.pem -key client.key",
    ),
    Cause(
        "client_cert_rejected", "The server rejected the client certificate",
        apache=("Make SSLCACertificateFile (and SSLCADNRequestFile/Path, which set the CA list sent to clients) contain the CA that issued the client certificate; check SSLVerifyDepth and the certificate's validity and clientAuth usage.",),
        general=("Issue the client certificate from a CA the server trusts for client authentication, within its validity period and with the clientAuth extended key usage.",),
        check=_S_CLIENT + " -cert client.pem -key client.key -state",
    ),
    Cause(
        "renegotiation_refused", "A renegotiation was refused",
        apache=("Avoid renegotiation: move SSLVerifyClient require from <Location>/<Directory> to the <VirtualHost> level (client certificate in the first handshake), or use TLS 1.3 post-handshake auth with clients that support it.",),
        general=("Per-directory client authentication forces a renegotiation that many clients (HTTP/2, curl, browsers) refuse; request the certificate in the initial handshake instead.",
                 "A client that starts a renegotiation itself is refused by servers that forbid client-initiated renegotiation (OpenSSL's default): reconnect instead of renegotiating.",),
        check=_S_CLIENT + " -cert client.pem -key client.key   # then request the protected path",
    ),
    Cause(
        "sni_rejected", "The server refused the requested server name (SNI)",
        apache=("Add a <VirtualHost> whose ServerName/ServerAlias matches the SNI, or turn off SSLStrictSNIVHostCheck if clients without SNI must be served.",),
        general=("Make the client send the right server name (SNI) and the server have a virtual host/certificate for it.",),
        check=_S_CLIENT + "   # with the exact host name clients use",
    ),
    Cause(
        "plaintext_http_on_tls_port", "Plain HTTP was sent to a TLS port",
        apache=("Use https:// on the client; or, if plain HTTP must be served, give it its own Listen/VirtualHost without SSLEngine on.",),
        general=("The client spoke plain HTTP to a port that expects TLS: use https:// (or the TLS port) in the client's URL.",),
        check="curl -v https://{host}:{port}/",
    ),
    Cause(
        "tls_to_plaintext_server", "TLS was sent to a port that speaks plain text",
        apache=("Enable TLS on that VirtualHost (SSLEngine on with SSLCertificateFile/KeyFile) or point the client at the TLS port.",),
        general=("The server on this port does not speak TLS: use http:// or the right port, or enable TLS on the server.",),
        check="curl -v http://{host}:{port}/",
    ),
    Cause(
        "middlebox_reset", "A device between client and server reset the connection",
        general=("Look at firewalls, IPS/DPI, proxies and load balancers on the path: their logs for this connection, TLS inspection or SNI filtering policies, and idle timeouts.",),
        check=_S_CLIENT + "   # from a host on the server side of the middlebox, to compare",
    ),
    Cause(
        "connection_reset", "The connection was reset without a TLS alert",
        general=("Check the server's error log at that time (process crashes, connection limits, TLS errors logged but not sent), and any middlebox on the path.",),
        check=_S_CLIENT,
    ),
    Cause(
        "server_no_response", "The server never answered",
        general=("Check that the service behind this port really speaks TLS and is not hung (overloaded, waiting on a backend, a firewall silently dropping), and the client's timeout.",),
        check=_S_CLIENT + " -state",
    ),
    Cause(
        "server_closed_without_alert", "The server closed the connection without a TLS alert",
        apache=("Look in the Apache error log (LogLevel ssl:info) at that time for the reason mod_ssl gave.",),
        general=("The server gave up without saying why on the wire: its own log has the reason (handshake error, SNI/vhost policy, resource limits).",),
        check=_S_CLIENT + " -state",
    ),
    Cause(
        "client_closed_without_alert", "The client closed the connection without a TLS alert",
        general=("The client gave up silently: its own error message (certificate verification, host name check, timeout) is the reason; run it verbosely or supply its key log.",),
        check=_S_CLIENT + " -verify_return_error",
    ),
    Cause(
        "not_tls", "The connection does not carry TLS",
        general=("Nothing TLS happened on this connection; check that the client and server use the protocol and port you expect.",),
    ),
    Cause(
        "unknown", "The cause could not be determined",
        general=("The capture lacks what would decide it; see the explanation for what is missing.",),
    ),
)}


# Remedy lines per cause, composed once: every failed connection asks for them.
_REMEDIES: dict[str, tuple[str, ...]] = {
    c.id: tuple(f"Apache httpd (mod_ssl): {a}" for a in c.apache) + c.general for c in CAUSES.values()
}


def remedy_lines(cause_id: str) -> list[str]:
    lines = _REMEDIES.get(cause_id)
    return list(lines) if lines is not None else []


def check_command(cause_id: str, host: str, port: str, sni: str) -> str | None:
    """The cause's check command for this server and name, or None (see suggested_check)."""
    return suggested_check(cause_id, host, port, sni)[0]


def suggested_check(cause_id: str, host: str, port: str, sni: str) -> tuple[str | None, str | None]:
    """(command, why withheld) for the cause's check: the command with ``host``, ``port`` and
    ``sni`` (``host`` when empty) filled in, each word that holds one quoted with shlex.quote so
    that the shell reads it as one argument whatever it contains. A name that is not a DNS name
    or an IP address is no name a server is reached by, and only a capture made to attack the
    reader holds one: then no command, and the reason instead. (None, None): the cause has none."""
    c = CAUSES.get(cause_id)
    if c is None or not c.check:
        return None, None
    name = sni or host
    problem = _host_name_problem(name)
    if problem is not None:
        which = "server name (SNI)" if sni else "server address"
        return None, f"the {which} in the capture is not a DNS name or an IP address: {problem}"
    return " ".join(_filled(word, host, port, name) if "{" in word else word for word in c.check.split(" ")), None


def _filled(word: str, host: str, port: str, name: str) -> str:
    """One word of a check template with the values in, quoted. Before ``:{port}`` (openssl's
    -connect, a URL) an IPv6 address goes in brackets: without them openssl refuses it as
    "malformed or ambiguous", and a URL cannot hold it."""
    if ":{port}" in word:
        host, name = _bracketed(host), _bracketed(name)
    return shlex.quote(word.format(host=host, port=port, sni=name))


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
