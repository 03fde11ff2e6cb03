"""Build the lab's X.509 PKI with the openssl command-line tool.

Everything is made by `openssl req` / `openssl ca` (not by Python code) so the
certificates are what a real administrator would produce.  `openssl ca` is used
for signing because it accepts explicit -startdate/-enddate, which is how the
expired and not-yet-valid leaves are made without faking the clock.

Layout under <work>/pki/ (all PEM):
  root.crt            Lab Root CA (trusted by every client that verifies)
  inter.crt           Lab Intermediate CA (signed by root)
  leaf-<v>.crt/.key   server leaves; see LEAVES below
  rogue-root.crt      Rogue Root CA (never trusted) and rogue-inter.crt
  corp-ca.crt         Corp Client CA (trusted by servers that ask for a cert)
  other-ca.crt        Other CA (not trusted by any server)
  client-<v>.crt/.key client certificates: good, expired (Corp), other (Other CA)
  bundles: fullchain-<v>.pem (leaf + intermediates), chain-<v>.pem (intermediates)
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

CA_VALID = ("20200101000000Z", "20400101000000Z")
LEAF_VALID = ("20250601000000Z", "20350101000000Z")
EXPIRED = ("20240101000000Z", "20250101000000Z")
NOT_YET = ("20340101000000Z", "20360101000000Z")

CA_EXT = """[v3]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

SERVER_EXT = """[v3]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = {eku}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = {san}
"""

