"""Framings inside a TCP stream: the bytes of a conversation that carry TLS inside another
protocol's units, unwrapped before the TLS record layer reads them.

Takes one direction's reassembled bytes, with the frame number of each segment, and hands out
the inner TLS bytes as ``(bytes, frame)`` pieces, each with the frame that completed the unit
carrying it (so evidence lines still name the frames Wireshark shows the inner messages in):

- ``openvpn``: OpenVPN's control channel, over TCP (a 2-byte length before each packet) or UDP
  (one packet per datagram; the flows are found by pipeline.openvpn_udp): the TLS bytes are the
  payloads of the P_CONTROL_V1 packets of key id 0, in order of message packet-id,
  retransmissions dropped; with or without tls-auth.
- ``websocket``: WebSocket frames after an HTTP upgrade (RFC 6455), masked or not.
- ``gssapi``: GSSAPI tokens of FTP security extensions (RFC 2228, GridFTP's GSI): base64 TLS
  records on ``ADAT``/``ENC``/``MIC`` lines and their 33x/63x replies.

``detect`` recognises a framing from a stream's first bytes (never from the port alone, and
never where the stream starts with a TLS record). Sans-I/O and bounded: every unwrapper holds
at most ``unwrapper.MAX_HELD`` bytes of an unfinished unit, and bad framing stops it with a
``problem`` (a marked partial result), never an exception.
"""
