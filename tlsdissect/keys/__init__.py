"""Keys and decryption: NSS key logs, the TLS key schedules, record decryption.

Takes key log lines (a file, or a pcapng's Decryption Secrets Block) and a connection's randoms
and cipher suite, and hands out per-direction decryptors that turn protected records back into
plaintext (TLS 1.3, and TLS <= 1.2 with 230 cipher suites). Crypto comes from ``cryptography``.
"""
