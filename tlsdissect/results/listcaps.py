"""How many entries one connection keeps of each list that grows with its traffic.

A connection's alerts, timeline events, anomalies and certificates are data from whoever sent
its packets: a peer (or a capture made up to hurt us) can send 400,000 alerts on one
connection. The first entries of each list are kept, later ones only counted, and the counts
are reported in the connection's ``dropped`` object (docs/schema.md), so memory stays bounded
and nothing is lost silently. The first, not the last, because what decides a diagnosis comes
first (the first fatal alert, the messages leading up to it). Anomalies that say the same thing
(same sender, name and detail) are one entry with a ``count``.

Each cap is checked where an entry is added (a length test, no pass over a list); the limits
are far above what real connections show (the bundled and shared captures reach at most 2
alerts, 63 events, 4 anomalies and 5 certificates per connection). ``docs/limits.md`` quotes
them (tests/test_docs.py).
"""

from __future__ import annotations

MAX_ALERTS = 64  # alert records per connection (``alerts``)
MAX_EVENTS = 512  # TLS events in the timeline per connection (``events``; TCP's own are a few at most)
MAX_ANOMALIES = 64  # distinct anomalies per connection (``anomalies``; repeats of one are counted in it)
MAX_CHAIN_CERTIFICATES = 32  # certificates kept of one Certificate message (per side)
# Internal lists that nothing reports entry by entry (their first entries are what is read):
MAX_HANDSHAKE_TYPES = 512  # handshake message types remembered per direction (the resumption test)
MAX_POST_HANDSHAKE = 64  # handshake messages after both Finished remembered (the established test)

# The keys of a connection's ``dropped`` object, in the order they are written.
DROPPED_KEYS = ("alerts", "events", "anomalies", "server_certificates", "client_certificates")
