"""SigV4 Task 1 canonical forms (AWS "Create a canonical request"): URI, query string and headers.

Shared by :mod:`ec2codec.auth.sigv4` and :mod:`ec2codec.auth.verification`.
Every rule here reproduces what botocore's ``SigV4Auth`` does to an
``AWSRequest``, which is also what the AWS SigV4 test suite expects, except
the query string: botocore signs it as the URL spells it, the protocol
URI-encodes each name and value (``normalize_query=True``).

Both query forms keep one invariant a verifier relies on: read back as a form
(:func:`form_decode`, the decoding an EC2 Query server applies to what it
receives), the canonical query holds exactly the (name, value) pairs of the
query it was built from. The spelled-as-written form holds the received text
itself; the normalised form decodes each name and value the way the server
will (``+`` is a space, ``%XX`` a byte, WHATWG URL section 5.1) and re-encodes
the bytes, so ``%2B`` and ``+`` (a plus and a space) never canonicalise alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import SplitResult, quote, unquote_to_bytes, urlsplit

from ..errors import ValidationError

__all__ = [
    "UNSIGNED_HEADERS",
    "Headers",
    "assemble",
    "collect_headers",
    "describe_parts",
    "describe_url",
    "encode_query",
    "form_decode",
    "header_items",
    "split_url",
]

Headers = Mapping[str, str] | Iterable[tuple[str, str]] | None

# botocore's SIGNED_HEADERS_BLACKLIST: hop-by-hop headers a proxy may rewrite,
# and headers (user-agent, x-amzn-trace-id) that tooling changes after signing.
UNSIGNED_HEADERS = frozenset(
    {
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# SigV4 "UriEncode": everything but the unreserved characters of RFC 3986.
_UNRESERVED = "-_.~"


def split_url(operation: str, url: object) -> SplitResult:
    """``urlsplit`` of an absolute URL, or a ValidationError naming ``operation``."""
    if not isinstance(url, str):
        raise ValidationError(operation, [("url", f"expected str, got {type(url).__name__}")])
    try:
        parts = urlsplit(url)
        if not parts.hostname:
            raise ValueError("no host")
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ValidationError(operation, [("url", f"not an absolute http(s) URL: {exc}")]) from None
    return parts


@lru_cache(maxsize=256)
def describe_url(url: str, normalize_path: bool, normalize_query: bool) -> tuple[str, str, str]:
    """Host header, canonical URI and canonical query of ``url``.

    Cached: a client signs every request against the same few endpoints.
    """
    return describe_parts("sign", split_url("sign", url), normalize_path, normalize_query)


def describe_parts(
    operation: str, parts: SplitResult, normalize_path: bool, normalize_query: bool
) -> tuple[str, str, str]:
    # botocore's _host_from_url: lowercase, IPv6 in brackets, no userinfo, and
    # the port only when it is not the scheme's default.
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{port}"
    try:
        return host, _canonical_uri(parts.path, normalize_path), _canonical_query(parts.query, normalize_query)
    except UnicodeEncodeError:
        raise ValidationError(operation, [("url", "not encodable as UTF-8")]) from None


def _canonical_uri(path: str, normalize: bool) -> str:
    # Task 1 step 2: the RFC 3986 normalized absolute path, URI-encoded. The
    # path arrives encoded once, so non-S3 services see it encoded twice, as
    # the protocol asks; S3 signs the path exactly as sent.
    if not normalize:
        return path
    return quote(_remove_dot_segments(path) if path else "/", safe="/~")


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 section 5.2.4, plus the AWS rule that empty segments ("//") go too.
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if out:
                out.pop()
        elif segment and segment != ".":
            out.append(segment)
    first = "/" if path[0] == "/" else ""
    last = "/" if path[-1] == "/" and out else ""
    return first + "/".join(out) + last


def form_decode(text: str) -> bytes:
    """One name or value of an ``application/x-www-form-urlencoded`` string, as bytes (WHATWG URL, 5.1).

    ``+`` is a space and ``%XX`` the byte XX; anything else stands for its
    UTF-8 bytes (a ``%`` without two hex digits for itself). Bytes, not text:
    decoding is lossless, so two spellings decode alike only when every server
    reads them alike.
    """
    return unquote_to_bytes(text.replace("+", " "))


def _canonical_query(query: str, normalize: bool) -> str:
    # Task 1 step 3: parameters sorted by name, then by value.
    if not query:
        return ""
    pairs = [(key, value) for key, _, value in (pair.partition("=") for pair in query.split("&"))]
    if normalize:
        # URI-encode what the server will read, not a second reading of the
        # text: unquote() would keep "+" (and quote() send it as %2B) while the
        # server's form decoder reads a space.
        pairs = [(quote(form_decode(k), safe=_UNRESERVED), quote(form_decode(v), safe=_UNRESERVED)) for k, v in pairs]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def encode_query(pairs: Iterable[tuple[str, str]]) -> str:
    """``name=value&...`` with both URI-encoded (botocore's ``percent_encode_sequence``)."""
    return "&".join(f"{quote(k, safe=_UNRESERVED)}={quote(v, safe=_UNRESERVED)}" for k, v in pairs)


def header_items(operation: str, headers: Headers) -> list[tuple[str, str]]:
    """``headers`` (a mapping or name/value pairs) as a list of str pairs, or a ValidationError."""
    if headers is None:
        return []
    items = list(headers.items() if isinstance(headers, (dict, Mapping)) else headers)
    for item in items:
        if not (type(item) is tuple and len(item) == 2 and type(item[0]) is str and type(item[1]) is str):
            break
    else:
        return items
    checked = []
    for item in items:
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise ValidationError(operation, [("headers", f"expected (str, str) name/value pairs, got {item!r}")])
        checked.append((item[0], item[1]))
    return checked


def collect_headers(pairs: Iterable[tuple[str, str]], host: str) -> dict[str, str]:
    """Task 1 step 4 values: lowercase name -> Trimall(value), repeats comma-joined in order given.

    Unsigned headers are left out; ``host`` stands in when no Host header is given.
    """
    values: dict[str, str] = {}
    for name, value in pairs:
        lname = name.lower()
        if lname not in UNSIGNED_HEADERS:
            trimmed = " ".join(value.split())
            values[lname] = f"{values[lname]},{trimmed}" if lname in values else trimmed
    if "host" not in values:
        values["host"] = " ".join(host.split())
    return values


def assemble(method: str, uri: str, query: str, values: dict[str, str], payload: str) -> tuple[str, str]:
    """Task 1 steps 1-7 joined: (canonical request, signed headers)."""
    names = sorted(values)
    # botocore strips the names it lists as signed, not those it canonicalizes;
    # the two only differ for names with surrounding blanks, which HTTP forbids.
    signed = ";".join(sorted([name.strip() for name in names]))
    headers = "".join([f"{name}:{values[name]}\n" for name in names])
    return f"{method.upper()}\n{uri}\n{query}\n{headers}\n{signed}\n{payload}", signed
