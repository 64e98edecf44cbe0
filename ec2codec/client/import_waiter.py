"""The ImportSnapshot waiter: poll one import task to its end, reporting each change of progress.

Public API::

    wait_import_snapshot(call, task_id, *, timeout=3600.0, poll=15.0, on_progress=None,
                         clock=time.monotonic, sleep=time.sleep) -> dict   # the ImportSnapshotTask
    await wait_import_snapshot_async(call, task_id, ...)   # the same, call and sleep awaitable
    ImportProgress(task_id, status, progress, status_message, snapshot_id, detail)
    ImportTaskFailed, ImportTaskNotFound   # both WaiterError

Like :mod:`ec2codec.client.waiters` it takes ``call`` (``call(operation, params) ->
dict``) and injectable ``clock`` and ``sleep``, and does no I/O of its own; its
decisions are one sans-I/O generator that the sync and the async form both
drive, so progress reports and deadlines are the same in both.

``wait_import_snapshot`` is a purpose-built waiter for ``ImportSnapshot``:
botocore's ``SnapshotImported`` gives up after 40 x 15 s = 10 minutes, which
users report as too short for real disks, and only fails on status ``error``.
What real EC2 reports (AWS CLI docs for ``describe-import-snapshot-tasks``;
field reports from osbuild-composer #706/#709 and packer #6743): a task is
``pending`` then ``active`` (``StatusMessage`` such as ``validating`` or
``downloading/converting``, ``Progress`` a string percentage), and ends
``completed`` with a ``SnapshotId``; a failed import, and a task cancelled with
``CancelImportTask``, goes to ``deleting`` then ``deleted`` with the reason in
``StatusMessage`` (``ClientError: Disk validation failed [...]``). So the task
has failed when its Status is ``deleting``, ``deleted`` or ``error`` (the
value botocore's waiter watches for), or its StatusMessage starts with
``ClientError`` or ``ServerError`` (VM Import's failure prefixes). An empty
``SnapshotId`` (sent while in progress, aws-cli #9118) is reported as None.
An unknown id is the error ``InvalidConversionTaskId`` (``.Malformed`` when it
is not an import task id at all; EC2 API Reference, "Error codes"), or a task
list without it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ..errors import ServiceError, ValidationError
from ._steps import AsyncCall, AsyncSleep, Pause, Request, Steps, run, run_async
from .waiters import Call, Response, WaiterError, check_number

__all__ = [
    "ImportProgress",
    "ImportTaskFailed",
    "ImportTaskNotFound",
    "wait_import_snapshot",
    "wait_import_snapshot_async",
]

_IMPORT_WAITER = "SnapshotImported"
_IMPORT_FAILED_STATUSES = frozenset({"deleting", "deleted", "error"})
_IMPORT_FAILED_MESSAGES = ("ClientError", "ServerError")
# EC2's codes for an unknown import task id: well-formed but unknown (retried for a
# while, EC2 being eventually consistent), and malformed (never valid).
_MISSING_TASK_CODES = frozenset({"InvalidConversionTaskId"})
_MALFORMED_TASK_CODES = frozenset({"InvalidConversionTaskId.Malformed"})
_NOT_FOUND_GRACE = 30.0


class ImportProgress(NamedTuple):
    """One observation of an import snapshot task (``SnapshotTaskDetail``), ``progress`` as an int percentage."""

    task_id: str
    status: str | None
    progress: int | None
    status_message: str | None
    snapshot_id: str | None
    detail: dict[str, Any]


class ImportTaskFailed(WaiterError):
    """The import snapshot task failed or was cancelled; ``status``, ``status_message`` and ``task`` say how."""

    def __init__(self, task: dict[str, Any], progress: ImportProgress, last_response: Response) -> None:
        self.task = task
        self.status = progress.status
        self.status_message = progress.status_message
        detail = f": {progress.status_message}" if progress.status_message else ""
        message = f"import snapshot task {progress.task_id} ended {progress.status}{detail}"
        super().__init__(_IMPORT_WAITER, "failed", last_response, message=message)


class ImportTaskNotFound(WaiterError):
    """EC2 does not know the import snapshot task (a wrong id, or a task past its retention)."""


def _observe(task_id: str, task: Mapping[str, Any]) -> ImportProgress:
    detail = task.get("SnapshotTaskDetail")
    detail = dict(detail) if isinstance(detail, Mapping) else {}
    raw_progress = detail.get("Progress")
    try:
        # Progress is a string in the API ("42"); anything else is reported as unknown.
        progress = int(raw_progress) if raw_progress is not None else None
    except (TypeError, ValueError):
        progress = None
    return ImportProgress(
        task_id=task_id,
        status=detail.get("Status"),
        progress=progress,
        status_message=detail.get("StatusMessage"),
        snapshot_id=detail.get("SnapshotId") or None,
        detail=detail,
    )


def _state(progress: ImportProgress) -> tuple[str | None, int | None, str | None]:
    """What ``on_progress`` reports changes of."""
    return progress.status, progress.progress, progress.status_message


def _has_failed(progress: ImportProgress) -> bool:
    message = progress.status_message or ""
    return progress.status in _IMPORT_FAILED_STATUSES or message.startswith(_IMPORT_FAILED_MESSAGES)


def _describe(progress: ImportProgress | None) -> str:
    if progress is None:
        return "the task was never listed"
    parts = [f"status {progress.status}"]
    if progress.progress is not None:
        parts.append(f"progress {progress.progress}%")
    if progress.status_message:
        parts.append(repr(progress.status_message))
    return "last " + ", ".join(parts)


def _find_task(task_id: str) -> Steps[tuple[dict[str, Any] | None, Response]]:
    """The task (None when EC2 does not list it) and the response or the not-found error."""
    try:
        response = yield Request("DescribeImportSnapshotTasks", {"ImportTaskIds": [task_id]})
    except ServiceError as exc:
        if exc.code in _MALFORMED_TASK_CODES:
            message = f"import snapshot task {task_id} not found: {exc.code}: {exc.message}"
            raise ImportTaskNotFound(_IMPORT_WAITER, "not found", exc, message=message) from exc
        if exc.code in _MISSING_TASK_CODES or exc.code.endswith(".NotFound"):
            return None, exc
        raise
    for task in response.get("ImportSnapshotTasks") or []:
        if isinstance(task, dict) and task.get("ImportTaskId") == task_id:
            return task, response
    return None, response


def wait_import_snapshot(
    call: Call,
    task_id: str,
    *,
    timeout: float = 3600.0,
    poll: float = 15.0,
    on_progress: Callable[[ImportProgress], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll ``DescribeImportSnapshotTasks`` until the task completes; return its ``ImportSnapshotTask`` dict.

    ``on_progress`` receives an :class:`ImportProgress` for the first
    observation and whenever (Status, Progress, StatusMessage) changes, the
    final one included. Raises :class:`ImportTaskFailed` when the task fails
    or is cancelled; :class:`ImportTaskNotFound` for a malformed id, a task
    still unknown after a grace period of 30 s (EC2 is eventually consistent,
    so a task ``ImportSnapshot`` just created may be missing at first), or one
    that disappears; :class:`WaiterError` with reason ``"timeout"`` once
    ``timeout`` seconds (by ``clock``) have passed. Sleeps never reach past the
    deadline, and the task is polled once more at it. Other ``ServiceError`` s propagate.
    """
    return run(_import_steps(task_id, timeout, poll, on_progress, clock), call, sleep)


