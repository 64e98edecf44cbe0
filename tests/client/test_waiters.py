"""Waiters: scripted services against real waiter configs, every waiter's decisions against botocore's,
and the import-snapshot waiter with a fake clock.

The scripted services validate each request through ``ec2codec.serialize``.
botocore sees the same responses in its own shape: a success carries
``ResponseMetadata.HTTPStatusCode`` 200, an error is ``{"Error": {...}}``.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Mapping
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

import ec2codec
from ec2codec.client.import_waiter import ImportProgress, ImportTaskFailed, ImportTaskNotFound, wait_import_snapshot
from ec2codec.client.waiters import WaiterError, load_waiter, select_acceptor, wait, waiter_names
from ec2codec.errors import ModelError, ServiceError, ValidationError

Response = dict[str, Any] | ServiceError


class Script:
    """Answers with the given responses in order (a ServiceError is raised), recording each request."""

    def __init__(self, responses: list[Response], *, validate: bool = True) -> None:
        self.responses = list(responses)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.validate = validate

    def __call__(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        if self.validate:
            ec2codec.serialize(operation, params)
        self.requests.append((operation, copy.deepcopy(dict(params))))
        response = self.responses[len(self.requests) - 1]
        if isinstance(response, ServiceError):
            raise response
        return response


def _instances(*states: str) -> dict[str, Any]:
    return {
        "Reservations": [{"Instances": [{"InstanceId": f"i-{n}", "State": {"Name": s}} for n, s in enumerate(states)]}]
    }


def _error(code: str, status: int | None = 400) -> ServiceError:
    return ServiceError(code, f"message for {code}", "req-1", status=status)


NOT_FOUND = _error("InvalidInstanceID.NotFound")

# (waiter, params, responses, outcome, sleeps): outcome "success", or a regex the WaiterError's reason matches.
CASES = [
    ("InstanceRunning", {"InstanceIds": ["i-0"]}, [_instances("pending"), _instances("running")], "success", [15]),
    (
        "InstanceRunning",
        {},
        [NOT_FOUND, _instances("pending", "running"), _instances("running")] * 1,
        "success",
        [15] * 2,
    ),
    (
        "InstanceRunning",
        {},
        [_instances("pending"), _instances("running", "stopping")],
        "terminal failure.*stopping",
        [15],
    ),
    ("InstanceRunning", {}, [_error("UnauthorizedOperation", 403)], r"An error occurred \(UnauthorizedOperation\)", []),
    ("InstanceRunning", {}, [{"Reservations": []}, _instances("running")], "success", [15]),
    (
        "VolumeDeleted",
        {"VolumeIds": ["vol-1"]},
        [{"Volumes": [{"State": "deleting"}]}, _error("InvalidVolume.NotFound")],
        "success",
        [15],
    ),
    ("VpcExists", {"VpcIds": ["vpc-1"]}, [_error("InvalidVpcID.NotFound"), {"Vpcs": []}], "success", [1]),
    (
        "SnapshotImported",
        {},
        [{"ImportSnapshotTasks": [{"SnapshotTaskDetail": {"Status": "error"}}]}],
        "terminal failure.*error",
        [],
    ),
    ("NetworkInterfaceAvailable", {}, [_error("InvalidNetworkInterfaceID.NotFound")], "terminal failure.*NotFound", []),
    ("ImageExists", {}, [_error("InvalidAMIID.NotFound"), {"Images": [{"ImageId": "ami-1"}]}], "success", [15]),
    ("SecurityGroupVpcAssociationDisassociated", {}, [{"SecurityGroupVpcAssociations": []}], "success", []),
    (
        "StoreImageTaskComplete",
        {},
        [
            {"StoreImageTaskResults": [{"StoreTaskState": "InProgress"}]},
            {"StoreImageTaskResults": [{"StoreTaskState": "Completed"}]},
        ],
        "success",
        [5],
    ),
    ("ImageExists", {}, [{}, {"Images": [{"ImageId": "ami-1"}]}], "success", [15]),  # botocore: JMESPathTypeError
    (
        "PasswordDataAvailable",
        {"InstanceId": "i-1"},
        [{"PasswordData": ""}, {"PasswordData": "c2VjcmV0"}],
        "success",
        [15],
    ),
]


@pytest.mark.parametrize(("name", "params", "responses", "outcome", "sleeps"), CASES)
def test_waiter_cases(
    name: str, params: dict[str, Any], responses: list[Response], outcome: str, sleeps: list[float]
) -> None:
    script, slept = Script(responses), []
    before = copy.deepcopy(params)
    if outcome == "success":
        result = wait(script, name, params, sleep=slept.append)
        last = responses[len(script.requests) - 1]
        if isinstance(last, ServiceError):
            assert result == {
                "Error": {"Code": last.code, "Message": last.message},
                "ResponseMetadata": {"RequestId": "req-1"},
            }
        else:
            assert result is last
    else:
        with pytest.raises(WaiterError) as info:
            wait(script, name, params, sleep=slept.append)
        assert re.search(outcome, info.value.reason), info.value.reason
        assert info.value.name == name
        assert str(info.value) == f"Waiter {name} failed: {info.value.reason}"
        last = responses[len(script.requests) - 1]
        assert info.value.last_response is last
    assert slept == sleeps
    assert params == before
    operation = load_waiter(name).operation
    assert script.requests == [(operation, params)] * len(script.requests)


def test_attempts_run_out() -> None:
    script, slept = Script([_instances("pending")] * 3), []
    with pytest.raises(WaiterError, match=r"Max attempts exceeded$") as info:
        wait(script, "InstanceRunning", max_attempts=3, delay=2.5, sleep=slept.append)
    assert slept == [2.5, 2.5] and len(script.requests) == 3
    assert info.value.last_response == _instances("pending")


def test_attempts_run_out_after_a_retry_state() -> None:
    script = Script([NOT_FOUND, _instances("pending")])
    with pytest.raises(WaiterError) as info:
        wait(script, "InstanceRunning", max_attempts=2, sleep=lambda _: None)
    assert info.value.reason == (
        "Max attempts exceeded. Previously accepted state: "
        "Matched expected service error code: InvalidInstanceID.NotFound"
    )


def test_configured_attempts_and_delay_by_default() -> None:
    script, slept = Script([_instances("pending")] * 40), []
    with pytest.raises(WaiterError, match="Max attempts exceeded"):
        wait(script, "InstanceRunning", sleep=slept.append)
    assert len(script.requests) == 40 and slept == [15] * 39


def test_other_exceptions_propagate() -> None:
    def call(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        raise ec2codec.ParseError("truncated")

    with pytest.raises(ec2codec.ParseError):
        wait(call, "InstanceRunning")


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"delay": -1}, "delay"),
        ({"delay": float("nan")}, "delay"),
        ({"params": ["x"]}, "params"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as info:
        wait(Script([]), "InstanceRunning", **kwargs)
    assert [path for path, _ in info.value.problems] == [problem]


def test_unknown_waiter() -> None:
    with pytest.raises(ModelError, match=r"unknown waiter 'InstanceFlying'.*InstanceRunning"):
        wait(Script([]), "InstanceFlying")


def test_waiter_names_match_botocore() -> None:
    from botocore.loaders import Loader

    names = waiter_names()
    assert names == sorted(Loader().load_service_model("ec2", "waiters-2")["waiters"])
    assert {"InstanceRunning", "SnapshotImported", "VolumeDeleted"} <= set(names)


# -- every waiter's decisions against botocore --------------------------------------------------------------------

_OTHER_STATES = ["pending", "unknown", "", "Completed"]


def _paths(name: str) -> list[list[str]]:
    """The document paths a waiter reads, e.g. ``Reservations[].Instances[].State.Name`` split on dots."""
    found: set[str] = set()
    for acceptor in load_waiter(name).acceptors:
        if acceptor.argument:
            inner = re.fullmatch(r"length\((.*)\) [=>]+ `0`", acceptor.argument)
            found.add(inner.group(1) if inner else acceptor.argument)
    # A path that prefixes another is covered by the longer one.
    return [p.split(".") for p in found if not any(o != p and o.startswith(p) for o in found)]


def _document(path: list[str], leaf: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    if not path:
        return leaf
    head, rest = path[0], path[1:]
    key = head.removesuffix("[]")
    value = st.lists(_document(rest, leaf), max_size=3) if head.endswith("[]") else _document(rest, leaf)
    return st.fixed_dictionaries({}, optional={key: value})


def _merged(documents: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for document in documents:
        out.update(document)
    return out


@functools.cache
def _responses(name: str) -> st.SearchStrategy[Response]:
    acceptors = load_waiter(name).acceptors
    values = [a.expected for a in acceptors if a.matcher.startswith("path") and isinstance(a.expected, str)]
    leaf = st.sampled_from(values + _OTHER_STATES) | st.none()
    successes = st.tuples(*(_document(p, leaf) for p in _paths(name))).map(_merged)
    codes = [a.expected for a in acceptors if a.matcher == "error" and isinstance(a.expected, str)]
    errors = st.builds(
        _error,
        st.sampled_from([*codes, "RequestLimitExceeded", "UnauthorizedOperation"]),
        st.sampled_from([400, 403, 503, None]),
    )
    return st.one_of(successes, errors)


def _botocore_shape(response: Response) -> dict[str, Any]:
    if isinstance(response, ServiceError):
        metadata = {"RequestId": response.request_id} | ({"HTTPStatusCode": response.status} if response.status else {})
        return {"Error": {"Code": response.code, "Message": response.message}, "ResponseMetadata": metadata}
    return {**copy.deepcopy(response), "ResponseMetadata": {"RequestId": "req-1", "HTTPStatusCode": 200}}


@functools.cache
def _botocore_waiter(name: str) -> Any:
    from botocore.loaders import Loader
    from botocore.waiter import WaiterModel

    return WaiterModel(Loader().load_service_model("ec2", "waiters-2")).get_waiter(name)


def _botocore_matches(acceptor: Any, response: Response) -> bool:
    from jmespath.exceptions import JMESPathTypeError

    try:
        return bool(acceptor.matcher_func(_botocore_shape(response)))
    except JMESPathTypeError:
        return False  # botocore's waiter crashes here; ec2codec's acceptor does not match (a documented difference)


@pytest.mark.parametrize("name", waiter_names())
@given(data=st.data())
def test_decision_matches_botocore(name: str, data: st.DataObject) -> None:
    response = data.draw(_responses(name))
    ours = select_acceptor(load_waiter(name), response)
    theirs = next((a for a in _botocore_waiter(name).acceptors if _botocore_matches(a, response)), None)
    assert (ours and (ours.state, ours.matcher, ours.expected)) == (
        theirs and (theirs.state, theirs.matcher, theirs.expected)
    )


def _botocore_wait(name: str, responses: list[Response]) -> tuple[str, int]:
    from botocore.exceptions import WaiterError as BotocoreWaiterError
    from botocore.waiter import Waiter
    from jmespath.exceptions import JMESPathTypeError

    calls = []

    def method(**kwargs: Any) -> dict[str, Any]:
        calls.append(kwargs)
        return _botocore_shape(responses[len(calls) - 1])

    try:
        with mock.patch("botocore.waiter.time.sleep"):
            Waiter(name, _botocore_waiter(name), method).wait(WaiterConfig={"MaxAttempts": len(responses), "Delay": 0})
    except BotocoreWaiterError as exc:
        return exc.kwargs["reason"].split(". Previously accepted state")[0], len(calls)
    except JMESPathTypeError:
        reject()  # botocore crashes (a documented difference, covered by test_decision_matches_botocore)
    return "success", len(calls)


@pytest.mark.parametrize(
    "name",
    [
        "InstanceRunning",
        "VolumeDeleted",
        "VpcExists",
        "NatGatewayAvailable",
        "SecurityGroupVpcAssociationDisassociated",
    ],
)
@settings(max_examples=20)
@given(data=st.data())
def test_whole_wait_matches_botocore(name: str, data: st.DataObject) -> None:
    responses = data.draw(st.lists(_responses(name), min_size=1, max_size=4))
    script = Script(responses, validate=False)
    try:
        wait(script, name, max_attempts=len(responses), sleep=lambda _: None)
        ours = "success"
    except WaiterError as exc:
        ours = exc.reason.split(". Previously accepted state")[0]
    assert (ours, len(script.requests)) == _botocore_wait(name, responses)


# -- wait_import_snapshot -------------------------------------------------------------------------------------------

TASK = "import-snap-0123456789abcdef0"


class FakeClock:
    """A monotonic clock that only ``sleep`` advances."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _task(status: str, progress: str | None = None, message: str | None = None, **extra: Any) -> dict[str, Any]:
    detail = {"Status": status, "Format": "VHD", **extra}
    if progress is not None:
        detail["Progress"] = progress
    if message is not None:
        detail["StatusMessage"] = message
    return {"ImportSnapshotTasks": [{"ImportTaskId": TASK, "Description": "disk", "SnapshotTaskDetail": detail}]}


