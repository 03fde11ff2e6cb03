"""The pipeline: wires the stages together, capture -> TCP -> TLS -> certificates -> diagnosis.

Takes a capture source and options (key logs, trust anchors) and hands out one
``results.model.Connection`` per conversation as it ends (``analyzer.iter_connections``; on a live
interface ``live.iter_live``), or a whole ``Report`` (``analyzer.analyze``). ``assemble`` builds a
result from what the TCP and TLS stages hand out; ``enrich`` runs the certificate and diagnosis
stages on it. ``openvpn_udp`` reads TLS inside OpenVPN over UDP into the same kind of result.
"""
