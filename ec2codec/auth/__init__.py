"""The auth layer: AWS Signature Version 4 and the credential chain.

Owns signing and presigning (:mod:`.sigv4`), the canonical-request rules both
sides share (:mod:`._canonical`), server-side verification
(:mod:`.verification`), and :mod:`.credentials` (the provider chain, shared
files, the container endpoint and IMDS).

May import: :mod:`ec2codec.errors`, :mod:`ec2codec.model`,
:mod:`ec2codec.protocol` and the standard library. Signing is pure (time is
passed in); only the credential fetchers touch the network, with
``http.client``, never requests.
"""
