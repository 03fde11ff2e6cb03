"""TLS-inspection products, known by the names of the CAs they sign with.

An intercepting proxy (a corporate secure web gateway, a next-generation firewall's "SSL
decryption", an antivirus's web shield, a debugging proxy) terminates the client's TLS and
presents a certificate for the server's name that it made itself, issued by its own CA. The
client accepts it only if that CA was installed in *its* trust store: browsers on a managed
machine usually have it, while Python, Java, Node.js, Go and curl often carry their own CA bundle
and refuse ("works in the browser, fails in the script"). Recognising the CA names the cause.

The table is data, as the products name their CA by default: the organisation (O) or common
name (CN) of the issuing CA, matched case-insensitively as a substring of that attribute of an
issuer name on the certificate path. An administrator can rename the CA of a gateway (and
some products make one per installation), so a miss says nothing; a match is strong evidence,
as no public CA uses these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from tlsdissect.x509.info import CertificateInfo

_CN, _O = "2.5.4.3", "2.5.4.10"


@dataclass(frozen=True)
class Interceptor:
    """One product: its name, what kind of interceptor it is, and the CA name parts it signs with."""

    product: str
    kind: str  # "gateway" (a network's secure web gateway or firewall), "antivirus", "debugging proxy"
    common_names: tuple[str, ...] = ()  # lowercase substrings of the CA's CN
    organizations: tuple[str, ...] = ()  # lowercase substrings of the CA's O
    # Lowercase substrings of the vendor's own host names: its own services (updates, telemetry,
    # its cloud console) may use the same private CA without intercepting anything.
    own_domains: tuple[str, ...] = ()


INTERCEPTORS: tuple[Interceptor, ...] = (
    # Debugging and testing proxies: a CA made on first run.
    Interceptor("mitmproxy", "debugging proxy", common_names=("mitmproxy",), organizations=("mitmproxy",),
                own_domains=("mitm.it",)),
    Interceptor("Burp Suite", "debugging proxy", common_names=("portswigger ca",), organizations=("portswigger",),
                own_domains=("portswigger",)),
    Interceptor("OWASP ZAP", "debugging proxy", common_names=("owasp zed attack proxy",),
                organizations=("owasp root ca",)),
    Interceptor("Fiddler", "debugging proxy", common_names=("do_not_trust_fiddlerroot",), organizations=("do_not_trust",)),
    Interceptor("Charles Proxy", "debugging proxy", common_names=("charles proxy ca",), organizations=("xk72",)),
    Interceptor("Proxyman", "debugging proxy", common_names=("proxyman ca",)),
    Interceptor("HTTP Toolkit", "debugging proxy", common_names=("http toolkit ca",)),
    # Secure web gateways and firewalls that decrypt.
    Interceptor("Zscaler", "gateway", common_names=("zscaler root ca", "zscaler intermediate"),
                organizations=("zscaler",), own_domains=("zscaler",)),
    Interceptor("Netskope", "gateway", organizations=("netskope",), own_domains=("netskope",)),
    Interceptor("Cisco Umbrella", "gateway", common_names=("cisco umbrella",), own_domains=("umbrella", "opendns", "cisco")),
    Interceptor("Cloudflare Gateway (Zero Trust)", "gateway",
                common_names=("cloudflare for teams", "gateway ca - cloudflare managed"), own_domains=("cloudflare",)),
    Interceptor("Fortinet FortiGate", "gateway", common_names=("fortinet_ca_ssl", "fortigate ca"),
                organizations=("fortinet",), own_domains=("forti",)),
    Interceptor("Palo Alto Networks", "gateway", organizations=("palo alto networks",),
                own_domains=("paloaltonetworks", "panw")),
    Interceptor("Sophos", "gateway", common_names=("sophos ssl ca",), own_domains=("sophos",)),
    Interceptor("Forcepoint (Websense)", "gateway", organizations=("forcepoint", "websense"),
                own_domains=("forcepoint", "websense")),
    Interceptor("Blue Coat / Symantec ProxySG", "gateway", organizations=("blue coat",), own_domains=("bluecoat",)),
    Interceptor("Check Point", "gateway", organizations=("check point software",), own_domains=("checkpoint",)),
    # Antivirus web shields on the client's own machine.
    Interceptor("Kaspersky", "antivirus", common_names=("kaspersky anti-virus personal root",),
                own_domains=("kaspersky",)),
    Interceptor("Avast", "antivirus", common_names=("avast web/mail shield root",), own_domains=("avast",)),
    Interceptor("AVG", "antivirus", common_names=("avg web/mail shield root",), own_domains=("avg.com",)),
    Interceptor("ESET", "antivirus", common_names=("eset ssl filter ca",), own_domains=("eset",)),
    Interceptor("Bitdefender", "antivirus", common_names=("bitdefender personal ca",), own_domains=("bitdefender",)),
    Interceptor("Superfish (Komodia)", "antivirus", organizations=("superfish",)),
)


def _values(attributes: tuple[tuple[str, str, str], ...], oid: str) -> list[str]:
    return [value.lower() for (a_oid, _name, value) in attributes if a_oid == oid]


def interceptor_of_name(attributes: tuple[tuple[str, str, str], ...]) -> Optional[Interceptor]:
    """The product whose CA has this name (issuer or subject attributes), None if none."""
    cns, orgs = _values(attributes, _CN), _values(attributes, _O)
    for product in INTERCEPTORS:
        if any(p in v for p in product.common_names for v in cns) or \
                any(p in v for p in product.organizations for v in orgs):
            return product
    return None


def interceptor_on_path(infos: Sequence[CertificateInfo]) -> Optional[tuple[Interceptor, int]]:
    """The first interception product found among the issuers of ``infos`` (the certificates
    of the path, leaf first), with the index of the certificate it issued; None as well when
    the leaf is one of the vendor's own hosts (its own service, not an interception)."""
    if not infos:
        return None
    leaf = infos[0]
    leaf_names = [n.lower() for n in (*leaf.san_dns, leaf.subject_common_name or "")]
    for index, info in enumerate(infos):
        found = interceptor_of_name(info.issuer_attributes) or (
            interceptor_of_name(info.subject_attributes) if index > 0 else None)
        if found is not None:
            if any(d in n for d in found.own_domains for n in leaf_names):
                return None
            return found, index
    return None
