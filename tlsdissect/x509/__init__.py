"""Certificates: parsing, chain analysis at the capture's time, host names, OCSP staples.

Takes the DER certificates a handshake carried (and trust anchors, when given) and hands out
decoded certificates and chain findings: order, missing intermediates, validity, names, key
usage, trust, revocation data. Built on ``cryptography``.

Its modules, from the bottom up:

- ``der``, ``names``, ``times``, ``lru``: a minimal DER reader, distinguished names, times as
  the findings write them, and the bounded LRU table the caches are made of;
- ``info``: one decoded certificate (``CertificateInfo``), which ``parse`` makes with
  ``extensions`` and ``signatures`` (``parse_certificate``, once per certificate);
- ``trust``: the trust anchors (``TrustStore``);
- ``findings``: ``ChainFinding`` and the context the chain checks add them to; ``checks/``: the
  chain checks, one module per family; ``chain``: ``analyze_chain``, which runs them in turn, and
  its result ``ChainAnalysis``; ``retime``: one analysis reworded for other capture times;
- ``client``: the client's chain against the server's CertificateRequest;
- ``hostname``: RFC 6125 name matching; ``ocsp``: stapled OCSP responses (revocation data);
- ``caches``: the stage's memo tables, counted and cleared together.
"""