async def wait_import_snapshot_async(
    call: AsyncCall,
    task_id: str,
    *,
    timeout: float = 3600.0,
    poll: float = 15.0,
    on_progress: Callable[[ImportProgress], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: AsyncSleep | None = None,
) -> dict[str, Any]:
    """:func:`wait_import_snapshot` with an awaitable ``call`` and ``sleep`` (``asyncio.sleep`` by default).

    ``on_progress`` is called on the event loop, so it must not block.
    """
    if sleep is None:
        import asyncio

        sleep = asyncio.sleep
    return await run_async(_import_steps(task_id, timeout, poll, on_progress, clock), call, sleep)


def _import_steps(
    task_id: str,
    timeout: float,
    poll: float,
    on_progress: Callable[[ImportProgress], None] | None,
    clock: Callable[[], float],
) -> Steps[dict[str, Any]]:
    # Arguments are checked before the generator exists, so a mistake raises at the call.
    if not isinstance(task_id, str) or not task_id:
        raise ValidationError(f"waiter {_IMPORT_WAITER}", [("task_id", f"expected a non-empty str, got {task_id!r}")])
    check_number(_IMPORT_WAITER, "timeout", timeout, 0)
    if check_number(_IMPORT_WAITER, "poll", poll, 0) == 0:
        raise ValidationError(f"waiter {_IMPORT_WAITER}", [("poll", "expected a number > 0, got 0")])
    return _polls(task_id, timeout, poll, on_progress, clock)


def _polls(
    task_id: str,
    timeout: float,
    poll: float,
    on_progress: Callable[[ImportProgress], None] | None,
    clock: Callable[[], float],
) -> Steps[dict[str, Any]]:
    """The import waiter's decisions, no I/O: yields each poll and pause, returns the completed task."""
    started = clock()
    deadline = started + timeout
    progress: ImportProgress | None = None
    while True:
        task, response = yield from _find_task(task_id)
        if task is None:
            if progress is not None or clock() - started >= _NOT_FOUND_GRACE:
                why = "it disappeared" if progress is not None else "DescribeImportSnapshotTasks does not list it"
                message = f"import snapshot task {task_id} not found: {why}"
                raise ImportTaskNotFound(_IMPORT_WAITER, "not found", response, message=message)
        else:
            observed = _observe(task_id, task)
            if on_progress is not None and (progress is None or _state(observed) != _state(progress)):
                on_progress(observed)
            progress = observed
            if progress.status == "completed":
                return task
            if _has_failed(progress):
                raise ImportTaskFailed(task, progress, response)
        remaining = deadline - clock()
        if remaining <= 0:
            message = f"import snapshot task {task_id} not completed after {timeout:g}s ({_describe(progress)})"
            raise WaiterError(_IMPORT_WAITER, "timeout", response, message=message)
        yield Pause(min(poll, remaining))
