"""Credential and region resolution, in the AWS CLI's order.

:mod:`.base` holds the provider type and its error, :mod:`.chain` the chain
itself (environment, shared files, container, IMDS), :mod:`.profiles` the
shared config and credentials files, :mod:`.metadata` the container and
instance-metadata fetchers.

May import: :mod:`ec2codec.errors`, :mod:`ec2codec.protocol` (timestamps) and
the rest of :mod:`ec2codec.auth`; the fetchers use ``http.client``, never
requests.
"""
