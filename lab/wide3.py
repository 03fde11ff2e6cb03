"""The third wide lab (`wide3_*`): TLS stacks the lab had never used, as a held-out check.

Every scenario here is held out (`expected.held_out: true`): it only checks that the diagnosis
generalises to stacks it was not tuned on, never tunes it. The earlier labs used OpenSSL (curl,
s_client/s_server, Apache, nginx, HAProxy, lighttpd, stunnel, Python, Node.js), GnuTLS and Go;
here at least one peer of every scenario is another implementation:

- Java JSSE (OpenJDK 17): lab/peers/Peer.java, SSLSocket / SSLServerSocket, client side
  checking the host name as HttpsURLConnection does. No key log (the JDK cannot write one).
- NSS 3.87 (libnss3-tools): tstclnt and selfserv with a certificate database made by
  lab/peers/nssdb.sh. No key log (Debian's NSS is built without SSLKEYLOGFILE).
- Erlang/OTP 25 `ssl` (its own TLS state machines): lab/peers/peer.escript. Key log only for a
  completed handshake (OTP hands the secrets out afterwards).
- Botan 2.19 (`botan tls_client` / `tls_server`, TLS 1.2 only). No key log. The client takes
  its host name from DNS, so it runs in a mount namespace whose /etc/hosts maps www.lab.test
  to 127.0.0.1.
- wolfSSL 5.5 and mbedTLS 2.28 as lighttpd's TLS modules (lighttpd-mod-wolfssl,
  lighttpd-mod-mbedtls).
- rustls 0.20 (Debian's librust-rustls-dev): lab/peers/rustls/, a server and a client built
  offline with cargo from Debian's crate registry (/usr/share/cargo/registry). Both write the
  key log (SSLKEYLOGFILE).

Key logs come from the other peer where it is an OpenSSL or GnuTLS one (curl, gnutls-cli, or
`openssl s_server -keylogfile` as the server), or from the Erlang peer after a success.

Ground truth is what the peers said (client error and exit status, the server's log line) and
tshark's reading of the alerts, mapped to the catalogue's cause ids; tlsdissect was not run to
decide any expected value. The captures were made with a fresh PKI of their own: its CA
certificates are in `captures/_trust_wide3/`.
"""
from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from groundtruth import FAMILIES
from scenarios import GET, HOST, TLS13, Scenario, alert, curl, expect, gnutls, sc

WIDE3: list[Scenario] = []
TRUST = "_trust_wide3"
HERE = Path(__file__).resolve().parent
JAVA_CLASSES = "lab/work/bin/java"  # javac output of lab/peers/Peer.java (ensure_java_peer)


def w3(name: str, description: str, server: tuple, client: dict, expected: dict,
       **kw) -> None:
    """One held-out scenario of the third wide lab, in its own network namespace.
    `{scen}` in the client's or server's argv becomes the scenario's work folder."""
    assert name.startswith("wide3_"), name
    work = f"lab/work/{name}"
    expected = dict(expected, cause_family=FAMILIES[expected["cause"]], held_out=True)
    client = dict(client, client=[a.replace("{scen}", work) for a in client["client"]])
    kind, spec = server
    if kind == "lighttpd-tls":  # its TLS module's own lines ("MTLS: ... no ciphersuites in common")
        kw.setdefault("log_pattern", r"mod_(mbedtls|wolfssl)\.c")
    if kind == "command":
        spec = dict(spec, argv=[a.replace("{scen}", str(HERE.parent / work)) for a in spec["argv"]])
    WIDE3.append(sc(name, description, (kind, spec), client, expected, netns=True, trust=TRUST,
                    **kw))


# ----------------------------------------------------------------------- versions (sidecars)
def _out(argv: list[str]) -> str:
    try:
        res = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return ""
    return (res.stdout + res.stderr).strip()


def _deb(package: str) -> str:
    return _out(["dpkg-query", "-W", "-f=${Version}", package]).split("-")[0].split(":")[-1]


def java_version() -> str:
    first = _out(["java", "-version"]).splitlines()[:1]
    return (first[0].replace('"', "") if first else "java") + " JSSE (lab/peers/Peer.java)"


def erlang_version() -> str:
    v = _out(["erl", "-noshell", "-eval", 'application:load(ssl), {ok, V} = '
              'application:get_key(ssl, vsn), io:format("OTP ~s ssl ~s", '
              '[erlang:system_info(otp_release), V]), halt().'])
    return f"Erlang/{v} (lab/peers/peer.escript)"


def nss_version(tool: str) -> str:
    return f"NSS {_deb('libnss3')} {tool}"


def botan_version(tool: str) -> str:
    return f"Botan {_out(['botan', 'version'])} {tool}"


