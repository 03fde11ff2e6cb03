"""Start and stop the lab's servers (Apache httpd, nginx, openssl s_server, HAProxy, lighttpd,
stunnel, gnutls-serv, the Go and Node.js peers of lab/peers/, Python helpers).

Each server gets its own work folder with its own minimal config, pid file and
error log, so the lab never touches /etc/apache2 or /etc/nginx and never
depends on the system's service manager.  Readiness is checked by watching the
kernel's listening-socket table (/proc/net/tcp) rather than connecting, so no
probe connection ever lands in a capture or a server log.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

APACHE_MODULES = ["mpm_event", "authz_core", "mime", "dir", "ssl", "socache_shmcb"]  # log_config is built in
MODDIR = "/usr/lib/apache2/modules"
HERE = Path(__file__).resolve().parent


# 127.0.0.1, ::1 as the kernel prints them, and the wildcard addresses (gnutls-serv binds to
# every address; in the wide lab's own network namespace that is only the loopback).
LOOPBACKS = {"0100007F", "00000000000000000000000001000000", "00000000",
             "00000000000000000000000000000000"}


def listening(port: int) -> bool:
    """True when something listens on 127.0.0.1:port or [::1]:port (LISTEN is state 0A)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            addr, _, hexport = cols[1].partition(":")
            if addr in LOOPBACKS and int(hexport, 16) == port and cols[3] == "0A":
                return True
    return False


