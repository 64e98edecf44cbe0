"""The model layer: service models and the data files shipped with the package.

Owns the compact bundle format and its loader (:mod:`.service`: ``ServiceModel``,
the bundled EC2 and STS models, ``model_from`` for botocore-format models) and the
reader of the bundled JSON data (:mod:`.datafiles`: endpoint rules,
paginators, waiters). Nothing here is read at import time.

May import: :mod:`ec2codec.errors` and the standard library. Never lxml or
requests.
"""
