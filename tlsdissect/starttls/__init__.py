"""STARTTLS conversations: the plain-text exchange a connection starts with before TLS.

Takes the first bytes of each direction of a connection that did not start with a TLS record
(the TLS stage's session hands them over, with their frame numbers) and reads them as SMTP,
FTP (AUTH TLS), IMAP, POP3, LDAP (the StartTLS extended operation), XMPP, PostgreSQL
(SSLRequest) or MySQL (the CLIENT_SSL capability), far enough to tell where the exchange
stopped: TLS not offered, refused (with the server's code and words), accepted (TLS follows),
or the client going on in plain text. Gives a ``results.starttls.StartTls``.

Sans-I/O and bounded: ``reader.PRELUDE_BYTES`` per direction are read at most, lines are cut
at ``lines.MAX_LINE`` bytes, kept texts at ``exchange.MAX_TEXT`` characters; nothing here
raises on hostile bytes (the texts are shown through report/safe.py by the views). ``reader``
tells the protocols apart and drives one of the protocol modules (``replycodes`` for SMTP and
FTP, ``imap``, ``pop3``, ``ldap``, ``xmpp``, ``postgresql``, ``mysql``); ``exchange`` holds
what they have in common.
"""