CLIENT_EXT = """[v3]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = {eku}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

CA_CNF = """[ca]
default_ca = lab
[lab]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = anything
unique_subject = no
email_in_dn = no
copy_extensions = none
[anything]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
"""

BIG_SAN_COUNT = 400


@dataclass(frozen=True)
class Leaf:
    """One server leaf certificate variant."""

    name: str
    issuer: str  # CA name (directory under pki/)
    cn: str
    sans: tuple[str, ...]
    validity: tuple[str, str] = LEAF_VALID
    eku: str = "serverAuth"
    md: str = "sha256"  # signature digest used by the issuer
    key: tuple[str, ...] = ("RSA", "rsa_keygen_bits:2048")  # genpkey -algorithm, -pkeyopt...
    extra_ext: str = ""  # more extension lines (e.g. tlsfeature = status_request)


def run(cmd: list[str], cwd: Path) -> None:
    """Run openssl, failing loudly with its stderr (the PKI must be complete)."""
    res = subprocess.run(cmd, cwd=cwd, check=False, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr}")


class Pki:
    """Makes and names the files of the lab PKI."""

    def __init__(self, work: Path) -> None:
        self.dir = (work / "pki").resolve()

    def path(self, name: str) -> str:
        return str(self.dir / name)

    # --- primitives -----------------------------------------------------
    def _key(self, name: str, key: tuple[str, ...] = ("RSA", "rsa_keygen_bits:2048")) -> None:
        argv = ["openssl", "genpkey", "-algorithm", key[0]]
        for opt in key[1:]:
            argv += ["-pkeyopt", opt]
        run(argv + ["-out", f"{name}.key"], self.dir)

    def _csr(self, name: str, subj: str) -> None:
        run(["openssl", "req", "-new", "-key", f"{name}.key", "-subj", subj, "-out", f"{name}.csr"],
            self.dir)

    def _ca_dir(self, ca: str) -> Path:
        d = self.dir / f"ca-{ca}"
        (d / "newcerts").mkdir(parents=True, exist_ok=True)
        (d / "index.txt").touch()
        if not (d / "serial").exists():
            (d / "serial").write_text("1000\n")
        (d / "ca.cnf").write_text(CA_CNF.format(dir=d))
        return d

    def _sign(self, ca: str, name: str, ext: str, validity: tuple[str, str],
              selfsign: bool = False, md: str = "sha256") -> None:
        d = self._ca_dir(ca)
        extfile = self.dir / f"{name}.ext"
        extfile.write_text(ext)
        cmd = ["openssl", "ca", "-batch", "-notext", "-config", str(d / "ca.cnf"),
               "-keyfile", f"{ca}.key", "-in", f"{name}.csr", "-out", f"{name}.crt",
               "-startdate", validity[0], "-enddate", validity[1], "-md", md,
               "-extfile", str(extfile), "-extensions", "v3"]
        cmd += ["-selfsign"] if selfsign else ["-cert", f"{ca}.crt"]
        run(cmd, self.dir)

    def _have(self, name: str) -> bool:
        """Each certificate is made once; later builds only add what is missing."""
        return (self.dir / f"{name}.crt").exists()

    def root(self, name: str, cn: str) -> None:
        if self._have(name):
            return
        self._key(name)
        self._csr(name, f"/O=TLS Lab/CN={cn}")
        self._sign(name, name, CA_EXT, CA_VALID, selfsign=True)

    def sub_ca(self, name: str, issuer: str, cn: str, ext: str = CA_EXT) -> None:
        """An intermediate; `ext` may differ from a proper CA's (the fourth wide lab's
        CA:FALSE 'intermediate' and name-constrained one)."""
        if self._have(name):
            return
        self._key(name)
        self._csr(name, f"/O=TLS Lab/CN={cn}")
        self._sign(issuer, name, ext, CA_VALID)

    def leaf(self, leaf: Leaf) -> None:
        name = f"leaf-{leaf.name}"
        if self._have(name):
            return
        self._key(name, leaf.key)
        self._csr(name, f"/O=TLS Lab/CN={leaf.cn}")
        san = ", ".join(leaf.sans)
        self._sign(leaf.issuer, name, SERVER_EXT.format(san=san, eku=leaf.eku) + leaf.extra_ext,
                   leaf.validity, md=leaf.md)

    def self_signed(self, name: str, cn: str, sans: str) -> None:
        """A leaf that signs itself (what `openssl req -x509` gives an admin in a hurry)."""
        if self._have(name):
            return
        self._key(name)
        run(["openssl", "req", "-x509", "-new", "-key", f"{name}.key", "-subj", f"/O=TLS Lab/CN={cn}",
             "-days", "3650", "-addext", f"subjectAltName={sans}",
             "-addext", "basicConstraints=critical,CA:FALSE", "-out", f"{name}.crt"], self.dir)

    def client(self, name: str, issuer: str, cn: str, validity: tuple[str, str],
               eku: str = "clientAuth",
               key: tuple[str, ...] = ("RSA", "rsa_keygen_bits:2048")) -> None:
        if self._have(name):
            return
        self._key(name, key)
        self._csr(name, f"/O=TLS Lab Clients/CN={cn}")
        self._sign(issuer, name, CLIENT_EXT.format(eku=eku), validity)

    def revoke_and_crl(self, ca: str, name: str) -> None:
        """Revoke one certificate (once) and write <ca>.crl, as a CA operator would."""
        d = self._ca_dir(ca)
        cnf = str(d / "ca.cnf")
        serial = subprocess.run(["openssl", "x509", "-in", f"{name}.crt", "-noout", "-serial"],
                                check=True, cwd=self.dir, capture_output=True,
                                text=True).stdout.strip().split("=")[1]
        index = (d / "index.txt").read_text()
        if not any(ln.startswith("R") and f"\t{serial}\t" in ln for ln in index.splitlines()):
            run(["openssl", "ca", "-batch", "-config", cnf, "-keyfile", f"{ca}.key", "-cert",
                 f"{ca}.crt", "-revoke", f"{name}.crt", "-crl_reason", "keyCompromise"], self.dir)
        run(["openssl", "ca", "-batch", "-config", cnf, "-keyfile", f"{ca}.key", "-cert",
             f"{ca}.crt", "-gencrl", "-crldays", "3650", "-out", f"{ca}.crl"], self.dir)

    def dhparam(self, out: str, bits: int) -> None:
        """Finite-field DH parameters for a DHE server (openssl dhparam), made once."""
        if not (self.dir / out).exists():
            run(["openssl", "dhparam", "-out", out, str(bits)], self.dir)

    def bundle(self, out: str, parts: list[str]) -> None:
        (self.dir / out).write_text("".join((self.dir / p).read_text() for p in parts))

    # --- the whole PKI --------------------------------------------------
    def build(self) -> None:
        """Create what is missing; existing keys and certificates are kept."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.root("root", "Lab Root CA")
        self.sub_ca("inter", "root", "Lab Intermediate CA")
        self.root("rogue-root", "Rogue Root CA")
        self.sub_ca("rogue-inter", "rogue-root", "Rogue Intermediate CA")
        # A long chain for the big-certificate scenario: root > inter > i2 > i3 > i4 > leaf.
        self.sub_ca("inter2", "inter", "Lab Intermediate CA 2")
        self.sub_ca("inter3", "inter2", "Lab Intermediate CA 3")
        self.sub_ca("inter4", "inter3", "Lab Intermediate CA 4")
        www = ("DNS:www.lab.test", "DNS:localhost", "IP:127.0.0.1")
        big_sans = www + tuple(f"DNS:host{i:04d}.many-names.lab.test" for i in range(BIG_SAN_COUNT))
        leaves = [
            Leaf("good", "inter", "www.lab.test", www),
            Leaf("rogue", "rogue-inter", "www.lab.test", www),
            Leaf("expired", "inter", "www.lab.test", www, EXPIRED),
            Leaf("notyet", "inter", "www.lab.test", www, NOT_YET),
            Leaf("wronghost", "inter", "other.example.test", ("DNS:other.example.test",)),
            Leaf("big", "inter4", "www.lab.test", big_sans),
            Leaf("wrongeku", "inter", "www.lab.test", www, eku="clientAuth"),
            Leaf("revoked", "inter", "www.lab.test", www),
            Leaf("sha1", "inter", "www.lab.test", www, md="sha1"),
            # The wide lab (lab/wide.py): an ECDSA-only server and a weak 1024-bit RSA key.
            Leaf("ecdsa", "inter", "www.lab.test", www,
                 key=("EC", "ec_paramgen_curve:P-256")),
            Leaf("rsa1024", "inter", "www.lab.test", www, key=("RSA", "rsa_keygen_bits:1024")),
        ]
        # The fourth wide lab (lab/wide4.py): an "intermediate" that is no CA (CA:FALSE), one
        # whose name constraints exclude www.lab.test, a chain deeper than a short verify
        # depth, and an OCSP must-staple leaf (TLS feature status_request).
        self.sub_ca("notca-inter", "inter", "Lab Not-a-CA Intermediate",
                    CA_EXT.replace("CA:TRUE", "CA:FALSE"))
        self.sub_ca("nc-inter", "inter", "Lab Corp-only Intermediate",
                    CA_EXT + "nameConstraints = critical, permitted;DNS:.corp.test\n")
        leaves += [
            Leaf("notca", "notca-inter", "www.lab.test", www),
            Leaf("nc", "nc-inter", "www.lab.test", ("DNS:www.lab.test",)),
            Leaf("deep", "inter4", "www.lab.test", www),
            Leaf("muststaple", "inter", "www.lab.test", www,
                 extra_ext="tlsfeature = status_request\n"),
            # The fifth wide lab (lab/wide5.py): server keys of other types, an Ed25519 and a
            # P-521 leaf.
            Leaf("ed25519", "inter", "www.lab.test", www, key=("ED25519",)),
            Leaf("p521", "inter", "www.lab.test", www, key=("EC", "ec_paramgen_curve:P-521")),
            # The sixth wide lab (lab/wide6.py): a wildcard leaf (*.lab.test, which does not
            # cover a.b.lab.test) and a leaf naming www.lab.test only (no IP address SAN, for a
            # client that connects to 127.0.0.1 by address).
            Leaf("wildcard", "inter", "*.lab.test", ("DNS:*.lab.test",)),
            Leaf("dnsonly", "inter", "www.lab.test", ("DNS:www.lab.test",)),
        ]
        for leaf in leaves:
            self.leaf(leaf)
        self.self_signed("leaf-selfsigned", "www.lab.test", "DNS:www.lab.test,DNS:localhost")
        self.root("corp-ca", "Corp Client CA")
        self.root("other-ca", "Other CA")
        self.client("client-good", "corp-ca", "alice", LEAF_VALID)
        self.client("client-expired", "corp-ca", "bob-expired", EXPIRED)
        self.client("client-other", "other-ca", "mallory", LEAF_VALID)
        self.client("client-wrongeku", "corp-ca", "carol-serverauth", LEAF_VALID, eku="serverAuth")
        self.revoke_and_crl("inter", "leaf-revoked")
        self.client("client-revoked", "corp-ca", "dave-revoked", LEAF_VALID)
        self.revoke_and_crl("corp-ca", "client-revoked")
        # The fourth wide lab: a client key too small for a server at security level 2, and a
        # client certificate issued by an intermediate of the Corp Client CA (sent without it).
        self.client("client-rsa1024", "corp-ca", "erin-rsa1024", LEAF_VALID,
                    key=("RSA", "rsa_keygen_bits:1024"))
        self.sub_ca("corp-inter", "corp-ca", "Corp Client Issuing CA")
        self.client("client-viainter", "corp-inter", "frank-via-inter", LEAF_VALID)
        self.dhparam("dh1024.pem", 1024)
        self.bundle("chain-inter.pem", ["inter.crt"])
        self.bundle("chain-rogue.pem", ["rogue-inter.crt"])
        self.bundle("chain-big.pem", ["inter4.crt", "inter3.crt", "inter2.crt", "inter.crt"])
        self.bundle("corp-ca-with-crl.pem", ["corp-ca.crt", "corp-ca.crl"])
        for v in ("good", "expired", "notyet", "wronghost", "wrongeku", "revoked", "sha1", "ecdsa",
                  "rsa1024"):
            self.bundle(f"fullchain-{v}.pem", [f"leaf-{v}.crt", "inter.crt"])
        self.bundle("fullchain-rogue.pem", ["leaf-rogue.crt", "rogue-inter.crt"])
        self.bundle("fullchain-big.pem", ["leaf-big.crt", "inter4.crt", "inter3.crt", "inter2.crt",
                                          "inter.crt"])
        self.bundle("fullchain-notca.pem", ["leaf-notca.crt", "notca-inter.crt", "inter.crt"])
        self.bundle("fullchain-nc.pem", ["leaf-nc.crt", "nc-inter.crt", "inter.crt"])
        self.bundle("fullchain-deep.pem", ["leaf-deep.crt", "inter4.crt", "inter3.crt",
                                           "inter2.crt", "inter.crt"])
        self.bundle("fullchain-muststaple.pem", ["leaf-muststaple.crt", "inter.crt"])
        self.bundle("root-and-inter.pem", ["root.crt", "inter.crt"])
        for v in ("ed25519", "p521", "wildcard", "dnsonly"):
            self.bundle(f"fullchain-{v}.pem", [f"leaf-{v}.crt", "inter.crt"])
        for v in ("notca", "nc", "deep", "muststaple", "wrongeku"):  # HAProxy: chain + key
            self.bundle(f"haproxy-{v}.pem", [f"fullchain-{v}.pem", f"leaf-{v}.key"])
        self.bundle("client-cas-both.pem", ["corp-ca.crt", "other-ca.crt"])
        # The Erlang server of lab/wide3.py: one cacertfile holds the intermediate it sends and
        # the CA whose client certificates it accepts.
        self.bundle("inter-and-corp.pem", ["inter.crt", "corp-ca.crt"])
        for v in ("good", "rogue", "ecdsa", "wronghost", "expired"):  # HAProxy: chain + key in one
            self.bundle(f"haproxy-{v}.pem", [f"fullchain-{v}.pem", f"leaf-{v}.key"])
        self.bundle("haproxy-leafonly.pem", ["leaf-good.crt", "leaf-good.key"])
        for c in ("good", "expired", "other", "wrongeku", "revoked"):
            self.bundle(f"client-{c}.pem", [f"client-{c}.crt", f"client-{c}.key"])
