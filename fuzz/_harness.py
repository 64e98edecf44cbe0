"""What every fuzz target shares: the command line, with atheris or without it.

``python3 fuzz/fuzz_X.py [libFuzzer flags] CORPUS...`` runs a libFuzzer
campaign through atheris (``pip install -e '.[fuzz]'``), adding the target's
``-max_len`` unless one is given. Before atheris instruments the loaded
modules the target runs once over its warm-up inputs: ``import ec2codec``
loads almost nothing (the codec's modules load on first use), and a module
loaded after ``instrument_all()`` gives libFuzzer no coverage to steer by.

Without atheris, or with ``--no-atheris``, the same command replays every
file given (folders are read recursively) through the target once and exits
non-zero if any input fails: a corpus check, or the replay of a
``crash-<hash>`` finding.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

OneInput = Callable[[bytes], None]


def inputs(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, with the files under each folder named, in a stable order."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        found.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return found


def replay(one_input: OneInput, paths: Iterable[str | Path]) -> int:
    """Run ``one_input`` over every input file; print each failure; the number of failures."""
    files = inputs(paths)
    failures = 0
    for path in files:
        try:
            one_input(path.read_bytes())
        except Exception:
            failures += 1
            print(f"FAILED {path}", file=sys.stderr)
            traceback.print_exc()
    print(f"{len(files)} inputs, {failures} failed", file=sys.stderr)
    return failures


def _atheris() -> Any:
    try:
        import atheris  # type: ignore[import-not-found]
    except ImportError:
        return None
    return atheris


def main(one_input: OneInput, *, max_len: int, warm_up: Iterable[bytes] = (), argv: list[str] | None = None) -> None:
    """The command line of one target (see the module docstring)."""
    args = list(sys.argv if argv is None else argv)
    plain = "--no-atheris" in args
    args = [a for a in args if a != "--no-atheris"]
    atheris = None if plain else _atheris()
    if atheris is None:
        paths = [a for a in args[1:] if not a.startswith("-")]
        if not paths:
            sys.exit(f"usage: {args[0]} [--no-atheris] CORPUS_OR_FILE... (atheris not used: corpus replay only)")
        sys.exit(1 if replay(one_input, paths) else 0)
    for data in warm_up:
        one_input(data)
    if not any(a.startswith("-max_len=") for a in args):
        args.append(f"-max_len={max_len}")
    atheris.instrument_all()
    atheris.Setup(args, one_input)
    atheris.Fuzz()
