"""tlsdissect: explain TLS handshakes and their failures from packet captures.

    >>> import tlsdissect
    >>> report = tlsdissect.analyze("capture.pcap")
    >>> for conn in report:
    ...     print(conn.stream, conn.server_name, conn.version, conn.established)

``iter_connections`` streams connections as they end, for captures too big to hold.
"""

from tlsdissect.errors import CaptureError, ParseError, TlsDissectError
from tlsdissect import fingerprints as _fingerprints  # noqa: F401  (registers the computation)
from tlsdissect.pipeline.analyzer import Options, analyze, iter_connections
from tlsdissect.report import notebook as _notebook  # noqa: F401  (registers the Jupyter views)
from tlsdissect.report.annotate import Annotated, annotate
from tlsdissect.results.model import Alert, Connection, Event, Report, TcpClose

__all__ = [
    "analyze", "iter_connections", "Options", "Report", "Connection", "Event", "Alert",
    "TcpClose", "TlsDissectError", "CaptureError", "ParseError", "annotate", "Annotated",
]
__version__ = "0.1.0"
