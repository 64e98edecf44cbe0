"""Compatibility import path: the SigV4 signer moved to :mod:`ec2codec.auth.sigv4` in 0.2.0.

``import ec2codec.sigv4`` keeps working for code written against 0.1; new
code should import from the new path (see the README's changelog).
"""

from .auth.sigv4 import *  # noqa: F403
from .auth.sigv4 import __all__ as __all__  # noqa: PLC0414  (the PEP 484 explicit re-export)
