"""TLS from a byte stream: records, handshake messages, extensions, and what a session means.

Takes one conversation's reassembled bytes (``session.TlsSession`` is the TCP stage's consumer)
and hands out typed handshake messages (``handshake``, ``extensions``), alerts, a timeline and
the session's facts (version, cipher, established, resumed). ``records`` is the sans-I/O record
layer (its TLS mode), with ``recordevents`` (its vocabulary), ``recordcontent`` (what a record's
payload says: handshake messages reassembled, alerts, CCS, decrypted records), ``streamstart``
(its other modes: detection, plain text and STARTTLS, SSLv2), ``framed`` (a direction whose TLS rides
inside another protocol's units, tlsdissect.framing) and ``boundaries`` (where records
start: resynchronisation). The session's pieces: ``handlers`` (what it keeps of each handshake
message), ``decryption`` (its use of a key log), ``conclusions`` (established, resumed,
ssl_history), ``httpwatch`` (the HTTP inside decrypted application data, read by ``http1`` and
``http2``: which answer, what was left unfinished). ``tables`` holds the IANA registries; ``jsonforms`` the messages' JSON.
"""
