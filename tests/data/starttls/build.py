"""Rebuild the STARTTLS captures: real servers and clients on loopback in a network namespace.

    unshare -n python tests/data/starttls/build.py [SCENARIO ...]

Run as root (tcpdump, the servers' users). Each scenario starts tcpdump on ``lo``, a server
(aiosmtpd from pip, and from Debian's packages PostgreSQL, Dovecot, vsftpd, OpenLDAP's slapd,
MariaDB), runs a client (openssl s_client -starttls, curl --ssl-reqd, psql, Python's smtplib,
ldapsearch -ZZ, the mariadb client), and keeps ``NAME.pcap`` with what the peers said in
``NAME.peers.txt``: the client's and the server's own words, which the tests quote as the
expected values (tshark's reading of the pcap is the other oracle, at test time).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

HERE = Path(__file__).resolve().parent
WORK = Path(tempfile.mkdtemp(prefix="starttls-build-"))
os.chmod(WORK, 0o755)
CERT, KEY = WORK / "cert.pem", WORK / "key.pem"
PYPATH = os.environ.get("AIOSMTPD_PATH", "")  # where aiosmtpd is installed, if not site-wide


def run(argv: list[str], **kw) -> subprocess.CompletedProcess:  # noqa: ANN003
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def wait_port(port: int, seconds: float = 20.0) -> None:
    import socket
    end = time.time() + seconds
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def make_cert() -> None:
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "3650",
         "-keyout", str(KEY), "-out", str(CERT)])
    os.chmod(KEY, 0o644)


# -- servers: each returns the running process (stopped by the scenario) --------------------------
def smtp(mode: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=PYPATH)
    return subprocess.Popen([sys.executable, str(HERE / "smtp_server.py"), mode, str(port), str(CERT), str(KEY)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def postgres(ssl: bool, port: int) -> subprocess.Popen:
    data = WORK / f"pg-{port}"
    bindir = Path("/usr/lib/postgresql/15/bin")
    shutil.copy(CERT, WORK / "pgcert.pem")
    shutil.copy(KEY, WORK / "pgkey.pem")
    for f in ("pgcert.pem", "pgkey.pem"):
        shutil.chown(WORK / f, "postgres")
        os.chmod(WORK / f, 0o600)
    data.mkdir()
    shutil.chown(data, "postgres")
    run(["su", "postgres", "-c", f"{bindir}/initdb -A trust -D {data}"])
    opts = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={WORK} "
            f"-c ssl={'on' if ssl else 'off'} -c ssl_cert_file={WORK}/pgcert.pem -c ssl_key_file={WORK}/pgkey.pem")
    return subprocess.Popen(["su", "postgres", "-c", f"exec {bindir}/postgres -D {data} {opts}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def dovecot(ssl: bool, port_imap: int, port_pop3: int) -> subprocess.Popen:
    base = WORK / f"dovecot-{port_imap}"
    (base / "run").mkdir(parents=True)
    (base / "home").mkdir()
    conf = base / "dovecot.conf"
    ssl_lines = f"ssl = yes\nssl_cert = <{CERT}\nssl_key = <{KEY}\n" if ssl else "ssl = no\n"
    conf.write_text(f"""protocols = imap pop3