def test_import_progress_reported_once_per_change() -> None:
    responses = [
        _task("pending", SnapshotId=""),
        _task("active", "10", "validating"),
        _task("active", "10", "validating"),
        _task("active", "55", "downloading/converting"),
        _task("completed", SnapshotId="snap-1"),
    ]
    script, clock, seen = Script(responses), FakeClock(), []
    result = wait_import_snapshot(script, TASK, on_progress=seen.append, clock=clock, sleep=clock.sleep)
    assert result == responses[-1]["ImportSnapshotTasks"][0]
    assert [(p.status, p.progress, p.status_message, p.snapshot_id) for p in seen] == [
        ("pending", None, None, None),
        ("active", 10, "validating", None),
        ("active", 55, "downloading/converting", None),
        ("completed", None, None, "snap-1"),
    ]
    assert all(isinstance(p, ImportProgress) and p.task_id == TASK and p.detail["Format"] == "VHD" for p in seen)
    assert clock.sleeps == [15.0] * 4
    assert script.requests == [("DescribeImportSnapshotTasks", {"ImportTaskIds": [TASK]})] * 5


@pytest.mark.parametrize(
    ("last", "status", "message"),
    [
        (
            _task("deleting", "30", "ClientError: Disk validation failed [Unsupported specified file format]"),
            "deleting",
            "ClientError: Disk validation failed [Unsupported specified file format]",
        ),
        (_task("deleted", message="User initiated task cancelation"), "deleted", "User initiated task cancelation"),
        (_task("error"), "error", None),
        (_task("active", "20", "ServerError: internal failure"), "active", "ServerError: internal failure"),
    ],
)
def test_import_failure(last: dict[str, Any], status: str, message: str | None) -> None:
    clock = FakeClock()
    with pytest.raises(ImportTaskFailed) as info:
        wait_import_snapshot(Script([_task("active", "5", "pending"), last]), TASK, clock=clock, sleep=clock.sleep)
    error = info.value
    assert isinstance(error, WaiterError) and isinstance(error, ec2codec.Error)
    assert (error.status, error.status_message) == (status, message)
    assert error.task == last["ImportSnapshotTasks"][0] and error.last_response is last
    assert str(error).startswith(f"import snapshot task {TASK} ended {status}")