def wait_listening(port: int, proc: subprocess.Popen, what: str, timeout: float = 10.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if listening(port):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening on {port}")
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s")


@dataclass
class Server:
    """A running server process plus where its log goes."""

    kind: str
    port: int
    wd: Path
    argv: list[str]
    log: Path
    version: str = ""
    proc: subprocess.Popen | None = None
    stdout_path: Path | None = None
    _log_offset: int = 0

    def start(self) -> None:
        self.wd.mkdir(parents=True, exist_ok=True)
        self.stdout_path = self.wd / "stdout.txt"
        # The child keeps its own copy of the descriptor; ours can close at once.
        with open(self.stdout_path, "wb") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        wait_listening(self.port, self.proc, self.kind)
        time.sleep(0.3)  # let worker processes settle
        self._log_offset = self.log.stat().st_size if self.log.exists() else 0

    def new_log_lines(self) -> list[str]:
        """Log lines written since the server became ready (the scenario's own lines)."""
        if not self.log.exists():
            return []
        with open(self.log, "rb") as fh:
            fh.seek(self._log_offset)
            return fh.read().decode("utf-8", "replace").splitlines()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # Only our own process group (start_new_session) gets the signal.
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@dataclass
class ApacheSpec:
    """The essentials of one mod_ssl virtual host."""

    cert: str = "fullchain-good.pem"  # file under pki/, leaf first then chain
    key: str = "leaf-good.key"
    protocol: str = "-all +TLSv1.2 +TLSv1.3"
    ssl: bool = True
    vhost_extra: list[str] = field(default_factory=list)
    global_extra: list[str] = field(default_factory=list)
    extra_vhosts: list[str] = field(default_factory=list)  # raw <VirtualHost> blocks


def apache_version() -> str:
    out = subprocess.run(["apache2", "-v"], check=False, capture_output=True, text=True).stdout
    m = re.search(r"Server version: (\S+ \S+)", out)
    ssl_v = subprocess.run(["openssl", "version"], check=False, capture_output=True, text=True).stdout.split()[1]
    return f"{m.group(1) if m else 'Apache'} OpenSSL/{ssl_v}"


def make_apache(spec: ApacheSpec, port: int, wd: Path, pki_dir: Path, docroot: Path) -> Server:
    wd.mkdir(parents=True, exist_ok=True)
    lines = [f"LoadModule {m}_module {MODDIR}/mod_{m}.so" for m in APACHE_MODULES]
    lines += [
        f"ServerRoot {wd}", f"PidFile {wd}/httpd.pid", f"DefaultRuntimeDir {wd}",
        f"Mutex file:{wd} default", "User www-data", "Group www-data",
        "ServerName www.lab.test", f"Listen 127.0.0.1:{port}",
        "StartServers 1", "ServerLimit 1", "ThreadsPerChild 4", "MaxRequestWorkers 4",
        "MinSpareThreads 1", "MaxSpareThreads 4", "KeepAlive Off",
        f"ErrorLog {wd}/error.log", "LogLevel info ssl:info",
        'LogFormat "%h %t \\"%r\\" %>s %b %{SSL_PROTOCOL}x %{SSL_CIPHER}x %{SSL_CLIENT_S_DN}x" lab',
        f"CustomLog {wd}/access.log lab", f"DocumentRoot {docroot}",
        f"<Directory {docroot}>", "  Require all granted", "</Directory>",
        "TypesConfig /etc/mime.types", "DirectoryIndex index.html",
    ]
    if spec.ssl:
        lines += [f"SSLSessionCache shmcb:{wd}/ssl_scache(512000)"]
    lines += [x.replace("{pki}", str(pki_dir)) for x in spec.global_extra]
    lines += [f"<VirtualHost 127.0.0.1:{port}>", "  ServerName www.lab.test"]
    if spec.ssl:
        lines += ["  SSLEngine on", f"  SSLCertificateFile {pki_dir}/{spec.cert}",
                  f"  SSLCertificateKeyFile {pki_dir}/{spec.key}", f"  SSLProtocol {spec.protocol}"]
    lines += ["  " + x.replace("{pki}", str(pki_dir)) for x in spec.vhost_extra]
    lines += ["</VirtualHost>"]
    for block in spec.extra_vhosts:
        lines += [block.format(port=port, pki=pki_dir, docroot=docroot)]
    conf = wd / "httpd.conf"
    conf.write_text("\n".join(lines) + "\n")
    log = wd / "error.log"
    log.unlink(missing_ok=True)
    return Server("apache", port, wd, ["apache2", "-f", str(conf), "-DFOREGROUND"], log,
                  apache_version())


@dataclass
class NginxSpec:
    """The essentials of one nginx TLS server block."""

    cert: str = "fullchain-good.pem"
    key: str = "leaf-good.key"
    protocols: str = "TLSv1.2 TLSv1.3"
    extra: list[str] = field(default_factory=list)  # directives without the ';'; {pki} allowed
    extra_http: str = ""  # raw text inside http{}, e.g. another server block; {port} {pki}
    listen: str = "127.0.0.1"  # or "[::1]"


def make_nginx(spec: NginxSpec, port: int, wd: Path, pki_dir: Path, docroot: Path) -> Server:
    wd.mkdir(parents=True, exist_ok=True)
    tmp = wd / "tmp"
    tmp.mkdir(exist_ok=True)
    # {upstream}: run.py starts a scenario's upstream on port + 1; a directive that is a
    # block ("location / { ... }") takes no ';' after it
    extra = "\n".join("    " + x.replace("{pki}", str(pki_dir)).replace("{upstream}", str(port + 1))
                      + ("" if x.rstrip().endswith("}") else ";") for x in spec.extra)
    extra_http = spec.extra_http.replace("{port}", str(port)).replace("{pki}", str(pki_dir))
    conf = f"""daemon off;
worker_processes 1;
user www-data;
pid {wd}/nginx.pid;
error_log {wd}/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log {wd}/access.log;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{
    listen {spec.listen}:{port} ssl;
    server_name www.lab.test;
    ssl_certificate {pki_dir}/{spec.cert};
    ssl_certificate_key {pki_dir}/{spec.key};
    ssl_protocols {spec.protocols};
    root {docroot};
{extra}
  }}
{extra_http}
}}
"""
    (wd / "nginx.conf").write_text(conf)
    log = wd / "error.log"
    log.unlink(missing_ok=True)
    ver = subprocess.run(["nginx", "-v"], check=False, capture_output=True, text=True).stderr.strip()
    ver = ver.replace("nginx version: ", "")
    ssl_v = subprocess.run(["openssl", "version"], check=False, capture_output=True, text=True).stdout.split()[1]
    return Server("nginx", port, wd,
                  ["nginx", "-c", str(wd / "nginx.conf"), "-p", str(wd), "-e", str(log)], log,
                  f"{ver} OpenSSL/{ssl_v}")


def make_s_server(args: list[str], port: int, wd: Path, pki_dir: Path) -> Server:
    """openssl s_server; its stdout/stderr is the 'server log'."""
    wd.mkdir(parents=True, exist_ok=True)
    argv = ["openssl", "s_server", "-accept", f"127.0.0.1:{port}"]
    argv += [a.replace("{pki}", str(pki_dir)) for a in args]
    ver = subprocess.run(["openssl", "version"], check=False, capture_output=True, text=True).stdout.strip()
    log = wd / "stdout.txt"
    return Server("s_server", port, wd, argv, log, f"openssl s_server ({ver.split(' (')[0]})")


def make_helper(args: list[str], port: int, wd: Path, pki_dir: Path) -> Server:
    """One of lab/helpers.py's small Python servers (relay, silent listener)."""
    wd.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, str(HERE / "helpers.py")]
    argv += [a.replace("{port}", str(port)).replace("{upstream}", str(port + 1))
             .replace("{pki}", str(pki_dir)) for a in args]
    log = wd / "stdout.txt"
    return Server("python", port, wd, argv, log, f"Python {sys.version.split()[0]} helper")