listen = 127.0.0.1
base_dir = {base}/run
log_path = /dev/stderr
{ssl_lines}auth_mechanisms = plain
disable_plaintext_auth = no
passdb {{
  driver = static
  args = password=pass
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={base}/home
}}
mail_location = maildir:{base}/home/Maildir
service imap-login {{
  inet_listener imap {{
    port = {port_imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {port_pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
""")
    return subprocess.Popen(["dovecot", "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def vsftpd(ssl: bool, port: int) -> subprocess.Popen:
    conf = WORK / f"vsftpd-{port}.conf"
    Path("/var/run/vsftpd/empty").mkdir(parents=True, exist_ok=True)
    tls = (f"ssl_enable=YES\nrsa_cert_file={CERT}\nrsa_private_key_file={KEY}\nallow_anon_ssl=YES\n"
           "force_local_logins_ssl=NO\nforce_local_data_ssl=NO\n") if ssl else "ssl_enable=NO\n"
    conf.write_text(f"listen=YES\nlisten_ipv6=NO\nlisten_address=127.0.0.1\nlisten_port={port}\nbackground=NO\n"
                    f"anonymous_enable=YES\nanon_root={WORK}\nsecure_chroot_dir=/var/run/vsftpd/empty\n"
                    f"seccomp_sandbox=NO\n{tls}")
    return subprocess.Popen(["vsftpd", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def slapd(ssl: bool, port: int) -> subprocess.Popen:
    db = WORK / f"ldap-{port}"
    db.mkdir()
    conf = WORK / f"slapd-{port}.conf"
    tls = f"TLSCertificateFile {CERT}\nTLSCertificateKeyFile {KEY}\n" if ssl else ""
    conf.write_text(f"include /etc/ldap/schema/core.schema\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\n"
                    f"pidfile {db}/slapd.pid\n{tls}database mdb\nsuffix \"dc=lab,dc=test\"\ndirectory {db}\n")
    return subprocess.Popen(["slapd", "-d", "256", "-f", str(conf), "-h", f"ldap://127.0.0.1:{port}/"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def prosody(ssl: bool, port: int, tls_module: bool = True) -> subprocess.Popen:
    base = WORK / f"prosody-{port}"
    (base / "data").mkdir(parents=True)
    tls = f'ssl = {{ certificate = "{CERT}"; key = "{KEY}"; }}\n' if ssl else ""
    conf = base / "prosody.cfg.lua"
    conf.write_text(f"""run_as_root = true
pidfile = "{base}/prosody.pid"
data_path = "{base}/data"
certificates = "{base}/certs"
log = {{ info = "*console" }}
c2s_ports = {{ {port} }}
c2s_interfaces = {{ "127.0.0.1" }}
s2s_ports = {{ }}
modules_enabled = {{ "roster"; "saslauth"; "tls"; "disco"; "ping" }}
modules_disabled = {{ "s2s"; {'' if tls_module else '"tls"'} }}
authentication = "internal_hashed"
c2s_require_encryption = false
{tls}VirtualHost "localhost"
""")
    return subprocess.Popen(["prosody", "-F", "--config", str(conf)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def mariadb(ssl: bool, port: int) -> subprocess.Popen:
    data = WORK / f"mysql-{port}"
    run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root", "--skip-test-db",
         "--auth-root-authentication-method=normal"])
    tls = [f"--ssl-cert={CERT}", f"--ssl-key={KEY}"] if ssl else ["--skip-ssl"]
    return subprocess.Popen(["mariadbd", "--no-defaults", f"--datadir={data}", "--user=root", f"--port={port}",
                             "--bind-address=127.0.0.1", f"--socket={data}/mysqld.sock", "--skip-name-resolve",
                             *tls], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


# -- the scenarios ---------------------------------------------------------------------------------
S_CLIENT = ["openssl", "s_client", "-connect"]
SMTPLIB_STRICT = ("import smtplib,sys\ns=smtplib.SMTP('127.0.0.1',int(sys.argv[1]),local_hostname='client.lab.test')\n"
                  "try:\n    s.starttls()\nexcept smtplib.SMTPNotSupportedError as e:\n    print('smtplib:',e)\n"
                  "    s.quit()\nelse:\n    print('smtplib: TLS started')\n    s.quit()\n")

Scenario = tuple[int, Callable[[], subprocess.Popen], list[str], Optional[str]]
SCENARIOS: dict[str, Scenario] = {
    # SMTP, aiosmtpd
    "smtp_not_offered_smtplib": (2525, lambda: smtp("plain", 2525),
                                 [sys.executable, "-c", SMTPLIB_STRICT, "2525"], None),
    "smtp_not_offered_s_client": (2526, lambda: smtp("plain", 2526),
                                  S_CLIENT + ["127.0.0.1:2526", "-starttls", "smtp", "-name", "client.lab.test"],
                                  "QUIT\n"),
    "smtp_refused_454_curl": (2527, lambda: smtp("refuse", 2527),
                              ["curl", "-sS", "-v", "--ssl-reqd", "--mail-from", "a@lab.test", "--mail-rcpt",
                               "b@lab.test", "-T", "/dev/null", "smtp://127.0.0.1:2527/client.lab.test"], None),
    "smtp_accepted_s_client": (2528, lambda: smtp("tls", 2528),
                               S_CLIENT + ["127.0.0.1:2528", "-starttls", "smtp", "-name", "client.lab.test"],
                               "QUIT\n"),
    # PostgreSQL 15 (Debian)
    "pgsql_n_require": (5433, lambda: postgres(False, 5433),
                        ["psql", "host=127.0.0.1 port=5433 user=postgres sslmode=require", "-c", "select 1"], None),
    "pgsql_n_prefer": (5434, lambda: postgres(False, 5434),
                       ["psql", "host=127.0.0.1 port=5434 user=postgres sslmode=prefer", "-c", "select 1"], None),
    "pgsql_s_require": (5435, lambda: postgres(True, 5435),
                        ["psql", "host=127.0.0.1 port=5435 user=postgres sslmode=require", "-c", "select 1"], None),
    # IMAP and POP3, Dovecot (Debian)
    "imap_not_offered_s_client": (1143, lambda: dovecot(False, 1143, 1110),
                                  S_CLIENT + ["127.0.0.1:1143", "-starttls", "imap"], "a LOGOUT\n"),
    "imap_not_offered_curl": (1144, lambda: dovecot(False, 1144, 1111),
                              ["curl", "-sS", "-v", "--ssl-reqd", "-u", "u:pass", "imap://127.0.0.1:1144/"], None),
    "pop3_not_offered_s_client": (1112, lambda: dovecot(False, 1145, 1112),
                                  S_CLIENT + ["127.0.0.1:1112", "-starttls", "pop3"], "QUIT\n"),
    "imap_accepted_s_client": (1146, lambda: dovecot(True, 1146, 1113),
                               S_CLIENT + ["127.0.0.1:1146", "-starttls", "imap"], "a LOGOUT\n"),
    # FTP, vsftpd (Debian)
    "ftp_refused_curl": (2121, lambda: vsftpd(False, 2121),
                         ["curl", "-sS", "-v", "--ssl-reqd", "ftp://127.0.0.1:2121/"], None),
    "ftp_accepted_s_client": (2122, lambda: vsftpd(True, 2122),
                              S_CLIENT + ["127.0.0.1:2122", "-starttls", "ftp"], "QUIT\n"),
    # LDAP, OpenLDAP's slapd (Debian)
    "ldap_refused_ldapsearch": (3389, lambda: slapd(False, 3389),
                                ["ldapsearch", "-ZZ", "-x", "-H", "ldap://127.0.0.1:3389", "-b", "", "-s", "base"],
                                None),
    "ldap_accepted_ldapsearch": (3390, lambda: slapd(True, 3390),
                                 ["ldapsearch", "-ZZ", "-x", "-H", "ldap://127.0.0.1:3390", "-b", "", "-s", "base"],
                                 None),
    # XMPP, Prosody (Debian)
    # without mod_tls the features list no <starttls/>; s_client waits for it until timeout ends it
    "xmpp_not_offered_s_client": (5297, lambda: prosody(False, 5297, tls_module=False),
                                  ["timeout", "5"] + S_CLIENT + ["127.0.0.1:5297", "-starttls", "xmpp", "-xmpphost",
                                                                 "localhost"], None),
    # mod_tls without a certificate: <proceed/>, then a handshake_failure alert to a ClientHello without SNI
    "xmpp_accepted_no_cert_s_client": (5298, lambda: prosody(False, 5298),
                                       S_CLIENT + ["127.0.0.1:5298", "-starttls", "xmpp", "-xmpphost", "localhost"],
                                       None),
    "xmpp_accepted_s_client": (5299, lambda: prosody(True, 5299),
                               S_CLIENT + ["127.0.0.1:5299", "-starttls", "xmpp", "-xmpphost", "localhost"], None),
    # MySQL protocol, MariaDB (Debian)
    "mysql_not_offered_s_client": (3307, lambda: mariadb(False, 3307),
                                   S_CLIENT + ["127.0.0.1:3307", "-starttls", "mysql"], None),
    "mysql_not_offered_client": (3308, lambda: mariadb(False, 3308),
                                 ["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", "3308", "-u", "root", "--ssl",
                                  "-e", "select 1"], None),
}


def scenario(name: str) -> None:
    port, start, client, stdin = SCENARIOS[name]
    pcap = HERE / f"{name}.pcap"
    server = start()
    dump = None
    try:
        wait_port(port, 60)  # (before the capture starts: its probes are no part of it)
        time.sleep(0.5)
        dump = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-s", "0", "-w", str(pcap), f"tcp port {port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        done = run(client, input=stdin or "", env=dict(os.environ, PGCONNECT_TIMEOUT="5"))
        time.sleep(0.5)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            said, _ = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            said, _ = server.communicate()
        time.sleep(0.5)
        if dump is not None:
            dump.send_signal(signal.SIGINT)
            dump.wait(timeout=10)
    (HERE / f"{name}.peers.txt").write_text(
        f"$ {' '.join(client)}\nexit status {done.returncode}\n--- client stdout\n{done.stdout}\n"
        f"--- client stderr\n{done.stderr}\n--- server\n{said}\n")
    print(name, "exit", done.returncode, pcap.stat().st_size, "bytes")


def main() -> None:
    run(["ip", "link", "set", "lo", "up"])
    os.chmod(WORK, 0o777)  # (the servers' users write their sockets and pid files here)
    make_cert()
    for name in sys.argv[1:] or list(SCENARIOS):
        scenario(name)
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
