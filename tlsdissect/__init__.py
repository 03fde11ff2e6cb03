"""tlsdissect: explain TLS handshakes and their failures from packet captures."""
