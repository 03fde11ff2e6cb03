"""QUIC handshakes read from UDP datagrams, without any key: the Initial packets.

Takes in: UDP datagrams of one flow (capture.udp gives them), in capture order.
Hands out: one :class:`~tlsdissect.quic.session.QuicHandshake` per flow: the versions, the
connection IDs, the ClientHello and ServerHello (decrypted from the Initial packets with keys
derived from the client's Destination Connection ID, RFC 9001 §5.2 and RFC 9369 for QUIC v2, and
parsed by the TLS stage), Retry and Version Negotiation, how many packets of each kind each side
sent, and any CONNECTION_CLOSE sent at the Initial level, with a CRYPTO_ERROR's TLS alert.

With a key log (the TLS 1.3 secrets, NSS format), the Handshake packets (the certificate, the
selected ALPN, a close at that level), the 1-RTT packets (HANDSHAKE_DONE, late closes with
HTTP/3's error names, key updates followed, the first HTTP/3 response's status) and 0-RTT
packets are opened too (``protection``, ``frames``, ``h3``).
"""

from tlsdissect.quic.session import QuicHandshake, QuicSession

__all__ = ["QuicHandshake", "QuicSession"]
