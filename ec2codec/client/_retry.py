"""The client's retry and clock-skew policy, as pure functions: which failures to retry, and how long to wait.

Owns the decisions only; :mod:`ec2codec.client.sync` owns the loop that applies
them. The policy is botocore's ``standard`` retry mode
(``botocore/retries/standard.py``, the same rules as the AWS SDKs' "Retry
behavior" reference):

* throttling error codes (``ThrottledRetryableChecker``) and transient ones
  (``TransientRetryableChecker``), HTTP 500/502/503/504, and any failure to
  get a whole response (connection refused or reset, connect/read timeout, a
  body cut short or unreadable) are retried; every other 4xx error, and a
  ValidationError (nothing was sent), is not;
* ``max_attempts`` counts every attempt, the first included (botocore's
  ``MaxAttemptsChecker``: retry while ``attempt < max_attempts``);
* HTTP 429 is throttling too (``ThrottlingStatusCodeChecker``; EC2 models no
  error shapes, so no modeled error can overrule it);
* the delay before attempt ``n + 1`` is truncated binary exponential backoff
  with full jitter, ``rng() * min(scale * 2 ** (n - 1), 20)`` seconds for
  1-based ``n``, where ``scale`` is 1 s after a throttling error and 50 ms
  after any other (``ExponentialBackoff.delay_amount`` since botocore 1.44);
* an ``x-amz-retry-after`` header (milliseconds) raises that delay to its
  value, but never by more than 5 seconds (``_get_retry_after_delay``).

Not implemented: botocore's client-side retry quota (a token bucket that stops
retrying when most recent calls failed): one client here does not see the
other calls of a process, and the quota changes no single call's outcome
until many calls fail.

``retry_mode = legacy`` (``AWS_RETRY_MODE``) selects botocore's older policy
(``botocore/retryhandler.py`` over ``botocore/data/_retry.json``, the default
of the pinned botocore for clients that configure nothing): 5 attempts by
default; a failure to connect or a timeout, HTTP 429, 500, 502, 503, 504 and
509, and an error code only together with its status (``Throttling``,
``ThrottlingException``, ``ThrottledException``,
``RequestThrottledException`` and ``ProvisionedThroughputExceededException``
with 400; EC2's ``RequestLimitExceeded`` and ``EC2ThrottledException`` with
503) are retried, after ``rng() * 2 ** (n - 1)`` seconds with no cap
(``delay_exponential`` with base ``rand``). A body cut short or unreadable is
not retried in legacy mode.

Clock skew follows the AWS SDKs for Java and JavaScript (botocore reports skew
but never corrects it): after an authentication error that a wrong clock
causes (``RequestTimeTooSkewed``, ``RequestExpired``, ...), when the
response's ``Date`` is more than 4 minutes (SigV4 allows 5) away from the
corrected local clock, the client adopts ``server date - local clock`` as its
offset and signs again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

__all__ = [
    "LEGACY_CODES",
    "LEGACY_STATUSES",
    "MAX_BACKOFF",
    "RETRY_AFTER_MAX_ADDITIONAL",
    "SKEW_CODES",
    "SKEW_THRESHOLD",
    "THROTTLING_CODES",
    "TRANSIENT_CODES",
    "THROTTLING_STATUSES",
    "TRANSIENT_STATUSES",
    "backoff_delay",
    "default_max_attempts",
    "is_retryable",
    "is_retryable_legacy",
    "legacy_backoff_delay",
    "is_throttling",
    "parse_http_date",
    "parse_retry_after",
    "should_retry",
    "skew_offset",
]

# ThrottledRetryableChecker._THROTTLED_ERROR_CODES.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
# TransientRetryableChecker._TRANSIENT_ERROR_CODES and _TRANSIENT_STATUS_CODES.
TRANSIENT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"})
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
# ThrottlingStatusCodeChecker._THROTTLING_STATUS_CODES.
THROTTLING_STATUSES = frozenset({429})
# The errors a wrong local clock produces (AWS SDK for Java ``RetryUtils.isClockSkewError``).
SKEW_CODES = frozenset(
    {
        "RequestTimeTooSkewed",
        "RequestExpired",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "AuthFailure",
        "RequestInTheFuture",
    }
)
# _retry.json, legacy mode: (error code, status) pairs and bare statuses that are retried
# (the __default__ policies plus EC2's own).
LEGACY_CODES = frozenset(
    {
        ("Throttling", 400),
        ("ThrottlingException", 400),
        ("ThrottledException", 400),
        ("RequestThrottledException", 400),
        ("ProvisionedThroughputExceededException", 400),
        ("RequestLimitExceeded", 503),
        ("EC2ThrottledException", 503),
    }
)
LEGACY_STATUSES = frozenset({429, 500, 502, 503, 504, 509})
# ExponentialBackoff: base 2, _MAX_BACKOFF 20 seconds, base scales of
# _DEFAULT_BACKOFF_CONFIG, and _RETRY_AFTER_MAX_ADDITIONAL.
MAX_BACKOFF = 20.0
THROTTLING_SCALE = 1.0
NON_THROTTLING_SCALE = 0.05
RETRY_AFTER_MAX_ADDITIONAL = 5.0
# SigV4 accepts a request dated up to 5 minutes from the server's clock; the
# SDKs call a difference over 4 minutes skew (Java ``ClockSkew.isClockSkewed``).
SKEW_THRESHOLD = timedelta(minutes=4)


def is_retryable(code: str | None = None, status: int | None = None, *, incomplete: bool = False) -> bool:
    """Whether a failed attempt is worth repeating.

    ``code`` is the EC2 error code and ``status`` the HTTP status of an error
    response; ``incomplete`` says no whole response arrived (connection or
    timeout failure, a body cut short or not a document: botocore's
    ``ConnectionError``/``HTTPClientError`` branch).
    """
    if incomplete:
        return True
    if code is not None and (code in THROTTLING_CODES or code in TRANSIENT_CODES):
        return True
    return status is not None and (status in TRANSIENT_STATUSES or status in THROTTLING_STATUSES)


def is_throttling(code: str | None = None, status: int | None = None) -> bool:
    """Whether an error response means "slow down" (``ThrottlingErrorDetector``): its code, or HTTP 429."""
    return (code is not None and code in THROTTLING_CODES) or (status is not None and status in THROTTLING_STATUSES)


def is_retryable_legacy(code: str | None = None, status: int | None = None, *, unreachable: bool = False) -> bool:
    """Whether legacy mode retries: ``unreachable`` is a connection failure or timeout (GENERAL_CONNECTION_ERROR)."""
    if unreachable:
        return True
    return status is not None and (status in LEGACY_STATUSES or (code, status) in LEGACY_CODES)


def default_max_attempts(mode: str) -> int:
    """Attempts when nothing is configured: 3 in standard mode, 5 in legacy mode (``_retry.json``)."""
    return 5 if mode == "legacy" else 3


def should_retry(attempt: int, max_attempts: int, retryable: bool) -> bool:
    """Whether to make another attempt after 1-based ``attempt`` failed (``MaxAttemptsChecker``)."""
    return retryable and attempt < max_attempts


def backoff_delay(
    attempt: int, rng: Callable[[], float], *, throttling: bool = False, retry_after: float | None = None
) -> float:
    """Seconds to wait after 1-based ``attempt`` failed: ``rng() * min(scale * 2 ** (attempt - 1), 20)``.

    ``scale`` is 1 s after a throttling error, 50 ms otherwise; ``retry_after``
    (seconds, from ``x-amz-retry-after``) raises the delay to at most 5 s more.
    """
    scale = THROTTLING_SCALE if throttling else NON_THROTTLING_SCALE
    # Capping the exponent first keeps 2 ** n small for absurd attempt counts.
    delay = rng() * min(scale * 2.0 ** min(attempt - 1, 64), MAX_BACKOFF)
    if retry_after is not None:
        return max(delay, min(retry_after, delay + RETRY_AFTER_MAX_ADDITIONAL))
    return delay


def parse_retry_after(text: str | None) -> float | None:
    """An ``x-amz-retry-after`` header (whole milliseconds) in seconds; None when absent or unreadable."""
    if text is None:
        return None
    try:
        value = int(text) / 1000.0
    except (ValueError, OverflowError):
        return None  # botocore logs and ignores it
    return value if value >= 0 else None


def legacy_backoff_delay(attempt: int, rng: Callable[[], float]) -> float:
    """Legacy mode's wait after 1-based ``attempt`` failed: ``rng() * 2 ** (attempt - 1)``, uncapped."""
    return rng() * 2.0 ** min(attempt - 1, 64)


def parse_http_date(text: str | None) -> datetime | None:
    """An HTTP ``Date`` header (RFC 9110 IMF-fixdate, or the obsolete forms) as aware UTC, None if unreadable."""
    if not text:
        return None
    from email.utils import parsedate_to_datetime  # only on the rare skew path: email.utils is slow to import

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no further claim (RFC 5322 3.3)
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def skew_offset(
    code: str | None, server_date: datetime | None, local_now: datetime, offset: timedelta
) -> timedelta | None:
    """The new clock offset (server minus local clock) when a skew error proves the clock wrong, else None.

    ``local_now`` is the uncorrected local clock and ``offset`` the correction
    in use; an error whose ``Date`` agrees with the corrected clock is not
    skew (another retry would fail the same way), so it gives None.
    """
    if code not in SKEW_CODES or server_date is None:
        return None
    if abs(server_date - (local_now + offset)) <= SKEW_THRESHOLD:
        return None
    return server_date - local_now
