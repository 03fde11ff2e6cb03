"""The chain checks, one module per family, in the order ``chain.analyze_chain`` runs them.

- ``contents``: what the Certificate message holds (empty, unparsable, duplicate certificates);
- ``validity``: whether the capture's clock is credible, and each certificate's validity period
  at the capture time;
- ``certificate``: each certificate on its own (validity, key and signature strength,
  extensions the client cannot read, encoding);
- ``path``: the issuer path from the leaf by names and signatures;
- ``order``: the order the certificates were sent in, and those not on the path;
- ``usage``: key usage (CA constraints of the issuers, the leaf's extended key usage);
- ``anchor``: trust (the anchor the path reaches in the trust store);
- ``completeness``: how the path ends (a root sent, a self-signed leaf, a missing issuer);
- ``inspection``: an issuer that is a TLS-inspection product's CA (``x509.interception``);
- ``identity``: the names of the leaf against the server name the client asked for.

Each check adds its findings to the ``findings._ChainContext`` it is given. Revocation data
(a stapled OCSP response) is judged beside the chain, by ``x509.ocsp``.
"""
