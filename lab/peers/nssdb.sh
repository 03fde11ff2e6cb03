#!/bin/sh
# nssdb.sh: make a fresh NSS certificate database (sql:DIR, empty password) for the lab's NSS
# peers (tstclnt, selfserv from libnss3-tools), from the lab's PEM files.
#
#   sh lab/peers/nssdb.sh DIR [trust TRUSTARGS CA.pem]... [cert NICK CHAIN.pem KEY.pem]
#
# `trust C,, root.crt` trusts a CA for server certificates, `trust T,, corp-ca.crt` for client
# certificates; `cert NICK chain key` imports a certificate and its key (through PKCS#12, the
# chain's other certificates go in as untrusted intermediates, so the owner sends them).
set -eu
dir=$1; shift
rm -rf "$dir"; mkdir -p "$dir"
certutil -N -d "sql:$dir" --empty-password
n=0
while [ $# -gt 0 ]; do
    case $1 in
        trust) n=$((n + 1)); certutil -A -d "sql:$dir" -n "ca$n" -t "$2" -i "$3"; shift 3;;
        cert)
            openssl pkcs12 -export -in "$3" -inkey "$4" -name "$2" -passout pass: \
                -out "$dir/$2.p12"
            pk12util -i "$dir/$2.p12" -d "sql:$dir" -W '' -K '' > /dev/null
            shift 4;;
        *) echo "nssdb.sh: unknown word $1" >&2; exit 2;;
    esac
done