def test_import_timeout_never_sleeps_past_the_deadline() -> None:
    script, clock, seen = Script([_task("active", "42", "downloading/converting")] * 10), FakeClock(), []
    with pytest.raises(WaiterError) as info:
        wait_import_snapshot(script, TASK, timeout=40, poll=15, on_progress=seen.append, clock=clock, sleep=clock.sleep)
    assert not isinstance(info.value, ImportTaskFailed)
    assert info.value.reason == "timeout" and info.value.name == "SnapshotImported"
    assert "status active, progress 42%, 'downloading/converting'" in str(info.value)
    assert clock.sleeps == [15, 15, 10] and len(script.requests) == 4  # polled once more at the deadline
    assert len(seen) == 1


def test_import_default_timeout_is_an_hour() -> None:
    script, clock = Script([_task("active", "1")] * 300), FakeClock()
    with pytest.raises(WaiterError, match="after 3600s"):
        wait_import_snapshot(script, TASK, clock=clock, sleep=clock.sleep)
    assert sum(clock.sleeps) == 3600 and len(script.requests) == 241


@pytest.mark.parametrize(
    "answer",
    [
        {"ImportSnapshotTasks": []},
        {},
        {"ImportSnapshotTasks": [{"ImportTaskId": "import-snap-other"}]},
        _error("InvalidConversionTaskId"),
        _error("InvalidImportTaskId.NotFound"),
    ],
)
def test_import_task_never_listed(answer: Response) -> None:
    script, clock = Script([answer] * 5), FakeClock()
    with pytest.raises(ImportTaskNotFound, match=f"{TASK} not found") as info:
        wait_import_snapshot(script, TASK, clock=clock, sleep=clock.sleep)
    # EC2 is eventually consistent: an unknown task is asked for again for 30 s before giving up.
    assert clock.sleeps == [15, 15] and len(script.requests) == 3
    assert info.value.last_response is answer and info.value.reason == "not found"


