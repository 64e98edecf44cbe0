"""The shared command line of the bundle generators: write the file, or ``--check`` that it is current."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_or_check(target: Path, build: Callable[[], bytes], description: str, argv: list[str] | None) -> int:
    """Regenerate ``target`` with ``build()``; with ``--check``, exit 1 when the committed file differs."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="fail if the committed file is stale")
    args = parser.parse_args(argv)
    data = build()
    name = target.relative_to(ROOT)
    if args.check:
        if not target.exists() or target.read_bytes() != data:
            print(f"{name} is stale: run python {Path(sys.argv[0]).as_posix()}", file=sys.stderr)
            return 1
        return 0
    target.write_bytes(data)
    print(f"wrote {name} ({len(data)} bytes)")
    return 0
