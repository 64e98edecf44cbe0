"""What every command shares: the usage error, reading PARAMS and files, checked numbers, making the client.

Kept apart from :mod:`.app` (the parser and dispatch) so that command modules
import it without importing the app back. Everything here runs before the
first request: a bad option, file, endpoint or CA bundle is a
:class:`UsageError` (exit 2) and nothing has been sent.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from ..client.sync import Client

__all__ = [
    "UsageError",
    "check_endpoint",
    "configured_output",
    "json_type",
    "make_client",
    "port",
    "positive",
    "positive_int",
    "prompt_mfa",
    "read_file",
    "read_params",
]


class UsageError(Exception):
    """The command line, its input files or the configuration are wrong (exit 2)."""


_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number"}


def json_type(value: object) -> str:
    """What a JSON value is called in JSON's terms: "null", "an array", ... (a float is "a number")."""
    if value is None:
        return "null"
    for kind, name in _JSON_TYPES.items():
        if isinstance(value, kind):
            return name
    return "a number" if isinstance(value, float) else type(value).__name__


def read_params(spec: str | None) -> dict[str, Any]:
    """PARAMS is JSON text, ``@file`` or ``-`` (stdin), like the AWS CLI's ``--cli-input-json file://``."""
    if spec is None:
        return {}
    text = _read_text(spec, "PARAMS")
    try:
        value = json.loads(text)
    except RecursionError:
        # The json module recurses once per level: a deep enough document overflows the stack.
        raise UsageError("PARAMS nests too deeply to be EC2 parameters") from None
    except ValueError as exc:
        raise UsageError(f"PARAMS is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError(f"PARAMS must be a JSON object, got {json_type(value)}")
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
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def check_endpoint(url: str, where: str = "the endpoint URL") -> str:
    """``url`` when it is an http(s) URL with a host and a valid port; else a UsageError saying what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError for "99999" or "x"
    except ValueError as exc:
        raise UsageError(f"{where} {url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"{where} {url!r} must start with http:// or https://")
    if not parts.hostname:
        raise UsageError(f"{where} {url!r} has no host")
    if port == 0:
        raise UsageError(f"{where} {url!r} has port 0")
    return url


def configured_output(args: argparse.Namespace) -> tuple[str | None, str]:
    """The configured output format and where it was set: ``AWS_DEFAULT_OUTPUT``, then the profile's ``output``."""
    if os.environ.get("AWS_DEFAULT_OUTPUT"):
        return os.environ["AWS_DEFAULT_OUTPUT"], "AWS_DEFAULT_OUTPUT"
    from ..auth.credentials.profiles import SharedFiles

    settings = SharedFiles(os.environ, args.profile).settings()
    return settings.get("output"), "the 'output' setting of the AWS profile"


def _verify(args: argparse.Namespace) -> bool | str:
    if args.no_verify_ssl:
        if args.ca_bundle:
            raise UsageError("--no-verify-ssl and --ca-bundle contradict each other")
        return False
    bundle: str | None = args.ca_bundle or os.environ.get("AWS_CA_BUNDLE")
    if not bundle:
        return True
    if not Path(bundle).is_file():
        where = "--ca-bundle" if args.ca_bundle else "AWS_CA_BUNDLE"
        raise UsageError(f"{where} {bundle}: no such file")
    return bundle


# The AWS CLI's timeouts are 60 s each, and 0 means none (botocore: a blocking socket).
# The client takes only positive numbers: "none" is a day, longer than any EC2 answer takes.
_DEFAULT_TIMEOUT = 60.0
_NO_TIMEOUT = 86400.0


def _timeout(seconds: float | None) -> float:
    if seconds is None:
        return _DEFAULT_TIMEOUT
    return seconds or _NO_TIMEOUT


def prompt_mfa(prompt: str) -> str:
    """The MFA code of a role profile with ``mfa_serial``: asked on the terminal, else read as a line from stdin."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt, stream=sys.stderr)
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        sys.stderr.write("\n")  # end the prompt's line: the error follows on its own
        raise EOFError("no MFA code on stdin")
    return line.strip()


def make_client(args: argparse.Namespace) -> Client:
    """A client configured by the global options, resolved as the AWS CLI does; nothing is sent yet.

    A role profile with ``mfa_serial`` asks its MFA code as the AWS CLI does (:func:`prompt_mfa`).
    """
    from ..client.sync import Client

    if args.endpoint_url is not None:
        check_endpoint(args.endpoint_url, "--endpoint-url")
    client = Client(
        region=args.region,
        endpoint_url=args.endpoint_url,
        profile=args.profile,
        timeout=(_timeout(args.cli_connect_timeout), _timeout(args.cli_read_timeout)),
        verify=_verify(args),
        mfa_prompt=prompt_mfa,
    )
    # An endpoint from AWS_ENDPOINT_URL or the profile gets the same check as --endpoint-url.
    check_endpoint(client.endpoint.url)
    return client


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def positive(text: str) -> float:
    """An argparse type: a finite number above 0."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def not_negative(text: str) -> float:
    """An argparse type: a finite number of at least 0 (a timeout where 0 means none)."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def port(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535, got {text}")
    return value
