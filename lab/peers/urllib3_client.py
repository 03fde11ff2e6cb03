"""The fourth wide lab's urllib3 client (the HTTP core of Python requests): one GET, as an
application using requests or urllib3 would make it.

    python3 lab/peers/urllib3_client.py --url https://www.lab.test:P/ --cafile ROOT
        [--connect-to 127.0.0.1] [--cert C --key K] [--tls-min 1.2] [--tls-max 1.3]
        [--ciphers S] [--timeout 5] [--keylog F]

The host of --url is the name checked and sent as SNI; the TCP connection goes to
--connect-to (the lab has no DNS). The context is urllib3's own (create_urllib3_context: TLS 1.2
at least in urllib3 2), with the cipher string and version bounds given. Prints the status
line, or "error: <exception>" and exits 1. The key log (--keylog) is Python's ssl keylog_filename.
"""
from __future__ import annotations

import argparse
import ssl
import sys
from urllib.parse import urlsplit

import urllib3
from urllib3.util.ssl_ import create_urllib3_context

VERSIONS = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
            "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="urllib3_client.py")
    ap.add_argument("--url", required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--connect-to", default="127.0.0.1")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--tls-min")
    ap.add_argument("--tls-max")
    ap.add_argument("--ciphers")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--keylog")
    args = ap.parse_args(argv)
    url = urlsplit(args.url)
    ctx = create_urllib3_context(ciphers=args.ciphers)
    # set on the context (urllib3 2 also takes them as arguments, Debian's 1.26 does not)
    if args.tls_min:
        ctx.minimum_version = VERSIONS[args.tls_min]
    if args.tls_max:
        ctx.maximum_version = VERSIONS[args.tls_max]
    if args.keylog:
        ctx.keylog_filename = args.keylog
    kind = urllib3.HTTPSConnectionPool if url.scheme == "https" else urllib3.HTTPConnectionPool
    extra = {}
    if url.scheme == "https":
        extra = dict(ssl_context=ctx, ca_certs=args.cafile, cert_reqs="CERT_REQUIRED",
                     server_hostname=url.hostname, assert_hostname=url.hostname,
                     cert_file=args.cert, key_file=args.key)
    pool = kind(args.connect_to, url.port, timeout=urllib3.Timeout(args.timeout),
                retries=False, **extra)
    try:
        resp = pool.request("GET", url.path or "/", headers={"Host": url.netloc,
                                                              "Connection": "close"})
        print(f"HTTP {resp.status} ({len(resp.data)} bytes)")
    except Exception as exc:  # the peer's own words are the ground truth: print them all
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
