"""The alert model: every registered TLS alert, what it means, and what it can point to.

Data in one place, like the IANA tables in :mod:`tlsdissect.tls.tables`, for the rules to read:

- ``ALERTS``: for every code in ``tables.ALERT_DESCRIPTIONS`` (the IANA TLS Alerts registry),
  its meaning in plain words, the RFC that defines it, whether it is always fatal, and, by
  sender and phase, the ordered candidate causes, each with a likelihood word and the evidence
  in the capture that tells it from the others.
- ``NEW_CAUSES``: the causes the alerts need that ``causes.CAUSES`` does not have yet, with
  meaning, remedies (Apache first, then nginx, HAProxy, a generic line) and a check command,
  in a shape (:class:`CauseSpec`) that converts to ``causes.Cause`` for the catalogue.
- ``STACK_HABITS``: which alert each TLS implementation sends (or that it sends none) for the
  common failures, each with where that was read (file and function, or document) and whether
  it was confirmed. A candidate that relies on a stack's habit names the stack.

The phase vocabulary is the diagnosis' ``failure_point`` (docs/diagnosis.md, "Failure
points"), less ``tcp_connect`` where no alert can travel; ``PHASE_ALIASES`` maps broader names
(``server_flight``, ``client_flight``, ``after_handshake``) onto it.

Lookups for the rules: :func:`alert_info`, :func:`meaning`, :func:`candidates` (never empty:
a visible alert always has at least its meaning and most likely causes, in order),
:func:`describe` (a sentence for an explanation), :func:`stacks_sending` and :func:`habit`.
``docs/alerts.md`` is generated from this module by ``tools/gen_alert_docs.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from tlsdissect.diagnosis.causes import CAUSES, Cause
from tlsdissect.tls import tables

# -- vocabulary ------------------------------------------------------------------------------

SENDERS = ("client", "server")

# The phase an alert arrives in: the step its sender had reached, judged by what it had
# received from the other side (the same words as Diagnosis.failure_point).
PHASES: dict[str, str] = {
    "client_hello": "in answer to the ClientHello, before any ServerHello",
    "server_hello": "after the ServerHello (or HelloRetryRequest), before the server's certificate mattered",
    "server_certificate": "after the server's Certificate (TLS 1.3: its encrypted flight)",
    "key_exchange": "after the ServerKeyExchange / ServerHelloDone, around the client's key exchange (TLS 1.2)",
    "client_certificate": "after the client's certificate flight (Certificate, CertificateVerify)",
    "finished": "at the end of the handshake: the Finished messages and the first protected records",
    "renegotiation": "after the handshake, in a TLS 1.2 renegotiation (HelloRequest, new ClientHello)",
    "post_handshake_auth": "after the handshake, in TLS 1.3 post-handshake client authentication",
    "application_data": "after a completed handshake, while application data flowed",
}

# Broader names (as the issue uses them) onto the phase words above.
PHASE_ALIASES: dict[str, tuple[str, ...]] = {
    "server_flight": ("server_hello", "server_certificate", "key_exchange"),
    "client_flight": ("client_certificate", "finished"),
    "after_handshake": ("application_data", "post_handshake_auth"),
}

LIKELIHOODS: dict[str, str] = {
    "likely": "the usual reason for this alert from this sender at this point",
    "possible": "a real reading that the evidence has to confirm",
    "rare": "seen, but only with particular stacks or set-ups",
}

STACKS: dict[str, str] = {
    "openssl": "OpenSSL 1.1.1 / 3.x libssl (also curl, Apache mod_ssl, nginx, HAProxy, Python ssl, Node.js)",
    "boringssl": "BoringSSL (Chrome, Android, Envoy) and AWS-LC, which shares its verify-alert mapping",
    "gnutls": "GnuTLS (gnutls-cli, gnutls-serv, and applications built on it)",
    "go": "Go crypto/tls",
    "nss": "NSS (Firefox, Thunderbird, some RHEL tools)",
    "rustls": "rustls",
    "schannel": "Windows SChannel (IIS, .NET on Windows, curl with the Schannel backend)",
    "jsse": "Java JSSE (SunJSSE provider)",
    "nodejs": "Node.js tls (OpenSSL underneath, certificate checks in JavaScript)",
    "mbedtls": "Mbed TLS 3.x",
}

# The failures the stack table covers (what the side that sends the alert detected).
FAILURES: dict[str, str] = {
    "unknown_ca": "the peer's chain does not lead to a trusted root (untrusted root, missing intermediate, self-signed)",
    "expired": "a certificate of the peer's chain has expired",
    "not_yet_valid": "a certificate of the peer's chain is not valid yet",
    "bad_hostname": "the server's leaf does not carry the requested name",
    "revoked": "a certificate of the peer's chain is revoked",
    "no_shared_cipher": "no cipher suite in common",
    "no_shared_group": "no key-exchange group in common",
    "no_shared_sigalg": "no signature algorithm in common (or none fits the certificate's key)",
    "unsupported_version": "no protocol version in common",
    "no_alpn": "no ALPN protocol in common",
    "fallback": "a ClientHello with TLS_FALLBACK_SCSV below the server's best version",
    "missing_client_cert": "the server requires a client certificate and gets none",
    "client_cert_untrusted": "the server cannot verify the client's certificate",
    "bad_signature": "a handshake signature (ServerKeyExchange, CertificateVerify) does not verify",
    "bad_finished": "the peer's Finished does not match the transcript",
    "bad_mac": "a protected record fails its integrity check",
}

# -- shapes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One reading of an alert: a cause id, how likely, and what in the capture decides it."""

    cause: str
    likelihood: str  # a key of LIKELIHOODS
    evidence: str  # what to look for in the capture to confirm or rule it out
    stacks: tuple[str, ...] = ()  # the stacks whose habit this reading relies on (keys of STACKS)


