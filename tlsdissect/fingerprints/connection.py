"""A connection's fingerprints, computed once when a view first asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from tlsdissect.fingerprints.hellofields import client_fields, server_fields
from tlsdissect.fingerprints.ja3 import ja3_of_fields, ja3s_of_fields
from tlsdissect.fingerprints.ja4 import ja4_of_fields, ja4s_of_fields
from tlsdissect.fingerprints.ja4x import ja4x


@dataclass(slots=True)
class Fingerprints:
    """JA3/JA3S as MD5 and full string; the JA4 family in its hashed, raw (``_r``) and
    original-order (``_o``) forms; one JA4X per server certificate, in the order sent.
    None where the message it reads is not in the capture."""

    ja3: Optional[str] = None
    ja3_string: Optional[str] = None
    ja3s: Optional[str] = None
    ja3s_string: Optional[str] = None
    ja4: Optional[str] = None
    ja4_r: Optional[str] = None
    ja4_o: Optional[str] = None
    ja4_ro: Optional[str] = None
    ja4s: Optional[str] = None
    ja4s_r: Optional[str] = None
    ja4x: list[Optional[str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        # (written out, not dataclasses.asdict: that walks and deep-copies each value, a tenth
        # of the JSON path per connection; the keys are the fields, in their order)
        return {"ja3": self.ja3, "ja3_string": self.ja3_string, "ja3s": self.ja3s, "ja3s_string": self.ja3s_string,
                "ja4": self.ja4, "ja4_r": self.ja4_r, "ja4_o": self.ja4_o, "ja4_ro": self.ja4_ro,
                "ja4s": self.ja4s, "ja4s_r": self.ja4s_r, "ja4x": list(self.ja4x)}


def fingerprints_of(c: Any) -> Optional[Fingerprints]:
    """The fingerprints of a connection (results.model.Connection); None when it carried no
    hello and no certificate.

    JA3S and JA4S read the server's first ServerHello-type message: the HelloRetryRequest when
    there is one (it is a ServerHello on the wire). That is what the reference implementations
    (and nDPI, Zeek's and Arkime's) fingerprint, so the values join with theirs."""
    ch = c.client_hello
    sh = c.hello_retry_request if c.hello_retry_request is not None else c.server_hello
    ders = c.server_certificates_der
    if ch is None and sh is None and not ders:
        return None
    f = Fingerprints()
    if ch is not None and not ch.sslv2:  # (JA3 and JA4 read TLS ClientHellos only)
        cf = client_fields(ch)
        f.ja3, f.ja3_string = ja3_of_fields(cf)
        j4 = ja4_of_fields(cf)
        f.ja4, f.ja4_r, f.ja4_o, f.ja4_ro = j4.ja4, j4.ja4_r, j4.ja4_o, j4.ja4_ro
    if sh is not None:
        sf = server_fields(sh)
        f.ja3s, f.ja3s_string = ja3s_of_fields(sf)
        j4s = ja4s_of_fields(sf)
        f.ja4s, f.ja4s_r = j4s.ja4s, j4s.ja4s_r
    f.ja4x = [ja4x(d) for d in ders]
    return f
