"""Fingerprints the field joins on: JA3 and JA3S, JA4, JA4S and JA4X.

Takes in: a connection's ClientHello, ServerHello and server certificates (DER), as the TLS
stage decoded them. Hands out: the fingerprint strings, in the forms the projects that define
them publish (JA3's MD5 and its full string; FoxIO's JA4 family with the raw and original-order
variants), as one :class:`~tlsdissect.fingerprints.connection.Fingerprints` per connection.

Importing this package registers the computation with the results model, which asks for it
lazily (JSON, DataFrame, ``-v``): a text run that never shows a fingerprint never pays for it.
"""

from tlsdissect.fingerprints.connection import Fingerprints, fingerprints_of
from tlsdissect.fingerprints.ja3 import ja3, ja3s
from tlsdissect.fingerprints.ja4 import ja4, ja4s
from tlsdissect.fingerprints.ja4x import ja4x
from tlsdissect.results.model import FINGERPRINTERS

FINGERPRINTERS["connection"] = fingerprints_of

__all__ = ["Fingerprints", "fingerprints_of", "ja3", "ja3s", "ja4", "ja4s", "ja4x"]