def lighttpd_version(module: str) -> str:
    lib = {"mod_wolfssl": ("wolfSSL", "libwolfssl35"), "mod_mbedtls": ("mbedTLS", "libmbedtls14"),
           "mod_gnutls": ("GnuTLS", "libgnutls30")}  # the last: lab/wide6.py
    name, package = lib[module]
    ver = _out(["lighttpd", "-v"]).split()[0]
    return f"{ver} {module} ({name} {_deb(package)})"


def rustls_version() -> str:
    return f"rustls {_deb('librust-rustls-dev')} (lab/peers/rustls)"


CLIENT_VERSIONS = {"java": java_version, "erlang": erlang_version, "rustls": rustls_version,
                   "nss": lambda: nss_version("tstclnt"),
                   "botan": lambda: botan_version("tls_client")}


def ensure_java_peer() -> None:
    """Compile lab/peers/Peer.java (JDK classes only) once into lab/work/bin/java."""
    src = HERE / "peers" / "Peer.java"
    out = HERE.parent / JAVA_CLASSES / "Peer.class"
    if out.exists() and out.stat().st_mtime >= src.stat().st_mtime:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["javac", "-d", str(out.parent), str(src)], check=True)


RUSTLS_PEER = "lab/work/rustls-target/release/rustls-peer"


def ensure_rustls_peer() -> None:
    """Build lab/peers/rustls once (cargo --offline, Debian's crates only) into lab/work."""
    src = HERE / "peers" / "rustls"
    out = HERE.parent / RUSTLS_PEER
    newest = max(p.stat().st_mtime for p in [src / "Cargo.toml", *src.glob("src/*.rs")])
    if out.exists() and out.stat().st_mtime >= newest:
        return
    subprocess.run(["cargo", "build", "--release", "--offline", "--config",
                    'source.crates-io.replace-with="debian"', "--config",
                    'source.debian.directory="/usr/share/cargo/registry"'], check=True, cwd=src,
                   env=dict(os.environ,
                            CARGO_TARGET_DIR=str(HERE.parent / "lab/work/rustls-target")))


# --------------------------------------------------------------------------------- servers
def command(kind: str, argv: list[str], version) -> tuple:
    return ("command", {"kind": kind, "argv": argv, "version": version})


def java_server(*extra: str, cert: str = "fullchain-good.pem", key: str = "leaf-good.key",
                jvm: tuple[str, ...] = ()) -> tuple:
    # IPv4 sockets: the driver's readiness check reads /proc/net/tcp, and a dual-stack JVM
    # would list its 127.0.0.1 listener as ::ffff:127.0.0.1 in tcp6
    return command("java", ["java", "-Djava.net.preferIPv4Stack=true", *jvm, "-cp", str(HERE.parent / JAVA_CLASSES), "Peer",
                            "server", "--port", "{port}", "--cert", f"{{pki}}/{cert}", "--key",
                            f"{{pki}}/{key}", *extra], java_version)


def erlang_server(*extra: str, cert: str = "leaf-good.crt", key: str = "leaf-good.key",
                  chain: str = "inter.crt") -> tuple:
    return command("erlang", ["escript", str(HERE / "peers" / "peer.escript"), "server",
                              "--port", "{port}", "--cert", f"{{pki}}/{cert}", "--key",
                              f"{{pki}}/{key}", "--chain", f"{{pki}}/{chain}", *extra],
                   erlang_version)


def selfserv(*extra: str, chain: str = "fullchain-good.pem", key: str = "leaf-good.key",
             trust: tuple[str, ...] = ()) -> tuple:
    """NSS selfserv with a database holding the server's certificate (and intermediates), plus
    `trust` words for nssdb.sh (e.g. ("T,,", "{pki}/corp-ca.crt") to accept client certs)."""
    db = "{scen}/nssdb-server"
    make = ["sh", str(HERE / "peers" / "nssdb.sh"), db, *(
        w for pair in zip(trust[::2], trust[1::2]) for w in ("trust", *pair)),
        "cert", "server", f"{{pki}}/{chain}", f"{{pki}}/{key}"]
    script = (shlex.join(make) + " && exec selfserv -p {port} -d sql:" + db + " -n server "
              + shlex.join(extra))
    return command("nss", ["sh", "-c", script], lambda: nss_version("selfserv"))


def rustls_server(*extra: str, cert: str = "fullchain-good.pem",
                  key: str = "leaf-good.key") -> tuple:
    """The rustls server, writing the scenario's key log (SSLKEYLOGFILE)."""
    return command("rustls", ["env", "SSLKEYLOGFILE={keylog}", str(HERE.parent / RUSTLS_PEER),
                              "server", "--port", "{port}", "--cert", f"{{pki}}/{cert}", "--key",
                              f"{{pki}}/{key}", *extra], rustls_version)


def openssl_server(*extra: str) -> tuple:
    """openssl s_server writing the scenario's key log (-keylogfile): for a client of another
    stack that cannot write one."""
    return command("s_server", ["openssl", "s_server", "-accept", "127.0.0.1:{port}",
                                "-keylogfile", "{keylog}", *extra],
                   lambda: "openssl s_server (" + _out(["openssl", "version"]).split(" (")[0]
                   + ")")


