"""Sans-I/O cores for the polling loops, and the two drivers (sync and async) that carry them out.

Waiters (:mod:`.waiters`, :mod:`.import_waiter`) decide what to do in a
generator that does no I/O: it yields a :class:`Request` (send this
operation) or a :class:`Pause` (sleep this long) and is resumed with the
response, or has the exception the call raised thrown in at the ``yield``,
exactly where an inline ``call(...)`` would have raised it. Its return value
is the waiter's result. :func:`run` drives such a generator with a sync
``call`` and ``sleep``, :func:`run_async` with awaitable ones, so the sync and
the asyncio clients make the same decisions from one implementation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import Any, NamedTuple, TypeVar

__all__ = ["AsyncCall", "AsyncSleep", "Pause", "Request", "Step", "Steps", "run", "run_async"]

T = TypeVar("T")


class Request(NamedTuple):
    """Send ``operation`` with ``params``; resume with the response dict (or have its exception thrown in)."""

    operation: str
    params: dict[str, Any]


class Pause(NamedTuple):
    """Sleep ``seconds``; resume with None."""

    seconds: float


Step = Request | Pause
Steps = Generator[Step, Any, T]
Call = Callable[[str, Mapping[str, Any]], dict[str, Any]]
AsyncCall = Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]]
AsyncSleep = Callable[[float], Awaitable[object]]


def run(steps: Steps[T], call: Call, sleep: Callable[[float], object]) -> T:
    """Carry out ``steps`` with a blocking ``call`` and ``sleep``; return what the core returns."""
    try:
        step = next(steps)
        while True:
            if isinstance(step, Pause):
                sleep(step.seconds)
                step = steps.send(None)
                continue
            try:
                response = call(step.operation, step.params)
            except BaseException as exc:  # the core decides, as if call had raised inline
                step = steps.throw(exc)
            else:
                step = steps.send(response)
    except StopIteration as done:
        result: T = done.value
        return result


async def run_async(steps: Steps[T], call: AsyncCall, sleep: AsyncSleep) -> T:
    """Carry out ``steps`` with an awaitable ``call`` and ``sleep``; return what the core returns."""
    try:
        step = next(steps)
        while True:
            if isinstance(step, Pause):
                await sleep(step.seconds)
                step = steps.send(None)
                continue
            try:
                response = await call(step.operation, step.params)
            except BaseException as exc:  # the core decides, as if call had raised inline
                step = steps.throw(exc)
            else:
                step = steps.send(response)
    except StopIteration as done:
        result: T = done.value
        return result
