"""Retries, backoff, idempotency tokens and clock-skew correction of the sync client (HTTP mocked by ``responses``).

The policy functions of ``ec2codec.client._retry`` are tested directly against the
numbers of botocore's standard mode; the client tests check the loop applies
them: which failures are retried, the exact delays (injected ``rng``/``sleep``),
the error left when attempts run out, and that a retried call sends the same
idempotency token every time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st
from urllib3.exceptions import ProtocolError

import ec2codec
from ec2codec.client import _retry
from ec2codec.client.sync import TransportError
from tests.client_support import (
    ENDPOINT,
    JITTER,
    NOW,
    error_document,
    import_snapshot_document,
    make_client,
    regions_document,
    resetting_body,
)

# -- the pure policy ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "incomplete", "expected"),
    [
        ("RequestLimitExceeded", 503, False, True),
        ("Throttling", 400, False, True),
        ("EC2ThrottledException", 400, False, True),
        ("RequestTimeout", 400, False, True),
        ("PriorRequestNotComplete", 400, False, True),
        ("InternalError", 500, False, True),
        ("Unavailable", 503, False, True),
        ("502", 502, False, True),
        ("504", 504, False, True),
        ("429", 429, False, True),
        ("TooManyRequests", 429, False, True),
        (None, None, True, True),
        ("InvalidParameterValue", 400, False, False),
        ("InvalidVolume.NotFound", 400, False, False),
        ("UnauthorizedOperation", 403, False, False),
        ("AuthFailure", 401, False, False),
        ("501", 501, False, False),
        ("DryRunOperation", 412, False, False),
        (None, None, False, False),
    ],
)
def test_is_retryable_table(code: str | None, status: int | None, incomplete: bool, expected: bool) -> None:
    assert _retry.is_retryable(code, status, incomplete=incomplete) is expected


def test_policy_codes_equal_botocore_standard_mode() -> None:
    from botocore.retries import standard

    assert set(standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES) == _retry.THROTTLING_CODES
    assert set(standard.TransientRetryableChecker._TRANSIENT_ERROR_CODES) == _retry.TRANSIENT_CODES
    assert set(standard.TransientRetryableChecker._TRANSIENT_STATUS_CODES) == _retry.TRANSIENT_STATUSES
    assert standard.ExponentialBackoff._MAX_BACKOFF == _retry.MAX_BACKOFF
    assert set(standard.ThrottlingStatusCodeChecker._THROTTLING_STATUS_CODES) == _retry.THROTTLING_STATUSES
    scales = standard.ExponentialBackoff._DEFAULT_BACKOFF_CONFIG
    assert (scales["throttling_base_scale"], scales["non_throttling_base_scale"]) == (
        _retry.THROTTLING_SCALE,
        _retry.NON_THROTTLING_SCALE,
    )
    assert standard.ExponentialBackoff._RETRY_AFTER_MAX_ADDITIONAL == _retry.RETRY_AFTER_MAX_ADDITIONAL


@pytest.mark.parametrize(
    ("attempt", "max_attempts", "retryable", "expected"),
    [(1, 3, True, True), (2, 3, True, True), (3, 3, True, False), (1, 1, True, False), (1, 3, False, False)],
)
def test_should_retry_counts_every_attempt(attempt: int, max_attempts: int, retryable: bool, expected: bool) -> None:
    assert _retry.should_retry(attempt, max_attempts, retryable) is expected


@pytest.mark.parametrize(
    ("attempt", "throttling", "ceiling"),
    [
        (1, True, 1.0),
        (2, True, 2.0),
        (3, True, 4.0),
        (5, True, 16.0),
        (6, True, 20.0),
        (10_000, True, 20.0),
        (1, False, 0.05),
        (2, False, 0.1),
        (5, False, 0.8),
        (9, False, 12.8),
        (10, False, 20.0),
        (10_000, False, 20.0),
    ],
)
def test_backoff_delay_is_full_jitter_capped_at_20_seconds(attempt: int, throttling: bool, ceiling: float) -> None:
    assert _retry.backoff_delay(attempt, lambda: 1.0, throttling=throttling) == pytest.approx(ceiling)
    assert _retry.backoff_delay(attempt, lambda: 0.25, throttling=throttling) == pytest.approx(ceiling * 0.25)
    assert _retry.backoff_delay(attempt, lambda: 0.0, throttling=throttling) == 0.0


_CODES = st.sampled_from([None, "RequestLimitExceeded", "Throttling", "InternalError", "RequestTimeout", "Bad"])
_RETRY_AFTER = st.sampled_from([None, "0", "1500", "9000", "-5", "abc", "1.5", "99999999999"])


@given(
    attempt=st.integers(1, 50),
    jitter=st.floats(0.0, 1.0),
    code=_CODES,
    status=st.sampled_from([400, 429, 500, 503]),
    retry_after=_RETRY_AFTER,
)
def test_backoff_delay_equals_botocore(
    attempt: int, jitter: float, code: str | None, status: int, retry_after: str | None
) -> None:
    from botocore.awsrequest import AWSResponse
    from botocore.retries.standard import ExponentialBackoff, RetryContext, RetryEventAdapter, ThrottlingErrorDetector

    headers = {} if retry_after is None else {"x-amz-retry-after": retry_after}
    context = RetryContext(
        attempt_number=attempt,
        parsed_response={"Error": {"Code": code}} if code else {},
        http_response=AWSResponse("https://ec2.us-east-1.amazonaws.com/", status, headers, None),
    )
    backoff = ExponentialBackoff(
        random=lambda: jitter, service_name="ec2", throttling_detector=ThrottlingErrorDetector(RetryEventAdapter())
    )
    expected = backoff.delay_amount(context)
    ours = _retry.backoff_delay(
        attempt,
        lambda: jitter,
        throttling=_retry.is_throttling(code, status),
        retry_after=_retry.parse_retry_after(retry_after),
    )
    assert ours == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fri, 02 Jan 2026 04:04:05 GMT", datetime(2026, 1, 2, 4, 4, 5, tzinfo=timezone.utc)),
        ("Fri, 02 Jan 2026 04:04:05 -0000", datetime(2026, 1, 2, 4, 4, 5, tzinfo=timezone.utc)),
        ("Fri, 02 Jan 2026 06:04:05 +0200", datetime(2026, 1, 2, 4, 4, 5, tzinfo=timezone.utc)),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_http_date(text: str | None, expected: datetime | None) -> None:
    assert _retry.parse_http_date(text) == expected


@pytest.mark.parametrize(
    ("code", "server_delta", "offset", "expected"),
    [
        ("RequestTimeTooSkewed", timedelta(hours=1), timedelta(0), timedelta(hours=1)),
        ("AuthFailure", -timedelta(minutes=30), timedelta(0), -timedelta(minutes=30)),
        ("SignatureDoesNotMatch", timedelta(minutes=4, seconds=1), timedelta(0), timedelta(minutes=4, seconds=1)),
        ("RequestExpired", timedelta(minutes=4), timedelta(0), None),  # within tolerance
        ("RequestTimeTooSkewed", timedelta(hours=1), timedelta(hours=1), None),  # already corrected
        ("InvalidParameterValue", timedelta(hours=1), timedelta(0), None),  # not a skew error
    ],
)
def test_skew_offset(code: str, server_delta: timedelta, offset: timedelta, expected: timedelta | None) -> None:
    assert _retry.skew_offset(code, NOW + server_delta, NOW, offset) == expected
    assert _retry.skew_offset(code, None, NOW, offset) is None


# -- the client loop --------------------------------------------------------------

_LARGE = regions_document(2000).encode()
# botocore 1.44's backoff scales: 1 s after a throttling error, 50 ms after any other failure.
THROTTLED, OTHER = JITTER * 1.0, JITTER * 0.05
_RETRYABLE: list[Any] = [
    pytest.param({"body": error_document("RequestLimitExceeded"), "status": 503}, id="throttling-code"),
    pytest.param({"body": error_document("Throttling"), "status": 400}, id="throttling-400"),
    pytest.param({"body": "", "status": 429}, id="429-empty"),
    pytest.param({"body": error_document("RequestTimeout"), "status": 400}, id="transient-code"),
    pytest.param({"body": error_document("InternalError"), "status": 500}, id="500"),
    pytest.param({"body": error_document("Unavailable"), "status": 503}, id="503"),
    pytest.param({"body": "<html>Bad Gateway</html>", "status": 502}, id="502-html"),
    pytest.param({"body": "", "status": 504}, id="504-empty"),
    pytest.param({"body": requests.ConnectionError("refused")}, id="connection-error"),
    pytest.param({"body": requests.ConnectTimeout("connect timeout")}, id="connect-timeout"),
    pytest.param({"body": requests.ReadTimeout("read timeout")}, id="read-timeout"),
    pytest.param({"body": regions_document()[:120]}, id="truncated-body"),
    pytest.param({"body": "this is not xml"}, id="unparseable-body"),
    pytest.param({"body": ""}, id="empty-body"),
    pytest.param({"body": resetting_body(_LARGE[:100_000])}, id="reset-mid-body"),
]


@responses.activate
@pytest.mark.parametrize("failure", _RETRYABLE)
def test_each_retryable_failure_is_retried_after_backoff(failure: dict[str, Any]) -> None:
    responses.add(responses.POST, ENDPOINT, **failure)
    responses.add(responses.POST, ENDPOINT, body=regions_document())
    client, sleep = make_client()
    result = client.describe_regions()
    assert [r["RegionName"] for r in result["Regions"]] == ["r-0", "r-1"]
    assert len(responses.calls) == 2
    throttled = (
        failure.get("status") == 429 or "Throttl" in str(failure["body"]) or "LimitExceeded" in str(failure["body"])
    )
    assert sleep.delays == pytest.approx([THROTTLED if throttled else OTHER])


@responses.activate
@pytest.mark.parametrize(
    ("header", "expected"),
    [("2500", 2.5), ("0", THROTTLED), ("60000", THROTTLED + 5), ("junk", THROTTLED), ("-1", THROTTLED)],
)
def test_x_amz_retry_after_raises_the_delay_by_5_seconds_at_most(header: str, expected: float) -> None:
    # ExponentialBackoff._get_retry_after_delay: max(t, min(retry_after, t + 5)).
    body = error_document("RequestLimitExceeded")
    responses.add(responses.POST, ENDPOINT, body=body, status=503, headers={"x-amz-retry-after": header})
    responses.add(responses.POST, ENDPOINT, body=regions_document())
    client, sleep = make_client()
    client.describe_regions()
    assert sleep.delays == pytest.approx([expected])


@responses.activate
def test_backoff_grows_exponentially_and_the_last_error_is_raised() -> None:
    for i in range(4):
        responses.add(responses.POST, ENDPOINT, body=error_document("RequestLimitExceeded", f"try {i}"), status=503)
    responses.add(responses.POST, ENDPOINT, body=error_document("Unavailable", "last"), status=503)
    client, sleep = make_client(max_attempts=5)
    with pytest.raises(ec2codec.ServiceError) as info:
        client.describe_regions()
    assert (info.value.code, info.value.message, info.value.status) == ("Unavailable", "last", 503)
    assert len(responses.calls) == 5
    assert sleep.delays == [JITTER * 1, JITTER * 2, JITTER * 4, JITTER * 8]


@responses.activate
def test_exhausted_transport_failures_raise_a_transport_error() -> None:
    responses.add(responses.POST, ENDPOINT, body=requests.ConnectionError("refused"))
    client, sleep = make_client(max_attempts=3)
    with pytest.raises(TransportError, match=r"ConnectionError.*refused") as info:
        client.describe_regions()
    assert info.value.retryable
    assert len(responses.calls) == 3
    assert sleep.delays == pytest.approx([OTHER, OTHER * 2])


@responses.activate
def test_exhausted_truncated_bodies_raise_a_parse_error() -> None:
    responses.add(responses.POST, ENDPOINT, body=regions_document()[:100])
    client, sleep = make_client(max_attempts=2)
    with pytest.raises(ec2codec.ParseError):
        client.describe_regions()
    assert len(responses.calls) == 2
    assert sleep.delays == pytest.approx([OTHER])


@responses.activate
@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("InvalidParameterValue", 400),
        ("InvalidVolume.NotFound", 400),
        ("UnauthorizedOperation", 403),
        ("DryRunOperation", 412),
        ("MissingParameter", 400),
    ],
)
def test_client_errors_are_not_retried(code: str, status: int) -> None:
    responses.add(responses.POST, ENDPOINT, body=error_document(code, "nope", "req-4xx"), status=status)
    client, sleep = make_client()
    with pytest.raises(ec2codec.ServiceError) as info:
        client.describe_regions()
    assert (info.value.code, info.value.status, info.value.request_id) == (code, status, "req-4xx")
    assert len(responses.calls) == 1
    assert sleep.delays == []


@responses.activate
def test_a_4xx_that_is_not_an_ec2_document_is_a_generic_service_error_not_retried() -> None:
    responses.add(responses.POST, ENDPOINT, body="<html>Forbidden</html>", status=403)
    client, sleep = make_client()
    with pytest.raises(ec2codec.ServiceError) as info:
        client.describe_regions()
    assert (info.value.code, info.value.status) == ("403", 403)
    assert "Forbidden" in info.value.message
    assert len(responses.calls) == 1
    assert sleep.delays == []


@responses.activate
def test_validation_errors_send_nothing() -> None:
    client, sleep = make_client()
    with pytest.raises(ec2codec.ValidationError, match="DiskContainer"):
        client.import_snapshot(DiskContainer="not a structure")
    with pytest.raises(ec2codec.ValidationError, match="unknown operation"):
        client.call("NoSuchOperation", {})
    with pytest.raises(ec2codec.ValidationError, match="expected dict"):
        client.call("DescribeRegions", ["not", "a", "dict"])  # type: ignore[arg-type]
    assert len(responses.calls) == 0
    assert sleep.delays == []


def _tokens() -> list[str | None]:
    return [ec2codec.decode_request(call.request.body)[1].get("ClientToken") for call in responses.calls]


class _Counter:
    def __init__(self) -> None:
        self.issued = 0

    def __call__(self) -> str:
        self.issued += 1
        return f"token-{self.issued}"


@responses.activate
@pytest.mark.parametrize("operation", ["ImportSnapshot", "ImportImage"])
def test_import_client_token_is_filled_once_and_sent_on_every_attempt(operation: str) -> None:
    responses.add(responses.POST, ENDPOINT, body=requests.ReadTimeout("read timed out"))
    responses.add(responses.POST, ENDPOINT, body=error_document("InternalError"), status=500)
    responses.add(responses.POST, ENDPOINT, body=import_snapshot_document().replace("ImportSnapshot", operation))
    factory = _Counter()
    client, _ = make_client(token_factory=factory)
    client.call(operation, {"Description": "disk"})
    assert _tokens() == ["token-1"] * 3
    assert factory.issued == 1


@responses.activate
def test_a_caller_given_client_token_is_kept() -> None:
    responses.add(responses.POST, ENDPOINT, body=error_document("RequestLimitExceeded"), status=503)
    responses.add(responses.POST, ENDPOINT, body=import_snapshot_document())
    factory = _Counter()
    client, _ = make_client(token_factory=factory)
    params = {"ClientToken": "mine", "DiskContainer": {"Format": "VHD", "Url": "s3://b/k"}}
    assert client.import_snapshot(**params)["ImportTaskId"] == "import-snap-1"
    assert _tokens() == ["mine", "mine"]
    assert factory.issued == 0
    assert params == {"ClientToken": "mine", "DiskContainer": {"Format": "VHD", "Url": "s3://b/k"}}


@responses.activate
def test_modeled_idempotency_tokens_are_filled_and_other_operations_get_none() -> None:
    responses.add(responses.POST, ENDPOINT, body="<CreateIpamResponse><requestId>r</requestId></CreateIpamResponse>")
    responses.add(responses.POST, ENDPOINT, body=regions_document())
    client, _ = make_client(token_factory=_Counter())
    client.create_ipam()
    client.describe_regions()
    assert _tokens() == ["token-1", None]


# -- clock skew ----------------------------------------------------------------------


def _http_date(when: datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


def _amz_dates() -> list[str]:
    return [call.request.headers["X-Amz-Date"] for call in responses.calls]


@responses.activate
@pytest.mark.parametrize("code", sorted(_retry.SKEW_CODES))
def test_clock_skew_is_corrected_once_without_using_an_attempt(code: str) -> None:
    server = NOW + timedelta(hours=1, minutes=2, seconds=3)
    responses.add(responses.POST, ENDPOINT, body=error_document(code), status=403, headers={"Date": _http_date(server)})
    responses.add(responses.POST, ENDPOINT, body=regions_document())
    responses.add(responses.POST, ENDPOINT, body=regions_document())
    client, sleep = make_client(max_attempts=1)
    client.describe_regions()
    assert client.clock_offset == timedelta(hours=1, minutes=2, seconds=3)
    assert _amz_dates() == ["20260102T030405Z", "20260102T040608Z"]
    assert sleep.delays == []
    client.describe_regions()  # later calls keep the offset
    assert _amz_dates()[-1] == "20260102T040608Z"


@responses.activate
def test_a_skew_error_with_a_plausible_date_is_raised() -> None:
    date = _http_date(NOW + timedelta(minutes=3))
    responses.add(responses.POST, ENDPOINT, body=error_document("AuthFailure"), status=401, headers={"Date": date})
    client, _ = make_client()
    with pytest.raises(ec2codec.ServiceError, match="AuthFailure"):
        client.describe_regions()
    assert len(responses.calls) == 1
    assert client.clock_offset == timedelta(0)


@responses.activate
def test_skew_is_corrected_at_most_once_per_call() -> None:
    for hours in (1, 2):
        date = _http_date(NOW + timedelta(hours=hours))
        responses.add(
            responses.POST, ENDPOINT, body=error_document("RequestExpired"), status=400, headers={"Date": date}
        )
    client, _ = make_client()
    with pytest.raises(ec2codec.ServiceError, match="RequestExpired"):
        client.describe_regions()
    assert len(responses.calls) == 2
    assert client.clock_offset == timedelta(hours=1)


# -- nothing from requests escapes -------------------------------------------------

_TRANSPORT_FAILURES = [
    (requests.ConnectionError("x"), True),
    (requests.exceptions.SSLError("x"), True),
    (requests.exceptions.ProxyError("x"), True),
    (requests.ConnectTimeout("x"), True),
    (requests.ReadTimeout("x"), True),
    (requests.exceptions.ChunkedEncodingError("x"), True),
    (requests.exceptions.ContentDecodingError("x"), True),
    (ProtocolError("Connection aborted."), True),
    (ConnectionResetError(104, "reset"), True),
    (requests.exceptions.InvalidURL("x"), False),
    (requests.exceptions.InvalidHeader("x"), False),
    (requests.TooManyRedirects("x"), False),
    (requests.RequestException("x"), False),
]


@responses.activate
@pytest.mark.parametrize(("exc", "retryable"), _TRANSPORT_FAILURES, ids=lambda v: type(v).__name__)
def test_every_transport_exception_becomes_a_transport_error(exc: BaseException, retryable: bool) -> None:
    responses.add(responses.POST, ENDPOINT, body=exc)
    client, _ = make_client(max_attempts=2)
    with pytest.raises(TransportError) as info:
        client.describe_regions()
    assert isinstance(info.value, ec2codec.Error)
    assert info.value.retryable is retryable
    assert info.value.__cause__ is exc
    assert len(responses.calls) == (2 if retryable else 1)