def lighttpd_tls(module: str, pem: str = "fullchain-good.pem", key: str = "leaf-good.key",
                 extra: str = "") -> tuple:
    """lighttpd with another TLS library as its TLS module (mod_wolfssl or mod_mbedtls)."""
    return ("lighttpd-tls", (module, f'ssl.pemfile = "{{pki}}/{pem}"\n'
                                     f'ssl.privkey = "{{pki}}/{key}"\n{extra}'))


def botan_server(policy: str, cert: str = "fullchain-good.pem",
                 key: str = "leaf-good.key") -> tuple:
    """botan tls_server (an echo server) with a policy file written from `policy`."""
    pol = "{scen}/botan-policy.txt"
    script = (f"mkdir -p {{scen}} && printf %s {shlex.quote(policy)} > {pol} && exec botan "
              f"tls_server {{pki}}/{cert} {{pki}}/{key} --port={{port}} --policy={pol}")
    return command("botan", ["sh", "-c", script], lambda: botan_version("tls_server"))


# --------------------------------------------------------------------------------- clients
def java_client(*extra: str, jvm: tuple[str, ...] = ()) -> dict:
    return {"client": ["java", *jvm, "-cp", JAVA_CLASSES, "Peer", "client", "--port", "{port}",
                       "--host", HOST, "--cafile", "{pki}/root.crt", *extra],
            "client_kind": "java"}


def erlang_client(*extra: str) -> dict:
    return {"client": ["escript", "lab/peers/peer.escript", "client", "--port", "{port}",
                       "--host", HOST, "--cafile", "{pki}/root.crt", "--keylog", "{keylog}",
                       *extra], "client_kind": "erlang"}


def rustls_client(*extra: str) -> dict:
    return {"client": [RUSTLS_PEER, "client", "--port", "{port}", "--host", HOST, "--cafile",
                       "{pki}/root.crt", *extra], "client_kind": "rustls", "keylog_env": True}


def tstclnt(*extra: str, sni: str = HOST, db_extra: tuple[str, ...] = ()) -> dict:
    """NSS tstclnt: a database trusting the lab root (nssdb.sh), the request from a file (-A:
    with the request on stdin tstclnt does not exit when the server closes)."""
    db = "{scen}/nssdb-client"
    make = ["sh", "lab/peers/nssdb.sh", db, "trust", "C,,", "{pki}/root.crt", *db_extra]
    request = shlex.quote(GET.encode("unicode_escape").decode())
    script = (shlex.join(make) + f" && printf {request} > {{scen}}/request.txt && exec tstclnt "
              f"-h 127.0.0.1 -p {{port}} -a {sni} -d sql:{db} -A {{scen}}/request.txt "
              + shlex.join(extra))
    return {"client": ["sh", "-c", script], "client_kind": "nss"}


def botan_client(*options: str) -> dict:
    """botan tls_client www.lab.test: in a mount namespace whose /etc/hosts maps the name to
    127.0.0.1 (botan has no connect-to option); stdin stays open 2 s after the request, as
    botan closes the connection as soon as its stdin ends."""
    hosts = "{scen}/hosts"
    script = (f"echo '127.0.0.1 {HOST}' > {hosts} && mount --bind {hosts} /etc/hosts && "
              f"(cat; sleep 2) | botan tls_client {HOST} --port={{port}} "
              f"--trusted-cas={{pki}}/root.crt --skip-system-cert-store " + shlex.join(options))
    return {"client": ["unshare", "-m", "sh", "-c", script], "client_kind": "botan",
            "stdin": GET}


J12 = ("--protocols", "TLSv1.2")
J13 = ("--protocols", "TLSv1.3")
E12 = ("--versions", "tlsv1.2")
E13 = ("--versions", "tlsv1.3")
R12 = ("--versions", "1.2")
R13 = ("--versions", "1.3")
N12 = ("-V", "tls1.2:tls1.2")
N13 = ("-V", "tls1.3:tls1.3")
CURL12 = ("--tlsv1.2", "--tls-max", "1.2")
GOOD_S = ("-cert", "{pki}/leaf-good.crt", "-key", "{pki}/leaf-good.key", "-cert_chain",
          "{pki}/chain-inter.pem", "-www")


def s_cert(variant: str) -> tuple[str, ...]:
    chain = "chain-rogue.pem" if variant == "rogue" else "chain-inter.pem"
    return ("-cert", f"{{pki}}/leaf-{variant}.crt", "-key", f"{{pki}}/leaf-{variant}.key",
            "-cert_chain", f"{{pki}}/{chain}", "-www")


# ------------------------------------------------------------------------------- successes
w3("wide3_success_java_nss13",
   "The Java JSSE server (OpenJDK 17, TLS 1.3 and 1.2) with the good chain; NSS tstclnt "
   "(TLS 1.3) sends GET / and reads the answer until the server closes.",
   java_server(), tstclnt(*N13),
   expect("TLSv1.3", "established", "ok", None, None, None, None))
