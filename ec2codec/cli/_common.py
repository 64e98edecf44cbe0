"""What every command shares: the usage error, reading PARAMS and files, printing JSON, making the client.

Kept apart from :mod:`.app` (the parser and dispatch) so that command modules
such as :mod:`.import_snapshot` import it without importing the app back.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..client.sync import Client

__all__ = ["UsageError", "make_client", "positive", "print_json", "read_file", "read_params"]


class UsageError(Exception):
    """The command line, its input files or the configuration are wrong (exit 2)."""


def read_params(spec: str | None) -> dict[str, Any]:
    """PARAMS is JSON text, ``@file`` or ``-`` (stdin), like the AWS CLI's ``file://``."""
    if spec is None:
        return {}
    text = _read_text(spec, "PARAMS")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"PARAMS is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError(f"PARAMS must be a JSON object, got {type(value).__name__}")
    return value


def _read_text(spec: str, what: str) -> str:
    if spec == "-":
        return sys.stdin.read()
    if spec.startswith("@"):
        return read_file(spec[1:], what).decode("utf-8", "replace")
    return spec


def read_file(path: str, what: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=_jsonable, ensure_ascii=False) + "\n")


def make_client(args: argparse.Namespace) -> Client:
    """A client configured by the global options, resolved as the AWS CLI does."""
    from ..client.sync import Client

    return Client(region=args.region, endpoint_url=args.endpoint_url, profile=args.profile)


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value
