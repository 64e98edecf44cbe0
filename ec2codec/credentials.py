"""Compatibility import path: the credential and region chain moved to :mod:`ec2codec.auth.credentials.chain` in 0.2.0.

``import ec2codec.credentials`` keeps working for code written against 0.1; new
code should import from the new path (see the README's changelog).
"""

from .auth.credentials.chain import *  # noqa: F403
from .auth.credentials.chain import __all__ as __all__  # noqa: PLC0414  (the PEP 484 explicit re-export)
