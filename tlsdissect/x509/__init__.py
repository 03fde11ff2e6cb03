"""Certificates: parsing, chain analysis at the capture's time, host names, OCSP staples.

Takes the DER certificates a handshake carried (and trust anchors, when given) and hands out
decoded certificates and chain findings: order, missing intermediates, validity, names, key
usage, trust, revocation data. Built on ``cryptography``.
"""
