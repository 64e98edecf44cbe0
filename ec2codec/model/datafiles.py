"""The JSON data files shipped in ``ec2codec/model/_data``: endpoint rules, paginators, waiters.

Each is one JSON object written by a ``tools/build_*.py`` script: the payload
under its own key(s), with its provenance (``botocore_version``,
``generator``) beside it. A file is read on first use and kept; nothing is
read at import.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

__all__ = ["provenance", "read_data"]


@functools.cache  # thread-safe enough: a race reads the same file twice
def read_data(name: str) -> dict[str, Any]:
    """The decoded contents of ``ec2codec/model/_data/<name>``."""
    with open(os.path.join(os.path.dirname(__file__), "_data", name), "rb") as f:
        data: dict[str, Any] = json.load(f)
    return data


def provenance(name: str, *payload: str) -> dict[str, Any]:
    """What ``name`` records about where it came from: everything but its ``payload`` keys."""
    return {k: v for k, v in read_data(name).items() if k not in payload}
