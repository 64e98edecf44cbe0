"""The sans-I/O attempt machine: the same faults give the same decisions, whatever transport drives it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ec2codec import ParseError, ServiceError
from ec2codec.client.attempts import Attempts, GiveUp, Send, Sleep, TransportError, is_retryable

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
SERVER_AHEAD = "Thu, 01 Jan 2026 12:30:00 GMT"  # 30 minutes ahead of NOW
SERVER_SAME = "Thu, 01 Jan 2026 12:00:01 GMT"


def _throttled() -> ServiceError:
    return ServiceError("RequestLimitExceeded", "slow down", "r1", status=503)


def _skew() -> ServiceError:
    return ServiceError("RequestExpired", "request has expired", "r2", status=400)


def _denied() -> ServiceError:
    return ServiceError("InvalidParameterValue", "bad", "r3", status=400)


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (_throttled(), True),
        (ServiceError("InternalError", "", None, status=500), True),
        (ServiceError("RequestTimeout", "", None, status=400), True),
        (_denied(), False),
        (_skew(), False),
        (TransportError("reset"), True),
        (TransportError("bad URL", retryable=False), False),
        (ParseError("truncated"), True),
    ],
)
def test_which_failures_are_retried(error: Exception, retryable: bool) -> None:
    assert is_retryable(error) is retryable  # type: ignore[arg-type]


def _run(faults: list[tuple[Exception, str | None]], max_attempts: int = 3) -> list[object]:
    """Feed ``faults`` in order; return every action the machine chose."""
    machine = Attempts(max_attempts, timedelta(0), rng=lambda: 0.5)
    actions: list[object] = [machine.start()]
    for error, date in faults:
        action = machine.failed(error, date, NOW)  # type: ignore[arg-type]
        actions.append(action)
        if isinstance(action, Sleep):
            actions.append(machine.slept())
        elif isinstance(action, GiveUp):
            break
    return actions


def test_backoff_is_full_jitter_and_attempts_are_counted() -> None:
    actions = _run([(_throttled(), None), (_throttled(), None), (_throttled(), None)])
    assert [type(a).__name__ for a in actions] == ["Send", "Sleep", "Send", "Sleep", "Send", "GiveUp"]
    assert [a.seconds for a in actions if isinstance(a, Sleep)] == [0.5, 1.0]  # rng() * min(2 ** (n - 1), 20)
    assert [a.attempt for a in actions if isinstance(a, Send)] == [1, 2, 3]


def test_a_non_retryable_error_gives_up_at_once() -> None:
    error = _denied()
    assert _run([(error, None)]) == [Send(1, timedelta(0)), GiveUp(error)]


def test_clock_skew_resigns_once_without_spending_an_attempt() -> None:
    skew = _skew()
    actions = _run([(skew, SERVER_AHEAD), (skew, SERVER_AHEAD)], max_attempts=1)
    offset = timedelta(minutes=30)
    assert actions == [Send(1, timedelta(0)), Send(1, offset, resigned=True), GiveUp(skew)]


def test_a_skew_error_whose_date_agrees_with_us_is_not_skew() -> None:
    skew = _skew()
    assert _run([(skew, SERVER_SAME)]) == [Send(1, timedelta(0)), GiveUp(skew)]
    assert _run([(skew, None)]) == [Send(1, timedelta(0)), GiveUp(skew)]


def test_the_learnt_offset_carries_into_later_attempts() -> None:
    actions = _run([(_skew(), SERVER_AHEAD), (_throttled(), None), (TransportError("reset"), None)])
    offset = timedelta(minutes=30)
    sends = [a for a in actions if isinstance(a, Send)]
    assert [s.clock_offset for s in sends] == [timedelta(0), offset, offset, offset]
    assert actions[-1] == Send(3, offset)
