"""An HTTPS client of the sixth wide lab (lab/wide6.py) made with one of the Python HTTP
libraries people use (requests, httpx, aiohttp) and the library's own TLS defaults: the
library builds its SSL context (Python's ssl module, OpenSSL), checks the chain against
--cafile and the host name of the URL. Run with Debian's python3 (the packages
python3-requests, python3-httpx, python3-aiohttp). The key log comes from SSLKEYLOGFILE,
which all three honour (through urllib3, httpx's trust_env and ssl.create_default_context).

Prints 'status=<code>' or the library's exception (type and text) and exits 1 on an error.
"""
from __future__ import annotations

import argparse
import asyncio
import sys


def fetch_requests(a: argparse.Namespace) -> int:
    import requests
    cert = (a.cert, a.key) if a.cert else None
    r = requests.get(a.url, verify=a.cafile, cert=cert, timeout=5)
    return r.status_code


def fetch_httpx(a: argparse.Namespace) -> int:
    import httpx
    cert = (a.cert, a.key) if a.cert else None
    with httpx.Client(verify=a.cafile, cert=cert, timeout=5, http2=False) as c:
        return c.get(a.url).status_code


def fetch_aiohttp(a: argparse.Namespace) -> int:
    import ssl

    import aiohttp

    async def go() -> int:
        ctx = ssl.create_default_context(cafile=a.cafile)
        if a.cert:
            ctx.load_cert_chain(a.cert, a.key)
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as s:
            async with s.get(a.url, ssl=ctx) as r:
                await r.read()
                return r.status
    return asyncio.run(go())


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--lib", choices=["requests", "httpx", "aiohttp"], required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--cafile", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    a = p.parse_args()
    fetch = {"requests": fetch_requests, "httpx": fetch_httpx, "aiohttp": fetch_aiohttp}[a.lib]
    try:
        print(f"status={fetch(a)}")
    except Exception as exc:  # the library's own words are the ground truth
        print(f"error: {type(exc).__module__}.{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
