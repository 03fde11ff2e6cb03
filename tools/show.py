"""Debug helper: print the timeline of the connections of a capture that use a port."""
import sys
import tlsdissect

path, port = sys.argv[1], sys.argv[2]
r = tlsdissect.analyze(path, include_all=True, diagnose=False)
for c in r:
    if c.client.endswith(":" + port) or c.server.endswith(":" + port):
        print(c.stream, c.client, c.server, c.server_name, c.version, c.cipher, "tls" if c.is_tls else c.not_tls,
              "mid" if c.midstream else "", c.role_source, c.ssl_history)
        for e in c.events[:int(sys.argv[3]) if len(sys.argv) > 3 else 20]:
            print("   ", e.frame, e.sender, e.type, {k: v for k, v in e.info.items() if k not in ("first_bytes",)})
        for a in c.anomalies[:10]:
            print("  ANOMALY", a.frame, a.sender, a.info)
