"""ec2codec.auth.verification: accepts what SigV4 signers produce, refuses every tampering with the right reason.

Acceptance: every signed request (.sreq) of the AWS SigV4 test suite, the
suite's requests presigned by botocore's ``SigV4QueryAuth`` (the suite itself
has no presigned cases), and random requests signed by botocore's
``SigV4Auth`` / ``SigV4QueryAuth``. Refusal: a table of tamperings of one
signed request, each with its ``reason`` and EC2 error ``code``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock
from urllib.parse import unquote_to_bytes

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ec2codec.auth.sigv4 import Credentials, canonicalize_request, hash_payload, presign, sign
from ec2codec.auth.verification import REASONS, SignatureError, Verified, verify
from ec2codec.errors import Error, ValidationError
from tests.conftest import conformance_file

from .test_sigv4_suite import ACCESS_KEY, CASES, NOW, SECRET_KEY, SUITE, _parse_request, _read

# -- the AWS SigV4 test suite ---------------------------------------------------

SUITE_REGION = "us-east-1"
SUITE_SERVICE = "service"
# post-sts-header-after adds X-Amz-Security-Token after signing (for services
# that want the token outside the signature). verify() requires every x-amz-*
# header to be signed, as EC2 signs the token, so that one .sreq is refused.
TOKEN_AFTER_SIGNING = "post-sts-token/post-sts-header-after"


# The .sreq of get-vanilla-with-session-token carries a signature that is not
# the one of its own .authz (an upstream defect: the .creq, .sts and .authz
# agree with each other and with ec2codec's signer). The Authorization header
# is therefore always taken from the .authz file.
SREQ_DEFECT = "get-vanilla-with-session-token"


def _suite_request(name: str, *, authz: bool = True) -> tuple[str, str, list[tuple[str, str]], bytes, Credentials]:
    folder = conformance_file(*SUITE) / name
    stem = folder / folder.name
    method, target, headers, body = _parse_request(_read(stem.with_suffix(".sreq")))
    if authz:
        headers = [(k, _read(stem.with_suffix(".authz")) if k == "Authorization" else v) for k, v in headers]
    token = re.search(r"^x-amz-security-token:(.*)$", _read(stem.with_suffix(".creq")), re.MULTILINE)
    host = next(value for key, value in headers if key.lower() == "host")
    creds = Credentials(ACCESS_KEY, SECRET_KEY, token.group(1) if token else None)
    return method, f"https://{host.strip()}{target}", headers, body, creds


@pytest.mark.parametrize("name", CASES or [pytest.param(None, id="suite-missing")])
def test_accepts_every_signed_request_of_the_suite(name: str | None) -> None:
    method, url, headers, body, creds = _suite_request(name or "")
    if name == TOKEN_AFTER_SIGNING:
        with pytest.raises(SignatureError) as caught:
            verify(method, url, headers, body, {ACCESS_KEY: creds}.get, NOW)
        assert caught.value.reason == "unsigned-header"
        assert "x-amz-security-token" in caught.value.message
        return
    verified = verify(
        method, url, headers, body, {ACCESS_KEY: creds}.get, NOW, service=SUITE_SERVICE, region=SUITE_REGION
    )
    assert verified == Verified(
        ACCESS_KEY,
        SUITE_REGION,
        SUITE_SERVICE,
        NOW,
        verified.signed_headers,
        False,
        creds.token,
    )
    authz = next(v for k, v in headers if k == "Authorization")
    assert f"SignedHeaders={';'.join(verified.signed_headers)}," in authz
    if name != SREQ_DEFECT:
        assert verify(*_suite_request(name or "", authz=False)[:4], {ACCESS_KEY: creds}.get, NOW) == verified


def test_the_defective_sreq_is_refused() -> None:
    method, url, headers, body, creds = _suite_request(SREQ_DEFECT, authz=False)
    with pytest.raises(SignatureError) as caught:
        verify(method, url, headers, body, {ACCESS_KEY: creds}.get, NOW)
    assert caught.value.reason == "mismatch"


@pytest.mark.parametrize("name", CASES or [pytest.param(None, id="suite-missing")])
def test_accepts_the_suite_requests_presigned_by_botocore(name: str | None) -> None:
    method, url, _, _, creds = _suite_request(name or "")
    if " " in url:
        url = url.replace(" ", "%20")  # normalize-path/get-space: a URL cannot hold a raw space
    signed = _botocore_presign(method, url, creds, SUITE_REGION, SUITE_SERVICE, 300)
    verified = verify(method, signed, [], b"", {ACCESS_KEY: creds}.get, NOW + timedelta(seconds=299))
    assert verified.presigned
    assert verified.signed_headers == ("host",)
    assert verified.token == creds.token


# -- botocore as the signer -----------------------------------------------------


def _botocore_sign(  # noqa: PLR0917 - the argument order of sign()
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes | str,
    creds: Credentials,
    region: str,
    service: str,
) -> list[tuple[str, str]]:
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders appends: repeats survive
    signer = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        signer(BotocoreCredentials(creds.access_key, creds.secret_key, creds.token), service, region).add_auth(request)
    return list(request.headers.items())


def _botocore_presign(  # noqa: PLR0917 - the argument order of presign()
    method: str, url: str, creds: Credentials, region: str, service: str, expires: int
) -> str:
    request = AWSRequest(method=method, url=url)
    signer = botocore.auth.S3SigV4QueryAuth if service == "s3" else botocore.auth.SigV4QueryAuth
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        bc = BotocoreCredentials(creds.access_key, creds.secret_key, creds.token)
        signer(bc, service, region, expires=expires).add_auth(request)
    return str(request.url)


_TEXT = st.characters(exclude_categories=("Cs", "Cc"))
_segment = st.one_of(
    st.sampled_from(["", ".", "..", "a", "A-Z_~.", "%2F", "%7e", "caf\u00e9", "\u1234", "a%20b", "$delete"]),
    st.text(st.sampled_from("abcXYZ019-_.~!$'()*+,;=:@"), max_size=8),
)
_path = st.lists(_segment, max_size=4).map(lambda parts: "/" + "/".join(parts))
_word = st.one_of(
    st.sampled_from(["", "a", "Param1", "%E1%88%B4", "x+y", "%20", "-._~", "\u00e9", "a%3Db", "%2f"]),
    st.text(st.sampled_from("abcXYZ019-_.~+%/:,"), max_size=6),
)
_query = st.lists(st.tuples(_word, st.one_of(st.none(), _word)), max_size=4).map(
    lambda pairs: "&".join(k if v is None else f"{k}={v}" for k, v in pairs)
)
_hosts = st.sampled_from(
    ["https://ec2.us-east-1.amazonaws.com", "https://EC2.eu-west-3.AmazonAWS.com:443", "http://127.0.0.1:4566"]
)
_urls = st.builds(lambda base, path, query: base + path + (f"?{query}" if query else ""), _hosts, _path, _query)
_header_names = st.sampled_from(
    [
        "Content-Type",
        "My-Header1",
        "my-header1",
        "X-Amz-Target",
        "x-amz-meta-a",
        "User-Agent",
        "X-Amzn-Trace-Id",
        "Date",
    ]
)
_header_values = st.one_of(
    st.sampled_from(["value", "  a   b  ", "value1\n  value2", '"quoted  value"', "\t tab\t", ""]),
    st.text(st.one_of(_TEXT, st.sampled_from(" \t")), max_size=20),
)
_headers = st.lists(st.tuples(_header_names, _header_values), max_size=5)
_bodies = st.one_of(st.binary(max_size=512), st.text(_TEXT, max_size=100))
_credentials = st.builds(
    Credentials,
    st.sampled_from(["AKIDEXAMPLE", "ASIAXXXXXXXXXXXXXXXX"]),
    st.text(_TEXT, min_size=1, max_size=40),
    st.one_of(st.none(), st.text(st.sampled_from("AQoDYXdzEPT/+=abc123"), min_size=1, max_size=60)),
)
_methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "get"])
_regions = st.sampled_from(["us-east-1", "eu-west-3", "cn-north-1"])
_services = st.sampled_from(["ec2", "ec2", "sts", "s3"])


@given(
    method=_methods,
    url=_urls,
    headers=_headers,
    body=_bodies,
    creds=_credentials,
    region=_regions,
    service=_services,
    late=st.integers(-300, 300),
)
def test_accepts_requests_signed_by_botocore(
    *,
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes | str,
    creds: Credentials,
    region: str,
    service: str,
    late: int,
) -> None:
    sent = _botocore_sign(method, url, headers, body, creds, region, service)
    now = NOW + timedelta(seconds=late)
    verified = verify(method, url, sent, body, {creds.access_key: creds}.get, now, service=service, region=region)
    assert (verified.access_key, verified.region, verified.service) == (creds.access_key, region, service)
    assert verified.date == NOW
    assert verified.token == creds.token
    assert not verified.presigned


@given(
    method=_methods,
    url=_urls,
    creds=_credentials,
    region=_regions,
    service=_services,
    expires=st.integers(1, 604800),
    used=st.floats(0, 1),
)
def test_accepts_urls_presigned_by_botocore(
    *, method: str, url: str, creds: Credentials, region: str, service: str, expires: int, used: float
) -> None:
    signed = _botocore_presign(method, url, creds, region, service, expires)
    now = NOW + timedelta(seconds=int(expires * used))
    verified = verify(method, signed, {}, b"", {creds.access_key: creds}.get, now, service=service, region=region)
    assert verified.presigned
    assert (verified.access_key, verified.region, verified.service, verified.date) == (
        creds.access_key,
        region,
        service,
        NOW,
    )


@given(auth=st.text(max_size=200), date=st.text(max_size=20), query=_query, body=_bodies)
def test_garbage_only_ever_raises_ec2codec_errors(auth: str, date: str, query: str, body: bytes | str) -> None:
    headers = [("Authorization", auth), ("X-Amz-Date", date)]
    with pytest.raises(Error):
        verify("POST", f"https://ec2.us-east-1.amazonaws.com/?{query}", headers, body, lambda _: "secret", NOW)


# -- refusals -------------------------------------------------------------------

TOKEN = "FwoGZXIvYXdzEXAMPLE/TOKEN+value=="
CREDS = Credentials(ACCESS_KEY, SECRET_KEY, TOKEN)
OTHER = Credentials("AKIDOTHER", "another secret", TOKEN)
PLAIN = Credentials("AKIDPLAIN", "a long-term secret")
EC2 = "https://ec2.us-east-1.amazonaws.com/"
BODY = b"Action=DescribeRegions&Version=2016-11-15"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
SIGNED_AT = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    now: datetime = SIGNED_AT
    keys: dict[str, Credentials | str] = field(
        default_factory=lambda: {ACCESS_KEY: CREDS, "AKIDOTHER": OTHER, "AKIDPLAIN": PLAIN}
    )
    expect: dict[str, str] = field(default_factory=lambda: {"service": "ec2", "region": "us-east-1"})

    def verify(self) -> Verified:
        return verify(self.method, self.url, self.headers, self.body, self.keys.get, self.now, **self.expect)


def _signed(headers: dict[str, str] | None = None, creds: Credentials = CREDS, **kwargs: Any) -> Request:
    headers = dict(FORM if headers is None else headers)
    out = sign("POST", EC2, headers, BODY, creds, kwargs.pop("region", "us-east-1"), now=SIGNED_AT, **kwargs)
    return Request("POST", EC2, out, BODY)


def _presigned(expires: int = 600) -> Request:
    return Request(
        "GET", presign("GET", EC2 + "?Action=DescribeRegions", CREDS, "us-east-1", "ec2", expires, SIGNED_AT), {}, b""
    )


def _with_header(request: Request, name: str, value: str | None) -> Request:
    headers = {k: v for k, v in request.headers.items() if k != name}
    if value is not None:
        headers[name] = value
    return replace(request, headers=headers)


def _edit_auth(request: Request, old: str, new: str) -> Request:
    authz = request.headers["Authorization"]
    assert old in authz
    return _with_header(request, "Authorization", authz.replace(old, new))


def _flip_signature(request: Request) -> Request:
    authz = request.headers["Authorization"]
    last = "0" if authz[-1] != "0" else "1"
    return _with_header(request, "Authorization", authz[:-1] + last)


def _resigned_scope(part: int, value: str) -> Request:
    # A request correctly signed for a scope other than the one the server expects.
    kwargs: dict[str, Any] = {"region": value} if part == 2 else {}
    request = _signed(**kwargs)
    if part == 3:
        out = sign("POST", EC2, FORM, BODY, CREDS, "us-east-1", value, SIGNED_AT)
        request = replace(request, headers=out)
    return request


def _sha_signed() -> Request:
    return _signed({**FORM, "X-Amz-Content-SHA256": hash_payload(BODY)})


Tamper = Callable[[], Request]
REFUSALS: list[tuple[str, Tamper, str]] = [
    # -- missing / malformed
    ("no-authorization", lambda: _with_header(_signed(), "Authorization", None), "missing"),
    ("empty-authorization", lambda: _with_header(_signed(), "Authorization", ""), "malformed"),
    ("other-algorithm", lambda: _edit_auth(_signed(), "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"), "malformed"),
    ("sigv2-style", lambda: _with_header(_signed(), "Authorization", "AWS AKIDEXAMPLE:c2lnbmF0dXJl"), "malformed"),
    ("no-signature-field", lambda: _edit_auth(_signed(), ", Signature=", ", Signatur="), "malformed"),
    ("short-signature", lambda: _edit_auth(_signed(), "Signature=", "Signature=ab"), "malformed"),
    ("credential-parts", lambda: _edit_auth(_signed(), "/us-east-1/", "/"), "malformed"),
    ("unsorted-signed-headers", lambda: _edit_auth(_signed(), "content-type;host", "host;content-type"), "malformed"),
    ("garbled-date", lambda: _with_header(_signed(), "X-Amz-Date", "2026-01-01T12:00:00Z"), "malformed"),
    ("no-date", lambda: _with_header(_signed(), "X-Amz-Date", None), "malformed"),
    ("both-auth-kinds", lambda: replace(_signed(), url=_presigned().url), "malformed"),
    # -- the key and the scope
    (
        "unknown-access-key",
        lambda: _edit_auth(_signed(), "Credential=AKIDEXAMPLE", "Credential=AKIDNOBODY"),
        "unknown-key",
    ),
    (
        "other-known-access-key",
        lambda: _edit_auth(_signed(), "Credential=AKIDEXAMPLE", "Credential=AKIDOTHER"),
        "mismatch",
    ),
    ("scope-region-edited", lambda: _edit_auth(_signed(), "/us-east-1/", "/eu-west-3/"), "scope"),
    ("scope-region-resigned", lambda: _resigned_scope(2, "eu-west-3"), "scope"),
    ("scope-service-edited", lambda: _edit_auth(_signed(), "/ec2/", "/sts/"), "scope"),
    ("scope-service-resigned", lambda: _resigned_scope(3, "sts"), "scope"),
    ("scope-date", lambda: _edit_auth(_signed(), "/20260101/", "/20251231/"), "scope"),
    ("scope-terminator", lambda: _edit_auth(_signed(), "/aws4_request", "/aws4_reqest"), "scope"),
    ("date-other-day", lambda: _with_header(_signed(), "X-Amz-Date", "20260102T120000Z"), "scope"),
    # -- the signed content
    ("date-one-second", lambda: _with_header(_signed(), "X-Amz-Date", "20260101T120001Z"), "mismatch"),
    ("content-type-changed", lambda: _with_header(_signed(), "Content-Type", "text/plain"), "mismatch"),
    ("host-changed", lambda: _with_header(_signed(), "Host", "ec2.eu-west-3.amazonaws.com"), "mismatch"),
    (
        "url-host-changed",
        lambda: replace(_with_header(_signed(), "Host", None), url=EC2.replace("us-east-1", "x")),
        "mismatch",
    ),
    ("path-changed", lambda: replace(_signed(), url=EC2 + "x"), "mismatch"),
    ("query-added", lambda: replace(_signed(), url=EC2 + "?DryRun=true"), "mismatch"),
    ("method-changed", lambda: replace(_signed(), method="PUT"), "mismatch"),
    ("body-changed", lambda: replace(_signed(), body=BODY + b"&DryRun=true"), "mismatch"),
    ("body-changed-sha-signed", lambda: replace(_sha_signed(), body=BODY + b"&DryRun=true"), "mismatch"),
    ("sha-header-wrong", lambda: _signed({**FORM, "X-Amz-Content-SHA256": "0" * 64}), "mismatch"),
    ("signed-header-removed", lambda: _with_header(_signed(), "Content-Type", None), "mismatch"),
    ("signature-flipped", lambda: _flip_signature(_signed()), "mismatch"),
    # -- headers that must be signed
    ("host-not-signed", lambda: _edit_auth(_signed(), "content-type;host;", "content-type;"), "unsigned-header"),
    ("date-not-signed", lambda: _edit_auth(_signed(), "host;x-amz-date;", "host;"), "unsigned-header"),
    ("unsigned-x-amz-header", lambda: _with_header(_signed(), "X-Amz-Meta-Note", "added later"), "unsigned-header"),
    ("token-not-signed", lambda: _edit_auth(_signed(), ";x-amz-security-token", ""), "unsigned-header"),
    # -- the session token
    ("token-changed", lambda: _with_header(_signed(), "X-Amz-Security-Token", TOKEN + "x"), "token"),
    ("token-removed", lambda: _with_header(_signed(), "X-Amz-Security-Token", None), "token"),
    ("token-missing", lambda: _signed(creds=Credentials(ACCESS_KEY, SECRET_KEY)), "token"),
    ("token-unexpected", lambda: _signed(creds=Credentials("AKIDPLAIN", "a long-term secret", "t")), "token"),
    # -- time
    ("skewed-late", lambda: replace(_signed(), now=SIGNED_AT + timedelta(minutes=5, seconds=1)), "skewed"),
    ("skewed-early", lambda: replace(_signed(), now=SIGNED_AT - timedelta(minutes=5, seconds=1)), "skewed"),
    ("presign-expired", lambda: replace(_presigned(600), now=SIGNED_AT + timedelta(seconds=601)), "expired"),
    ("presign-future", lambda: replace(_presigned(600), now=SIGNED_AT - timedelta(minutes=6)), "skewed"),
    (
        "presign-expires-garbled",
        lambda: replace(_presigned(), url=_presigned().url.replace("Expires=600", "Expires=-1")),
        "malformed",
    ),
    (
        "presign-expires-too-long",
        lambda: replace(_presigned(), url=_presigned().url.replace("Expires=600", "Expires=604801")),
        "malformed",
    ),
    # -- presigned content
    (
        "presign-query-changed",
        lambda: replace(_presigned(), url=_presigned().url.replace("DescribeRegions", "RunInstances")),
        "mismatch",
    ),
    ("presign-token-changed", lambda: replace(_presigned(), url=_presigned().url.replace("TOKEN", "T0KEN")), "token"),
    (
        "presign-no-signature",
        lambda: replace(_presigned(), url=_presigned().url.split("&X-Amz-Signature")[0]),
        "malformed",
    ),
    (
        "presign-host-not-signed",
        lambda: replace(_presigned(), url=_presigned().url.replace("SignedHeaders=host", "SignedHeaders=x")),
        "unsigned-header",
    ),
    ("presign-unsigned-x-amz-header", lambda: _with_header(_presigned(), "X-Amz-Meta-Note", "x"), "unsigned-header"),
]


@pytest.mark.parametrize(("tamper", "reason"), [(t, r) for _, t, r in REFUSALS], ids=[n for n, _, _ in REFUSALS])
def test_refuses_tampering(tamper: Tamper, reason: str) -> None:
    with pytest.raises(SignatureError) as caught:
        tamper().verify()
    error = caught.value
    assert error.reason == reason, error.message
    assert error.code == CODES[reason]
    assert error.message and error.code in str(error)
    assert SECRET_KEY not in str(error) and TOKEN not in str(error)


CODES = {
    "missing": "MissingAuthenticationToken",
    "malformed": "IncompleteSignature",
    "unsigned-header": "IncompleteSignature",
    "unknown-key": "AuthFailure",
    "scope": "AuthFailure",
    "token": "AuthFailure",
    "mismatch": "AuthFailure",
    "expired": "RequestExpired",
    "skewed": "RequestExpired",
}


def test_the_table_covers_every_reason() -> None:
    assert {reason for _, _, reason in REFUSALS} == REASONS == set(CODES)


@pytest.mark.parametrize(
    "make",
    [
        _signed,
        _presigned,
        _sha_signed,
        lambda: _signed({**FORM, "Date": "whatever"}),
        lambda: _signed(sign_payload=False),
    ],
    ids=["header", "presigned", "content-sha256", "date-header", "unsigned-payload"],
)
def test_accepts_the_untampered_requests(make: Tamper) -> None:
    request = make()
    verified = request.verify()
    assert verified.date == SIGNED_AT
    assert verified.token == TOKEN
    assert verified.presigned == ("X-Amz-Signature" in request.url)


def test_skew_limits_are_inclusive_and_configurable() -> None:
    request = _signed()
    for offset in (timedelta(minutes=5), -timedelta(minutes=5)):
        assert replace(request, now=SIGNED_AT + offset).verify()
    late = SIGNED_AT + timedelta(minutes=10)
    verified = verify("POST", EC2, request.headers, BODY, {ACCESS_KEY: CREDS}.get, late, max_skew=timedelta(minutes=15))
    assert verified.access_key == ACCESS_KEY
    # A presigned URL is good up to its expiry, however long ago it was signed.
    assert replace(_presigned(600), now=SIGNED_AT + timedelta(seconds=600)).verify().presigned


def test_now_defaults_to_the_clock_and_naive_now_is_utc() -> None:
    fresh = sign("POST", EC2, FORM, BODY, CREDS, "us-east-1")
    assert verify("POST", EC2, fresh, BODY, {ACCESS_KEY: CREDS}.get).access_key == ACCESS_KEY
    stale = sign("POST", EC2, FORM, BODY, CREDS, "us-east-1", now=datetime(2000, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(SignatureError) as caught:
        verify("POST", EC2, stale, BODY, {ACCESS_KEY: CREDS}.get)
    assert caught.value.reason == "skewed"
    naive = SIGNED_AT.replace(tzinfo=None) + timedelta(minutes=1)
    assert verify("POST", EC2, _signed().headers, BODY, {ACCESS_KEY: CREDS}.get, naive).date == SIGNED_AT


def test_a_secret_string_skips_the_token_check() -> None:
    request = replace(_signed(), keys={ACCESS_KEY: SECRET_KEY})
    assert request.verify().token == TOKEN  # returned for the caller to check
    unsigned_token = replace(_signed(creds=Credentials(ACCESS_KEY, SECRET_KEY)), keys={ACCESS_KEY: SECRET_KEY})
    assert unsigned_token.verify().token is None


def test_any_scope_is_accepted_when_none_is_expected() -> None:
    request = replace(_resigned_scope(2, "eu-west-3"), expect={})
    assert request.verify().region == "eu-west-3"
    request = replace(_resigned_scope(3, "sts"), expect={"region": "us-east-1"})
    assert request.verify().service == "sts"


def test_a_server_may_pass_the_path_with_the_host_header() -> None:
    request = _signed()
    assert replace(request, url="/").verify().access_key == ACCESS_KEY
    with pytest.raises(SignatureError) as caught:
        replace(_with_header(request, "Host", None), url="/").verify()
    assert caught.value.reason == "malformed"


def test_either_spelling_of_a_raw_query_is_accepted() -> None:
    # botocore signs a raw UTF-8 query as written, the protocol URI-encodes it first (normalize_query).
    url = EC2 + "?\u1234=bar&a=b c"
    for normalize in (False, True):
        headers = sign("GET", url, {}, b"", CREDS, "us-east-1", now=SIGNED_AT, normalize_query=normalize)
        assert verify("GET", url, headers, b"", {ACCESS_KEY: CREDS}.get, SIGNED_AT).access_key == ACCESS_KEY


def test_pairs_and_repeated_headers_are_accepted() -> None:
    pairs = [("My-Header", "a"), ("my-header", " b  c "), ("Content-Type", "text/plain")]
    headers = sign("POST", EC2, pairs, BODY, CREDS, "us-east-1", now=SIGNED_AT)
    # The signer merged the repeats; a server may also see them as separate lines.
    sent = [*pairs, *((k, v) for k, v in headers.items() if k.lower() not in {"my-header", "content-type"})]
    assert verify("POST", EC2, sent, BODY, {ACCESS_KEY: CREDS}.get, SIGNED_AT).signed_headers == (
        "content-type",
        "host",
        "my-header",
        "x-amz-date",
        "x-amz-security-token",
    )


def test_bad_argument_types_are_validation_errors() -> None:
    with pytest.raises(ValidationError):
        verify("POST", EC2, [("Authorization", 1)], BODY, {ACCESS_KEY: CREDS}.get, SIGNED_AT)  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        verify("POST", "not a url", _signed().headers, BODY, {ACCESS_KEY: CREDS}.get, SIGNED_AT)


def test_signature_error_is_an_ec2codec_error_with_a_status() -> None:
    error = SignatureError("skewed", "late")
    assert isinstance(error, Error)
    assert (error.reason, error.code, error.status, error.message) == ("skewed", "RequestExpired", 400, "late")
    assert SignatureError("mismatch", "x").status == 401


# -- what the signature covers is what the server reads --------------------------
#
# The server reads the query as a form: "+" is a space, %XX a byte. These
# decode it independently of ec2codec (bytes, so nothing is lost), pair by
# pair as SigV4 Task 1 splits it, and compare as a multiset: SigV4 sorts the
# canonical query, so the order of pairs is not signed.


def _form_pairs(query: str) -> list[tuple[bytes, bytes]]:
    def decode(text: str) -> bytes:
        return unquote_to_bytes(text.replace("+", " "))

    pairs = [pair.partition("=") for pair in query.split("&")] if query else []
    return sorted((decode(k), decode(v)) for k, _, v in pairs)


def _query_of(url: str) -> str:
    return url.partition("?")[2]


def _with_query(url: str, query: str) -> str:
    return f"{url.partition('?')[0]}?{query}"


GET = EC2 + "?Action=DescribeRegions&Description="


def _header_signed_get(value: str, normalize: bool) -> Request:
    url = GET + value
    headers = sign("GET", url, {}, b"", CREDS, "us-east-1", now=SIGNED_AT, normalize_query=normalize)
    return Request("GET", url, headers, b"")


def _presigned_get(value: str) -> Request:
    return Request("GET", presign("GET", GET + value, CREDS, "us-east-1", "ec2", 600, SIGNED_AT), {}, b"")


def _respelled(request: Request, old: str, new: str) -> Request:
    query = _query_of(request.url)
    assert old in query
    return replace(request, url=_with_query(request.url, query.replace(old, new, 1)))


# (name, signed request, spelling sent, spelling received): the received one means something else.
MEANING_CHANGES: list[tuple[str, Callable[[], Request], str, str]] = [
    ("presigned-plus-for-%2B", lambda: _presigned_get("C%2B%2B%20build"), "C%2B%2B", "C++"),
    ("written-plus-for-%2B", lambda: _header_signed_get("C%2B%2B", False), "C%2B%2B", "C++"),
    ("normalised-plus-for-%2B", lambda: _header_signed_get("C%2B%2B", True), "C%2B%2B", "C++"),
    ("normalised-%2B-for-plus", lambda: _header_signed_get("a+b", True), "a+b", "a%2Bb"),
    ("written-%2B-for-plus", lambda: _header_signed_get("a+b", False), "a+b", "a%2Bb"),
    ("written-%2B-for-%20", lambda: _header_signed_get("a%20b", False), "a%20b", "a%2Bb"),
    ("presigned-%2B-for-%20", lambda: _presigned_get("a%20b"), "a%20b", "a%2Bb"),
    ("written-invalid-utf8-byte", lambda: _header_signed_get("%FE", False), "%FE", "%FF"),
    ("normalised-invalid-utf8-byte", lambda: _header_signed_get("%FE", True), "%FE", "%FF"),
    ("written-%25-for-%", lambda: _header_signed_get("%2541", False), "%2541", "%41"),
    ("normalised-key-for-value", lambda: _header_signed_get("a%3Db", True), "Description=a%3Db", "Description%3Da=b"),
]


@pytest.mark.parametrize(
    ("make", "sent", "received"), [c[1:] for c in MEANING_CHANGES], ids=[c[0] for c in MEANING_CHANGES]
)
def test_refuses_a_respelling_that_changes_what_the_server_reads(
    make: Callable[[], Request], sent: str, received: str
) -> None:
    request = make()
    assert request.verify().access_key == ACCESS_KEY  # as signed, and sent, it is accepted
    tampered = _respelled(request, sent, received)
    assert _form_pairs(_query_of(tampered.url)) != _form_pairs(_query_of(request.url))
    with pytest.raises(SignatureError) as caught:
        tampered.verify()
    assert caught.value.reason == "mismatch"


# A raw ";" separates fields for some form decoders: it is never accepted in place of %3B.
@pytest.mark.parametrize("normalize", [False, True], ids=["written", "normalised"])
def test_refuses_a_raw_semicolon_for_an_encoded_one(normalize: bool) -> None:
    request = _header_signed_get("a%3Bb%3Dc", normalize)
    assert request.verify().access_key == ACCESS_KEY
    with pytest.raises(SignatureError) as caught:
        _respelled(request, "a%3Bb%3Dc", "a;b=c").verify()
    assert caught.value.reason == "mismatch"
    written = _header_signed_get("a;b=c", False)  # botocore signs a raw ";" as written: that still verifies
    assert written.verify().access_key == ACCESS_KEY


# (signed as, received as): the same decoded pairs, so the same request.
SAME_MEANING = [("~", "%7E"), ("%7E", "~"), ("%2B", "%2b"), ("A", "%41"), ("%C3%A9", "%c3%a9"), ("a%20b", "a+b")]


@pytest.mark.parametrize(("signed", "received"), SAME_MEANING, ids=[f"{a}->{b}" for a, b in SAME_MEANING])
def test_accepts_a_respelling_that_keeps_what_the_server_reads(signed: str, received: str) -> None:
    request = _header_signed_get("x" + signed, True)
    assert _respelled(request, "x" + signed, "x" + received).verify().access_key == ACCESS_KEY


def test_the_normalised_signer_reads_a_plus_as_a_space() -> None:
    # Task 1 step 3 URI-encodes what the server will read: "+" is a space there.
    canonical = canonicalize_request("GET", GET + "a+b%2Bc", {}, hash_payload(b""), normalize_query=True)
    assert canonical.split("\n")[2] == "Action=DescribeRegions&Description=a%20b%2Bc"


_FORM_TEXT = st.text(st.sampled_from("aZ0 +~;=&%/-\u00e9\u1234\t"), max_size=6)
_SPELLINGS = st.sampled_from(["raw", "upper", "lower", "plus"])


def _spell(text: str, choices: list[str]) -> str:
    out = []
    for i, char in enumerate(text):
        how = choices[i % len(choices)] if choices else "upper"
        data = char.encode("utf-8")
        if how == "plus" and char == " ":
            out.append("+")
        elif how == "raw" and char not in "&=%#+" and char.isprintable():
            out.append(char)
        else:
            hexes = [f"%{b:02X}" for b in data]
            out.append("".join(h.lower() if how == "lower" else h for h in hexes))
    return "".join(out)


# Spellings a proxy or an attacker might swap: each pair of them reads differently to a form decoder,
# except the case of hex digits and %7E/~. _PARTNERS are the swaps a decoder is most easily fooled by.
_CONFUSABLE = ["+", "%20", "%2B", "%2b", " ", "%7E", "~", ";", "%3B", "=", "%3D", "&", "%26", "%25", "%", "%FF", ""]
_PARTNERS = {"%2B": ["+", "%20"], "+": ["%2B", "%2b"], "%20": ["%2B", "%2b"], "%3B": [";"], "%3D": ["="], "%26": ["&"]}
_TOKEN = re.compile(r"%[0-9A-Fa-f]{2}|[+~; =&%]")


@settings(max_examples=settings().max_examples * 5)  # cheap, and the swaps worth finding are specific
@given(
    pairs=st.lists(st.tuples(_FORM_TEXT, _FORM_TEXT), min_size=1, max_size=4),
    spellings=st.lists(_SPELLINGS, max_size=6),
    how=st.sampled_from(["written", "normalised", "presigned"]),
    data=st.data(),
)
def test_refuses_every_rewrite_that_changes_the_decoded_pairs(
    pairs: list[tuple[str, str]], spellings: list[str], how: str, data: st.DataObject
) -> None:
    query = "&".join(f"{_spell(k, spellings)}={_spell(v, spellings)}" for k, v in pairs)
    url = f"{EC2}?{query}"
    if how == "presigned":
        request = Request("GET", presign("GET", url, CREDS, "us-east-1", "ec2", 600, SIGNED_AT), {}, b"")
    else:
        headers = sign("GET", url, {}, b"", CREDS, "us-east-1", now=SIGNED_AT, normalize_query=how == "normalised")
        request = Request("GET", url, headers, b"")
        if how == "normalised" and ";" in query:
            # Signed as %3B but sent as ";": a respelling verify never accepts (see the semicolon test).
            with pytest.raises(SignatureError):
                request.verify()
            return
    assert request.verify().access_key == ACCESS_KEY
    signed = _query_of(request.url)
    tokens = list(_TOKEN.finditer(signed))
    swappable = [token for token in tokens if token.group().upper() in _PARTNERS]
    if tokens:
        old = data.draw(st.sampled_from(swappable or tokens) | st.sampled_from(tokens), label="old")
        partners = _PARTNERS.get(old.group().upper(), [])
        new = data.draw(st.sampled_from(partners + _CONFUSABLE if partners else _CONFUSABLE), label="new")
        rewritten = signed[: old.start()] + new + signed[old.end() :]
    else:
        at = data.draw(st.integers(0, len(signed)), label="at")
        rewritten = signed[:at] + data.draw(st.sampled_from(_CONFUSABLE), label="new") + signed[at:]
    assume(_form_pairs(rewritten) != _form_pairs(signed))
    with pytest.raises(SignatureError):
        replace(request, url=_with_query(request.url, rewritten)).verify()


@given(query=st.text(st.sampled_from("aZ0+~;=&%/-\u00e9 2FfBb"), max_size=30), normalize=st.booleans())
def test_both_canonical_queries_hold_exactly_the_decoded_pairs(query: str, normalize: bool) -> None:
    # The invariant verify rests on: read as a form, the canonical query is the query received.
    canonical = canonicalize_request("GET", f"{EC2}?{query}", {}, hash_payload(b""), normalize_query=normalize)
    assert _form_pairs(canonical.split("\n")[2]) == _form_pairs(query)


# -- the URL itself -------------------------------------------------------------

_CONTROLS = ["\t", "\r", "\n", "\x00", "\x01", "\x1f", "\x7f"]


@pytest.mark.parametrize("char", _CONTROLS, ids=[f"{ord(c):02x}" for c in _CONTROLS])
@pytest.mark.parametrize("where", ["query", "path", "presigned"])
def test_refuses_control_characters_in_the_url(char: str, where: str) -> None:
    if where == "presigned":
        request = _presigned_get("ab")
    else:
        url = EC2 + ("ab?x=1" if where == "path" else "?x=ab")
        request = Request("GET", url, sign("GET", url, {}, b"", CREDS, "us-east-1", now=SIGNED_AT), b"")
    assert request.verify().access_key == ACCESS_KEY
    tampered = replace(request, url=request.url.replace("ab", f"a{char}b", 1))
    with pytest.raises(SignatureError) as caught:
        tampered.verify()
    assert caught.value.reason == "malformed"
    with pytest.raises(SignatureError) as caught:  # the same, given as a path with a Host header
        replace(
            tampered,
            url=tampered.url.removeprefix(EC2[:-1]),
            headers={**tampered.headers, "Host": "ec2.us-east-1.amazonaws.com"},
        ).verify()
    assert caught.value.reason == "malformed"


def test_refuses_a_fragment_that_hides_part_of_the_query() -> None:
    # A server splitting the target at "?" would read DryRun=true; urlsplit would not see it.
    request = _presigned_get("x")
    with pytest.raises(SignatureError) as caught:
        replace(request, url=request.url + "#&DryRun=true").verify()
    assert caught.value.reason == "malformed"


@pytest.mark.parametrize("host", ["ec2.amazonaws.com:99999", "ec2.amazonaws.com:x", "a/b", "a\tb"])
def test_refuses_a_host_header_that_is_not_a_host(host: str) -> None:
    request = _with_header(_signed(), "Host", host)
    with pytest.raises(SignatureError) as caught:
        replace(request, url="/").verify()
    assert caught.value.reason == "malformed"


# -- extreme dates ---------------------------------------------------------------

_ZEROS = "0" * 64


def _dated(name: str, value: str) -> Request:
    auth = f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20260101/us-east-1/ec2/aws4_request, "
    return Request(
        "POST",
        EC2,
        {"Authorization": f"{auth}SignedHeaders=host;{name.lower()}, Signature={_ZEROS}", name: value},
        BODY,
    )


def _presigned_at(when: datetime, expires: int = 600, edit: tuple[str, str] = ("", "")) -> Request:
    url = presign("GET", EC2 + "?Action=DescribeRegions", CREDS, "us-east-1", "ec2", expires, when)
    return Request("GET", url.replace(*edit), {}, b"")


LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
EXTREMES: list[tuple[str, Tamper, str]] = [
    ("date-past-9999", lambda: _dated("Date", "Fri, 31 Dec 9999 23:59:59 -0100"), "malformed"),
    ("date-at-9999", lambda: _dated("Date", "Fri, 31 Dec 9999 23:59:59 +0000"), "scope"),
    ("date-huge-year", lambda: _dated("Date", "Fri, 31 Dec 99999999999 23:59:59 GMT"), "malformed"),
    ("amz-date-9999", lambda: _dated("X-Amz-Date", "99991231T235959Z"), "scope"),
    ("amz-date-year-0", lambda: _dated("X-Amz-Date", "00000101T000000Z"), "malformed"),
    ("presigned-9999", lambda: _presigned_at(LAST, 604800), "skewed"),
    ("presigned-year-1", lambda: _presigned_at(datetime(1, 1, 1, tzinfo=timezone.utc), 604800), "expired"),
    (
        "expires-5000-digits",
        lambda: _presigned_at(SIGNED_AT, 600, ("Expires=600", "Expires=" + "9" * 5000)),
        "malformed",
    ),
    (
        "expires-padded",
        lambda: _presigned_at(SIGNED_AT, 600, ("Expires=600", "Expires=" + "0" * 5000 + "1")),
        "malformed",
    ),
]


@pytest.mark.parametrize(("make", "reason"), [(m, r) for _, m, r in EXTREMES], ids=[n for n, _, _ in EXTREMES])
def test_extreme_dates_and_expiries_are_signature_errors(make: Tamper, reason: str) -> None:
    with pytest.raises(SignatureError) as caught:
        make().verify()
    assert caught.value.reason == reason


@given(
    when=st.one_of(
        st.sampled_from([LAST, datetime(1, 1, 1, tzinfo=timezone.utc)]), st.datetimes(timezones=st.just(timezone.utc))
    ),
    offset=st.one_of(st.sampled_from([-2359, 2359]), st.integers(-2359, 2359)),
    expires=st.integers(1, 604800),
)
def test_any_date_is_a_result_or_a_signature_error(when: datetime, offset: int, expires: int) -> None:
    zone = f"{'+' if offset >= 0 else '-'}{abs(offset):04d}"
    http_date = when.strftime(f"%a, %d %b {when.year:04d} %H:%M:%S ") + zone
    for request in (_dated("Date", http_date), _presigned_at(when, expires)):
        with contextlib.suppress(SignatureError):
            request.verify()


# -- what a refusal tells the client ---------------------------------------------


def test_a_mismatch_keeps_the_string_to_sign_out_of_the_message() -> None:
    request = _flip_signature(_signed())
    with pytest.raises(SignatureError) as caught:
        request.verify()
    error = caught.value
    assert "AWS4-HMAC-SHA256" not in str(error) and "aws4_request" not in str(error)
    assert "\n" not in error.message
    # The details are for the server's log: every form tried, the session token redacted.
    assert "string to sign (as written):\nAWS4-HMAC-SHA256\n20260101T120000Z\n" in error.details
    assert "canonical request (as written):\nPOST\n/\n\n" in error.details
    assert "x-amz-security-token:<redacted>" in error.details
    assert TOKEN not in error.details and SECRET_KEY not in error.details
    presigned = _respelled(_presigned_get("x"), "Description=x", "Description=y")
    with pytest.raises(SignatureError) as caught:
        presigned.verify()
    assert "X-Amz-Security-Token=<redacted>&" in caught.value.details
    assert "FwoGZXIvYXdzEXAMPLE" not in caught.value.details
    assert SignatureError("skewed", "late").details == ""


def test_verified_repr_redacts_the_session_token() -> None:
    verified = _signed().verify()
    assert verified.token == TOKEN
    for text in (repr(verified), str(verified), f"{verified}"):
        assert TOKEN not in text and "FwoG" not in text
        assert "token=<redacted>" in text and f"access_key={ACCESS_KEY!r}" in text
    assert "token=None" in repr(replace(_signed(creds=PLAIN), keys={"AKIDPLAIN": PLAIN}).verify())