@dataclass(frozen=True)
class Reading:
    """The candidates for an alert from one sender in some phases, most likely first."""

    sender: str
    phases: tuple[str, ...]
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class AlertInfo:
    code: int
    name: str  # the IANA name, as tables.ALERT_DESCRIPTIONS has it
    meaning: str
    rfc: str  # where it is defined (and quoted from)
    always_fatal: bool  # fatal in every version that uses it
    versions: str  # which protocol versions send it
    readings: tuple[Reading, ...]
    note: str = ""

    @property
    def phases(self) -> tuple[str, ...]:
        """The phases it can arrive in, in the order of PHASES."""
        seen = {p for r in self.readings for p in r.phases}
        return tuple(p for p in PHASES if p in seen)

    @property
    def senders(self) -> tuple[str, ...]:
        seen = {r.sender for r in self.readings}
        return tuple(s for s in SENDERS if s in seen)


@dataclass(frozen=True)
class CauseSpec:
    """A cause for the catalogue: ``causes.Cause`` plus its meaning and per-server remedies."""

    id: str
    title: str
    meaning: str
    apache: tuple[str, ...]
    nginx: tuple[str, ...]
    haproxy: tuple[str, ...]
    general: tuple[str, ...]
    check: str = ""

    def to_cause(self) -> Cause:
        """The ``causes.Cause`` form: nginx and HAProxy lines go first among the general ones."""
        general = (tuple(f"nginx: {x}" for x in self.nginx) + tuple(f"HAProxy: {x}" for x in self.haproxy)
                   + self.general)
        return Cause(self.id, self.title, apache=self.apache, general=general, check=self.check)


@dataclass(frozen=True)
class StackHabit:
    """What one stack sends when it detects one failure."""

    stack: str  # key of STACKS
    failure: str  # key of FAILURES
    role: str  # the side that detects it and sends: client | server
    alert: Optional[int]  # the alert code sent, or None when it sends none
    how: str  # alert | none (closes without an alert) | not_implemented | after_handshake
    source: str  # file and function in the stack's source, or the document / lab capture
    confirmed: bool  # read in the source (or seen in a lab capture); False: from reports or memory
    versions: str = ""  # "TLS 1.2", "TLS 1.3" when the habit differs by version
    note: str = ""


def _c(cause: str, likelihood: str, evidence: str, *stacks: str) -> Candidate:
    return Candidate(cause, likelihood, evidence, tuple(stacks))


def _r(sender: str, phases: str, *candidates: Candidate) -> Reading:
    return Reading(sender, tuple(phases.split()), tuple(candidates))


_BOTH = ("client", "server")
_HANDSHAKE = "server_hello server_certificate key_exchange client_certificate finished"
_AFTER = "renegotiation post_handshake_auth application_data"
_ALL = "client_hello " + _HANDSHAKE + " " + _AFTER


