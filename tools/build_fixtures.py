"""Regenerate every golden file in ``fixtures/`` from botocore, or ``--check`` that all are current.

Usage: ``python tools/build_fixtures.py [--check]``. Runs, in order, the three
generators (each also usable alone): request bodies (``build_request_fixtures``),
signed requests (``build_signed_fixtures``, which signs those bodies) and parsed
responses (``build_response_fixtures``). The exit status is non-zero when any
of them fails or, with ``--check``, finds a stale file.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEPS = ("build_request_fixtures", "build_signed_fixtures", "build_response_fixtures")


def _load(name: str) -> object:
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    status = 0
    for name in STEPS:
        status |= _load(name).main(list(args))  # type: ignore[attr-defined]
    return status


if __name__ == "__main__":
    sys.exit(main())
