#!/usr/bin/env bash
# Rebuild the TLS handshake lab from scratch on a Debian machine, as root.
#
#   bash lab/build.sh                 # install packages, build the PKI, run every scenario
#   bash lab/build.sh tls12_success   # only the named scenarios (shell-style globs allowed)
#   bash lab/build.sh --list          # scenario names
#   bash lab/build.sh --fresh ...     # wipe lab/work/ (PKI included) first
#
# Debian packages used (installed with apt-get install -y when missing):
#   apache2      Apache httpd 2.4 + mod_ssl: most servers
#   nginx        nginx: a second server implementation (ssl_reject_handshake, big chain)
#   tcpdump      captures loopback traffic (tcpdump -i lo -U -s 0 -w)
#   openssl      PKI generation (openssl req/ca), s_client and s_server
#   curl         the everyday client (SSLKEYLOGFILE key logs)
#   gnutls-bin   gnutls-cli, a client that picks different alerts than OpenSSL
#   python3      the driver (stdlib only) and lab/helpers.py (relay, silent server, client)
#   tshark       independent reading of every capture for the ground truth
#   wireshark-common  editcap (a capture cut to start late)
#   haproxy lighttpd stunnel4  more servers for the wide lab (lab/wide.py)
#   golang-go    builds lab/peers/peer.go (Go server and client, standard library only)
#   nodejs       runs lab/peers/peer.js (Node.js server and client, node:tls only)
#   iptables     path-MTU black holes inside a scenario's own network namespace
#   iproute2     ip link (loopback up, MTU) in those namespaces; unshare comes with util-linux
#   openjdk-17-jdk-headless  Java JSSE server and client (lab/peers/Peer.java; wide3_*)
#   libnss3-tools  NSS tstclnt, selfserv, certutil, pk12util (wide3_*)
#   erlang-base erlang-ssl  the Erlang/OTP ssl server and client (lab/peers/peer.escript; wide3_*)
#   botan        Botan 2 tls_client / tls_server (wide3_*)
#   lighttpd-mod-wolfssl lighttpd-mod-mbedtls  lighttpd on wolfSSL and on mbedTLS (wide3_*)
#   cargo librust-rustls-dev librust-rustls-pemfile-dev  the rustls server and client
#                (lab/peers/rustls, built offline from Debian's crates; wide3_*)
#   wget socat   wget (GnuTLS) as a client, socat (OpenSSL) as a TLS and a plain server (wide4_*)
#   python3-urllib3  lab/peers/urllib3_client.py (wide4_*; the committed captures were made with
#                urllib3 2.7 from pip, whose create_urllib3_context takes the version bounds)
#
#   dovecot-imapd postfix swaks tinyproxy  Dovecot IMAP (STARTTLS, imaps), Postfix smtpd and the
#                swaks SMTP client (STARTTLS), tinyproxy (HTTP CONNECT proxy) (wide5_*)
#   h2o caddy lighttpd-mod-gnutls ruby php-cli ncat wget2 python3-requests python3-httpx
#                python3-aiohttp  h2o, Caddy, lighttpd on GnuTLS, Ruby and PHP peers
#                (lab/peers/ruby_peer.rb, php_peer.php), ncat, wget2 and the Python HTTP
#                clients (lab/peers/pyhttp_client.py) (wide6_*)
#
#   bash lab/build.sh 'wide4_*'       # the fourth wide lab alone (about 3 minutes)
#   bash lab/build.sh 'wide5_*'       # the fifth (about 2 minutes)
#   bash lab/build.sh 'wide6_*'       # the sixth (about 3 minutes)
#
# Everything runs on 127.0.0.1 high ports (20000+); servers are started with their own
# configs under lab/work/ and stopped at the end of each scenario.  The wide_* scenarios each
# run in a network namespace of their own (unshare -n: only a loopback).  Results land in
# captures/<scenario>/ (capture.pcap, keylog.txt, expected.json, tshark.txt).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
packages=(apache2 nginx tcpdump openssl curl gnutls-bin python3 tshark wireshark-common haproxy
          lighttpd stunnel4 golang-go nodejs iptables iproute2 openjdk-17-jdk-headless
          libnss3-tools erlang-base erlang-ssl botan lighttpd-mod-wolfssl lighttpd-mod-mbedtls
          cargo librust-rustls-dev librust-rustls-pemfile-dev wget socat python3-urllib3
          dovecot-imapd postfix swaks tinyproxy h2o caddy lighttpd-mod-gnutls ruby php-cli ncat
          wget2 python3-requests python3-httpx python3-aiohttp)

if [ "$(id -u)" -ne 0 ]; then
    echo "lab/build.sh must run as root (apt-get, tcpdump, servers)" >&2
    exit 2
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # The lab runs its own server instances; keep the packages' postinst from starting
    # system apache2/nginx/haproxy/lighttpd services (several want port 80).
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        made_policy=1
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    for attempt in 1 2 3 4 5; do   # another apt may hold the dpkg lock for a while
        if apt-get update -qq && apt-get install -y -qq "${missing[@]}"; then
            break
        fi
        [ "$attempt" -eq 5 ] && { echo "apt-get failed" >&2; exit 1; }
        sleep 15
    done
    if [ "$made_policy" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi

python3 "$here/run.py" "$@"
