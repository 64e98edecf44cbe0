"""Waiters: poll an EC2 operation until a resource reaches a state, with botocore's waiter semantics.

Owns the polling loops, transport-agnostic: they take ``call``
(``call(operation, params) -> dict``, raising ``ServiceError`` for EC2 error
documents) plus injectable ``sleep`` and ``clock``, and never import the
client or an HTTP library.

Public API::

    wait(call, name, params=None, *, delay=None, max_attempts=None, sleep=time.sleep) -> dict
    wait_import_snapshot(call, task_id, *, timeout=3600.0, poll=15.0, on_progress=None,
                         clock=time.monotonic, sleep=time.sleep) -> dict   # the ImportSnapshotTask
    waiter_names() -> list[str]                  # botocore's names: "InstanceRunning", "SnapshotImported", ...
    load_waiter(name) -> WaiterConfig
    select_acceptor(config, response) -> Acceptor | None   # the decision of one attempt
    ImportProgress(task_id, status, progress, status_message, snapshot_id, detail)
    WaiterError(name, reason, last_response) > ImportTaskFailed, ImportTaskNotFound

``wait`` runs botocore's waiter version 2 (``botocore/waiter.py``, the Smithy
``@waitable`` acceptor rules) over EC2's ``waiters-2.json``, bundled in
``ec2codec/_data/ec2.waiters.json`` by ``tools/build_extras.py`` and read on
first use. Each attempt's response (a dict, or the ``ServiceError`` ``call``
raised) is matched against the acceptors in order; the first match sets the
state: ``success`` returns, ``failure`` raises :class:`WaiterError`, ``retry``
sleeps ``delay`` and polls again. An error no acceptor accepts is a failure
(``"An error occurred (Code): Message"``), as in botocore. ``status``
acceptors see ``ServiceError.status`` for errors and 200 for responses (a
response that ``call`` returns is an HTTP 200 in EC2, which is what botocore's
``ResponseMetadata.HTTPStatusCode`` holds). When an ``error`` acceptor decides
``success`` (``VolumeDeleted`` on ``InvalidVolume.NotFound``), ``wait`` returns
the error in botocore's shape: ``{"Error": {"Code", "Message"}, "ResponseMetadata": {"RequestId"}}``.
Deliberate differences: ``wait`` returns the final response (botocore
returns None); "Max attempts exceeded. Previously accepted state: ..." names
the acceptor that last matched (botocore names the last one it tried); a
JMESPath type error (``length(Images[])`` on a response without ``Images``)
means the acceptor does not match, where botocore raises ``JMESPathTypeError``.

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

import functools
import json
import math
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from .errors import Error, ModelError, ServiceError, ValidationError

__all__ = [
    "BUNDLE_NAME",
    "Acceptor",
    "ImportProgress",
    "ImportTaskFailed",
    "ImportTaskNotFound",
    "WaiterConfig",
    "WaiterError",
    "bundle_provenance",
    "load_waiter",
    "select_acceptor",
    "wait",
    "wait_import_snapshot",
    "waiter_names",
]

BUNDLE_NAME = "ec2.waiters.json"

Call = Callable[[str, Mapping[str, Any]], dict[str, Any]]
Response = dict[str, Any] | ServiceError

_MATCHERS = frozenset({"path", "pathAll", "pathAny", "status", "error"})
_STATES = frozenset({"success", "failure", "retry"})
_IMPORT_WAITER = "SnapshotImported"
_IMPORT_FAILED_STATUSES = frozenset({"deleting", "deleted", "error"})
_IMPORT_FAILED_MESSAGES = ("ClientError", "ServerError")
# EC2's codes for an unknown import task id: well-formed but unknown (retried for a
# while, EC2 being eventually consistent), and malformed (never valid).
_MISSING_TASK_CODES = frozenset({"InvalidConversionTaskId"})
_MALFORMED_TASK_CODES = frozenset({"InvalidConversionTaskId.Malformed"})
_NOT_FOUND_GRACE = 30.0


class WaiterError(Error):
    """A waiter stopped without reaching success: a failure state, an unexpected error, or no attempts left.

    ``name`` is the waiter, ``reason`` why it stopped (botocore's wording for
    :func:`wait`), ``last_response`` the last response dict or ``ServiceError``.
    """

    def __init__(self, name: str, reason: str, last_response: Response | None, *, message: str | None = None) -> None:
        self.name = name
        self.reason = reason
        self.last_response = last_response
        super().__init__(message or f"Waiter {name} failed: {reason}")


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


class Acceptor(NamedTuple):
    """One acceptor of a waiter: when ``matcher`` finds ``expected`` (at ``argument``), move to ``state``."""

    state: str
    matcher: str
    expected: Any
    argument: str | None


class WaiterConfig(NamedTuple):
    """One waiter of ``waiters-2.json``: the operation to poll, how often, and its acceptors in order."""

    name: str
    operation: str
    delay: float
    max_attempts: int
    acceptors: tuple[Acceptor, ...]


class ImportProgress(NamedTuple):
    """One observation of an import snapshot task (``SnapshotTaskDetail``), ``progress`` as an int percentage."""

    task_id: str
    status: str | None
    progress: int | None
    status_message: str | None
    snapshot_id: str | None
    detail: dict[str, Any]


@functools.cache
def _bundle() -> dict[str, Any]:
    path = os.path.join(os.path.dirname(__file__), "_data", BUNDLE_NAME)
    with open(path, "rb") as f:
        data: dict[str, Any] = json.load(f)
    if data.get("version") != 2:
        raise ModelError(f"{BUNDLE_NAME} holds waiter version {data.get('version')!r}; only version 2 is supported")
    return data


def bundle_provenance() -> dict[str, Any]:
    """Where the bundled configs came from: ``botocore_version`` and ``generator``."""
    return {k: v for k, v in _bundle().items() if k != "waiters"}


def waiter_names() -> list[str]:
    """Every waiter, by botocore's name, sorted."""
    return sorted(_bundle()["waiters"])


