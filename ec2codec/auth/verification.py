"""SigV4 verification, the server side of :mod:`ec2codec.auth.sigv4`: is this request signed by a known key?

This module owns :func:`verify` (header-signed requests and presigned URLs),
its result :class:`Verified` and its refusal :class:`SignatureError`. It
re-runs the signer's own Task 1-3 steps (AWS General Reference, "Signature
Version 4 signing process"; the canonical forms come from
:mod:`ec2codec.auth._canonical`, the key from the signer's cache) on what arrived,
and compares signatures in constant time.

What the signature covers is what the server acts on: both canonical queries
tried hold exactly the (name, value) pairs the server's form decoder reads
(the invariant of :mod:`ec2codec.auth._canonical`), so a respelling that changes
one (``+`` for ``%2B``, ``%2B`` for ``%20``) cannot match, and one that keeps
them all (``%7E`` for ``~``) is the same request. SigV4 Task 1 itself cannot
tell apart the order of one name's values, ``a`` from ``a=``, or an empty
field from ``=``: a server must give those no meaning (LocalEC2 refuses all
three). A raw ``;`` separates fields for some decoders (HTML 4.01 B.2.2), so
a query holding one is accepted only as written. A URL with a control
character (``urlsplit`` drops TAB, CR and LF) or a fragment (no part of a
request target, RFC 9112 section 3.2) is ``malformed``.

Every refusal carries a stable ``reason`` (see :data:`REASONS`) and the EC2
error ``code`` (with its HTTP ``status``) a server should answer with, from
the EC2 API Reference, "Error codes" (common client errors):

==================  ===========================  ======  =====================================================
reason              code                         status  when
==================  ===========================  ======  =====================================================
``missing``         MissingAuthenticationToken   403     no Authorization header and no X-Amz-* query auth
``malformed``       IncompleteSignature          400     garbled Authorization, credential, date, expiry
``unsigned-header`` IncompleteSignature          400     host, the date header or an x-amz-* header unsigned
``unknown-key``     AuthFailure                  401     ``lookup_secret`` returned None
``scope``           AuthFailure                  401     scope date, region, service or terminator wrong
``token``           AuthFailure                  401     session token absent, unexpected or different
``mismatch``        AuthFailure                  401     wrong signature, or X-Amz-Content-SHA256 != the body
``expired``         RequestExpired               400     a presigned URL used after X-Amz-Expires
``skewed``          RequestExpired               400     request time more than ``max_skew`` from ``now``
==================  ===========================  ======  =====================================================

EC2 answers ``AuthFailure`` where other Query services say
``SignatureDoesNotMatch`` or ``InvalidClientTokenId`` (moto's EC2 emulation
does the same), and ``RequestExpired`` both for a stale or future date stamp
and for a presigned URL past its expiry. Clients that correct clock skew
(the AWS SDKs' ``CLOCK_SKEW_ERROR_CODES``) recognise ``RequestExpired`` and
``AuthFailure``, so a skew refusal is retried with a corrected clock.

A mismatch message names no request content: what a server returns to the
client says only that the signature does not match, as EC2's ``AuthFailure``
does. The canonical requests and strings to sign that were tried are in
:attr:`SignatureError.details`, for the server's log (session tokens redacted).

Sans I/O: the clock is read only when ``now`` is None. Signing keys come from
:func:`ec2codec.auth.sigv4.derive_signing_key`, which caches them per (secret,
date, region, service), so a busy server derives each key once a day.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import SplitResult, unquote_plus

from ..errors import Error, ValidationError
from ._canonical import UNSIGNED_HEADERS, assemble, collect_headers, describe_parts, header_items, split_url
from .sigv4 import (
    ALGORITHM,
    UNSIGNED_PAYLOAD,
    Credentials,
    build_string_to_sign,
    calculate_signature,
    derive_signing_key,
    hash_payload,
)

__all__ = ["REASONS", "SignatureError", "Verified", "verify"]

# reason -> (EC2 error code, HTTP status); see the table in the module docstring.
_ANSWERS = {
    "missing": ("MissingAuthenticationToken", 403),
    "malformed": ("IncompleteSignature", 400),
    "unsigned-header": ("IncompleteSignature", 400),
    "unknown-key": ("AuthFailure", 401),
    "scope": ("AuthFailure", 401),
    "token": ("AuthFailure", 401),
    "mismatch": ("AuthFailure", 401),
    "expired": ("RequestExpired", 400),
    "skewed": ("RequestExpired", 400),
}
REASONS = frozenset(_ANSWERS)

_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")  # RFC 9110 token, lowercase
# RFC 5234 CTL, and the fragment delimiter: urlsplit drops TAB, CR and LF
# anywhere, so "a\tb" would verify as "ab"; a request target has no fragment.
_URL_REFUSED = re.compile(r"[\x00-\x1f\x7f#]")
_MISMATCH = "the request signature does not match the signature calculated for the request received"
# Session tokens in SignatureError.details: the canonical header line and the presigned query parameter.
_TOKEN_IN_DETAILS = re.compile(r"(?im)(^x-amz-security-token:|(?:^|&)X-Amz-Security-Token=)[^&\n]*")
# "Authenticating Requests: Using Query Parameters": X-Amz-Expires is at most seven days.
_MAX_EXPIRES = 604800
_QUERY_AUTH = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature")


class SignatureError(Error):
    """A request whose signature cannot be accepted.

    ``reason`` is one of :data:`REASONS` (stable, for programs); ``code`` and
    ``status`` are the EC2 error code and HTTP status to answer with; the
    message says what was wrong without echoing secrets, and is safe to send
    back to the client. ``details`` is for the server's log only: for a
    ``mismatch``, the canonical request and string to sign of each form tried
    (session tokens redacted), otherwise empty.
    """

    def __init__(self, reason: str, message: str, details: str = "") -> None:
        self.reason = reason
        self.code, self.status = _ANSWERS[reason]
        self.message = message
        self.details = details
        super().__init__(f"{self.code} ({reason}): {message}")


class Verified(NamedTuple):
    """What a valid signature proves: who signed, for which scope, when, and over which headers."""

    access_key: str
    region: str
    service: str
    date: datetime
    signed_headers: tuple[str, ...]
    presigned: bool
    token: str | None

    def __repr__(self) -> str:
        # As Credentials: a session token is a secret, and results get logged.
        token = "None" if self.token is None else "<redacted>"
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields[:-1])
        return f"Verified({fields}, token={token})"


class _Auth(NamedTuple):
    """The signature parameters of a request, wherever they were carried."""

    credential: str
    signed: str
    signature: str
    amz_date: str
    date_header: str | None  # "x-amz-date" or "date" for header auth; None when presigned
    expires: int | None
    token: str | None
    query: str  # the query string without X-Amz-Signature


# The positional order is the public contract: sign()'s request inputs, then the key lookup and the time.
def verify(  # noqa: PLR0917
    method: str,
    url: str,
    headers: Mapping[str, str] | Sequence[tuple[str, str]],
    body: bytes | str,
    lookup_secret: Callable[[str], str | Credentials | None],
    now: datetime | None = None,
    *,
    service: str | None = None,
    region: str | None = None,
    max_skew: timedelta = timedelta(minutes=5),
) -> Verified:
    """Check the SigV4 signature of a received request; return what it proves or raise SignatureError.

    ``url`` is the absolute URL requested, or its path and query (``/?a=b``)
    when the Host header says where it was sent. ``lookup_secret`` maps an
    access key id to its secret (a str) or to :class:`Credentials`, whose
    token, when set, the request must carry; None means the key is unknown.
    ``region`` and ``service``, when given, are the only scope accepted.
    The canonical query is built as botocore signs it (as written) and, when
    that differs, as the protocol does (each name and value URI-encoded from
    what the server's form decoder reads): either is the same request. Bad
    argument types raise ValidationError.
    """
    pairs = header_items("verify", headers)
    found: dict[str, list[str]] = {}
    for name, value in pairs:
        found.setdefault(name.lower(), []).append(value)
    parts = _split("verify", url, found)
    auth = _read_auth(parts.query, found)

    if not _SIGNATURE.fullmatch(auth.signature):
        raise SignatureError("malformed", "Signature must be 64 lowercase hex digits")
    access_key, scope_date, scope_region, scope_service, terminator = _read_credential(auth.credential)
    # Task 2 step 3: the scope is date/region/service/aws4_request, its date the request's own.
    if terminator != "aws4_request":
        raise SignatureError("scope", f"credential scope must end in aws4_request, not {terminator!r}")
    if scope_date != auth.amz_date[:8]:
        raise SignatureError("scope", f"credential scope date {scope_date} is not the request date {auth.amz_date}")
    if region is not None and scope_region != region:
        raise SignatureError("scope", f"credential scope region {scope_region!r} is not {region!r}")
    if service is not None and scope_service != service:
        raise SignatureError("scope", f"credential scope service {scope_service!r} is not {service!r}")

    when = _check_time(auth, now, max_skew)
    signed = _check_signed_headers(auth, found)

    known = lookup_secret(access_key)
    if known is None:
        raise SignatureError("unknown-key", f"access key {access_key!r} is not known")
    if isinstance(known, Credentials):
        secret = known.secret_key
        _check_token(auth.token, known.token)
    else:
        secret = known

    payload = _payload_hash(auth, found, body, scope_service)
    s3 = scope_service == "s3"
    scope = f"{scope_date}/{scope_region}/{scope_service}/aws4_request"
    tried: list[tuple[str, str]] = []  # (canonical request, string to sign) per query form
    # The normalised form maps respellings together; a raw ";" must not be one (see the module docstring).
    for normalize_query in (False,) if ";" in auth.query else (False, True):
        host, uri, query = describe_parts("verify", parts._replace(query=auth.query), not s3, normalize_query)
        values = collect_headers([(n, v) for n, v in pairs if n.lower() in signed], host)
        if set(values) != set(signed):
            absent = ", ".join(sorted(set(signed) - set(values)))
            # Absent, or one botocore never signs (hop-by-hop, user-agent): its value cannot be reproduced.
            raise SignatureError("mismatch", f"signed header(s) {absent} missing from the request or not signable")
        canonical, _ = assemble(method, uri, query, values, payload)
        if tried and canonical == tried[0][0]:
            break  # the query was already canonical: the protocol form is the same request
        try:
            string_to_sign = build_string_to_sign(auth.amz_date, scope, canonical)
            key = derive_signing_key(secret, scope_date, scope_region, scope_service)
        except UnicodeEncodeError:
            raise SignatureError("malformed", "the signed request is not encodable as UTF-8") from None
        tried.append((canonical, string_to_sign))
        if hmac.compare_digest(calculate_signature(key, string_to_sign), auth.signature):
            return Verified(access_key, scope_region, scope_service, when, signed, auth.expires is not None, auth.token)
    raise SignatureError("mismatch", _MISMATCH, _details(tried))


def _details(tried: list[tuple[str, str]]) -> str:
    forms = ("as written", "normalised")
    text = "\n\n".join(
        f"canonical request ({form}):\n{canonical}\n\nstring to sign ({form}):\n{string_to_sign}"
        for form, (canonical, string_to_sign) in zip(forms, tried, strict=False)
    )
    return _TOKEN_IN_DETAILS.sub(r"\1<redacted>", text)


def _split(operation: str, url: str, found: dict[str, list[str]]) -> SplitResult:
    if isinstance(url, str) and _URL_REFUSED.search(url):
        raise SignatureError("malformed", "the URL holds a control character or a fragment")
    # A server often knows only the path and query; the Host header names the authority.
    if isinstance(url, str) and url.startswith("/"):
        hosts = found.get("host")
        if not hosts:
            raise SignatureError("malformed", "a request given by its path needs a Host header")
        host = hosts[0].strip()
        if _URL_REFUSED.search(host) or any(c in host for c in "/?@"):
            raise SignatureError("malformed", "the Host header is not a host and port")
        # The scheme only decides which port is the default; the signed host is the Host header itself.
        try:
            return split_url(operation, f"https://{host}{url}")
        except ValidationError:
            raise SignatureError("malformed", "the Host header is not a host and port") from None
    return split_url(operation, url)


def _read_auth(query: str, found: dict[str, list[str]]) -> _Auth:
    raw = [pair.partition("=") for pair in query.split("&")] if query else []
    params: dict[str, list[str]] = {}
    for name, _, value in raw:
        # Decoded as the server decodes the form, so a token or date reads the same to both.
        params.setdefault(unquote_plus(name), []).append(unquote_plus(value))
    presigned = any(name in params for name in _QUERY_AUTH)
    authorization = found.get("authorization")
    if authorization and presigned:
        raise SignatureError("malformed", "a request must be signed by the Authorization header or the query, not both")
    if authorization:
        return _read_header_auth(authorization, found, query)
    if presigned:
        return _read_query_auth(params, raw)
    raise SignatureError("missing", "no Authorization header and no X-Amz-Signature query parameter")


def _read_header_auth(authorization: list[str], found: dict[str, list[str]], query: str) -> _Auth:
    # Task 4, "Add the signature to the HTTP request": ALGORITHM Credential=..., SignedHeaders=..., Signature=...
    if len(authorization) != 1:
        raise SignatureError("malformed", "more than one Authorization header")
    algorithm, _, rest = authorization[0].strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureError("malformed", f"Authorization algorithm must be {ALGORITHM}")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, eq, value = item.strip().partition("=")
        if not eq or name in fields:
            raise SignatureError("malformed", f"garbled Authorization header near {item.strip()[:40]!r}")
        fields[name] = value
    if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
        raise SignatureError("malformed", "Authorization needs exactly Credential, SignedHeaders and Signature")
    dates = found.get("x-amz-date")
    if dates is not None:
        amz_date, date_header = _one("X-Amz-Date", dates), "x-amz-date"
        _parse_amz_date(amz_date)
    elif "date" in found:
        # SigV4 accepts the HTTP Date header as the request date (botocore keeps a caller's Date).
        try:
            parsed = parsedate_to_datetime(_one("Date", found["date"]))
            # OverflowError: an offset that moves the date past year 9999 or before year 1.
            utc = parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        except (TypeError, ValueError, IndexError, OverflowError):
            raise SignatureError("malformed", "the Date header is not an HTTP date") from None
        # Formatted by hand: strftime("%Y") does not pad years before 1000 on every platform.
        amz_date = f"{utc.year:04d}{utc.month:02d}{utc.day:02d}T{utc.hour:02d}{utc.minute:02d}{utc.second:02d}Z"
        date_header = "date"
    else:
        raise SignatureError("malformed", "a header-signed request needs an X-Amz-Date or Date header")
    tokens = found.get("x-amz-security-token")
    token = _one("X-Amz-Security-Token", tokens) if tokens else None
    return _Auth(
        fields["Credential"], fields["SignedHeaders"], fields["Signature"], amz_date, date_header, None, token, query
    )


def _read_query_auth(params: dict[str, list[str]], raw: list[tuple[str, str, str]]) -> _Auth:
    # "Authenticating Requests: Using Query Parameters": every X-Amz-* field once.
    def field(name: str) -> str:
        values = params.get(name)
        if not values:
            raise SignatureError("malformed", f"presigned URL without {name}")
        return _one(name, values)

    if field("X-Amz-Algorithm") != ALGORITHM:
        raise SignatureError("malformed", f"X-Amz-Algorithm must be {ALGORITHM}")
    amz_date = field("X-Amz-Date")
    _parse_amz_date(amz_date)
    text = field("X-Amz-Expires")
    # The length first: int() refuses more than 4300 digits with a bare ValueError.
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(_MAX_EXPIRES)) or int(text) > _MAX_EXPIRES:
        raise SignatureError("malformed", f"X-Amz-Expires must be a whole number of seconds up to {_MAX_EXPIRES}")
    token = _one("X-Amz-Security-Token", params["X-Amz-Security-Token"]) if "X-Amz-Security-Token" in params else None
    # Task 1 step 3 covers every query parameter but the signature itself.
    rest = "&".join(f"{n}{eq}{v}" for n, eq, v in raw if unquote_plus(n) != "X-Amz-Signature")
    return _Auth(
        field("X-Amz-Credential"),
        field("X-Amz-SignedHeaders"),
        field("X-Amz-Signature"),
        amz_date,
        None,
        int(text),
        token,
        rest,
    )


def _one(name: str, values: list[str]) -> str:
    if len(values) != 1:
        raise SignatureError("malformed", f"{name} given {len(values)} times")
    return values[0].strip()


def _parse_amz_date(text: str) -> datetime:
    try:
        if not _AMZ_DATE.fullmatch(text):
            raise ValueError(text)
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise SignatureError("malformed", f"request date {text[:40]!r} is not YYYYMMDDTHHMMSSZ") from None


def _read_credential(credential: str) -> tuple[str, str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts) or not (parts[1].isascii() and parts[1].isdigit() and len(parts[1]) == 8):
        raise SignatureError("malformed", "Credential must be access-key/YYYYMMDD/region/service/aws4_request")
    return parts[0], parts[1], parts[2], parts[3], parts[4]


def _check_time(auth: _Auth, now: datetime | None, max_skew: timedelta) -> datetime:
    when = _parse_amz_date(auth.amz_date)
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    if auth.expires is not None:
        # A presigned URL is meant to be used later, up to its expiry; only a future date is skew.
        # A difference, not when + expires: that sum overflows for a date near year 9999.
        if now - when > timedelta(seconds=auth.expires):
            raise SignatureError("expired", f"presigned URL signed at {auth.amz_date} expired after {auth.expires} s")
        if when - now > max_skew:
            raise SignatureError("skewed", f"request date {auth.amz_date} is more than {max_skew} in the future")
    elif abs(now - when) > max_skew:
        raise SignatureError("skewed", f"request date {auth.amz_date} is more than {max_skew} from the server's time")
    return when


def _check_signed_headers(auth: _Auth, found: dict[str, list[str]]) -> tuple[str, ...]:
    names = auth.signed.split(";")
    if not all(_HEADER_NAME.fullmatch(n) for n in names) or names != sorted(set(names)):
        raise SignatureError("malformed", "SignedHeaders must be sorted, unique, lowercase header names")
    signed = set(names)
    # Task 1 step 4: host is always signed, and so is the header carrying the request date.
    required = {"host"} | ({auth.date_header} if auth.date_header else set())
    # Every x-amz-* header present must be covered, else it could be changed in transit.
    required |= {n for n in found if n.startswith("x-amz-") and n not in UNSIGNED_HEADERS}
    unsigned = sorted(required - signed)
    if unsigned:
        raise SignatureError("unsigned-header", f"header(s) {', '.join(unsigned)} must be signed")
    return tuple(names)


def _check_token(sent: str | None, expected: str | None) -> None:
    if expected is None:
        if sent is not None:
            raise SignatureError("token", "a security token was sent for long-term credentials")
        return
    if sent is None:
        raise SignatureError("token", "temporary credentials need X-Amz-Security-Token")
    if not hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8")):
        raise SignatureError("token", "the security token does not belong to this access key")


def _payload_hash(auth: _Auth, found: dict[str, list[str]], body: bytes | str, service: str) -> str:
    # Task 1 step 6; a declared X-Amz-Content-SHA256 is what was signed, so it must be the body's.
    declared = found.get("x-amz-content-sha256")
    if declared is not None:
        value = _one("X-Amz-Content-SHA256", declared)
        if value == UNSIGNED_PAYLOAD:
            return value
        if not hmac.compare_digest(value.encode("utf-8"), hash_payload(body).encode("ascii")):
            raise SignatureError("mismatch", "X-Amz-Content-SHA256 is not the SHA-256 of the body")
        return value
    if auth.expires is not None and service == "s3":
        return UNSIGNED_PAYLOAD  # S3 presigned URLs never cover the body
    return hash_payload(body)