def _version(argv: list[str], pattern: str, fallback: str) -> str:
    res = subprocess.run(argv, check=False, capture_output=True, text=True)
    m = re.search(pattern, res.stdout + res.stderr)
    return m.group(0) if m else fallback


def openssl_version() -> str:
    return subprocess.run(["openssl", "version"], check=False, capture_output=True,
                          text=True).stdout.split()[1]


def _subst(text: str, port: int, wd: Path, pki_dir: Path, docroot: Path | None = None) -> str:
    text = (text.replace("{port}", str(port)).replace("{upstream}", str(port + 1))
            .replace("{pki}", str(pki_dir)).replace("{wd}", str(wd))
            # a server that writes the scenario's key log (when its client cannot): the file
            # run.py collects, next to the server's own work folder
            .replace("{keylog}", str(wd.parent / "keylog.txt")))
    return text.replace("{docroot}", str(docroot)) if docroot is not None else text


def make_haproxy(cfg: str, port: int, wd: Path, pki_dir: Path) -> Server:
    """HAProxy (foreground, master-worker off) from the given proxy sections; {port}, {pki},
    {upstream} and {wd} are filled in. Its log goes to stdout (log stdout format raw)."""
    wd.mkdir(parents=True, exist_ok=True)
    head = f"""global
  log stdout format raw local0 info
  pidfile {wd}/haproxy.pid
  ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
  log global
  timeout connect 2s
  timeout client 5s
  timeout server 5s
"""
    (wd / "haproxy.cfg").write_text(head + _subst(cfg, port, wd, pki_dir) + "\n")
    ver = _version(["haproxy", "-v"], r"HAProxy version \S+", "HAProxy")
    return Server("haproxy", port, wd, ["haproxy", "-db", "-f", str(wd / "haproxy.cfg")],
                  wd / "stdout.txt", f"{ver.replace(' version', '')} OpenSSL/{openssl_version()}")