def test_import_task_listed_after_a_moment() -> None:
    script, clock = Script([_error("InvalidConversionTaskId"), _task("completed", SnapshotId="snap-1")]), FakeClock()
    assert (
        wait_import_snapshot(script, TASK, clock=clock, sleep=clock.sleep)["SnapshotTaskDetail"]["Status"]
        == "completed"
    )


def test_import_task_malformed_or_vanished() -> None:
    with pytest.raises(ImportTaskNotFound, match=r"InvalidConversionTaskId\.Malformed"):
        wait_import_snapshot(Script([_error("InvalidConversionTaskId.Malformed")]), "snap-1", sleep=pytest.fail)
    clock = FakeClock()
    with pytest.raises(ImportTaskNotFound, match="it disappeared"):
        wait_import_snapshot(
            Script([_task("active"), {"ImportSnapshotTasks": []}]), TASK, clock=clock, sleep=clock.sleep
        )


def test_import_other_errors_propagate() -> None:
    with pytest.raises(ServiceError, match="UnauthorizedOperation"):
        wait_import_snapshot(Script([_error("UnauthorizedOperation")]), TASK, sleep=pytest.fail)


def test_import_short_timeout_while_never_listed() -> None:
    clock = FakeClock()
    with pytest.raises(WaiterError, match="the task was never listed") as info:
        wait_import_snapshot(Script([{}] * 3), TASK, timeout=20, poll=15, clock=clock, sleep=clock.sleep)
    assert info.value.reason == "timeout" and clock.sleeps == [15, 5]


def test_import_odd_progress_values() -> None:
    seen: list[ImportProgress] = []
    wait_import_snapshot(Script([_task("completed", "n/a", SnapshotId="snap-9")]), TASK, on_progress=seen.append)
    assert (seen[0].progress, seen[0].snapshot_id) == (None, "snap-9")


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"task_id": ""}, "task_id"),
        ({"poll": 0}, "poll"),
        ({"timeout": -1}, "timeout"),
        ({"poll": float("inf")}, "poll"),
    ],
)
def test_import_bad_arguments(kwargs: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as info:
        wait_import_snapshot(Script([]), **{"task_id": TASK, **kwargs})
    assert [path for path, _ in info.value.problems] == [problem]
