"""Compatibility import path: LocalEC2, the test endpoint, moved to :mod:`ec2codec.server.testing` in 0.2.0.

``import ec2codec.testing`` keeps working for code written against 0.1; new
code should import from the new path (see the README's changelog).
"""

from .server.testing import *  # noqa: F403
from .server.testing import __all__ as __all__  # noqa: PLC0414  (the PEP 484 explicit re-export)