w3("wide3_success_erlang_java12",
   "The Erlang/OTP ssl server (TLS 1.2 only; it writes the key log after the handshake) with "
   "the good chain; the Java client (TLS 1.2) fetches / and closes after the response head.",
   erlang_server(*E12, "--keylog", "{keylog}"), java_client(*J12),
   expect("TLSv1.2", "established", "ok", None, None, None, None))
w3("wide3_success_mbedtls_botan12",
   "lighttpd with mbedTLS as its TLS module serves the good chain; the Botan client (TLS 1.2, "
   "Botan 2 has no TLS 1.3) fetches /.",
   lighttpd_tls("mod_mbedtls"), botan_client(),
   expect("TLSv1.2", "established", "ok", None, None, None, None))
w3("wide3_success_nss_erlang13",
   "NSS selfserv with the good chain; the Erlang/OTP ssl client (TLS 1.3) fetches / and "
   "writes the key log after its handshake.",
   selfserv("-V", "tls1.2:tls1.3"), erlang_client(*E13),
   expect("TLSv1.3", "established", "ok", None, None, None, None))

# ---------------------------------------------------------- client rejects the server cert
w3("wide3_unknown_ca_java_mbedtls12",
   "lighttpd on mbedTLS serves the Rogue Root chain (leaf + Rogue Intermediate); the Java "
   "client (TLS 1.2) trusts only the lab root: PKIX path building fails.",
   lighttpd_tls("mod_mbedtls", "fullchain-rogue.pem", "leaf-rogue.key"), java_client(*J12),
   expect("TLSv1.2", "failed", "server_cert_untrusted", "client", "alert", alert("client", 46),
          "server_certificate"))
w3("wide3_unknown_ca_java_s_server13",
   "openssl s_server (writing the key log) serves the Rogue Root chain; the Java client "
   "(TLS 1.3) trusts only the lab root and aborts under its handshake keys.",
   openssl_server(*s_cert("rogue")), java_client(*J13),
   expect("TLSv1.3", "failed", "server_cert_untrusted", "client", "alert",
          alert("client", 46, encrypted=True), "server_certificate"))
w3("wide3_expired_nss_s_server13",
   "openssl s_server (writing the key log) serves the expired leaf with its chain; NSS "
   "tstclnt (TLS 1.3) aborts under its handshake keys.",
   openssl_server(*s_cert("expired")), tstclnt(*N13),
   expect("TLSv1.3", "failed", "server_cert_expired", "client", "alert",
          alert("client", 45, encrypted=True), "server_certificate"))
w3("wide3_expired_erlang_s_server12",
   "openssl s_server (writing the key log, TLS 1.2) serves the expired leaf with its chain; "
   "the Erlang/OTP ssl client (TLS 1.2) aborts.",
   openssl_server(*s_cert("expired"), "-tls1_2"), erlang_client(*E12),
   expect("TLSv1.2", "failed", "server_cert_expired", "client", "alert", alert("client", 45),
          "server_certificate"))
w3("wide3_not_yet_valid_erlang_java12",
   "The Java server (TLS 1.2 only) serves the leaf valid only from 2034; the Erlang/OTP ssl "
   "client (TLS 1.2) aborts.",
   java_server(*J12, cert="fullchain-notyet.pem", key="leaf-notyet.key"), erlang_client(*E12),
   expect("TLSv1.2", "failed", "server_cert_not_yet_valid", "client", "alert",
          alert("client", 45), "server_certificate"))
w3("wide3_botan_ignores_hostname_mismatch_mbedtls12",
   "lighttpd on mbedTLS serves a valid chain for other.example.test only; the Botan client "
   "(botan tls_client, TLS 1.2) asks for www.lab.test. The command-line client only reports "
   "its verdict ('Certificate validation status: Certificate does not match provided name') "
   "and goes on: the handshake completes and GET / is answered. A completed exchange, however "
   "wrong the certificate: nobody refused it.",
   lighttpd_tls("mod_mbedtls", "fullchain-wronghost.pem", "leaf-wronghost.key"),
   botan_client(),
   expect("TLSv1.2", "established", "ok", None, None, None, None))
w3("wide3_hostname_mismatch_erlang_java12",
   "The Java server (TLS 1.2 only) serves a valid chain for other.example.test only; the "
   "Erlang/OTP ssl client asks for www.lab.test (server_name_indication, TLS 1.2).",
   java_server(*J12, cert="fullchain-wronghost.pem", key="leaf-wronghost.key"),
   erlang_client(*E12),
   expect("TLSv1.2", "failed", "server_cert_hostname_mismatch", "client", "alert",
          alert("client", 40), "server_certificate"))
