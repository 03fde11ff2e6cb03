"""Compare our results with the facts upstream projects assert in shared/captures/EXPECTED.tsv.

Used by tests/test_expected_tsv.py and runnable as a script for the agreement figures:
``python tests/expected_tsv.py`` prints per-field agreement and every disagreement.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.shared_captures import shared_captures_dir  # noqa: E402

import tlsdissect  # noqa: E402
from tlsdissect.x509.parse import parse_certificate  # noqa: E402

FIELDS = ("version", "cipher", "server_name", "cert_subject", "cert_issuer", "ja3", "ja3s", "ja4", "ja4s")
FINGERPRINT_FIELDS = ("ja3", "ja3s", "ja4", "ja4s")

_ENDPOINT = re.compile(r"(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)")

# Attribute spellings across sources (nDPI, Zeek, ja4) -> one key
_ATTR = {
    "c": "C", "countryname": "C", "st": "ST", "stateorprovincename": "ST", "l": "L",
    "localityname": "L", "o": "O", "organizationname": "O", "ou": "OU",
    "organizationalunitname": "OU", "cn": "CN", "commonname": "CN", "emailaddress": "EMAIL",
    "e": "EMAIL", "1.2.840.113549.1.9.1": "EMAIL", "serialnumber": "SERIALNUMBER",
    "street": "STREET", "streetaddress": "STREET", "postalcode": "POSTALCODE",
    "dc": "DC", "domaincomponent": "DC", "businesscategory": "BUSINESSCATEGORY",
    "jurisdictioncountryname": "JC", "1.3.6.1.4.1.311.60.2.1.3": "JC",
    "jurisdictionc": "JC", "jurisdictionst": "JST", "1.3.6.1.4.1.311.60.2.1.2": "JST",
    "jurisdictionstateorprovincename": "JST", "2.5.4.15": "BUSINESSCATEGORY",
    "2.5.4.5": "SERIALNUMBER", "title": "TITLE", "givenname": "GN", "surname": "SN",
    "organizationalunit": "OU", "2.5.4.17": "POSTALCODE", "msjurisdictioncountry": "JC",
    "msjurisdictionstateorprovince": "JST", "msjurisdictionlocality": "JL",
    "1.3.6.1.4.1.311.60.2.1.1": "JL", "jurisdictionl": "JL",
}
# Attributes some sources leave out of their printed names (ja4 drops emailAddress; nDPI
# prints only C, ST, L, O, OU, CN).
_OPTIONAL_ATTRS = frozenset({"EMAIL", "STREET", "POSTALCODE", "DC", "SERIALNUMBER",
                             "BUSINESSCATEGORY", "JC", "JST", "JL", "2.5.4.41"})


@dataclass
class Row:
    file: str
    flow: str
    endpoints: frozenset[str]
    expected: dict[str, str]
    source: str


def normalize_version(v: str) -> str:
    v = v.strip()
    table = {"TLSv12": "TLSv1.2", "TLSv13": "TLSv1.3", "TLSv11": "TLSv1.1", "TLSv10": "TLSv1.0",
             "TLSv1": "TLSv1.0", "TLSv1.3 (Fizz)": "TLSv1.3", "SSLv3": "SSLv3"}
    return table.get(v, v)


def _endpoint_norm(host: str, port: str) -> str:
    host = host.strip("[]")
    if ":" in host:
        import ipaddress

        try:
            host = "[" + ipaddress.IPv6Address(host).compressed + "]"
        except ValueError:
            return f"?:{int(port)}"  # nDPI prints some IPv6 addresses wrongly: match the port only
    return f"{host}:{int(port)}"


def _split_dn(s: str) -> frozenset[tuple[str, str]]:
    """Parse 'C=US, O=Foo, Inc., CN=x' (commas inside values allowed) into (attr, value) pairs."""
    parts: list[str] = []
    # split on commas that start a new ATTR= pair
    for piece in re.split(r",\s*(?=[A-Za-z0-9.]+\s*=)", s):
        parts.append(piece)
    out = set()
    for p in parts:
        if "=" not in p:
            continue
        k, v = p.split("=", 1)
        key = _ATTR.get(k.strip().lower(), k.strip().upper())
        val = v.strip().replace("\\,", ",").replace("\\+", "+").replace('\\"', '"').replace("\\\\", "\\")
        out.add((key, val))
    return frozenset(out)


def dn_equal(ours: str, theirs: str) -> bool:
    a, b = _split_dn(ours), _split_dn(theirs)
    if a == b:
        return True
    extra = a - b
    return b < a and all(k in _OPTIONAL_ATTRS for k, _ in extra)


def _endpoints(flow: str) -> frozenset[str]:
    """Endpoints from 'a:p -> b:p', 'a:p <-> b:p', '[v6]:p' or bare 'v6:p->v6:p' (ja4)."""
    text = flow.split("uid=")[-1]
    text = re.sub(r"^flow#\d+\s+TCP\s+", "", text.strip())
    if " " in text and not text.startswith("uid"):
        text = text.split(" ", 1)[1] if text.startswith("C") and "->" in text.split(" ", 1)[1] else text
    sides = re.split(r"\s*<?->\s*", text)
    out = set()
    for side in sides[:2]:
        side = side.strip().split(" ")[-1]
        host, _, port = side.rpartition(":")
        if host and port.isdigit():
            out.add(_endpoint_norm(host, port))
    return frozenset(out)


@lru_cache(maxsize=None)
def rows() -> list[Row]:
    base = shared_captures_dir()
    if not (base / "EXPECTED.tsv").is_file():
        return []
    out = []
    with open(base / "EXPECTED.tsv", newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            flow = r["uid_or_flow"]
            if " UDP " in flow or "DTLS" in r.get("version", ""):
                continue
            if "confidence=Match by port" in r.get("notes", ""):
                continue  # no verified TLS facts in these nDPI rows
            eps = _endpoints(flow)
            exp = {k: r[k] for k in FIELDS if r.get(k, "").strip() and r[k].strip() != "-"}
            if exp:
                out.append(Row(r["file"], flow, eps, exp, r.get("expected_source", "")))
    return out


@lru_cache(maxsize=None)
def analyse(file: str) -> tlsdissect.Report:
    base = shared_captures_dir()
    return tlsdissect.analyze(base / file, diagnose=False)


def _same_endpoints(ours: frozenset[str], theirs: frozenset[str]) -> bool:
    if ours == theirs:
        return True
    wild = [e for e in theirs if e.startswith("?:")]
    if not wild or len(ours) != len(theirs):
        return False
    exact = theirs - set(wild)
    rest = ours - exact
    return exact <= ours and sorted(e.rsplit(":", 1)[1] for e in rest) == sorted(e[2:] for e in wild)


def ours_for(row: Row) -> Optional[dict[str, Optional[str]]]:
    report = analyse(row.file)
    matches = [c for c in report.connections if _same_endpoints(frozenset((c.client, c.server)), row.endpoints)]
    if not matches:
        return None
    # Prefer the connection that got furthest (port reuse: several share the tuple).
    c = max(matches, key=lambda c: (c.server_hello is not None, c.client_hello is not None))
    subject = issuer = None
    if c.server_certificates_der:
        info = parse_certificate(c.server_certificates_der[0])
        subject, issuer = info.subject, info.issuer
    chain = [parse_certificate(der) for der in c.server_certificates_der]
    client_version = None
    if c.client_hello is not None:
        from tlsdissect.tls import tables

        client_version = tables.version_name(c.client_hello.legacy_version)
    fp = c.fingerprints
    prints: dict[str, object] = {k: getattr(fp, k) if fp is not None else None for k in FINGERPRINT_FIELDS}
    ch = c.client_hello
    if ch is not None:
        alpn = ch.ext(16)
        names = (alpn.decoded or {}).get("protocols") if alpn is not None else None
        prints["hello_has_sni"] = ch.ext(0) is not None
        prints["hello_sni"] = c.server_name
        prints["hello_first_alpn"] = names[0] if names else None
        prints["hello_extension_count"] = len(ch.extensions)
    return {**prints, "version": c.version, "cipher": c.cipher, "server_name": c.server_name,
            "cert_subject": subject, "cert_issuer": issuer,
            "chain_subjects": [i.subject for i in chain], "chain_issuers": [i.issuer for i in chain],
            "client_version": client_version}


def _cn_o(dn: str) -> frozenset[tuple[str, str]]:
    return frozenset((k, v.lower()) for k, v in _split_dn(dn) if k in ("CN", "O"))


def compare(row: Row) -> Optional[dict[str, tuple[str, Optional[str], bool]]]:
    """Per field (expected, ours, agree); None when the capture has no such flow at all."""
    ours = ours_for(row)
    if ours is None:
        return None
    result = {}
    for k, want in row.expected.items():
        got = None if ours is None else ours.get(k)
        arkime = row.file.startswith("arkime+arkime/")
        ndpi = row.file.startswith("ntop+nDPI/")
        if k == "version":
            want_v = normalize_version(want)
            if want_v.startswith("TLSv1.3 (Fizz)") or want == "TLSv1.3 (Fizz)":
                want_v = "TLSv1.3"
            ok = got is not None and (want_v == got or (want == "TLSv1.3 (Fizz)" and got.startswith("TLSv1.3")))
            if got is None and ndpi and ours.get("client_version"):
                # nDPI's convention: without a ServerHello it reports the ClientHello's version.
                got = ours["client_version"]
                ok = want_v == got
        elif k in ("cert_subject", "cert_issuer") and arkime:
            # Arkime's convention: CN and O only, lower-cased, for one certificate of the chain.
            names = ours["chain_subjects"] if k == "cert_subject" else ours["chain_issuers"]
            ok = any(_cn_o(n) == _cn_o(want) for n in names)
        elif k in ("cert_subject", "cert_issuer"):
            ok = got is not None and dn_equal(got, want)
        elif k in FINGERPRINT_FIELDS:
            # nDPI appends its cipher verdict to JA3S ("... (WEAK)"): the value is the first word.
            ok = got == want.split()[0] if want.split() else False
        else:
            ok = got == want.strip()
        result[k] = (want, got, ok)
    return result


def _ip_literal(name: Optional[str]) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address((name or "").strip("[]"))
        return True
    except ValueError:
        return False


def explain_ja4(row: Row, want: str, got: Optional[str]) -> Optional[str]:
    """Why nDPI's JA4 differs from ours, read from the ClientHello's bytes; None when no known
    convention of nDPI accounts for every differing part (then it is a real disagreement).

    nDPI's JA4 departs from the FoxIO specification and reference code in three documented
    ways: (1) its d/i character says whether nDPI knows a host name for the flow (from DNS, or
    from an SNI that is a name rather than an IP literal), not whether the ClientHello has a
    server_name extension; (2) its ALPN characters are the first two of the first protocol,
    not the first and last ("ht" for http/1.1); (3) for a hello without extensions it hashes
    the empty string (e3b0c44298fc) where the specification writes 000000000000."""
    if got is None or not row.file.startswith("ntop+nDPI/") or len(want) != len(got) or len(got) < 36:
        return None
    ours = ours_for(row) or {}
    reasons = []
    if want[3] != got[3]:
        if got[3] == "i" and not ours.get("hello_has_sni"):
            reasons.append("no server_name extension in the ClientHello: 'i' (nDPI writes 'd' for a host it "
                           "learned elsewhere)")
        elif got[3] == "d" and _ip_literal(ours.get("hello_sni")):
            reasons.append("server_name holds an IP literal: the extension is present, 'd' (nDPI writes 'i')")
        else:
            return None
    if want[8:10] != got[8:10]:
        first = ours.get("hello_first_alpn") or ""
        if not (isinstance(first, str) and want[8:10] == first[:2] and len(first) > 2):
            return None
        reasons.append(f"first ALPN {first!r}: first and last characters {got[8:10]!r} (nDPI: the first two)")
    if want[11:23] != got[11:23]:
        return None
    if want[24:] != got[24:]:
        if not (got[24:] == "000000000000" and want[24:] == "e3b0c44298fc" and not ours.get("hello_extension_count")):
            return None
        reasons.append("no extensions: 000000000000 (nDPI hashes the empty string)")
    if want[:3] != got[:3] or want[4:8] != got[4:8]:
        return None
    return "; ".join(reasons) or None


def main() -> int:
    totals: dict[str, list[int]] = {k: [0, 0] for k in FIELDS}
    bad = []
    absent = []
    for row in rows():
        cmp = compare(row)
        if cmp is None:
            absent.append((row.file, row.flow))
            continue
        for k, (want, got, ok) in cmp.items():
            totals[k][0] += ok
            totals[k][1] += 1
            if not ok and not (k == "ja4" and explain_ja4(row, want, got)):
                bad.append((row.file, row.flow, k, want, got))
    for k, (ok, n) in totals.items():
        print(f"{k:14} {ok}/{n} agree")
    allok = sum(v[0] for v in totals.values())
    alln = sum(v[1] for v in totals.values())
    print(f"{'all':14} {allok}/{alln} agree ({100.0 * allok / max(alln, 1):.1f}%)")
    print(f"rows naming a flow that is not in the capture: {len(absent)}")
    for b in bad:
        print("DISAGREE", *b, sep=" | ")
    for a in absent:
        print("ABSENT", *a, sep=" | ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
