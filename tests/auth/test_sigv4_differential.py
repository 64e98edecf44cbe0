"""ec2codec.auth.sigv4 against botocore's signers, on random and hand-picked requests at a fixed time.

``sign`` must leave the headers ``SigV4Auth.add_auth`` (``S3SigV4Auth`` for
"s3") leaves on an ``AWSRequest``, with the same Authorization header byte for
byte; ``presign`` must build the URL ``SigV4QueryAuth`` (``S3SigV4QueryAuth``)
builds. Neither may change its inputs.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from unittest import mock

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials
from hypothesis import given
from hypothesis import strategies as st

from ec2codec.auth.sigv4 import Credentials, presign, sign
from ec2codec.errors import ValidationError

NOW = datetime(2024, 5, 1, 12, 34, 56)
IMPORT_SNAPSHOT = (
    b"Action=ImportSnapshot&Version=2016-11-15&ClientToken=5f0e1b8c-7a57-4a5e-9a3c-3b1f2d0c9e11"
    b"&Description=nightly%20backup&DiskContainer.Format=VMDK&DiskContainer.Url=s3%3A%2F%2Fbucket%2Fdisk.vmdk"
)


@contextmanager
def _frozen_clock() -> Iterator[None]:
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=NOW):
        yield


def _botocore_headers(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: Any,
    creds: Credentials,
    *,
    region: str,
    service: str,
    sign_payload: bool = True,
) -> list[tuple[str, str]]:
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders appends: repeats survive
    if not sign_payload:
        request.context["payload_signing_enabled"] = False
    signer = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
    with _frozen_clock():
        signer(BotocoreCredentials(creds.access_key, creds.secret_key, creds.token), service, region).add_auth(request)
    return list(request.headers.items())


def _botocore_presign(method: str, url: str, creds: Credentials, *, region: str, service: str, expires: int) -> str:
    request = AWSRequest(method=method, url=url)
    signer = botocore.auth.S3SigV4QueryAuth if service == "s3" else botocore.auth.SigV4QueryAuth
    with _frozen_clock():
        bc = BotocoreCredentials(creds.access_key, creds.secret_key, creds.token)
        signer(bc, service, region, expires=expires).add_auth(request)
    return str(request.url)


def _trimall(value: str) -> str:
    return " ".join(value.split())


def _assert_same_headers(ours: dict[str, str], theirs: list[tuple[str, str]], host: str) -> None:
    """Ours equals botocore's, except that ours names Host and merges repeated headers into one."""
    grouped: dict[str, list[str]] = {}
    for name, value in theirs:
        grouped.setdefault(name.lower(), []).append(value)
    mine = {name.lower(): value for name, value in ours.items()}
    assert len(mine) == len(ours), "a header appears twice in different cases"
    if "host" not in grouped:
        assert mine.pop("host") == host
    assert set(mine) == set(grouped)
    for lname, values in grouped.items():
        if len(values) == 1:
            assert mine[lname] == values[0], lname
        elif lname in botocore.auth.SIGNED_HEADERS_BLACKLIST:
            assert mine[lname] == ", ".join(values), lname
        else:
            assert mine[lname] == ",".join(_trimall(v) for v in values), lname


def _check(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: Any,
    creds: Credentials,
    *,
    region: str = "us-east-1",
    service: str = "ec2",
    sign_payload: bool = True,
) -> dict[str, str]:
    given_headers = list(headers)
    position = body.tell() if isinstance(body, io.BytesIO) else None
    their_body = io.BytesIO(body.getvalue()) if isinstance(body, io.BytesIO) else body
    if isinstance(their_body, io.BytesIO) and position is not None:
        their_body.seek(position)

    ours = sign(method, url, headers, body, creds, region, service, NOW, sign_payload=sign_payload)
    theirs = _botocore_headers(
        method, url, headers, their_body, creds, region=region, service=service, sign_payload=sign_payload
    )

    assert ours["Authorization"] == dict(theirs)["Authorization"]
    _assert_same_headers(ours, theirs, botocore.auth._host_from_url(url))
    assert headers == given_headers
    if isinstance(body, io.BytesIO):
        assert body.tell() == position
    return ours


# -- strategies ---------------------------------------------------------------


