"""One sentence for a failed exchange: what failed (refused, DNS, TLS, timeout, cut short) and with which host and port.

requests and urllib3 report a refused connection as ``HTTPConnectionPool(...):
Max retries exceeded with url: / (Caused by NewConnectionError(...))``. The
client turns each failure into a :class:`~ec2codec.client.attempts.TransportError`
whose message is one sentence built here, and chains the original as the
cause. The facts come from the exception chain (``__cause__``,
``__context__``, urllib3's ``reason``, exceptions carried in ``args``), read
through the standard library's classes only: this module never imports an
HTTP library (the caller, the only importer of requests, says which timeout
or TLS failure requests reported).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from http.client import IncompleteRead, RemoteDisconnected
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["Kind", "describe_failure"]

Kind = Literal["connect-timeout", "read-timeout", "tls", "url"] | None
"""What the HTTP library itself says failed, when it says it (None: look at the chain)."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_LINKS = 32
_MAX_TEXT = 200


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it carries, outermost first, each once."""
    queue = [exc]
    seen: set[int] = set()
    while queue and len(seen) < _MAX_LINKS:
        current = queue.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        queue.extend(item for item in linked if isinstance(item, BaseException))


def _first(exc: BaseException, kind: type[BaseException] | tuple[type[BaseException], ...]) -> BaseException | None:
    return next((item for item in _chain(exc) if isinstance(item, kind)), None)


def _address(url: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return url, ""
    host = parts.hostname or url
    return host, f"{host} port {port}" if port else host


def _seconds(timeout: float | tuple[float, float], index: int) -> str:
    value = timeout[index] if isinstance(timeout, tuple) else timeout
    return f"{value:g} s"


def _tls_reason(exc: BaseException) -> str:
    error = _first(exc, ssl.SSLError)
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return f"certificate verify failed ({error.verify_message})"
    if isinstance(error, ssl.SSLError):
        text = error.reason or error.strerror or str(error)
        return str(text).replace("_", " ").lower()
    return "the TLS connection could not be set up"


def _why(exc: BaseException) -> str:
    """``": connection reset by peer"``: the operating system's words for the failure, if it gave any."""
    error = next((item for item in _chain(exc) if isinstance(item, OSError) and item.strerror), None)
    return f": {str(error.strerror).lower()}" if isinstance(error, OSError) else ""


def describe_failure(
    kind: Kind, exc: BaseException, url: str, timeout: float | tuple[float, float], *, reading: bool
) -> str:
    """The sentence for ``exc``, raised sending to ``url`` (``reading``: while the body arrived)."""
    host, where = _address(url)
    if kind == "url":
        return f"cannot send a request to {url!r}: not a usable http:// or https:// URL"
    if kind == "connect-timeout":
        return f"timed out after {_seconds(timeout, 0)} connecting to {where}"
    if kind == "read-timeout":
        stage = "in the response from" if reading else "from"
        return f"no data {stage} {where} within the read timeout of {_seconds(timeout, 1)}"
    if kind == "tls" or _first(exc, ssl.SSLError) is not None:
        return f"TLS handshake with {where} failed: {_tls_reason(exc)}"
    if _first(exc, socket.gaierror) is not None:
        return f"could not resolve host {host}: DNS lookup failed"
    if _first(exc, ConnectionRefusedError) is not None:
        return f"could not connect to {where}: connection refused"
    if reading or _first(exc, IncompleteRead) is not None:
        return f"the connection to {where} broke before the whole response arrived{_why(exc)}"
    if _first(exc, RemoteDisconnected) is not None:
        return f"{where} closed the connection without answering"
    if _first(exc, ConnectionResetError) is not None:
        return f"the connection to {where} was reset before an answer arrived"
    if _first(exc, TimeoutError) is not None:
        return f"timed out talking to {where}"
    why = _why(exc)
    if why:
        return f"could not connect to {where}{why}"
    # Nothing recognisable: the innermost exception's own words, on one line.
    innermost = list(_chain(exc))[-1]
    text = " ".join(str(innermost).split())[:_MAX_TEXT]
    return f"the request to {where} failed: {type(innermost).__name__}" + (f": {text}" if text else "")
