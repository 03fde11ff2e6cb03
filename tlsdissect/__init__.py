"""tlsdissect: explain TLS handshakes and their failures from packet captures.

    >>> import tlsdissect
    >>> report = tlsdissect.analyze("capture.pcap")
    >>> for conn in report:
    ...     print(conn.stream, conn.server_name, conn.version, conn.established)

``iter_connections`` streams connections as they end, for captures too big to hold.
"""

from .analyzer import Options, analyze, iter_connections
from .errors import CaptureError, ParseError, TlsDissectError
from .model import Alert, Connection, Event, Report, TcpClose

__all__ = [
    "analyze", "iter_connections", "Options", "Report", "Connection", "Event", "Alert",
    "TcpClose", "TlsDissectError", "CaptureError", "ParseError",
]
__version__ = "0.1.0"
