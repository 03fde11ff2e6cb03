"""tlsdissect: explain TLS handshakes and their failures from packet captures.

    >>> import tlsdissect
    >>> report = tlsdissect.analyze("capture.pcap")
    >>> for conn in report:
    ...     print(conn.stream, conn.server_name, conn.version, conn.established)

``iter_connections`` streams connections as they end, for captures too big to hold;
``iter_live(open_live("eth0", "tcp port 443"))`` does the same on a live interface (needs scapy,
and root or CAP_NET_RAW).
"""

from tlsdissect.errors import CaptureError, ParseError, TlsDissectError
from tlsdissect import fingerprints as _fingerprints  # noqa: F401  (registers the computation)
from tlsdissect.capture.live import open_live
from tlsdissect.pipeline.analyzer import Options, analyze, iter_connections
from tlsdissect.pipeline.live import iter_live
from tlsdissect.report import notebook as _notebook  # noqa: F401  (registers the Jupyter views)
from tlsdissect.results.model import Alert, Connection, Event, Report, TcpClose

__all__ = [
    "analyze", "iter_connections", "iter_live", "open_live", "Options", "Report", "Connection", "Event", "Alert",
    "TcpClose", "TlsDissectError", "CaptureError", "ParseError",
]
__version__ = "0.1.0"