w3("wide3_hostname_mismatch_java_s_server13",
   "openssl s_server (writing the key log) serves the other.example.test chain; the Java "
   "client (TLS 1.3, endpoint identification HTTPS) asks for www.lab.test.",
   openssl_server(*s_cert("wronghost")), java_client(*J13),
   expect("TLSv1.3", "failed", "server_cert_hostname_mismatch", "client", "alert",
          alert("client", 46, encrypted=True), "server_certificate"))
w3("wide3_self_signed_erlang_s_server13",
   "openssl s_server (writing the key log) serves a self-signed www.lab.test certificate; the "
   "Erlang/OTP ssl client (TLS 1.3) trusts only the lab root and aborts under its handshake "
   "keys.",
   openssl_server("-cert", "{pki}/leaf-selfsigned.crt", "-key", "{pki}/leaf-selfsigned.key",
                  "-www"),
   erlang_client(*E13),
   expect("TLSv1.3", "failed", "server_cert_self_signed", "client", "alert",
          alert("client", 42, encrypted=True), "server_certificate"))
w3("wide3_self_signed_nss_java12",
   "The Java server (TLS 1.2 only) serves a self-signed www.lab.test certificate; NSS tstclnt "
   "(TLS 1.2) trusts only the lab root.",
   java_server(*J12, cert="leaf-selfsigned.crt", key="leaf-selfsigned.key"), tstclnt(*N12),
   expect("TLSv1.2", "failed", "server_cert_self_signed", "client", "alert",
          alert("client", 42), "server_certificate"))
w3("wide3_missing_intermediate_nss_java12",
   "The Java server (TLS 1.2 only) sends only its leaf (no intermediate); NSS tstclnt "
   "(TLS 1.2) trusts only the lab root and cannot build the chain.",
   java_server(*J12, cert="leaf-good.crt"), tstclnt(*N12),
   expect("TLSv1.2", "failed", "server_chain_incomplete", "client", "alert",
          alert("client", 48), "server_certificate"))
w3("wide3_missing_intermediate_erlang_wolfssl12",
   "lighttpd on wolfSSL sends only its leaf (ssl.pemfile without the intermediate); the "
   "Erlang/OTP ssl client (TLS 1.2) trusts only the lab root and cannot build the chain.",
   lighttpd_tls("mod_wolfssl", "leaf-good.crt"), erlang_client(*E12),
   expect("TLSv1.2", "failed", "server_chain_incomplete", "client", "alert",
          alert("client", 48), "server_certificate"))
w3("wide3_weak_rsa1024_botan_mbedtls12",
   "lighttpd on mbedTLS serves a leaf with a 1024-bit RSA key (signed by the lab "
   "intermediate, chain sent); the Botan client (TLS 1.2, default policy: RSA keys of at least "
   "2048 bits) refuses it.",
   lighttpd_tls("mod_mbedtls", "fullchain-rsa1024.pem", "leaf-rsa1024.key"), botan_client(),
   expect("TLSv1.2", "failed", "weak_server_key", "client", "alert", alert("client", 71),
          "server_certificate"))

# --------------------------------------------------------- server rejects the client cert
w3("wide3_client_cert_missing_java_curl13",
   "The Java server requires a client certificate (needClientAuth, trusting the Corp Client "
   "CA); curl (TLS 1.3, writing the key log) has none. JSSE's alert is encrypted.",
   java_server("--client-auth", "need", "--client-ca", "{pki}/corp-ca.crt"), curl(*TLS13),
   expect("TLSv1.3", "failed", "client_cert_missing", "server", "alert",
          alert("server", 116, encrypted=True), "client_certificate"))
w3("wide3_client_cert_missing_erlang_botan12",
   "The Erlang/OTP ssl server (TLS 1.2) requires a client certificate (verify_peer, "
   "fail_if_no_peer_cert; Corp Client CA); the Botan client has none.",
   erlang_server(*E12, "--verify-client", "yes", chain="inter-and-corp.pem"), botan_client(),
   expect("TLSv1.2", "failed", "client_cert_missing", "server", "alert", alert("server", 40),
          "client_certificate"))
w3("wide3_client_cert_not_in_ca_list_erlang_java12",
   "The Erlang/OTP ssl server (TLS 1.2) requires a client certificate and names the Lab "
   "Intermediate and Corp Client CAs in its CertificateRequest; the Java client holds only "
   "mallory's certificate from Other CA. JSSE's key manager offers no certificate whose issuer "
   "the server did not name, so the client sends an empty Certificate and the server refuses "
   "('no_client_certificate_provided').",
   erlang_server(*E12, "--verify-client", "yes", chain="inter-and-corp.pem"),
   java_client(*J12, "--cert", "{pki}/client-other.crt", "--key", "{pki}/client-other.key"),
   expect("TLSv1.2", "failed", "client_cert_missing", "server", "alert", alert("server", 40),
          "client_certificate"))