def _file_at(data: bytes, cut: float) -> io.BytesIO:
    body = io.BytesIO(data)
    body.seek(int(len(data) * cut))
    return body


_TEXT = st.characters(exclude_categories=("Cs", "Cc"))  # URLs and headers carry no controls
_RESERVED = "!$&'()*+,;=:@/?#[]% "
_segment = st.one_of(
    st.sampled_from(["", ".", "..", "a", "A-Z_~.", "%2F", "%7e", "caf\u00e9", "\u1234", "a b", "$delete"]),
    st.text(st.one_of(_TEXT, st.sampled_from(_RESERVED)), max_size=8),
)
_path = st.lists(_segment, max_size=5).map(lambda parts: "/" + "/".join(parts).replace("?", "").replace("#", ""))
_query_word = st.one_of(
    st.sampled_from(["", "a", "A", "Param1", "%E1%88%B4", "x+y", "%20", "-._~", "\u00e9", "a%3Db"]),
    st.text(st.one_of(_TEXT, st.sampled_from("+%/:,")), max_size=6).map(
        lambda s: s.replace("&", "").replace("=", "").replace("#", "")
    ),
)
_query = st.lists(st.tuples(_query_word, st.one_of(st.none(), _query_word)), max_size=5).map(
    lambda pairs: "&".join(k if v is None else f"{k}={v}" for k, v in pairs)
)
_hosts = st.sampled_from(
    [
        "https://ec2.us-east-1.amazonaws.com",
        "https://EC2.US-West-2.AmazonAWS.com:443",
        "https://ec2.eu-west-1.amazonaws.com:8443",
        "http://localhost:80",
        "http://127.0.0.1:4566",
        "https://user:pass@example.com",
        "https://[::1]:8443",
        "http://[2001:db8::1]",
    ]
)
_urls = st.builds(lambda base, path, query: f"{base}{path}" + (f"?{query}" if query else ""), _hosts, _path, _query)
_header_names = st.one_of(
    st.sampled_from(
        [
            "Content-Type",
            "content-type",
            "X-Amz-Target",
            "My-Header1",
            "my-header1",
            "MY-HEADER1",
            "User-Agent",
            "Expect",
            "X-Amzn-Trace-Id",
            "Date",
            "X-Amz-Date",
            "Authorization",
            "X-Amz-Security-Token",
            "X-Amz-Content-SHA256",
            "Content-MD5",
            "Host",
        ]
    ),
    st.text(st.sampled_from("abcXYZ019-_"), min_size=1, max_size=10),
)
_header_values = st.one_of(
    st.sampled_from(["value", "  a   b   c  ", "value1\n  value2\n     value3", '"quoted  value"', "\t tab\t", ""]),
    st.text(st.one_of(_TEXT, st.sampled_from(" \t\n")), max_size=20),
)
_headers = st.lists(st.tuples(_header_names, _header_values), max_size=6)
_bytes_bodies = st.one_of(
    st.binary(max_size=2048),
    # Large bodies cross the 1 MiB read chunk of file bodies.
    st.builds(lambda chunk, n: chunk * n, st.binary(min_size=1, max_size=16), st.integers(1, 200_000)),
)
_bodies = st.one_of(
    st.none(),
    _bytes_bodies,
    st.text(_TEXT, max_size=200),
    _bytes_bodies.map(bytearray),
    st.builds(_file_at, _bytes_bodies, st.floats(0, 1)),
)
_tokens = st.one_of(st.none(), st.just(""), st.text(st.sampled_from("AQoDYXdzEPT/+=abc123"), min_size=1, max_size=80))
_credentials = st.builds(
    Credentials,
    st.sampled_from(["AKIDEXAMPLE", "ASIAXXXXXXXXXXXXXXXX"]),
    st.text(_TEXT, min_size=1, max_size=40),
    _tokens,
)
_methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "get", "post"])
_regions = st.sampled_from(["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1", "cn-north-1"])
_services = st.sampled_from(["ec2", "ec2", "s3", "sts", "service"])


# -- properties ---------------------------------------------------------------


