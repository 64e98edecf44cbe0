"""One HTTP exchange over ``http.client`` for the STS, SSO portal and OIDC calls of the credential sources.

The auth layer never imports requests (see the import-linter contracts), so
these few calls use the standard library, with what botocore's transport
gives them: TLS verified against the system store or the configured CA bundle
(``AWS_CA_BUNDLE`` / ``ca_bundle``), the ``HTTPS_PROXY`` / ``HTTP_PROXY`` /
``NO_PROXY`` variables (a CONNECT tunnel for HTTPS), a timeout per socket
operation, and bodies capped at 1 MiB (every answer here is a few KiB).

Every failure is an :class:`HttpError` whose message names the URL and the
cause but never a body or a header value: both may carry a secret.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import SplitResult, unquote, urlsplit

__all__ = ["HttpError", "Response", "send"]

MAX_BODY = 1 << 20


class HttpError(Exception):
    """No whole HTTP answer: refused, timed out, TLS failure, a body too large. The message is safe to show."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Response(NamedTuple):
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


@lru_cache(maxsize=8)
def _tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    # Loading the system store costs milliseconds: one context per bundle.
    return ssl.create_default_context(cafile=ca_bundle)


def _proxy(parts: SplitResult, environ: Mapping[str, str]) -> SplitResult | None:
    """The proxy for this URL from the environment, as urllib and botocore read it (lower case first)."""
    scheme = parts.scheme
    proxy = environ.get(f"{scheme}_proxy") or environ.get(f"{scheme.upper()}_PROXY")
    if not proxy:
        return None
    if _bypassed(parts.hostname or "", environ.get("no_proxy") or environ.get("NO_PROXY") or ""):
        return None
    return urlsplit(proxy if "://" in proxy else f"http://{proxy}")


def _bypassed(host: str, no_proxy: str) -> bool:
    """``NO_PROXY`` as urllib reads it: ``*``, or a host equal to an entry or inside its domain."""
    host = host.lower()
    for entry in (e.strip().lower().lstrip(".") for e in no_proxy.split(",")):
        if entry == "*":
            return True
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def _connection(
    parts: SplitResult, environ: Mapping[str, str], timeout: float, ca_bundle: str | None
) -> tuple[http.client.HTTPConnection, bool]:
    """A connection for ``parts`` and whether requests must name the absolute URL (plain HTTP via a proxy)."""
    https = parts.scheme == "https"
    try:
        context = _tls_context(ca_bundle) if https else None
    except (OSError, ssl.SSLError) as exc:
        raise HttpError(f"cannot load the CA bundle {ca_bundle}: {exc.__class__.__name__}", retryable=False) from None
    proxy = _proxy(parts, environ)
    host, port = parts.hostname or "", parts.port
    if proxy is None:
        if https:
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=context), False
        return http.client.HTTPConnection(host, port, timeout=timeout), False
    headers = {}
    if proxy.username is not None:
        import base64

        pair = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    proxy_port = proxy.port or (443 if proxy.scheme == "https" else 80)
    if not https:
        return http.client.HTTPConnection(proxy.hostname or "", proxy_port, timeout=timeout), True
    conn = http.client.HTTPSConnection(proxy.hostname or "", proxy_port, timeout=timeout, context=context)
    conn.set_tunnel(host, port, headers=headers)
    return conn, False


def send(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None = None,
    *,
    timeout: float,
    ca_bundle: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Response:
    """Send one request and read the whole answer (at most 1 MiB)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HttpError(f"not an http(s) URL: {url}", retryable=False)
    conn, absolute = _connection(parts, environ or {}, timeout, ca_bundle)
    target = url if absolute else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(method, target, body=body, headers=dict(headers))
        answer = conn.getresponse()
        data = answer.read(MAX_BODY + 1)
        if len(data) > MAX_BODY:
            raise HttpError(f"the answer from {url} is larger than {MAX_BODY} bytes", retryable=False)
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, data)
    except ssl.SSLCertVerificationError as exc:
        bundle = f" with the CA bundle {ca_bundle}" if ca_bundle else ""
        raise HttpError(
            f"the TLS certificate of {parts.hostname} could not be verified{bundle} ({exc.verify_message})",
            retryable=False,
        ) from None
    except TimeoutError:
        raise HttpError(f"no answer from {url} within {timeout:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise HttpError(f"{exc.__class__.__name__} while calling {url}") from None
    except ValueError:  # http.client refuses a header value with CR or LF (a token read from a bad file)
        raise HttpError(f"a header for {url} is not a legal HTTP header value", retryable=False) from None
    finally:
        conn.close()
