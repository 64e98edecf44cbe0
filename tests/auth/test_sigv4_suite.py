"""The AWS SigV4 test suite (aws-c-auth v0.3.15, as vendored by botocore): all 34 cases.

Each case is checked at every step: the canonical request (.creq), the string
to sign (.sts) and the Authorization header (.authz). botocore skips four cases
because its harness, not its signer, cannot express them:
``normalize-path/get-space`` (Python's HTTP request-line parser rejects the
space) and ``get-vanilla-query-order-key``, ``get-vanilla-query-order-key-case``,
``get-vanilla-query-order-value`` (it turns the query into a dict, losing the
repeated key). Here the request line is split by hand and the query stays in
the URL, so they run like every other case.

The suite follows the protocol, so it runs with ``normalize_query=True``: the
.req of ``get-vanilla-utf8-query`` spells its query in raw UTF-8, which the
protocol URI-encodes and botocore (the default) signs as written. That is the
one case the default mode cannot pass; see ``test_default_mode_differs_only_on_raw_utf8_query``.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import pytest

from ec2codec.auth.sigv4 import (
    Credentials,
    build_credential_scope,
    build_string_to_sign,
    calculate_signature,
    canonicalize_request,
    derive_signing_key,
    format_amz_date,
    hash_payload,
    sign,
)
from tests.conftest import CONFORMANCE, conformance_file

SUITE = ("tests", "unit", "auth", "aws4_testsuite")
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = datetime(2015, 8, 30, 12, 36, 0, tzinfo=timezone.utc)
REGION = "us-east-1"
SERVICE = "service"
BOTOCORE_SKIPS = {
    "normalize-path/get-space",
    "get-vanilla-query-order-key",
    "get-vanilla-query-order-key-case",
    "get-vanilla-query-order-value",
}


class Case(NamedTuple):
    name: str
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    creq: str
    sts: str
    authz: str
    credentials: Credentials


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").replace("\r\n", "\n")


def _parse_request(text: str) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """An HTTP/1.1 request as the suite writes it: request line, headers (folded lines allowed), body."""
    head, _, body = text.partition("\n\n")
    first, *lines = head.split("\n")
    method, _, rest = first.partition(" ")
    target = rest.rpartition(" ")[0]  # the target may itself contain a space (get-space)
    headers: list[tuple[str, str]] = []
    for line in filter(None, lines):  # some .req files end with a newline
        if line[:1] in (" ", "\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, f"{value}\n{line}")
        else:
            name, _, value = line.partition(":")
            headers.append((name, value))
    return method, target, headers, body.encode("utf-8")


def _load(folder: Path, name: str) -> Case:
    stem = folder / folder.name
    method, target, headers, body = _parse_request(_read(stem.with_suffix(".req")))
    creq = _read(stem.with_suffix(".creq"))
    host = next(value for key, value in headers if key.lower() == "host")
    token = re.search(r"^x-amz-security-token:(.*)$", creq, re.MULTILINE)
    credentials = Credentials(ACCESS_KEY, SECRET_KEY, token.group(1) if token else None)
    return Case(
        name,
        method,
        f"https://{host.strip()}{target}",
        headers,
        body,
        creq,
        _read(stem.with_suffix(".sts")),
        _read(stem.with_suffix(".authz")),
        credentials,
    )


def _discover() -> list[str]:
    root = CONFORMANCE.joinpath("botocore", *SUITE)
    if not root.exists():
        return []
    return sorted(str(p.parent.relative_to(root).as_posix()) for p in root.rglob("*.req"))


CASES = _discover()


def _case(name: str) -> Case:
    root = conformance_file(*SUITE)
    return _load(root / name, name)


def _headers_as_sent(case: Case) -> list[tuple[str, str]]:
    # What sign() sends: the request's headers plus the session token, which
    # the suite puts in the canonical request but not always in the .req.
    headers = list(case.headers)
    token = case.credentials.token
    if token and not any(k.lower() == "x-amz-security-token" for k, _ in headers):
        headers.append(("X-Amz-Security-Token", token))
    return headers


@pytest.mark.parametrize("name", CASES or [pytest.param(None, id="suite-missing")])
def test_canonical_request(name: str | None) -> None:
    case = _case(name or "")
    creq = canonicalize_request(
        case.method, case.url, _headers_as_sent(case), hash_payload(case.body), normalize_query=True
    )
    assert creq == case.creq


@pytest.mark.parametrize("name", CASES or [pytest.param(None, id="suite-missing")])
def test_string_to_sign(name: str | None) -> None:
    case = _case(name or "")
    amz_date = format_amz_date(NOW)
    assert build_string_to_sign(amz_date, build_credential_scope(amz_date, REGION, SERVICE), case.creq) == case.sts


@pytest.mark.parametrize("name", CASES or [pytest.param(None, id="suite-missing")])
def test_authorization_header(name: str | None) -> None:
    case = _case(name or "")
    headers = sign(
        case.method, case.url, case.headers, case.body, case.credentials, REGION, SERVICE, NOW, normalize_query=True
    )
    assert headers["Authorization"] == case.authz
    # Task 3 by hand from the suite's own string to sign agrees too.
    key = derive_signing_key(SECRET_KEY, "20150830", REGION, SERVICE)
    assert case.authz.endswith(f"Signature={calculate_signature(key, case.sts)}")


@pytest.mark.parametrize("name", CASES or [pytest.param(None, id="suite-missing")])
def test_default_mode_differs_only_on_raw_utf8_query(name: str | None) -> None:
    case = _case(name or "")
    headers = sign(case.method, case.url, case.headers, case.body, case.credentials, REGION, SERVICE, NOW)
    if name == "get-vanilla-utf8-query":
        # botocore signs "ሴ=bar" as written; the protocol signs "%E1%88%B4=bar".
        assert headers["Authorization"] != case.authz
    else:
        assert headers["Authorization"] == case.authz


def test_every_case_is_present() -> None:
    conformance_file(*SUITE)
    assert len(CASES) == 34
    assert set(CASES) >= BOTOCORE_SKIPS
    assert set(CASES) >= {"post-sts-token/post-sts-header-after", "post-sts-token/post-sts-header-before"}


def test_session_token_added_after_signing() -> None:
    # post-sts-header-after: some services want the token outside the
    # signature. Signing without it and adding the header afterwards gives the .sreq.
    case = _case("post-sts-token/post-sts-header-after")
    sreq = _read(conformance_file(*SUITE, "post-sts-token", "post-sts-header-after", "post-sts-header-after.sreq"))
    headers = sign(case.method, case.url, case.headers, case.body, case.credentials, REGION, SERVICE, NOW)
    token = re.search(r"^X-Amz-Security-Token:(.*)$", sreq, re.MULTILINE)
    assert token is not None
    headers["X-Amz-Security-Token"] = token.group(1)
    assert f"Authorization: {headers['Authorization']}" in sreq
    assert "x-amz-security-token" not in headers["Authorization"]
