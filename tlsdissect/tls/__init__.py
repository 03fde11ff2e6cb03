"""TLS from a byte stream: records, handshake messages, extensions, and what a session means.

Takes one conversation's reassembled bytes (``session.TlsSession`` is the TCP stage's consumer)
and hands out typed handshake messages (``handshake``, ``extensions``), alerts, a timeline and
the session's facts (version, cipher, established, resumed). ``records`` is the sans-I/O record
layer; ``tables`` holds the IANA registries; ``jsonforms`` the messages' JSON.
"""