w3("wide3_client_cert_untrusted_erlang_curl12",
   "The Erlang/OTP ssl server (TLS 1.2) requires a client certificate from the Corp Client "
   "CA; curl (TLS 1.2, writing the key log) presents mallory's certificate from Other CA.",
   erlang_server(*E12, "--verify-client", "yes", chain="inter-and-corp.pem"),
   curl(*CURL12, "--cert", "{pki}/client-other.crt", "--key", "{pki}/client-other.key"),
   expect("TLSv1.2", "failed", "client_cert_rejected", "server", "alert", alert("server", 48),
          "client_certificate"))
w3("wide3_client_cert_untrusted_nss_gnutls13",
   "NSS selfserv requires a client certificate (-r -r; its database trusts the Corp Client CA "
   "for clients); gnutls-cli (TLS 1.3, writing the key log) presents mallory's certificate "
   "from Other CA. NSS's alert is encrypted.",
   selfserv("-V", "tls1.2:tls1.3", "-r", "-r", trust=("T,,", "{pki}/corp-ca.crt")),
   gnutls("--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3", "--x509certfile",
          "{pki}/client-other.crt", "--x509keyfile", "{pki}/client-other.key"),
   expect("TLSv1.3", "failed", "client_cert_rejected", "server", "alert",
          alert("server", 48, encrypted=True), "client_certificate"))

# ------------------------------------------------------------------- server rejects the hello
w3("wide3_version_mismatch_java_botan",
   "The Java server accepts only TLS 1.3; the Botan client speaks at most TLS 1.2.",
   java_server(*J13), botan_client(),
   expect(None, "failed", "protocol_version_mismatch", "server", "alert", alert("server", 70),
          "client_hello"))
w3("wide3_version_mismatch_erlang_nss",
   "The Erlang/OTP ssl server accepts only TLS 1.2; NSS tstclnt offers only TLS 1.3 "
   "(-V tls1.3:tls1.3).",
   erlang_server(*E12), tstclnt(*N13),
   expect(None, "failed", "protocol_version_mismatch", "server", "alert", alert("server", 70),
          "client_hello"))
