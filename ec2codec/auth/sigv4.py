"""AWS Signature Version 4 (SigV4): signed request headers and presigned URLs, sans I/O.

This module owns the four tasks of the SigV4 signing process (AWS General
Reference, "Signature Version 4 signing process"): Task 1 "Create a canonical
request" (:func:`canonicalize_request`, :func:`hash_payload`), Task 2 "Create a
string to sign" (:func:`build_string_to_sign`), Task 3 "Calculate the
signature" (:func:`derive_signing_key`, :func:`calculate_signature`) and Task 4
"Add the signature to the HTTP request" (:func:`sign` for the Authorization
header, :func:`presign` for a query-string-signed URL).

:func:`sign` returns the headers ``botocore.auth.SigV4Auth.add_auth`` would
leave on an ``AWSRequest`` (``S3SigV4Auth`` when the service is ``"s3"``), and
:func:`presign` the URL ``SigV4QueryAuth`` (``S3SigV4QueryAuth``) would build,
byte for byte. Where botocore departs from the AWS SigV4 test suite -- it signs
a URL's query string as written instead of URI-encoding each name and value --
the default follows botocore (that is what EC2 receives from the SDKs) and
``normalize_query=True`` follows the protocol.

Pure: no network, no files, no ``requests``; the clock is read only when
``now`` is None. The signing key (Task 3, step 1) is derived once per
(secret, date, region, service) and kept in a small thread-safe LRU: four of the
five HMACs of a signature are skipped, which is what makes signing fast.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timezone
from functools import lru_cache
from hashlib import sha256
from time import time
from typing import IO
from urllib.parse import parse_qs, urlunsplit

from ..errors import ValidationError
from ._canonical import (
    UNSIGNED_HEADERS,
    Headers,
    assemble,
    collect_headers,
    describe_parts,
    describe_url,
    encode_query,
    header_items,
    split_url,
)

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "UNSIGNED_PAYLOAD",
    "Credentials",
    "build_credential_scope",
    "build_string_to_sign",
    "calculate_signature",
    "canonicalize_request",
    "derive_signing_key",
    "format_amz_date",
    "hash_payload",
    "presign",
    "sign",
]

Body = bytes | bytearray | memoryview | str | IO[bytes] | None

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# Task 1 step 6 reads file bodies in 1 MiB chunks, botocore's PAYLOAD_BUFFER.
_CHUNK = 1024 * 1024


class Credentials:
    """An AWS access key pair, optionally temporary (a session ``token`` and an ``expiration``).

    Immutable and hashable. ``repr`` and ``str`` name the access key id only:
    the secret key and the token are redacted, so credentials can be logged or
    printed safely. (A plain class, not a dataclass: importing ``dataclasses``
    costs more than the rest of the signer, and start-up time is a feature.)
    """

    __slots__ = ("access_key", "expiration", "secret_key", "token")
    access_key: str
    secret_key: str
    token: str | None
    expiration: datetime | None

    def __init__(
        self, access_key: str, secret_key: str, token: str | None = None, expiration: datetime | None = None
    ) -> None:
        for name, value in (
            ("access_key", access_key),
            ("secret_key", secret_key),
            ("token", token),
            ("expiration", expiration),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Credentials are immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Credentials are immutable; cannot delete {name!r}")

    def _key(self) -> tuple[str, str, str | None, datetime | None]:
        return (self.access_key, self.secret_key, self.token, self.expiration)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Credentials) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        token = "None" if self.token is None else "<redacted>"
        expiration = "" if self.expiration is None else f", expiration={self.expiration.isoformat()}"
        return f"Credentials(access_key={self.access_key!r}, secret_key=<redacted>, token={token}{expiration})"

    __str__ = __repr__


def format_amz_date(now: datetime | None = None) -> str:
    """The ``X-Amz-Date`` form (ISO 8601 basic, UTC) of ``now``; naive datetimes are taken as UTC."""
    global _last_date
    # Formatting a datetime costs more than the rest of a signature's
    # bookkeeping, and a busy client signs many requests per second.
    key = int(time()) if now is None else now
    last = _last_date
    if last[0] == key:
        return last[1]
    when = datetime.fromtimestamp(key, timezone.utc) if isinstance(key, int) else key
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    text = f"{when.year:04d}{when.month:02d}{when.day:02d}T{when.hour:02d}{when.minute:02d}{when.second:02d}Z"
    _last_date = (key, text)  # one tuple store: atomic, so safe across threads
    return text


_last_date: tuple[object, str] = (None, "")


def build_credential_scope(amz_date: str, region: str, service: str) -> str:
    """Task 2 step 3: ``date/region/service/aws4_request``."""
    return f"{amz_date[:8]}/{region}/{service}/aws4_request"


def hash_payload(body: Body) -> str:
    """Task 1 step 6: the lowercase hex SHA-256 of the body (str is sent as UTF-8).

    A file body is hashed from its current position to its end and then put
    back where it was, so it can still be sent.
    """
    if type(body) is bytes:
        return sha256(body).hexdigest()
    if body is None:
        return EMPTY_SHA256
    if isinstance(body, str):
        try:
            body = body.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("sign", [("body", "text body is not encodable as UTF-8")]) from None
    if isinstance(body, (bytes, bytearray, memoryview)):
        return sha256(body).hexdigest()
    if not all(hasattr(body, name) for name in ("read", "seek", "tell")):
        kind = type(body).__name__
        raise ValidationError("sign", [("body", f"expected bytes, str or a seekable binary file, got {kind}")])
    position = body.tell()
    digest = sha256()
    try:
        for chunk in iter(lambda: body.read(_CHUNK), b""):
            digest.update(chunk)
    except TypeError:
        raise ValidationError("sign", [("body", "a file body must be opened in binary mode")]) from None
    finally:
        body.seek(position)
    return digest.hexdigest()


def canonicalize_request(
    method: str,
    url: str,
    headers: Headers,
    payload_hash: str,
    *,
    normalize_path: bool = True,
    normalize_query: bool = False,
) -> str:
    """Task 1: the canonical request of a request whose headers are final.

    ``headers`` are the headers as sent (``X-Amz-Date`` and, for temporary
    credentials, ``X-Amz-Security-Token`` included); unsigned ones (botocore's
    blacklist, e.g. ``User-Agent``) are left out and ``host`` is taken from
    ``url`` when absent.
    """
    parts = split_url("canonicalize_request", url)
    host, uri, query = describe_parts("canonicalize_request", parts, normalize_path, normalize_query)
    values = collect_headers(header_items("canonicalize_request", headers), host)
    return assemble(method, uri, query, values, payload_hash)[0]


def build_string_to_sign(amz_date: str, scope: str, canonical_request: str) -> str:
    """Task 2: algorithm, request date, credential scope and the hash of the canonical request."""
    digest = sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def derive_signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """Task 3 step 1: ``HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")``.

    ``date`` is ``YYYYMMDD``. Cached: the key only changes once a day per
    secret, region and service.
    """
    return _signer(secret_key, date[:8], region, service).key


def calculate_signature(signing_key: bytes, string_to_sign: str) -> str:
    """Task 3 step 2: the lowercase hex HMAC-SHA256 of the string to sign."""
    return hmac.digest(signing_key, string_to_sign.encode("utf-8"), "sha256").hex()


class _Signer:
    """A derived signing key with its HMAC pads pre-hashed (RFC 2104).

    HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)): hashing the two padded
    keys once and copying those states per message halves the cost of each
    signature compared with a fresh ``hmac`` call.
    """

    __slots__ = ("_inner", "_outer", "key")

    def __init__(self, key: bytes) -> None:
        block = key.ljust(64, b"\0")  # SHA-256 block size; a derived key is 32 bytes
        self.key = key
        self._inner = sha256(bytes(b ^ 0x36 for b in block))
        self._outer = sha256(bytes(b ^ 0x5C for b in block))

    def signature(self, string_to_sign: str) -> str:
        inner = self._inner.copy()
        inner.update(string_to_sign.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


# functools.lru_cache is thread-safe (its structure stays coherent under
# concurrent calls; at worst two threads derive the same key once each), and
# 64 entries cover any realistic mix of accounts, regions and services while
# bounding how many derived keys stay in memory.
@lru_cache(maxsize=64)
def _signer(secret_key: str, date: str, region: str, service: str) -> _Signer:
    key = hmac.digest(f"AWS4{secret_key}".encode(), date.encode(), "sha256")
    for part in (region, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return _Signer(key)


# The positional order is the public contract of issue 4 (mirrors add_auth's inputs).
def sign(  # noqa: PLR0917
    method: str,
    url: str,
    headers: Headers,
    body: Body,
    credentials: Credentials,
    region: str,
    service: str = "ec2",
    now: datetime | None = None,
    *,
    sign_payload: bool = True,
    normalize_path: bool | None = None,
    normalize_query: bool = False,
) -> dict[str, str]:
    """The complete header set to send: ``headers`` plus Host, X-Amz-Date, the token and Authorization.

    ``sign_payload=False`` signs ``UNSIGNED-PAYLOAD`` (botocore's
    ``payload_signing_enabled`` context). ``normalize_path`` defaults to True
    except for S3. Inputs are never mutated (a file body is rewound). Several
    values of one header (a list of pairs, or names differing in case) are
    signed as SigV4 joins them and returned as one comma-separated header.
    """
    s3 = service == "s3"
    path_rule = not s3 if normalize_path is None else normalize_path
    if type(url) is not str:
        split_url("sign", url)  # raises the ValidationError
    host, uri, query = describe_url(url, path_rule, normalize_query)
    amz_date = format_amz_date(now)
    token = credentials.token
    # Task 4 preparation, as botocore's _modify_request_before_signing: a
    # retried request must not carry a stale signature, date or token.
    replaced = _REPLACED[bool(token), s3 or not sign_payload]
    out: dict[str, str] = {}
    names: dict[str, str] = {}  # lowercase name -> the name used in ``out``
    values: dict[str, str] = {}  # Task 1 step 4 values of the signed headers
    declared: str | None = None
    had_date = False
    for name, value in header_items("sign", headers):
        lname = name.lower()
        if lname in replaced:
            had_date = had_date or lname == "date"
            continue
        trimmed = " ".join(value.split())
        first = names.get(lname)
        if first is None:
            names[lname] = name
            out[name] = value
            if lname not in UNSIGNED_HEADERS:
                values[lname] = trimmed
            if lname == "x-amz-content-sha256":
                declared = value
        elif lname in UNSIGNED_HEADERS:
            out[first] = f"{out[first]}, {value}"
        else:
            # One header "a,b" canonicalizes like headers "a" and "b" only when
            # each value is trimmed, so the merged header carries the trimmed forms.
            values[lname] = out[first] = f"{values[lname]},{trimmed}"
    if "host" not in names:
        out["Host"] = host
        values["host"] = " ".join(host.split())
    if had_date:
        out["Date"] = values["date"] = _http_date(amz_date)
    else:
        out["X-Amz-Date"] = values["x-amz-date"] = amz_date
    if token:
        out["X-Amz-Security-Token"] = token
        values["x-amz-security-token"] = " ".join(token.split())
    if s3:
        # S3SigV4Auth always sends the payload hash; unsigned only over TLS with a Content-MD5.
        unsigned = not sign_payload and "content-md5" in names and url.startswith("https")
        payload = out["X-Amz-Content-SHA256"] = values["x-amz-content-sha256"] = (
            UNSIGNED_PAYLOAD if unsigned else hash_payload(body)
        )
    elif not sign_payload:
        payload = out["X-Amz-Content-SHA256"] = values["x-amz-content-sha256"] = UNSIGNED_PAYLOAD
    else:
        # A payload hash the caller declared is signed as given (the first one, as botocore).
        payload = hash_payload(body) if declared is None else declared
    canonical, signed = assemble(method, uri, query, values, payload)

    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    signer = _signer(credentials.secret_key, amz_date[:8], region, service)
    signature = signer.signature(build_string_to_sign(amz_date, scope, canonical))
    out["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
    return out


def presign(  # noqa: PLR0917
    method: str,
    url: str,
    credentials: Credentials,
    region: str,
    service: str = "ec2",
    expires: int = 3600,
    now: datetime | None = None,
    *,
    normalize_path: bool | None = None,
) -> str:
    """A query-string-signed URL valid for ``expires`` seconds (AWS "Authenticating requests: query parameters").

    As botocore: the URL's own parameters are decoded and re-encoded ahead of
    the ``X-Amz-*`` ones (a repeated name keeps its first value), only
    ``host`` is signed and the payload is the empty body (S3: UNSIGNED-PAYLOAD).
    """
    s3 = service == "s3"
    path_rule = not s3 if normalize_path is None else normalize_path
    parts = split_url("presign", url)
    amz_date = format_amz_date(now)
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    auth = [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{credentials.access_key}/{scope}"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if credentials.token is not None:
        auth.append(("X-Amz-Security-Token", credentials.token))
    own = {name: values[0] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
    query = encode_query(own.items()) + "&" if own else ""
    query += encode_query(auth)
    signed_url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    # Canonicalize what is sent: the rebuilt URL, split again as botocore does.
    host, uri, canonical_query = describe_parts("presign", split_url("presign", signed_url), path_rule, False)
    payload = UNSIGNED_PAYLOAD if s3 else EMPTY_SHA256
    canonical, _ = assemble(method, uri, canonical_query, collect_headers((), host), payload)
    signer = _signer(credentials.secret_key, amz_date[:8], region, service)
    signature = signer.signature(build_string_to_sign(amz_date, scope, canonical))
    return f"{signed_url}&X-Amz-Signature={signature}"


# Headers sign() drops from the input and sets itself, keyed by
# (credentials carry a token, X-Amz-Content-SHA256 is set by the signer).
_REPLACED = {
    (token, sha): frozenset(
        {"authorization", "date", "x-amz-date"}
        | ({"x-amz-security-token"} if token else set())
        | ({"x-amz-content-sha256"} if sha else set())
    )
    for token in (False, True)
    for sha in (False, True)
}


def _http_date(amz_date: str) -> str:
    # botocore keeps a caller's Date header (replacing its value) instead of
    # adding X-Amz-Date; SigV4 accepts either as the request date.
    from calendar import timegm
    from email.utils import formatdate

    return formatdate(timegm(datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").timetuple()))
