"""DTLS handshakes read from UDP datagrams (DTLS 1.0 and 1.2, RFC 6347; DTLS 1.3's unified header,
RFC 9147), without any key.

Takes in: UDP datagrams of one flow (capture.packet marks them UDP_DATAGRAM), in capture order.
Hands out: one :class:`~tlsdissect.dtls.association.DtlsAssociation` per flow: the records'
versions and epochs, the handshake messages put back together from their fragments (``messages``:
out of order, resent, bounded), the ClientHello, ServerHello and certificates parsed by the TLS
stage (``hellos`` for the DTLS ClientHello's cookie and the HelloVerifyRequest), the
ChangeCipherSpec and Finished of each side, the alerts (in clear, or encrypted after the epoch
change), and the outcome with the deciding alert or the unanswered flight (``association``).
``records`` reads record headers; ``session`` is the per-flow state machine; ``flows`` finds
DTLS flows by their bytes.
"""

from tlsdissect.dtls.association import DtlsAssociation
from tlsdissect.dtls.flows import DtlsFlows
from tlsdissect.dtls.session import DtlsSession

__all__ = ["DtlsAssociation", "DtlsFlows", "DtlsSession"]
