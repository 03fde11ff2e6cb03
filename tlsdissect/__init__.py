"""tlsdissect: explain TLS handshakes and their failures from packet captures.

    >>> import tlsdissect
    >>> report = tlsdissect.analyze("capture.pcap", keylog="sslkeys.log")
    >>> for conn in report.failures():
    ...     d = conn.diagnosis
    ...     print(conn.stream, conn.server_name, d.verdict)
    ...     for line in d.evidence:
    ...         print("   ", line.frames, line.text)

:func:`analyze` returns a :class:`Report` of :class:`Connection` objects, each with its
:class:`Diagnosis` (verdict, cause, confidence, evidence with frame numbers, remedy) and its
:class:`Alert` records; :func:`iter_connections` streams connections as they end, for captures
too big to hold; ``iter_live(open_live("eth0", "tcp port 443"))`` does the same on a live
interface (needs scapy, and root or CAP_NET_RAW). ``Report.to_dict()`` is the JSON of
``tlsdissect --json`` (docs/schema.md), ``Report.to_dataframe()`` a pandas DataFrame.
"""

from tlsdissect.diagnosis.verdict import Diagnosis, Evidence
from tlsdissect.errors import CaptureError, ParseError, TlsDissectError
from tlsdissect import fingerprints as _fingerprints  # noqa: F401  (registers the computation)
from tlsdissect.capture.live import open_live
from tlsdissect.pipeline.analyzer import Options, analyze, iter_connections
from tlsdissect.pipeline.live import iter_live
from tlsdissect.report import html as _html_page  # noqa: F401  (registers Report.to_html's page)
from tlsdissect.report import notebook as _notebook  # noqa: F401  (registers the Jupyter views)
from tlsdissect.report import udp_rows as _udp_rows  # noqa: F401  (registers the QUIC/DTLS DataFrame rows)
from tlsdissect.report.annotate import Annotated, annotate
from tlsdissect.results.model import Alert, Connection, Event, Report, TcpClose

__all__ = [
    "analyze", "iter_connections", "iter_live", "open_live", "Options", "Report", "Connection", "Diagnosis",
    "Evidence", "Event", "Alert",
    "TcpClose", "TlsDissectError", "CaptureError", "ParseError", "annotate", "Annotated",
]
__version__ = "0.1.0"
