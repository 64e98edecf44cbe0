"""Checks of what callers pass the client: constructor arguments and per-call options, before any I/O.

A wrong argument is a :class:`~ec2codec.errors.ValidationError` naming each
problem when the client is made (or the call is started), never a TypeError
or a requests ``ValueError`` on the first request: ``Client(timeout=-1)``
fails at once, ``Client(credentials=("a", "b"))`` says what to pass instead,
``wait(..., timeout=3)`` names the options that exist.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..auth.credentials.chain import CredentialProvider
from ..auth.sigv4 import Credentials
from ..errors import ValidationError

__all__ = ["check_client_arguments", "check_options", "option_names"]

Problems = list[tuple[str, str]]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_timeout(value: Any, problems: Problems) -> None:
    # requests takes one number for both, or (connect, read); it raises ValueError
    # for anything else only when the first request is sent.
    parts = value if isinstance(value, tuple) else (value,)
    if len(parts) not in (1, 2) or not all(_is_number(part) and part > 0 for part in parts):
        problems.append(
            ("timeout", f"expected seconds > 0, one number or a (connect, read) pair of numbers, got {value!r}")
        )


def _check_endpoint_url(value: Any, problems: Problems) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        problems.append(("endpoint_url", f"expected str or None, got {type(value).__name__}"))
        return
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # an unclosed IPv6 bracket, a bad port
        host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        problems.append(("endpoint_url", f"expected an http:// or https:// URL with a host, got {value!r}"))


def _check_optional(name: str, value: Any, kind: type, what: str, problems: Problems) -> None:
    if value is not None and not isinstance(value, kind):
        problems.append((name, f"expected {what} or None, got {type(value).__name__}"))


def check_client_arguments(
    arguments: Mapping[str, Any], session_type: type, *, client: str = "Client", session: str = "a requests.Session"
) -> None:
    """Raise one ValidationError naming every bad argument of ``Client(...)`` (``arguments``: name -> value).

    ``client`` names the class in the error and ``session`` the session it
    takes (the async client takes an ``aiohttp.ClientSession``).
    """
    problems: Problems = []
    _check_optional("region", arguments["region"], str, "a region name (str)", problems)
    _check_endpoint_url(arguments["endpoint_url"], problems)
    credentials = arguments["credentials"]
    if credentials is not None and not isinstance(credentials, (Credentials, CredentialProvider)):
        problems.append(
            (
                "credentials",
                "expected ec2codec.Credentials(access_key, secret_key, token=None), a CredentialProvider "
                f"or None, got {type(credentials).__name__}",
            )
        )
    _check_optional("profile", arguments["profile"], str, "a profile name (str)", problems)
    attempts = arguments["max_attempts"]
    if attempts is not None and (not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1):
        problems.append(("max_attempts", f"must be an integer of at least 1 or None, got {attempts!r}"))
    # retry_mode and mfa_prompt are the sync client's (the async client has neither yet).
    if arguments.get("retry_mode") not in (None, "standard", "legacy"):
        problems.append(("retry_mode", f"must be 'standard', 'legacy' or None, got {arguments['retry_mode']!r}"))
    _check_timeout(arguments["timeout"], problems)
    for name in ("use_fips", "use_dualstack"):
        _check_optional(name, arguments[name], bool, "True, False", problems)
    _check_optional("environ", arguments["environ"], Mapping, "a mapping", problems)
    _check_optional("session", arguments["session"], session_type, session, problems)
    for name in ("token_factory", "sleep", "rng", "now", "mfa_prompt"):
        value = arguments.get(name)
        if value is not None and not callable(value):
            problems.append((name, f"expected a callable, got {type(value).__name__}"))
    verify = arguments["verify"]
    if not isinstance(verify, (bool, str)):
        problems.append(("verify", f"expected True, False or a CA bundle path (str), got {type(verify).__name__}"))
    model = arguments["model"]
    if model is not None:
        from ..protocol.codec import Model

        if not isinstance(model, Model):
            problems.append(("model", f"expected an ec2codec.Model (ec2codec.load_model) or None, got {model!r}"))
    if problems:
        raise ValidationError(client, problems)


def option_names(function: Callable[..., Any], *, exclude: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The keyword-only parameters of ``function``: the options a client method passes through to it."""
    return tuple(
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in exclude
    )


def check_options(where: str, options: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    """A ValidationError for each option not in ``allowed``, listing those that exist."""
    unknown = [name for name in options if name not in allowed]
    if unknown:
        valid = ", ".join(allowed) or "none"
        raise ValidationError(where, [(name, f"unknown option (options: {valid})") for name in unknown])
