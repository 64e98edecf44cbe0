"""The async forms of pagination and the waiters decide exactly as the sync forms: one core, two drivers.

Every scripted scenario of ``test_waiters.py`` and random page sequences
like those of ``test_paginate.py`` run through both the sync function and its
``*_async`` twin (an awaitable ``call`` and ``sleep`` over the same script),
and must give the same requests, sleeps, progress reports and outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ec2codec
from ec2codec.client import pagination
from ec2codec.client._steps import Pause, Request, run, run_async
from ec2codec.client.import_waiter import wait_import_snapshot, wait_import_snapshot_async
from ec2codec.client.waiters import wait, wait_async
from ec2codec.errors import ServiceError
from tests.client.test_paginate import FakeService, _reservations
from tests.client.test_waiters import CASES, TASK, FakeClock, Script, _error, _task


def _outcome(run_it: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return ("ok", run_it())
    except ec2codec.Error as exc:
        return (type(exc).__name__, str(exc))


def _awaitable(call: Callable[[str, Mapping[str, Any]], dict[str, Any]]) -> Any:
    async def acall(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)  # a real suspension point between request and answer
        return call(operation, params)

    return acall


def _async_sleep(record: Callable[[float], None]) -> Any:
    async def sleep(seconds: float) -> None:
        record(seconds)

    return sleep


@pytest.mark.parametrize(("name", "params", "responses", "outcome", "sleeps"), CASES)
def test_wait_async_decides_as_wait(
    name: str, params: dict[str, Any], responses: list[Any], outcome: str, sleeps: list[float]
) -> None:
    sync_script, sync_slept = Script(responses), []
    expected = _outcome(lambda: wait(sync_script, name, params, sleep=sync_slept.append))
    async_script, async_slept = Script(responses), []
    got = _outcome(
        lambda: asyncio.run(wait_async(_awaitable(async_script), name, params, sleep=_async_sleep(async_slept.append)))
    )
    assert got == expected
    assert (got[0] == "ok") is (outcome == "success")
    assert async_script.requests == sync_script.requests
    assert async_slept == sync_slept == sleeps


_IMPORTS = [
    pytest.param(
        [_task("pending"), _task("active", "10", "validating"), _task("active", "10", "validating"),
         _task("completed", SnapshotId="snap-1")], {}, id="completes",
    ),
    pytest.param([_task("active", "5"), _task("deleted", message="User initiated")], {}, id="cancelled"),
    pytest.param([_task("active", "42")] * 10, {"timeout": 40}, id="deadline"),
    pytest.param([{}] * 5, {}, id="never-listed"),
    pytest.param([_error("InvalidConversionTaskId"), _task("completed", SnapshotId="s")], {}, id="listed-late"),
    pytest.param([_error("InvalidConversionTaskId.Malformed")], {}, id="malformed"),
    pytest.param([_task("active"), {"ImportSnapshotTasks": []}], {}, id="vanished"),
    pytest.param([_error("UnauthorizedOperation")], {}, id="other-error"),
]  # fmt: skip


@pytest.mark.parametrize(("responses", "options"), _IMPORTS)
def test_wait_import_snapshot_async_reports_and_decides_as_the_sync_waiter(
    responses: list[Any], options: dict[str, Any]
) -> None:
    def run_sync() -> tuple[Any, ...]:
        script, clock, seen = Script(responses), FakeClock(), []
        outcome = _outcome(
            lambda: wait_import_snapshot(
                script, TASK, on_progress=seen.append, clock=clock, sleep=clock.sleep, **options
            )
        )
        return outcome, seen, clock.sleeps, script.requests

    def run_async() -> tuple[Any, ...]:
        script, clock, seen = Script(responses), FakeClock(), []
        outcome = _outcome(
            lambda: asyncio.run(
                wait_import_snapshot_async(
                    _awaitable(script), TASK, on_progress=seen.append, clock=clock, sleep=_async_sleep(clock.sleep),
                    **options,
                )
            )
        )  # fmt: skip
        return outcome, seen, clock.sleeps, script.requests

    assert run_async() == run_sync()


def test_async_argument_errors_are_raised_at_the_await() -> None:
    with pytest.raises(ec2codec.ValidationError, match="poll"):
        asyncio.run(wait_import_snapshot_async(_awaitable(Script([])), TASK, poll=0))
    with pytest.raises(ec2codec.ModelError, match="unknown waiter"):
        asyncio.run(wait_async(_awaitable(Script([])), "InstanceFlying"))


def test_an_exception_from_call_reaches_the_core_where_it_would_have_been_raised() -> None:
    # The drivers throw call's exception into the core at its yield: a ServiceError
    # the core handles is handled, anything else propagates from the driver.
    def core() -> Any:
        try:
            yield Request("DescribeRegions", {})
        except ServiceError as exc:
            handled = exc.code
        yield Pause(1.5)
        answer = yield Request("DescribeRegions", {})
        return handled, answer

    def scripted() -> Callable[[str, Mapping[str, Any]], dict[str, Any]]:
        answers = iter([_error("Throttling"), {"Regions": []}])

        def call(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
            answer = next(answers)
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call

    slept: list[float] = []
    assert run(core(), scripted(), slept.append) == ("Throttling", {"Regions": []})
    assert asyncio.run(run_async(core(), _awaitable(scripted()), _async_sleep(slept.append))) == (
        "Throttling",
        {"Regions": []},
    )
    assert slept == [1.5, 1.5]

    def broken(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        raise ec2codec.ParseError("truncated")

    with pytest.raises(ec2codec.ParseError):
        run(core(), broken, lambda s: None)
    with pytest.raises(ec2codec.ParseError):
        asyncio.run(run_async(core(), _awaitable(broken), _async_sleep(slept.append)))


# -- pagination ---------------------------------------------------------------------------------------------------

_TOKENS = st.one_of(st.sampled_from(["t1", "t2", "t3", ""]), st.none())


def _pages(tokens: list[str | None]) -> list[dict[str, Any]]:
    return [_reservations(f"r-{i}", token=t) for i, t in enumerate(tokens)] + [_reservations()]


async def _collect(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


@given(tokens=st.lists(_TOKENS, min_size=1, max_size=6), page_size=st.none() | st.integers(1, 50))
def test_paginate_async_pages_as_paginate(tokens: list[str | None], page_size: int | None) -> None:
    sync_service, async_service = FakeService(_pages(tokens)), FakeService(_pages(tokens))
    params = {"Filters": [{"Name": "tag:x", "Values": ["y"]}]}
    expected = _outcome(
        lambda: list(pagination.paginate(sync_service, "DescribeInstances", params, page_size=page_size))
    )
    pages = pagination.paginate_async(_awaitable(async_service), "DescribeInstances", params, page_size=page_size)
    got = _outcome(lambda: asyncio.run(_collect(pages)))
    assert got == expected
    assert async_service.requests == sync_service.requests
    assert params == {"Filters": [{"Name": "tag:x", "Values": ["y"]}]}


def test_paginate_items_async_and_laziness() -> None:
    pages = [_reservations("r-1", "r-2", token="t1"), _reservations("r-3")]
    service = FakeService(pages)
    items = pagination.paginate_items_async(_awaitable(service), "DescribeInstances")
    assert service.requests == []  # nothing is sent before the first item is asked for

    async def first_then_rest() -> tuple[Any, list[Any]]:
        first = await items.__anext__()
        return first, [item async for item in items]

    first, rest = asyncio.run(first_then_rest())
    assert [first, *rest] == [{"ReservationId": r} for r in ("r-1", "r-2", "r-3")]
    assert [dict(p) for _, p in service.requests] == [{}, {"NextToken": "t1"}]
    with pytest.raises(pagination.PaginationError, match="result_key"):
        pagination.paginate_items_async(_awaitable(service), "DescribeInstances", result_key="Nope")
