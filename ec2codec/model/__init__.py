"""The model layer: service models and the data files shipped with the package.

Owns the compact bundle format and its loader (:mod:`.service`: ``ServiceModel``,
the bundled EC2 and STS models, ``model_from`` for botocore-format models, the default
model that ``EC2CODEC_MODEL`` may name), finding and reading models on disk
(:mod:`.sources`: botocore's ``service-2.json[.gz]``, its ``data/ec2``
folders with their paginators and waiters) and the reader of the bundled JSON
data (:mod:`.datafiles`: endpoint rules, paginators, waiters). Nothing here is
read at import time.

May import: :mod:`ec2codec.errors` and the standard library. Never lxml or
requests.
"""
