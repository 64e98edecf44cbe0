"""The ``ec2codec`` command line: thin argument handling over the public API.

Exit codes: 0 success; 1 the input was understood but rejected (a
``ValidationError``, ``ParseError`` or ``ServiceError``); 2 the command itself
was wrong (unknown option, unreadable file, malformed JSON). Errors are one
line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .codec import encode
from .errors import Error, ValidationError


class _UsageError(Exception):
    """The command line or its input files are wrong (exit 2)."""


def _read_params(spec: str) -> Any:
    """PARAMS is JSON text, ``@file`` or ``-`` (stdin), like the AWS CLI's ``file://``."""
    if spec == "-":
        text = sys.stdin.read()
    elif spec.startswith("@"):
        try:
            text = Path(spec[1:]).read_text("utf-8")
        except OSError as exc:
            raise _UsageError(f"cannot read {spec[1:]}: {exc.strerror}") from None
    else:
        text = spec
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _UsageError(f"PARAMS is not valid JSON: {exc}") from None


def _cmd_encode(args: argparse.Namespace) -> int:
    params = _read_params(args.params) if args.params is not None else {}
    sys.stdout.write(encode(args.operation, params).decode("ascii") + "\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ec2codec", description="Encode, sign and decode Amazon EC2 API calls.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    enc = commands.add_parser("encode", help="print the form-encoded request body of an operation")
    enc.add_argument("operation", help="EC2 operation name, e.g. ImportSnapshot")
    enc.add_argument("params", nargs="?", help="parameters as JSON text, @file or - for stdin")
    enc.set_defaults(run=_cmd_encode)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except _UsageError as exc:
        print(f"ec2codec: error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        problems = "; ".join(f"{path}: {msg}" if path else msg for path, msg in exc.problems)
        print(f"ec2codec: invalid parameters for {exc.operation}: {problems}", file=sys.stderr)
        return 1
    except Error as exc:
        message = " ".join(str(exc).split())
        print(f"ec2codec: {type(exc).__name__}: {message}", file=sys.stderr)
        return 1
    return code