# -- causes the alerts need that the catalogue does not have yet ------------------------------

_S_CLIENT = "openssl s_client -connect {host}:{port} -servername {sni}"

NEW_CAUSES: dict[str, CauseSpec] = {c.id: c for c in (
    CauseSpec(
        "alpn_mismatch", "No application protocol (ALPN) in common",
        "The client offered application protocols (ALPN: h2, http/1.1, grpc-exp, ...) and the server supports "
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
    CauseSpec(
        "inappropriate_fallback", "The client fell back to a lower version and the server refused the fallback",
        "The client retried at a lower protocol version after an earlier attempt failed and marked the retry "
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
        check=_S_CLIENT + "   (the client's highest version should succeed)",
    ),
    CauseSpec(
        "no_common_group", "No key-exchange group (curve) in common",
        "The client's supported_groups / key_share list and the server's allowed groups do not meet, for "
        "example a client that offers only post-quantum hybrids or only FFDHE groups, or a server limited to "
        "one curve.",
        apache=("Allow a group the client offers: `SSLOpenSSLConfCmd Groups X25519:secp256r1:secp384r1` "
                "(Apache 2.4.8+ with OpenSSL 1.1.1+).",),
        nginx=("`ssl_ecdh_curve X25519:prime256v1:secp384r1;` (the default `auto` uses OpenSSL's list).",),
        haproxy=("`ssl-default-bind-curves X25519:P-256:P-384` in the global section, or `curves` on the bind line.",),
        general=("Compare the ClientHello's supported_groups and key_share with the server's groups and enable "
                 "one both accept.",),
        check=_S_CLIENT + " -groups X25519:P-256",
    ),
    CauseSpec(
        "no_common_signature_scheme", "No signature algorithm in common with the server's certificate key",
        "The server cannot sign with a scheme the client accepts for its certificate's key: an RSA-only server "
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
    ),
    CauseSpec(
        "handshake_signature_invalid", "A handshake signature does not verify with the certificate's key",
        "The signature in the ServerKeyExchange (TLS 1.2) or CertificateVerify (TLS 1.3, or the client's in "
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
    CauseSpec(
        "handshake_transcript_mismatch", "The two sides computed different handshake transcripts",
        "A Finished message (or a TLS 1.3 PSK binder) did not match what the receiver computed: a device on the "
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
    CauseSpec(
        "record_corrupted_in_transit", "A protected record failed its integrity check",
        "A record's authentication tag or MAC did not verify (bad_record_mac): its bytes changed between the "
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
    CauseSpec(
        "weak_server_key", "The server's certificate chain is too weak for the client",
        "The client refuses a key or signature in the server's chain as too weak for its policy: RSA keys below "
        "2048 bits, SHA-1 or MD5 signatures, explicit EC parameters (OpenSSL security level, Java "
        "jdk.certpath.disabledAlgorithms, browser policy).",
        apache=("Reissue the certificate with an RSA 2048+ or ECDSA P-256 key signed with SHA-256 (and chain "
                "SHA-256 intermediates) and point SSLCertificateFile/SSLCertificateKeyFile at it.",),
        nginx=("Install the reissued certificate and key in ssl_certificate / ssl_certificate_key.",),
        haproxy=("Install the reissued certificate and key in the .pem named by `crt`.",),
        general=("Check every certificate of the chain with `openssl x509 -noout -text` (Public-Key bits, "
                 "Signature Algorithm). Lowering the client's security level (@SECLEVEL=1) is only a stop-gap.",),
        check=_S_CLIENT + " -showcerts 2>/dev/null | openssl x509 -noout -text | grep -E 'Public-Key|Signature Algorithm'",
    ),
    CauseSpec(
        "weak_dh_group", "The server's Diffie-Hellman group is too small for the client",
        "The server chose a DHE suite and sent DH parameters smaller than the client accepts (1024 bits or "
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
    ),
    CauseSpec(
        "server_cert_revoked", "The server's certificate is revoked",
        "The client learned from OCSP (often the response the server staples) or a CRL that the server's "
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
    ),
    CauseSpec(
        "client_cert_revoked", "The client's certificate is revoked",
        "The server checked the client certificate against a CRL (or OCSP) and found it revoked.",
        apache=("Issue the client a new certificate; if it should not be revoked, check that "
                "SSLCARevocationFile/SSLCARevocationPath hold the current CRL (and SSLCARevocationCheck).",),
        nginx=("Issue a new client certificate; `ssl_crl` must name the current CRL.",),
        haproxy=("Issue a new client certificate; `crl-file` on the bind line must name the current CRL.",),
        general=("Look the serial number up in the issuing CA's CRL (`openssl crl -in crl.pem -noout -text`).",),
        check=_S_CLIENT + " -cert client.pem -key client.key",
    ),
    CauseSpec(
        "server_cert_wrong_usage", "The server's certificate is not meant for TLS servers",
        "The leaf's keyUsage / extendedKeyUsage do not allow TLS server authentication (for example a "
        "clientAuth-only certificate), or its key type is one the client does not support.",
        apache=("Reissue the certificate with extendedKeyUsage serverAuth and keyUsage digitalSignature (plus "
                "keyEncipherment for RSA key exchange) and install it in SSLCertificateFile.",),
        nginx=("Install a certificate with extendedKeyUsage serverAuth in ssl_certificate.",),
        haproxy=("Install a certificate with extendedKeyUsage serverAuth in the .pem named by `crt`.",),
        general=("`openssl x509 -noout -ext keyUsage,extendedKeyUsage -in leaf.pem` shows what the certificate "
                 "allows.",),
        check=_S_CLIENT + " 2>/dev/null | openssl x509 -noout -ext keyUsage,extendedKeyUsage",
    ),
    CauseSpec(
        "ocsp_staple_invalid", "The stapled OCSP response is not acceptable",
        "The server stapled an OCSP response (CertificateStatus, or status_request in the TLS 1.3 Certificate) "
        "that the client rejects: expired, for another certificate, an error response, or badly signed.",
        apache=("With `SSLUseStapling on`, set `SSLStaplingReturnResponderErrors off` so errors are not stapled, "
                "keep SSLStaplingCache, and make sure Apache reaches the CA's OCSP responder.",),
        nginx=("`ssl_stapling on; ssl_stapling_verify on;` with `ssl_trusted_certificate` holding the issuer and a "
               "working `resolver`.",),
        haproxy=("Refresh the .ocsp file next to the certificate (or `ocsp-update on`, HAProxy 2.8+).",),
        general=("Decode the staple (`openssl s_client -status`) and compare its thisUpdate/nextUpdate and "
                 "certificate ID with the leaf.",),
        check=_S_CLIENT + " -status",
    ),
    CauseSpec(
        "psk_identity_unknown", "The server does not know the client's pre-shared key identity",
        "TLS-PSK (a configured shared key, not session resumption): the identity the client presents is not "
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
    CauseSpec(
        "ech_rejected", "The server did not accept the client's Encrypted Client Hello",
        "The client sent Encrypted Client Hello (ECH) with a configuration the server could not use (stale keys "
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
    CauseSpec(
        "access_policy_denied", "A policy on the peer denied this connection",
        "Nothing in the TLS parameters is wrong: the sender's access policy refused this client, name or "
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
    CauseSpec(
        "peer_internal_error", "The peer failed for an internal reason",
        "The sender hit an error of its own unrelated to the peer's messages: an unreadable key or "
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
    CauseSpec(
        "tls_implementation_bug", "One side broke the TLS protocol",
        "A message was malformed, out of order, or valid but rejected as if it were not: a parser bug, an old "
        "or unusual stack, an extension or GREASE value one side cannot handle, a record larger than allowed.",
        apache=("Update OpenSSL and mod_ssl; if only one kind of client fails, compare its ClientHello with a "
                "working client's and report it to that client's vendor.",),
        nginx=("Update nginx's OpenSSL; compare the failing client's hello with a working one.",),
        haproxy=("Update HAProxy's TLS library; compare the failing client's hello with a working one.",),
        general=("Find the message that breaks the RFC (tlsdissect's parser warnings help), update that side's "
                 "implementation, or switch off the feature that triggers it on the other side as a stop-gap.",),
        check=_S_CLIENT + " -msg",
    ),
    CauseSpec(
        "middlebox_tampering", "A device on the path altered the TLS handshake",
        "Something between client and server changed the handshake: a TLS-inspecting proxy that re-terminates "
        "TLS, an IPS stripping extensions, a protocol-unaware proxy rewriting bytes, or a downgrade (a TLS 1.3 "
        "client sees the downgrade sentinel in a TLS 1.2 ServerHello).",
        apache=("Capture on the Apache host and at the client: if the hellos or certificates differ, a device in "
                "between edits TLS; exempt this traffic from inspection.",),
        nginx=("The same comparison of captures from both ends.",),
        haproxy=("The same; if HAProxy itself is the inspecting hop, check its `ssl` bind and server options.",),
        general=("Compare the server certificate the client received with the one the server sends; an issuer "
                 "of the inspection product's CA is the tell.",),
        check=_S_CLIENT + " -showcerts   (from the client's network and from the server's)",
    ),
    CauseSpec(
        "handshake_canceled", "The sender's application abandoned the handshake",
        "The user or the application on the sending side gave up (user_canceled): a dismissed certificate "
        "prompt, a timeout in the application, a cancelled request.",
        apache=("Nothing on the server: the client gave up; its own log says why.",),
        nginx=("Nothing on the server: the client gave up; its own log says why.",),
        haproxy=("Nothing on HAProxy: the peer gave up; check client timeouts if it happens in bulk.",),
        general=("Look at the sending application (timeouts, prompts, cancelled requests).",),
    ),
    CauseSpec(
        "late_alert_after_success", "A fatal alert came after the handshake had succeeded",
        "The handshake completed and data may have flowed; a later fatal alert ended the connection: an "
        "application-level refusal carried as an alert, a KeyUpdate or renegotiation problem, or records that "
        "failed to decrypt mid-stream.",
        apache=("Read the error log at the alert's time; per-directory client authentication (SSLVerifyClient "
                "inside <Location>) is a common source.",),
        nginx=("Read error_log at the alert's time.",),
        haproxy=("Read the HAProxy log at the alert's time (termination state of the session).",),
        general=("The alert's name and what preceded it (renegotiation, KeyUpdate, a request) decide; supply the "
                 "key log to read encrypted alerts.",),
    ),
    CauseSpec(
        "client_rejected_cert_silently", "The client gave up on the server's certificate without a specific alert",
        "The client refused the server's certificate but said so only with close_notify, user_canceled or a "
        "plain close, often after the handshake had completed: Node.js verifies after the handshake and destroys "
        "the socket; curl with OpenSSL checks the host name after the handshake and sends close_notify.",
        apache=("Check what the client checks: the chain in SSLCertificateFile (leaf and intermediates), its dates, "
                "and that ServerName/ServerAlias match the certificate's subjectAltName.",),
        nginx=("Check the chain in ssl_certificate (full chain), its dates and names.",),
        haproxy=("Check the chain in the .pem named by `crt`, its dates and names.",),
        general=("Run the client verbosely (curl -v, NODE_DEBUG=tls, -Djavax.net.debug=ssl): its own error "
                 "names the reason.",),
        check=_S_CLIENT + " -verify_return_error -verify_hostname {sni}",
    ),
    CauseSpec(
        "path_mtu_blackhole", "Large packets are lost on the path (path-MTU black hole)",
        "Full-size TCP segments (typically the server's certificate flight) are dropped on the way and the "
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
        check="ping -M do -s 1472 {host}   (lower -s until it passes)",
    ),
    CauseSpec(
        "truncated_response", "The data stopped before the sender finished",
        "Application data ended without close_notify, cut by a FIN or reset mid-response: a crashed or "
        "restarted server process, a proxy or load-balancer timeout, or a length mismatch.",
        apache=("Check the error log for crashed children and raise Timeout / ProxyTimeout for slow backends.",),
        nginx=("Check error_log; raise `proxy_read_timeout` / `send_timeout` for slow backends.",),
        haproxy=("Check the session's termination state in the log; raise `timeout server` / `timeout client`.",),
        general=("Compare where the data stops with the Content-Length or framing; look at timeouts on every hop.",),
        check="curl -v https://{sni}:{port}/ -o /dev/null",
    ),
    CauseSpec(
        "nonstandard_alert", "The peer sent an alert code that is not registered",
        "The alert description is not in the IANA registry: a private or experimental implementation, a "
        "protocol that is not TLS, or a corrupted record.",
        apache=("Nothing to change in mod_ssl for the code itself: identify the peer's software and read its log.",),
        nginx=("Identify the peer's software and read its log.",),
        haproxy=("Identify the peer's software and read its log.",),
        general=("Check that the connection really carries TLS and that the record bytes were not altered.",),
    ),
)}
