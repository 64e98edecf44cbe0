"""One call's attempts as a sans-I/O state machine: send, sleep, re-sign with a new clock offset, or give up.

A transport (the ``requests`` client today, an asyncio one later) owns the
I/O and asks :class:`Attempts` what to do next; the machine owns every
decision and nothing else (no sockets, no clock, no sleeping):

* :meth:`Attempts.start` gives the first :class:`Send`;
* after a failed attempt, :meth:`Attempts.failed` gives a :class:`Send` that
  re-signs at once with a corrected clock offset (clock skew, at most once per
  call and not counted as an attempt), a :class:`Sleep` before the next
  attempt (botocore's ``standard`` mode: full-jitter backoff), or
  :class:`GiveUp` with the error to raise;
* after the sleep, :meth:`Attempts.slept` gives the next :class:`Send`.

``mode`` is ``"standard"`` (the default) or ``"legacy"``, botocore's two retry
policies (:mod:`._retry`); clock skew is corrected the same way in both.

The rules themselves are the pure functions of :mod:`._retry`. Success needs
no decision: the transport returns the result. Because two transports drive
the same machine, they make the same decisions for the same faults.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from ..errors import Error, ParseError, ServiceError
from . import _retry

__all__ = ["Action", "Attempts", "GiveUp", "Send", "Sleep", "TransportError", "is_retryable"]


class TransportError(Error):
    """The request or its response did not cross the network whole: refused, reset, timed out, cut short.

    ``retryable`` is False for failures no retry can mend (an invalid URL).
    The message names the underlying exception; the exception itself is the
    ``__cause__``.
    """

    def __init__(self, message: str, *, retryable: bool = True, incomplete_body: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        #: The response began but its body was cut short or could not be decoded.
        self.incomplete_body = incomplete_body


class Send(NamedTuple):
    """Sign the request afresh with ``clock_offset`` added to the local clock, and send it."""

    attempt: int  # 1-based; a re-sign after clock skew keeps the number of the attempt it repeats
    clock_offset: timedelta
    resigned: bool = False  # True when this send only corrects the clock after a skew error


class Sleep(NamedTuple):
    """Wait ``seconds``, then call :meth:`Attempts.slept`."""

    seconds: float
    error: Error  # why the attempt failed (for the log)


class GiveUp(NamedTuple):
    """Raise ``error``: it is not retryable, or no attempts are left."""

    error: Error


Action = Send | Sleep | GiveUp


def is_retryable(error: Error, mode: str = "standard") -> bool:
    """Whether a failed attempt is worth repeating (botocore's standard mode, :func:`._retry.is_retryable`)."""
    if mode == "legacy":
        if isinstance(error, ServiceError):
            return _retry.is_retryable_legacy(error.code, error.status)
        # Only connection failures and timeouts; a body cut short is not retried in legacy mode.
        return isinstance(error, TransportError) and error.retryable and not error.incomplete_body
    if isinstance(error, ServiceError):
        return _retry.is_retryable(error.code, error.status)
    if isinstance(error, TransportError):
        return _retry.is_retryable(incomplete=error.retryable)
    # A ParseError of a 2xx body: cut short or garbled in transit.
    return _retry.is_retryable(incomplete=isinstance(error, ParseError))


class Attempts:
    """The decisions of one call. ``clock_offset`` is where the client's learnt offset starts and ends up."""

    def __init__(
        self, max_attempts: int, clock_offset: timedelta, rng: Callable[[], float], *, mode: str = "standard"
    ) -> None:
        self.max_attempts = max_attempts
        self.clock_offset = clock_offset
        self.attempt = 1
        self.mode = mode
        self._rng = rng
        self._skew_corrected = False

    def start(self) -> Send:
        return Send(self.attempt, self.clock_offset)

    def failed(
        self, error: Error, server_date: str | None, local_now: datetime, retry_after: str | None = None
    ) -> Action:
        """The next action after the current attempt failed with ``error``.

        ``server_date`` is the response's ``Date`` header (None when no
        response arrived), ``local_now`` the uncorrected local clock when it
        arrived, and ``retry_after`` its ``x-amz-retry-after`` header.
        """
        if isinstance(error, ServiceError) and error.code in _retry.SKEW_CODES and not self._skew_corrected:
            offset = _retry.skew_offset(error.code, _retry.parse_http_date(server_date), local_now, self.clock_offset)
            if offset is not None:
                # Nothing transient happened, so no backoff and no attempt spent;
                # once per call, so a server whose clock keeps moving cannot loop us.
                self.clock_offset = offset
                self._skew_corrected = True
                return Send(self.attempt, offset, resigned=True)
        if not _retry.should_retry(self.attempt, self.max_attempts, is_retryable(error, self.mode)):
            return GiveUp(error)
        if self.mode == "legacy":
            return Sleep(_retry.legacy_backoff_delay(self.attempt, self._rng), error)
        throttling = isinstance(error, ServiceError) and _retry.is_throttling(error.code, error.status)
        delay = _retry.backoff_delay(
            self.attempt, self._rng, throttling=throttling, retry_after=_retry.parse_retry_after(retry_after)
        )
        return Sleep(delay, error)

    def slept(self) -> Send:
        self.attempt += 1
        return Send(self.attempt, self.clock_offset)