def load_waiter(name: str) -> WaiterConfig:
    """The config of waiter ``name``; ``ModelError`` when there is no such waiter."""
    if not isinstance(name, str) or name not in _bundle()["waiters"]:
        raise ModelError(f"unknown waiter {name!r}; waiters: {', '.join(waiter_names())}")
    return _load_waiter(name)


@functools.cache
def _load_waiter(name: str) -> WaiterConfig:
    raw = _bundle()["waiters"][name]
    acceptors = []
    for spec in raw["acceptors"]:
        acceptor = Acceptor(spec["state"], spec["matcher"], spec["expected"], spec.get("argument"))
        if acceptor.matcher not in _MATCHERS or acceptor.state not in _STATES:
            raise ModelError(f"waiter {name}: unsupported acceptor {spec}")
        if acceptor.matcher.startswith("path"):
            _compile(acceptor.argument or "")  # a bad expression fails when the waiter loads, not mid-wait
        acceptors.append(acceptor)
    return WaiterConfig(name, raw["operation"], raw["delay"], raw["maxAttempts"], tuple(acceptors))


@functools.lru_cache(maxsize=256)
def _compile(expression: str) -> Callable[[Any], Any]:
    import jmespath  # type: ignore[import-untyped,unused-ignore]
    from jmespath.exceptions import JMESPathError  # type: ignore[import-untyped,unused-ignore]

    try:
        compiled = jmespath.compile(expression)
    except JMESPathError as exc:
        raise ModelError(f"waiter expression {expression!r} is not valid JMESPath: {exc}") from None

    def search(document: Any) -> Any:
        try:
            return compiled.search(document)
        except JMESPathError:
            # A function given the wrong type (``length()`` of a member the response lacks)
            # raises in JMESPath and in botocore's waiter; here it is a value that matches nothing.
            return None

    return search


def _matches(acceptor: Acceptor, response: Response) -> bool:
    """Whether one acceptor matches (botocore ``AcceptorConfig._create_*_matcher``)."""
    expected = acceptor.expected
    if acceptor.matcher == "error":
        # Smithy @waitable errorType: true = any error, false = no error, else one error code.
        if expected is True or expected is False:
            return isinstance(response, ServiceError) is expected
        return isinstance(response, ServiceError) and bool(response.code == expected)
    if acceptor.matcher == "status":
        if isinstance(response, ServiceError):
            return bool(response.status == expected)
        metadata = response.get("ResponseMetadata")
        status = metadata.get("HTTPStatusCode", 200) if isinstance(metadata, dict) else 200
        return bool(status == expected)
    if isinstance(response, ServiceError):
        return False  # path matchers never look into error responses
    found = _compile(acceptor.argument or "")(response)
    if acceptor.matcher == "path":
        return bool(found == expected)
    # pathAll/pathAny need a non-empty list: an empty projection proves nothing.
    if not isinstance(found, list) or not found:
        return False
    if acceptor.matcher == "pathAll":
        return all(element == expected for element in found)
    return any(element == expected for element in found)