@given(method=_methods, url=_urls, headers=_headers, creds=_credentials)
def test_urls_and_headers_match_botocore(
    method: str, url: str, headers: list[tuple[str, str]], creds: Credentials
) -> None:
    _check(method, url, headers, b"Action=DescribeRegions&Version=2016-11-15", creds)


@given(method=_methods, body=_bodies, creds=_credentials, sign_payload=st.booleans(), service=_services)
def test_bodies_match_botocore(method: str, body: Any, creds: Credentials, sign_payload: bool, service: str) -> None:
    headers = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Content-MD5", "x")]
    _check(
        method, "https://ec2.us-east-1.amazonaws.com/", headers, body, creds, service=service, sign_payload=sign_payload
    )


@given(
    method=_methods,
    url=_urls,
    headers=_headers,
    body=_bodies,
    creds=_credentials,
    region=_regions,
    service=_services,
    sign_payload=st.booleans(),
)
def test_requests_match_botocore(
    *,
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: Any,
    creds: Credentials,
    region: str,
    service: str,
    sign_payload: bool,
) -> None:
    _check(method, url, headers, body, creds, region=region, service=service, sign_payload=sign_payload)


@given(
    method=_methods,
    url=_urls,
    creds=_credentials,
    region=_regions,
    service=_services,
    expires=st.integers(1, 604800),
)
def test_presigned_urls_match_botocore(
    *, method: str, url: str, creds: Credentials, region: str, service: str, expires: int
) -> None:
    ours = presign(method, url, creds, region, service, expires, NOW)
    assert ours == _botocore_presign(method, url, creds, region=region, service=service, expires=expires)


# -- hand-picked cases --------------------------------------------------------

TOKEN = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEXAMPLETOKEN")
PLAIN = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
FORM = ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
EC2 = "https://ec2.us-east-1.amazonaws.com/"

CASES: list[tuple[str, dict[str, Any]]] = [
    ("import-snapshot", {"method": "POST", "url": EC2, "headers": [FORM], "body": IMPORT_SNAPSHOT, "creds": TOKEN}),
    ("no-token", {"method": "POST", "url": EC2, "headers": [FORM], "body": IMPORT_SNAPSHOT, "creds": PLAIN}),
    ("empty-token", {"method": "POST", "url": EC2, "headers": [], "body": b"", "creds": Credentials("A", "S", "")}),
    (
        "stale-auth-headers",
        {
            "method": "POST",
            "url": EC2,
            "body": b"x",
            "creds": TOKEN,
            "headers": [("Authorization", "old"), ("X-Amz-Date", "20000101T000000Z"), ("X-Amz-Security-Token", "old")],
        },
    ),
    (
        "token-header-kept-without-token",
        {
            "method": "GET",
            "url": EC2,
            "body": None,
            "creds": PLAIN,
            "headers": [("X-Amz-Security-Token", "mine")],
        },
    ),
    ("date-header", {"method": "GET", "url": EC2, "body": None, "creds": TOKEN, "headers": [("date", "yesterday")]}),
    (
        "declared-payload-hash",
        {
            "method": "PUT",
            "url": EC2,
            "body": b"ignored",
            "creds": PLAIN,
            "headers": [("x-amz-content-sha256", "abc")],
        },
    ),
    (
        "unsigned-payload",
        {"method": "PUT", "url": EC2, "body": b"x", "creds": PLAIN, "headers": [], "sign_payload": False},
    ),
    (
        "unsigned-payload-http",
        {
            "method": "PUT",
            "url": "http://localhost:4566/",
            "body": b"x",
            "creds": PLAIN,
            "headers": [],
            "sign_payload": False,
        },
    ),
    (
        "repeated-headers",
        {
            "method": "GET",
            "url": EC2,
            "body": None,
            "creds": PLAIN,
            "headers": [("My-Header1", " a  b "), ("my-header1", "c"), ("User-Agent", "x"), ("user-agent", "y")],
        },
    ),
    ("host-given", {"method": "GET", "url": EC2, "body": None, "creds": PLAIN, "headers": [("Host", "other.example")]}),
    ("ipv6-port", {"method": "GET", "url": "https://[::1]:8443/a", "body": None, "creds": PLAIN, "headers": []}),
    ("default-port", {"method": "GET", "url": "https://Ex.COM:443/", "body": None, "creds": PLAIN, "headers": []}),
    ("userinfo", {"method": "GET", "url": "http://u:p@ex.com:80/", "body": None, "creds": PLAIN, "headers": []}),
    ("dot-segments", {"method": "GET", "url": EC2 + "a/./b/../../c//d/", "body": None, "creds": PLAIN, "headers": []}),
    ("encoded-path", {"method": "GET", "url": EC2 + "a%2Fb/%E1%88%B4 c", "body": None, "creds": PLAIN, "headers": []}),
    ("repeated-query", {"method": "GET", "url": EC2 + "?b=2&a=&a=1&c", "body": None, "creds": PLAIN, "headers": []}),
    (
        "no-path",
        {"method": "GET", "url": "https://ec2.us-east-1.amazonaws.com", "body": None, "creds": PLAIN, "headers": []},
    ),
    (
        "big-file",
        {
            "method": "PUT",
            "url": EC2,
            "body": _file_at(b"0123456789" * 300_000, 0.1),
            "creds": PLAIN,
            "headers": [],
        },
    ),
    ("text-body", {"method": "POST", "url": EC2, "body": "caf\u00e9 \u1234", "creds": PLAIN, "headers": [FORM]}),
    (
        "s3",
        {
            "method": "PUT",
            "url": "https://b.s3.amazonaws.com/k//x/../y",
            "body": b"x",
            "creds": TOKEN,
            "headers": [],
            "service": "s3",
        },
    ),
    (
        "s3-unsigned-md5",
        {
            "method": "PUT",
            "url": "https://b.s3.amazonaws.com/k",
            "body": b"x",
            "creds": TOKEN,
            "headers": [("Content-MD5", "abc")],
            "service": "s3",
            "sign_payload": False,
        },
    ),
]


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[name for name, _ in CASES])
def test_hand_picked_requests_match_botocore(case: dict[str, Any]) -> None:
    _check(
        case["method"],
        case["url"],
        case["headers"],
        case["body"],
        case["creds"],
        service=case.get("service", "ec2"),
        sign_payload=case.get("sign_payload", True),
    )


