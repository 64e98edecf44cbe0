"""One-line error messages and their exit codes, in the terms of the command line rather than Python's.

The encoder's messages name Python types (``expected dict, got NoneType``);
PARAMS is JSON, so the CLI says ``expected an object, got null``. Repeated
parts (``not a timestamp: not a timestamp: 'x'``) are dropped, whitespace is
collapsed to single spaces (an empty service message leaves no double space),
and errors are named by what went wrong (``network error``), not by class.
"""

from __future__ import annotations

import re

from ..errors import Error, ModelError, ServiceError, ValidationError

__all__ = ["describe", "is_configuration"]

_JSON_WORDS = {
    "NoneType": "null",
    "dict": "an object",
    "list or tuple": "an array",
    "list": "an array",
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "float, int or Decimal": "a number",
    "bool": "true or false",
    "bytes, bytearray or str": "a string",
    "datetime, epoch seconds or timestamp string": "a timestamp string or epoch seconds",
}


def _in_json_words(match: re.Match[str]) -> str:
    verb, python = match[1], match[2]
    return f"{verb} a boolean" if (verb, python) == ("got", "bool") else f"{verb} {_JSON_WORDS[python]}"


def _json_terms(message: str) -> str:
    """A parameter problem in the terms of the JSON the user wrote: "got null", not "got NoneType"."""
    words = "|".join(re.escape(w) for w in sorted(_JSON_WORDS, key=len, reverse=True))
    message = re.sub(rf"\b(expected|got) ({words})\b", _in_json_words, message)
    message = message.replace("a bool is not", "a boolean is not")
    # "not a timestamp: not a timestamp: 'x'": a part that a later part repeats says nothing more.
    parts = message.split(": ")
    kept = [part for i, part in enumerate(parts) if not any(part in later for later in parts[i + 1 :])]
    return ": ".join(kept)


# How the one-line message names an error, instead of its class name; the other errors
# (credentials, endpoint, model) say what they are in their message.
_KINDS = {
    "TransportError": "network error",
    "ParseError": "unreadable response",
    "PaginationError": "paging stopped",
}


def describe(exc: Error) -> str:
    """The one line (after ``ec2codec: ``) that reports ``exc``."""
    from ..client.waiters import WaiterError
    from ..model.service import default_model

    if isinstance(exc, ValidationError):
        problems = "; ".join(f"{path}: {_json_terms(msg)}" if path else _json_terms(msg) for path, msg in exc.problems)
        if default_model().has_operation(exc.operation):
            return f"invalid parameters for {exc.operation}: {problems}"
        return f"invalid value: {problems}"
    if isinstance(exc, ServiceError):
        message = " ".join(exc.message.split())
        request_id = f" (request id {exc.request_id})" if exc.request_id else ""
        return f"EC2 error {exc.code}{': ' + message if message else ''}{request_id}"
    if isinstance(exc, WaiterError):
        return " ".join(str(exc).split())
    kind = _KINDS.get(type(exc).__name__)
    message = " ".join(str(exc).split())
    return f"{kind}: {message}" if kind else message


def is_configuration(exc: Error) -> bool:
    """Whether ``exc`` is the configuration's fault (exit 2) rather than the service's (exit 1)."""
    from ..auth.credentials.chain import ConfigError, CredentialsError
    from ..client.endpoints import EndpointError

    return isinstance(exc, (ModelError, CredentialsError, ConfigError, EndpointError))