def select_acceptor(config: WaiterConfig, response: Response) -> Acceptor | None:
    """The first acceptor of ``config`` that matches ``response``, or None: the decision of one attempt."""
    for acceptor in config.acceptors:
        if _matches(acceptor, response):
            return acceptor
    return None


def _explain(acceptor: Acceptor) -> str:
    """botocore's ``AcceptorConfig.explanation`` wording."""
    if acceptor.matcher == "path":
        return f'For expression "{acceptor.argument}" we matched expected path: "{acceptor.expected}"'
    if acceptor.matcher == "pathAll":
        return f'For expression "{acceptor.argument}" all members matched expected path: "{acceptor.expected}"'
    if acceptor.matcher == "pathAny":
        return f'For expression "{acceptor.argument}" we matched expected path: "{acceptor.expected}" at least once'
    if acceptor.matcher == "status":
        return f"Matched expected HTTP status code: {acceptor.expected}"
    return f"Matched expected service error code: {acceptor.expected}"


def _error_document(error: ServiceError) -> dict[str, Any]:
    """An error in botocore's parsed shape, for a waiter that succeeds on an error."""
    return {
        "Error": {"Code": error.code, "Message": error.message},
        "ResponseMetadata": {"RequestId": error.request_id},
    }


def _check_number(waiter: str, name: str, value: float, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < minimum:
        raise ValidationError(f"waiter {waiter}", [(name, f"expected a finite number >= {minimum:g}, got {value!r}")])
    return value


def wait(
    call: Call,
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    delay: float | None = None,
    max_attempts: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll the waiter's operation until an acceptor decides success (returns the response) or failure.

    ``delay`` (seconds between attempts) and ``max_attempts`` default to the
    waiter's config. Raises :class:`WaiterError` on a failure state, on an error
    no acceptor accepts, and when the attempts run out; ``ModelError`` for an
    unknown waiter; ``ValidationError`` for a bad ``delay``/``max_attempts``.
    """
    config = load_waiter(name)
    pause = config.delay if delay is None else _check_number(name, "delay", delay, 0)
    attempts = config.max_attempts if max_attempts is None else max_attempts
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise ValidationError(f"waiter {name}", [("max_attempts", f"expected an int >= 1, got {attempts!r}")])
    if params is not None and not isinstance(params, Mapping):
        raise ValidationError(f"waiter {name}", [("params", f"expected a mapping, got {type(params).__name__}")])
    request = dict(params or {})
    last_matched: Acceptor | None = None
    response: Response | None = None
    for attempt in range(1, attempts + 1):
        try:
            response = call(config.operation, dict(request))
        except ServiceError as exc:
            response = exc
        acceptor = select_acceptor(config, response)
        if acceptor is None:
            if isinstance(response, ServiceError):
                reason = f"An error occurred ({response.code}): {response.message}"
                raise WaiterError(name, reason, response) from response
        else:
            last_matched = acceptor
            if acceptor.state == "success":
                return _error_document(response) if isinstance(response, ServiceError) else response
            if acceptor.state == "failure":
                reason = f"Waiter encountered a terminal failure state: {_explain(acceptor)}"
                raise WaiterError(name, reason, response)
        if attempt < attempts:
            sleep(pause)
    reason = "Max attempts exceeded"
    if last_matched is not None:
        reason += f". Previously accepted state: {_explain(last_matched)}"
    raise WaiterError(name, reason, response)


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


def _find_task(call: Call, task_id: str) -> tuple[dict[str, Any] | None, Response]:
    """The task (None when EC2 does not list it) and the response or the not-found error."""
    try:
        response = call("DescribeImportSnapshotTasks", {"ImportTaskIds": [task_id]})
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
    if not isinstance(task_id, str) or not task_id:
        raise ValidationError(f"waiter {_IMPORT_WAITER}", [("task_id", f"expected a non-empty str, got {task_id!r}")])
    _check_number(_IMPORT_WAITER, "timeout", timeout, 0)
    if _check_number(_IMPORT_WAITER, "poll", poll, 0) == 0:
        raise ValidationError(f"waiter {_IMPORT_WAITER}", [("poll", "expected a number > 0, got 0")])
    started = clock()
    deadline = started + timeout
    progress: ImportProgress | None = None
    while True:
        task, response = _find_task(call, task_id)
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
        sleep(min(poll, remaining))