w3("wide3_no_shared_cipher_botan_java12",
   "The Botan server's policy allows only ChaCha20Poly1305 suites (TLS 1.2); the Java client "
   "offers only AES-GCM suites.",
   botan_server("ciphers = ChaCha20Poly1305\n"),
   java_client(*J12, "--ciphers", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
               "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
   expect(None, "failed", "no_shared_cipher", "server", "alert", alert("server", 40),
          "client_hello"))
w3("wide3_no_common_group_erlang_nss13",
   "The Erlang/OTP ssl server (TLS 1.3) allows only the x448 group; NSS tstclnt (TLS 1.3) "
   "offers only P-256 (-I P256).",
   erlang_server(*E13, "--groups", "x448"), tstclnt(*N13, "-I", "P256"),
   expect(None, "failed", "no_common_group", "server", "alert", alert("server", 71),
          "client_hello"))
w3("wide3_no_common_sigalg_wolfssl_java13",
   "lighttpd on wolfSSL has only an ECDSA P-256 certificate; the Java client (TLS 1.3) offers "
   "only RSA signature schemes (jdk.tls.client.SignatureSchemes) and no status_request "
   "(jdk.tls.client.enableStatusRequestExtension=false: see wide3_wolfssl_closes_on_ocsp_"
   "request_botan12).",
   lighttpd_tls("mod_wolfssl", "fullchain-ecdsa.pem", "leaf-ecdsa.key"),
   java_client(*J13, jvm=("-Djdk.tls.client.SignatureSchemes=rsa_pss_rsae_sha256,"
                          "rsa_pkcs1_sha256,rsa_pss_rsae_sha384",
                          "-Djdk.tls.client.enableStatusRequestExtension=false")),
   expect(None, "failed", "no_common_signature_scheme", "server", "alert",
          alert("server", 40), "client_hello"))
w3("wide3_alpn_mismatch_erlang_java13",
   "The Erlang/OTP ssl server (TLS 1.3) speaks only the ALPN protocol acme-tls/1; the Java "
   "client offers h2 and http/1.1.",
   erlang_server(*E13, "--alpn", "acme-tls/1"), java_client(*J13, "--alpn", "h2,http/1.1"),
   expect(None, "failed", "alpn_mismatch", "server", "alert", alert("server", 120),
          "client_hello"))
w3("wide3_sni_refused_java_nss13",
   "The Java server accepts only the server name www.lab.test (SNIMatcher); NSS tstclnt "
   "(TLS 1.3) asks for other.lab.test.",
   java_server("--sni", HOST), tstclnt(*N13, sni="other.lab.test"),
   expect(None, "failed", "sni_rejected", "server", "alert", alert("server", 112),
          "client_hello", server_name="other.lab.test"))

# ---------------------------------------------------------------------- without any alert
w3("wide3_wolfssl_closes_on_ocsp_request_botan12",
   "lighttpd on wolfSSL with the good chain; the Botan client (TLS 1.2) sends its ClientHello "
   "with the status_request (OCSP stapling) extension, and wolfSSL closes the connection (FIN) "
   "without an alert; lighttpd logs '(mod_wolfssl.c.2976) SSL: -188 certificate verify "
   "failed' (ASN_NO_SIGNER_E). In the lab every client that sends status_request meets this "
   "(Botan, Java by default, curl --cert-status); Java without it and curl without "
   "--cert-status complete the handshake with the same server.",
   lighttpd_tls("mod_wolfssl"), botan_client(),
   expect(None, "failed", "server_closed_without_alert", "server", "fin", None,
          "client_hello"))

# ---------------------------------------- added last (ports are given by position)
w3("wide3_client_cert_untrusted_java_curl13",
   "The Java server requires a client certificate from the Corp Client CA (needClientAuth); "
   "curl (TLS 1.3, writing the key log) presents mallory's certificate from Other CA anyway "
   "(OpenSSL does not filter by the CertificateRequest's CA names). JSSE's alert is "
   "encrypted.",
   java_server("--client-auth", "need", "--client-ca", "{pki}/corp-ca.crt"),
   curl(*TLS13, "--cert", "{pki}/client-other.crt", "--key", "{pki}/client-other.key"),
   expect("TLSv1.3", "failed", "client_cert_rejected", "server", "alert",
          alert("server", 46, encrypted=True), "client_certificate"))
w3("wide3_version_mismatch_mbedtls_java13",
   "lighttpd on mbedTLS 2.28 (TLS 1.2 at most); the Java client offers only TLS 1.3 (its "
   "ClientHello: legacy_version TLS 1.2, supported_versions TLS 1.3 only, only TLS 1.3 cipher "
   "suites). mbedTLS 2.28 does not read supported_versions and finds no TLS 1.2 suite it "
   "shares: it answers with handshake_failure, not protocol_version. The cause is still the "
   "versions: the client's only version is one the server does not speak.",
   lighttpd_tls("mod_mbedtls"), java_client(*J13),
   expect(None, "failed", "protocol_version_mismatch", "server", "alert", alert("server", 40),
          "client_hello"))
w3("wide3_client_cert_missing_erlang_curl13",
   "The Erlang/OTP ssl server (TLS 1.3) requires a client certificate (verify_peer, "
   "fail_if_no_peer_cert; Corp Client CA); curl (TLS 1.3, writing the key log) has none.",
   erlang_server(*E13, "--verify-client", "yes", chain="inter-and-corp.pem"), curl(*TLS13),
   expect("TLSv1.3", "failed", "client_cert_missing", "server", "alert",
          alert("server", 116, encrypted=True), "client_certificate"))
w3("wide3_client_cert_missing_nss_s_client12",
   "NSS selfserv requires a client certificate (-r -r; Corp Client CA trusted for clients); "
   "openssl s_client (TLS 1.2, writing the key log) has none and sends an empty Certificate.",
   selfserv("-V", "tls1.2:tls1.3", "-r", "-r", trust=("T,,", "{pki}/corp-ca.crt")),
   {"client": ["openssl", "s_client", "-connect", "127.0.0.1:{port}", "-servername", HOST,
               "-CAfile", "{pki}/root.crt", "-verify_return_error", "-keylogfile", "{keylog}",
               "-ign_eof", "-tls1_2"], "client_kind": "s_client", "stdin": GET},
   expect("TLSv1.2", "failed", "client_cert_missing", "server", "alert", alert("server", 42),
          "client_certificate"))
w3("wide3_alpn_mismatch_java_curl13",
   "The Java server speaks only the ALPN protocol acme-tls/1; curl (TLS 1.3, writing the key "
   "log) offers h2 and http/1.1.",
   java_server("--alpn", "acme-tls/1"), curl(*TLS13),
   expect(None, "failed", "alpn_mismatch", "server", "alert", alert("server", 120),
          "client_hello"))
w3("wide3_version_mismatch_nss_java12",
   "NSS selfserv accepts only TLS 1.3 (-V tls1.3:tls1.3); the Java client offers only TLS 1.2.",
   selfserv("-V", "tls1.3:tls1.3"), java_client(*J12),
   expect(None, "failed", "protocol_version_mismatch", "server", "alert", alert("server", 70),
          "client_hello"))
w3("wide3_success_java_s_server13",
   "openssl s_server (writing the key log) with the good chain; the Java client (TLS 1.3) "
   "fetches / and closes after the response head (close_notify).",
   openssl_server(*GOOD_S), java_client(*J13),
   expect("TLSv1.3", "established", "ok", None, None, None, None))
w3("wide3_not_yet_valid_erlang_s_server13",
   "openssl s_server (writing the key log) serves the leaf valid only from 2034; the "
   "Erlang/OTP ssl client (TLS 1.3) aborts under its handshake keys.",
   openssl_server(*s_cert("notyet")), erlang_client(*E13),
   expect("TLSv1.3", "failed", "server_cert_not_yet_valid", "client", "alert",
          alert("client", 45, encrypted=True), "server_certificate"))
w3("wide3_hostname_mismatch_nss_mbedtls12",
   "lighttpd on mbedTLS serves a valid chain for other.example.test only; NSS tstclnt "
   "(TLS 1.2) asks for www.lab.test.",
   lighttpd_tls("mod_mbedtls", "fullchain-wronghost.pem", "leaf-wronghost.key"), tstclnt(*N12),
   expect("TLSv1.2", "failed", "server_cert_hostname_mismatch", "client", "alert",
          alert("client", 42), "server_certificate"))

# ------------------------------------------------------------------------- rustls (added last)
w3("wide3_success_rustls_java13",
   "The rustls server (writing the key log) with the good chain; the Java client (TLS 1.3) "
   "fetches /.",
   rustls_server(), java_client(*J13),
   expect("TLSv1.3", "established", "ok", None, None, None, None))
w3("wide3_unknown_ca_rustls_nss13",
   "NSS selfserv serves the Rogue Root chain; the rustls client (TLS 1.3, writing the key log) "
   "trusts only the lab root (webpki: UnknownIssuer).",
   selfserv("-V", "tls1.2:tls1.3", chain="fullchain-rogue.pem", key="leaf-rogue.key"),
   rustls_client(*R13),
   expect("TLSv1.3", "failed", "server_cert_untrusted", "client", "alert",
          alert("client", 42, encrypted=True), "server_certificate"))
w3("wide3_hostname_mismatch_rustls_erlang12",
   "The Erlang/OTP ssl server (TLS 1.2) serves the other.example.test chain; the rustls client "
   "(TLS 1.2) asks for www.lab.test (webpki: CertNotValidForName).",
   erlang_server(*E12, cert="leaf-wronghost.crt", key="leaf-wronghost.key"),
   rustls_client(*R12),
   expect("TLSv1.2", "failed", "server_cert_hostname_mismatch", "client", "alert",
          alert("client", 42), "server_certificate"))
w3("wide3_expired_rustls_mbedtls12",
   "lighttpd on mbedTLS serves the expired leaf with its chain; the rustls client (TLS 1.2) "
   "aborts.",
   lighttpd_tls("mod_mbedtls", "fullchain-expired.pem", "leaf-expired.key"),
   rustls_client(*R12),
   expect("TLSv1.2", "failed", "server_cert_expired", "client", "alert", alert("client", 42),
          "server_certificate"))
w3("wide3_client_cert_missing_rustls_nss13",
   "The rustls server (writing the key log) requires a client certificate from the Corp Client "
   "CA (AllowAnyAuthenticatedClient); NSS tstclnt (TLS 1.3) has none.",
   rustls_server("--client-ca", "{pki}/corp-ca.crt"), tstclnt(*N13),
   expect("TLSv1.3", "failed", "client_cert_missing", "server", "alert",
          alert("server", 116, encrypted=True), "client_certificate"))
w3("wide3_client_cert_untrusted_rustls_curl12",
   "The rustls server (TLS 1.2) requires a client certificate from the Corp Client CA; curl "
   "(TLS 1.2, writing the key log too) presents mallory's certificate from Other CA.",
   rustls_server("--versions", "1.2", "--client-ca", "{pki}/corp-ca.crt"),
   curl(*CURL12, "--cert", "{pki}/client-other.crt", "--key", "{pki}/client-other.key"),
   expect("TLSv1.2", "failed", "client_cert_rejected", "server", "alert", alert("server", 40),
          "client_certificate"))
w3("wide3_alpn_mismatch_rustls_erlang13",
   "The rustls server speaks only the ALPN protocol acme-tls/1; the Erlang/OTP ssl client "
   "(TLS 1.3) offers h2 and http/1.1. Like Go, rustls refuses after its ServerHello (while "
   "writing EncryptedExtensions): the no_application_protocol alert is encrypted.",
   rustls_server("--alpn", "acme-tls/1"), erlang_client(*E13, "--alpn", "h2,http/1.1"),
   expect("TLSv1.3", "failed", "alpn_mismatch", "server", "alert",
          alert("server", 120, encrypted=True), "server_hello"))
w3("wide3_version_mismatch_rustls_botan",
   "The rustls server accepts only TLS 1.3; the Botan client speaks at most TLS 1.2.",
   rustls_server("--versions", "1.3"), botan_client(),
   expect(None, "failed", "protocol_version_mismatch", "server", "alert", alert("server", 70),
          "client_hello"))
w3("wide3_no_common_group_rustls_nss13",
   "The rustls server (X25519, P-256, P-384 only); NSS tstclnt (TLS 1.3) offers only the "
   "finite-field group ffdhe2048 (-I FF2048).",
   rustls_server(), tstclnt(*N13, "-I", "FF2048"),
   expect(None, "failed", "no_common_group", "server", "alert", alert("server", 40),
          "client_hello"))
