"""Regenerate every golden file in ``fixtures/`` from botocore, or ``--check`` that all are current.

Usage: ``python tools/build_fixtures.py [--check]``. Runs, in order, the three
generators (each also usable alone): request bodies (``build_request_fixtures``),
signed requests (``build_signed_fixtures``, which signs those bodies) and parsed
responses (``build_response_fixtures``). The exit status is non-zero when any
of them fails or, with ``--check``, finds a stale file.
"""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path

# The sibling scripts import each other the same way (see build_signed_fixtures).
sys.path.insert(0, str(Path(__file__).resolve().parent))

STEPS = ("build_request_fixtures", "build_signed_fixtures", "build_response_fixtures")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    status = 0
    for name in STEPS:
        status |= import_module(name).main(list(args))
    return status


if __name__ == "__main__":
    sys.exit(main())