@pytest.mark.parametrize(
    "url",
    [
        EC2,
        EC2 + "?Action=DescribeRegions&Version=2016-11-15",
        EC2 + "?a=2&a=1&b=&c+d=%20e",
        "https://ec2.us-east-1.amazonaws.com",
        "https://[::1]:8443/p?x=y#frag",
        "http://User@Localhost:8080/a/../b",
    ],
)
@pytest.mark.parametrize("creds", [PLAIN, TOKEN], ids=["no-token", "token"])
@pytest.mark.parametrize("service", ["ec2", "s3"])
def test_hand_picked_presigned_urls_match_botocore(url: str, creds: Credentials, service: str) -> None:
    expected = _botocore_presign("GET", url, creds, region="us-east-1", service=service, expires=900)
    assert presign("GET", url, creds, "us-east-1", service, 900, NOW) == expected


def test_sign_returns_the_reference_header_set() -> None:
    headers = sign("POST", EC2, {FORM[0]: FORM[1]}, IMPORT_SNAPSHOT, TOKEN, "us-east-1", now=NOW)
    assert list(headers) == ["Content-Type", "Host", "X-Amz-Date", "X-Amz-Security-Token", "Authorization"]
    assert "X-Amz-Content-SHA256" not in headers  # botocore adds it for S3 only
    assert headers["Host"] == "ec2.us-east-1.amazonaws.com"
    assert headers["X-Amz-Date"] == "20240501T123456Z"


@pytest.mark.parametrize(
    ("url", "headers", "body"),
    [
        ("not a url", None, b""),
        ("https://", None, b""),
        ("https://h:notaport/", None, b""),
        (b"https://h/", None, b""),
        (EC2, {"X": 1}, b""),
        (EC2, [("X",)], b""),
        (EC2, None, 42),
        (EC2, None, object()),
        (EC2, None, "\ud800"),
        (EC2, None, io.StringIO("text file")),
    ],
)
def test_bad_inputs_raise_validation_error(url: Any, headers: Any, body: Any) -> None:
    with pytest.raises(ValidationError):
        sign("POST", url, headers, body, PLAIN, "us-east-1", now=NOW)