def make_lighttpd(extra: str, port: int, wd: Path, pki_dir: Path, docroot: Path,
                  tls_module: str = "mod_openssl", tls_version: str = "") -> Server:
    """lighttpd -D with mod_openssl (or another TLS module: mod_wolfssl, mod_mbedtls, then
    `tls_version` names its library) on 127.0.0.1:port; `extra` is appended to the config
    (ssl.* options, {pki} filled in)."""
    wd.mkdir(parents=True, exist_ok=True)
    conf = f"""server.modules = ("{tls_module}", "mod_access")
server.document-root = "{docroot}"
server.bind = "127.0.0.1"
server.port = {port}
server.pid-file = "{wd}/lighttpd.pid"
server.errorlog = "{wd}/error.log"
index-file.names = ("index.html")
mimetype.assign = (".html" => "text/html")
ssl.engine = "enable"
debug.log-ssl-noise = "enable"
{_subst(extra, port, wd, pki_dir, docroot)}
"""
    (wd / "lighttpd.conf").write_text(conf)
    log = wd / "error.log"
    log.unlink(missing_ok=True)
    ver = _version(["lighttpd", "-v"], r"lighttpd/\S+", "lighttpd")
    return Server("lighttpd", port, wd, ["lighttpd", "-D", "-f", str(wd / "lighttpd.conf")], log,
                  tls_version or f"{ver} OpenSSL/{openssl_version()}")


STUNNEL_ANSWER = """#!/bin/sh
# stunnel exec'd service: read the request head, answer one small HTTP/1.1 page.
while IFS= read -r line; do
  case "$line" in ""|"$(printf '\r')") break;; esac
done
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 19\r\nConnection: close\r\n\r\nTLS lab (stunnel)\r\n'
"""


def make_stunnel(options: list[str], port: int, wd: Path, pki_dir: Path) -> Server:
    """stunnel4 in the foreground with one TLS service on 127.0.0.1:port whose plaintext side is
    a tiny shell script answering HTTP (exec), so no second TCP connection is needed.
    `options` are extra service lines (cert=, key=, CAfile=, verifyChain=, ...)."""
    wd.mkdir(parents=True, exist_ok=True)
    answer = wd / "answer.sh"
    answer.write_text(STUNNEL_ANSWER)
    answer.chmod(0o755)
    lines = ["foreground = yes", f"pid = {wd}/stunnel.pid", f"output = {wd}/stunnel.log",
             "debug = info", "syslog = no", "[lab]", f"accept = 127.0.0.1:{port}",
             f"exec = {answer}", "execArgs = answer.sh"]
    lines += [_subst(o, port, wd, pki_dir) for o in options]
    (wd / "stunnel.conf").write_text("\n".join(lines) + "\n")
    log = wd / "stunnel.log"
    log.unlink(missing_ok=True)
    ver = _version(["stunnel4", "-version"], r"stunnel \S+", "stunnel")
    return Server("stunnel", port, wd, ["stunnel4", str(wd / "stunnel.conf")], log,
                  f"{ver} OpenSSL/{openssl_version()}")


def make_gnutls_serv(args: list[str], port: int, wd: Path, pki_dir: Path) -> Server:
    """gnutls-serv on port (it binds every address: only the loopback in the scenario's own
    network namespace); its stdout is the log."""
    wd.mkdir(parents=True, exist_ok=True)
    argv = ["gnutls-serv", "-p", str(port)] + [_subst(a, port, wd, pki_dir) for a in args]
    ver = _version(["gnutls-serv", "--version"], r"gnutls-serv \S+", "gnutls-serv")
    return Server("gnutls-serv", port, wd, argv, wd / "stdout.txt", ver)


def make_command(spec: dict, port: int, wd: Path, pki_dir: Path) -> Server:
    """Any other server process: {"argv": [...], "version": "..."} with {port}, {pki}, {wd},
    {upstream}, {keylog} filled in (the Go and Node.js peers, lab/peers/; the wide3 peers).
    "version" may be a function, asked only when the scenario runs."""
    wd.mkdir(parents=True, exist_ok=True)
    argv = [_subst(a, port, wd, pki_dir) for a in spec["argv"]]
    version = spec["version"]() if callable(spec["version"]) else spec["version"]
    return Server(spec.get("kind", "command"), port, wd, argv, wd / "stdout.txt", version)
