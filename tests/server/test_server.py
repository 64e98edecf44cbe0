"""LocalEC2: the import-task state machine, then the HTTP server driven with plain signed requests."""

from __future__ import annotations

import logging
import random
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
import requests

import ec2codec
from ec2codec.auth.sigv4 import Credentials
from ec2codec.server._importtasks import DRY_RUN_MESSAGE, ImportTasks, LocalError
from ec2codec.server.httpd import DEFAULT_CREDENTIALS, LocalEC2Server
from ec2codec.server.testing import LocalEC2
from tests.conftest import ROOT

CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"

T0 = 1_700_000_000.0
BUCKET = {"Format": "vhd", "UserBucket": {"S3Bucket": "b", "S3Key": "disk.vhd"}}


def _tasks(time_scale: float = 100.0, seed: int = 7) -> ImportTasks:
    return ImportTasks(time_scale=time_scale, rng=random.Random(seed))


def _import(state: ImportTasks, now: float = T0, **params: Any) -> dict[str, Any]:
    return state.import_snapshot({"DiskContainer": BUCKET, **params}, now)


def _code(call: Any, *args: Any) -> str:
    with pytest.raises(LocalError) as info:
        call(*args)
    return info.value.code


# ---------------------------------------------------------------- lifecycle


@pytest.mark.parametrize(
    ("elapsed", "status", "message", "progress"),
    [
        (0.0, "active", "pending", "3"),
        (9.9, "active", "pending", "3"),
        (10.0, "active", "downloading/converting", "10"),
        (42.5, "active", "downloading/converting", "42"),
        (99.9, "active", "downloading/converting", "99"),
        (100.0, "completed", None, None),
        (10_000.0, "completed", None, None),
    ],
)
def test_lifecycle_at_elapsed_time(elapsed: float, status: str, message: str | None, progress: str | None) -> None:
    state = _tasks()
    task_id = _import(state)["ImportTaskId"]
    task = state.describe_import_snapshot_tasks({"ImportTaskIds": [task_id]}, T0 + elapsed)["ImportSnapshotTasks"][0]
    detail = task["SnapshotTaskDetail"]
    assert detail["Status"] == status
    assert detail.get("StatusMessage") == message
    assert detail.get("Progress") == progress
    assert ("SnapshotId" in detail) == (status == "completed")
    assert detail["DiskImageSize"] == (0.0 if message == "pending" else pytest.approx(detail["DiskImageSize"]))
    if message != "pending":
        assert detail["DiskImageSize"] > 0


def test_import_answer_mirrors_ec2() -> None:
    state = _tasks()
    out = _import(
        state,
        Description="my disk",
        Encrypted=True,
        KmsKeyId="alias/k",
        RoleName="vmimport",
        TagSpecifications=[{"ResourceType": "import-snapshot-task", "Tags": [{"Key": "Name", "Value": "x"}]}],
    )
    assert out["ImportTaskId"].startswith("import-snap-") and len(out["ImportTaskId"]) == len("import-snap-") + 17
    assert out["Description"] == "my disk"
    assert out["Tags"] == [{"Key": "Name", "Value": "x"}]
    assert out["SnapshotTaskDetail"] == {
        "Description": "my disk",
        "DiskImageSize": 0.0,
        "Encrypted": True,
        "Format": "VHD",  # EC2 upper-cases the format it was given
        "KmsKeyId": "alias/k",
        "Progress": "3",
        "Status": "active",
        "StatusMessage": "pending",
        "UserBucket": {"S3Bucket": "b", "S3Key": "disk.vhd"},
    }
    done = state.describe_import_snapshot_tasks({}, T0 + 100)["ImportSnapshotTasks"][0]["SnapshotTaskDetail"]
    assert done["SnapshotId"].startswith("snap-") and len(done["SnapshotId"]) == 5 + 17
    assert done["UserBucket"] == {"S3Bucket": "b", "S3Key": "disk.vhd"}


def test_url_source_is_echoed_and_datetime_now_is_accepted() -> None:
    state = _tasks()
    now = datetime.fromtimestamp(T0, timezone.utc)
    out = state.import_snapshot({"DiskContainer": {"Format": "RAW", "Url": "s3://b/k.raw"}}, now)
    assert out["SnapshotTaskDetail"]["Url"] == "s3://b/k.raw"
    assert "UserBucket" not in out["SnapshotTaskDetail"]
    with pytest.raises(ValueError, match="aware"):
        state.import_snapshot({"DiskContainer": BUCKET}, datetime(2024, 1, 1))


def test_zero_time_scale_completes_at_once() -> None:
    state = _tasks(time_scale=0)
    assert _import(state)["SnapshotTaskDetail"]["Status"] == "completed"


def test_ids_are_reproducible_with_a_seeded_rng_and_unique() -> None:
    first = [_import(_tasks(seed=1))["ImportTaskId"] for _ in range(2)]
    assert first[0] == first[1]
    state = _tasks()
    assert len({_import(state)["ImportTaskId"] for _ in range(50)}) == 50


# ---------------------------------------------------------------- idempotency


def test_client_token_returns_the_same_task() -> None:
    state = _tasks()
    a = _import(state, ClientToken="tok")
    b = _import(state, now=T0 + 50, ClientToken="tok")
    assert a["ImportTaskId"] == b["ImportTaskId"]
    assert b["SnapshotTaskDetail"]["StatusMessage"] == "downloading/converting"  # the task's current view
    assert len(state.describe_import_snapshot_tasks({}, T0)["ImportSnapshotTasks"]) == 1
    with pytest.raises(LocalError) as mismatch:
        _import(state, ClientToken="tok", Description="other")
    assert mismatch.value.code == "IdempotentParameterMismatch"
    # DryRun is not part of the comparison
    with pytest.raises(LocalError) as info:
        _import(state, ClientToken="tok", DryRun=True)
    assert info.value.code == "DryRunOperation"


def test_task_cap_refuses_new_tasks_but_still_answers_known_tokens() -> None:
    state = ImportTasks(time_scale=100, rng=random.Random(7), max_tasks=2)
    first = _import(state, ClientToken="tok")["ImportTaskId"]
    _import(state)
    with pytest.raises(LocalError) as info:
        _import(state)
    assert (info.value.code, info.value.status) == ("ResourceLimitExceeded", 400)
    assert "2" in info.value.message
    assert _import(state, ClientToken="tok")["ImportTaskId"] == first  # a retry is not a new task
    assert len(state.describe_import_snapshot_tasks({}, T0)["ImportSnapshotTasks"]) == 2
    with pytest.raises(ValueError, match="max_tasks"):
        ImportTasks(max_tasks=0)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "MissingParameter"),
        ({"DiskContainer": {"Format": "VHD"}}, "MissingParameter"),
        ({"DiskContainer": {**BUCKET, "Url": "s3://b/k"}}, "InvalidParameterCombination"),
        ({"DiskContainer": {"Format": "VHD", "Url": "ftp://host/k"}}, "InvalidParameterValue"),
        ({"DiskContainer": {"Format": "VHD", "UserBucket": {"S3Bucket": "b"}}}, "MissingParameter"),
        ({"DiskContainer": {"UserBucket": {"S3Bucket": "b", "S3Key": "k"}}}, "MissingParameter"),
        ({"DiskContainer": {**BUCKET, "Format": "qcow2"}}, "InvalidParameterValue"),
        ({"DiskContainer": BUCKET, "KmsKeyId": "k"}, "InvalidParameterCombination"),
        ({"DiskContainer": BUCKET, "KmsKeyId": "k", "Encrypted": False}, "InvalidParameterCombination"),
        ({"DiskContainer": BUCKET, "TagSpecifications": [{"ResourceType": "snapshot"}]}, "InvalidParameterValue"),
        ({"DiskContainer": BUCKET, "TagSpecifications": [{"Tags": [{"Key": "a"}]}]}, "MissingParameter"),
        (
            {"DiskContainer": BUCKET, "TagSpecifications": [{"ResourceType": "import-snapshot-task", "Tags": [{}]}]},
            "MissingParameter",
        ),
        (
            {
                "DiskContainer": BUCKET,
                "TagSpecifications": [{"ResourceType": "import-snapshot-task", "Tags": [{"Key": "aws:x"}]}],
            },
            "InvalidParameterValue",
        ),
        (
            {
                "DiskContainer": BUCKET,
                "TagSpecifications": [{"ResourceType": "import-snapshot-task", "Tags": [{"Key": "a"}, {"Key": "a"}]}],
            },
            "InvalidParameterValue",
        ),
    ],
)
def test_import_validation_codes(params: dict[str, Any], code: str) -> None:
    state = _tasks()
    assert _code(state.import_snapshot, params, T0) == code
    # a refused request (even with DryRun) creates nothing and is not a DryRunOperation
    assert _code(state.import_snapshot, {**params, "DryRun": True}, T0) == code
    assert state.describe_import_snapshot_tasks({}, T0) == {"ImportSnapshotTasks": []}


@pytest.mark.parametrize("fmt", ["vhd", "VMDK", "Raw"])
def test_format_is_case_insensitive(fmt: str) -> None:
    out = _import(_tasks(), DiskContainer={"Format": fmt, "Url": "https://example.com/d"})
    assert out["SnapshotTaskDetail"]["Format"] == fmt.upper()


def test_dry_run_on_every_operation() -> None:
    state = _tasks()
    with pytest.raises(LocalError) as info:
        _import(state, DryRun=True)
    assert (info.value.code, info.value.message, info.value.status) == ("DryRunOperation", DRY_RUN_MESSAGE, 412)
    assert state.describe_import_snapshot_tasks({}, T0) == {"ImportSnapshotTasks": []}  # nothing created
    task_id = _import(state)["ImportTaskId"]
    assert _code(state.describe_import_snapshot_tasks, {"DryRun": True}, T0) == "DryRunOperation"
    assert _code(state.cancel_import_task, {"ImportTaskId": task_id, "DryRun": True}, T0) == "DryRunOperation"
    # the dry-run cancel changed nothing
    assert state.describe_import_snapshot_tasks({}, T0)["ImportSnapshotTasks"][0]["SnapshotTaskDetail"]["Status"] == (
        "active"
    )


# ---------------------------------------------------------------- cancel


def test_cancel_goes_deleting_then_deleted() -> None:
    state = _tasks()
    task_id = _import(state)["ImportTaskId"]
    out = state.cancel_import_task({"ImportTaskId": task_id, "CancelReason": "oops"}, T0 + 20)
    assert out == {"ImportTaskId": task_id, "PreviousState": "active", "State": "deleting"}

    def detail(at: float) -> dict[str, Any]:
        tasks = state.describe_import_snapshot_tasks({"ImportTaskIds": [task_id]}, at)["ImportSnapshotTasks"]
        return dict(tasks[0]["SnapshotTaskDetail"])

    assert detail(T0 + 25)["Status"] == "deleting"
    late = detail(T0 + 500)
    assert (late["Status"], late["StatusMessage"]) == ("deleted", "oops")
    assert "SnapshotId" not in late and "Progress" not in late
    assert _code(state.cancel_import_task, {"ImportTaskId": task_id}, T0 + 500) == "IncorrectState"


@pytest.mark.parametrize(
    ("task_id", "code"),
    [
        (None, "MissingParameter"),
        ("import-ami-0123456789abcdef0", "InvalidConversionTaskId.Malformed"),
        ("import-snap-XYZ", "InvalidConversionTaskId.Malformed"),
        ("import-snap-0123456789abcdef0", "InvalidConversionTaskId"),
    ],
)
def test_cancel_unknown_ids(task_id: str | None, code: str) -> None:
    params = {} if task_id is None else {"ImportTaskId": task_id}
    assert _code(_tasks().cancel_import_task, params, T0) == code


def test_cancel_completed_task_is_refused() -> None:
    state = _tasks()
    task_id = _import(state)["ImportTaskId"]
    with pytest.raises(LocalError) as info:
        state.cancel_import_task({"ImportTaskId": task_id}, T0 + 100)
    assert info.value.code == "IncorrectState" and "completed" in info.value.message


# ---------------------------------------------------------------- describe


def _three(state: ImportTasks) -> list[str]:
    """Three tasks at T0+50: one converting, one deleted (cancelled), one completed (older)."""
    done = _import(state, now=T0 - 100)["ImportTaskId"]
    gone = _import(state, now=T0, TagSpecifications=[_tag("team", "a")])["ImportTaskId"]
    state.cancel_import_task({"ImportTaskId": gone}, T0 + 1)
    busy = _import(state, now=T0, TagSpecifications=[_tag("team", "b")])["ImportTaskId"]
    return [done, gone, busy]


def _tag(key: str, value: str) -> dict[str, Any]:
    return {"ResourceType": "import-snapshot-task", "Tags": [{"Key": key, "Value": value}]}


def _ids(result: dict[str, Any]) -> list[str]:
    return [task["ImportTaskId"] for task in result["ImportSnapshotTasks"]]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([{"Name": "task-state", "Values": ["active"]}], [2]),
        ([{"Name": "task-state", "Values": ["completed", "deleted"]}], [0, 1]),
        ([{"Name": "task-state", "Values": ["deleting"]}], []),
        ([{"Name": "tag-key", "Values": ["team"]}], [1, 2]),
        ([{"Name": "tag:team", "Values": ["b"]}], [2]),
        ([{"Name": "tag:team", "Values": ["a", "b"]}, {"Name": "task-state", "Values": ["deleted"]}], [1]),
        ([], [0, 1, 2]),
    ],
)
def test_describe_filters(filters: list[dict[str, Any]], expected: list[int]) -> None:
    state = _tasks()
    ids = _three(state)
    assert _ids(state.describe_import_snapshot_tasks({"Filters": filters}, T0 + 50)) == [ids[i] for i in expected]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"Filters": [{"Name": "status", "Values": ["x"]}]}, "InvalidParameterValue"),
        ({"Filters": [{"Name": "task-state"}]}, "InvalidParameterValue"),
        ({"Filters": [{"Values": ["x"]}]}, "MissingParameter"),
        ({"MaxResults": 0}, "InvalidParameterValue"),
        ({"MaxResults": 501}, "InvalidParameterValue"),
        ({"MaxResults": 5, "ImportTaskIds": ["import-snap-0123456789abcdef0"]}, "InvalidParameterCombination"),
        ({"NextToken": "garbage"}, "InvalidPaginationToken"),
        ({"ImportTaskIds": ["snap-0123456789abcdef0"]}, "InvalidConversionTaskId.Malformed"),
        ({"ImportTaskIds": ["import-snap-0123456789abcdef0"]}, "InvalidConversionTaskId"),
    ],
)
def test_describe_validation_codes(params: dict[str, Any], code: str) -> None:
    assert _code(_tasks().describe_import_snapshot_tasks, params, T0) == code


def test_describe_by_ids_keeps_the_requested_order() -> None:
    state = _tasks()
    ids = _three(state)
    got = state.describe_import_snapshot_tasks({"ImportTaskIds": [ids[2], ids[0]]}, T0 + 50)
    assert _ids(got) == [ids[2], ids[0]]


def test_pagination_walks_every_task_once_even_while_states_change() -> None:
    state = _tasks()
    made = [_import(state, now=T0 + i)["ImportTaskId"] for i in range(12)]
    seen: list[str] = []
    params: dict[str, Any] = {"MaxResults": 5, "Filters": [{"Name": "task-state", "Values": ["active", "completed"]}]}
    now = T0 + 50
    pages = 0
    while True:
        page = state.describe_import_snapshot_tasks(params, now)
        pages += 1
        assert len(page["ImportSnapshotTasks"]) <= 5
        seen += _ids(page)
        if "NextToken" not in page:
            break
        params = {**params, "NextToken": page["NextToken"]}
        now += 30  # tasks complete between pages: still each one exactly once
    assert seen == made and pages == 3


def test_next_token_is_bound_to_its_query() -> None:
    state = _tasks()
    for _ in range(3):
        _import(state)
    token = state.describe_import_snapshot_tasks({"MaxResults": 1}, T0)["NextToken"]
    other = {"MaxResults": 1, "NextToken": token, "Filters": [{"Name": "task-state", "Values": ["active"]}]}
    assert _code(state.describe_import_snapshot_tasks, other, T0) == "InvalidPaginationToken"


def test_dispatch_names_exactly_three_operations() -> None:
    state = _tasks()
    assert state.dispatch("ImportSnapshot") == state.import_snapshot
    assert state.dispatch("DescribeImportSnapshotTasks") == state.describe_import_snapshot_tasks
    assert state.dispatch("CancelImportTask") == state.cancel_import_task
    assert state.dispatch("DescribeInstances") is None
    with pytest.raises(ValueError, match="time_scale"):
        ImportTasks(time_scale=-1)


# ================================================================ the HTTP server

SERVER_KEY = Credentials("AKIDSERVERTEST", "server-secret")
TEMP_KEY = Credentials("ASIATEMPTEST", "temp-secret", "session-token")
REGION = "eu-west-1"


class _Clock:
    """The server's clock, advanced by tests (the lifecycle and signature checks both read it)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def dt(self, offset: float = 0.0) -> datetime:
        return datetime.fromtimestamp(self.now + offset, timezone.utc)


@pytest.fixture(scope="module")
def clock() -> _Clock:
    return _Clock(T0)


@pytest.fixture(scope="module")
def server(clock: _Clock) -> Iterator[LocalEC2Server]:
    with LocalEC2Server(credentials=[SERVER_KEY, TEMP_KEY], time_scale=100, region=REGION, clock=clock) as srv:
        yield srv


def _post(
    server: LocalEC2Server,
    body: bytes,
    *,
    creds: Credentials = SERVER_KEY,
    region: str = REGION,
    now: datetime | None = None,
    sent_body: bytes | None = None,
    drop: str | None = None,
) -> requests.Response:
    url = server.url + "/"
    headers = ec2codec.sign("POST", url, {"Content-Type": CONTENT_TYPE}, body, creds, region, now=now or _now(server))
    if drop is not None:
        headers.pop(drop)
    return requests.post(url, headers=headers, data=body if sent_body is None else sent_body, timeout=10)


def _now(server: LocalEC2Server) -> datetime:
    return datetime.fromtimestamp(server.clock(), timezone.utc)


def _call(server: LocalEC2Server, operation: str, params: dict[str, Any], **options: Any) -> dict[str, Any]:
    response = _post(server, ec2codec.encode(operation, params), **options)
    return ec2codec.parse(operation, response.content, status=response.status_code)


def _refusal(response: requests.Response) -> tuple[int, str]:
    assert response.headers["Content-Type"].startswith("text/xml")
    with pytest.raises(ec2codec.ServiceError) as info:
        ec2codec.parse("DescribeImportSnapshotTasks", response.content, status=response.status_code)
    assert info.value.request_id == response.headers["x-amzn-RequestId"]
    return response.status_code, info.value.code


def test_lifecycle_over_http(server: LocalEC2Server, clock: _Clock) -> None:
    params = {"DiskContainer": BUCKET, "Description": "over http", "TagSpecifications": [_tag("Name", "h")]}
    started = _call(server, "ImportSnapshot", params)
    task_id = started["ImportTaskId"]
    assert started["SnapshotTaskDetail"]["StatusMessage"] == "pending"
    assert started["Tags"] == [{"Key": "Name", "Value": "h"}]
    clock.now += 50
    seen = _call(server, "DescribeImportSnapshotTasks", {"ImportTaskIds": [task_id]})["ImportSnapshotTasks"]
    assert seen[0]["SnapshotTaskDetail"]["Progress"] == "50"
    clock.now += 50
    done = _call(server, "DescribeImportSnapshotTasks", {"ImportTaskIds": [task_id]})["ImportSnapshotTasks"][0]
    assert done["SnapshotTaskDetail"]["Status"] == "completed"
    assert done["SnapshotTaskDetail"]["SnapshotId"].startswith("snap-")
    other = _call(server, "ImportSnapshot", {"DiskContainer": BUCKET})["ImportTaskId"]
    cancelled = _call(server, "CancelImportTask", {"ImportTaskId": other}, creds=TEMP_KEY)
    assert cancelled["State"] == "deleting"


def test_get_with_query_and_presigned_get(server: LocalEC2Server) -> None:
    query = ec2codec.encode("DescribeImportSnapshotTasks", {"MaxResults": 5}).decode()
    url = f"{server.url}/?{query}"
    headers = ec2codec.sign("GET", url, {}, b"", SERVER_KEY, REGION, now=_now(server))
    response = requests.get(url, headers=headers, timeout=10)
    assert response.status_code == 200
    assert "ImportSnapshotTasks" in ec2codec.parse("DescribeImportSnapshotTasks", response.content)
    presigned = ec2codec.presign("GET", url, SERVER_KEY, REGION, now=_now(server))
    response = requests.get(presigned, timeout=10)
    assert response.status_code == 200, response.text
    tampered = presigned.replace("MaxResults=5", "MaxResults=6")
    assert _refusal(requests.get(tampered, timeout=10)) == (401, "AuthFailure")


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("tampered-body", 401, "AuthFailure"),
        ("wrong-secret", 401, "AuthFailure"),
        ("unknown-key", 401, "AuthFailure"),
        ("wrong-region", 401, "AuthFailure"),
        ("missing-token", 401, "AuthFailure"),
        ("missing-authorization", 403, "MissingAuthenticationToken"),
        ("skewed-date", 400, "RequestExpired"),
    ],
)
def test_bad_signatures(server: LocalEC2Server, case: str, status: int, code: str) -> None:
    body = ec2codec.encode("DescribeImportSnapshotTasks", {})
    options: dict[str, Any] = {
        "tampered-body": {"sent_body": body + b"&DryRun=true"},
        "wrong-secret": {"creds": Credentials(SERVER_KEY.access_key, "not-the-secret")},
        "unknown-key": {"creds": Credentials("AKIDNOBODY", "x")},
        "wrong-region": {"region": "us-east-1"},
        "missing-token": {"creds": Credentials(TEMP_KEY.access_key, TEMP_KEY.secret_key)},
        "missing-authorization": {"drop": "Authorization"},
        "skewed-date": {"now": _now(server) - timedelta(minutes=20)},
    }[case]
    response = _post(server, body, **options)
    assert _refusal(response) == (status, code)
    # Every answer carries the server's clock, which is what a client corrects skew with.
    assert parsedate_to_datetime(response.headers["Date"]) == _now(server).replace(microsecond=0)


def _form(**fields: str) -> bytes:
    return "&".join(f"{k.replace('_', '.')}={v}" for k, v in fields.items()).encode()


V = "2016-11-15"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_form(Action="DescribeImportSnapshotTasks", Version=V, Bogus="1"), "UnknownParameter"),
        (
            _form(Action="ImportSnapshot", Version=V, DiskContainer_Format="VHD", DiskContainer_Colour="x"),
            "UnknownParameter",
        ),
        (_form(Action="DescribeImportSnapshotTasks", Version=V, ImportTaskId_0="x"), "InvalidParameterValue"),
        (_form(Action="DescribeImportSnapshotTasks", Version=V, ImportTaskId_2="x"), "InvalidParameterValue"),
        (_form(Action="DescribeImportSnapshotTasks", Version=V, MaxResults="many"), "InvalidParameterValue"),
        (_form(Action="ImportSnapshot", Version=V), "MissingParameter"),
        (_form(Action="CancelImportTask", Version=V), "MissingParameter"),
        (_form(Action="LaunchRockets", Version=V), "InvalidAction"),
        (_form(Version=V), "MissingAction"),
        (_form(Action="DescribeImportSnapshotTasks"), "MissingParameter"),
        (_form(Action="DescribeImportSnapshotTasks", Version="2014-01-01"), "NoSuchVersion"),
        (b"Action=DescribeImportSnapshotTasks&Version=2016-11-15&&", "MalformedQueryString"),
        (_form(Action="DescribeInstances", Version=V), "UnsupportedOperation"),
    ],
)
def test_malformed_requests(server: LocalEC2Server, body: bytes, code: str) -> None:
    assert _refusal(_post(server, body)) == (400, code)


def test_invalid_action_names_the_action(server: LocalEC2Server) -> None:
    response = _post(server, _form(Action="LaunchRockets", Version=V))
    assert "LaunchRockets" in response.text


def test_dry_run_over_http(server: LocalEC2Server) -> None:
    response = _post(server, ec2codec.encode("ImportSnapshot", {"DiskContainer": BUCKET, "DryRun": True}))
    with pytest.raises(ec2codec.ServiceError) as info:
        ec2codec.parse("ImportSnapshot", response.content, status=response.status_code)
    assert response.status_code == 412
    assert info.value.is_dry_run_success and info.value.message == DRY_RUN_MESSAGE


def test_oversized_body_is_refused_without_reading_it(server: LocalEC2Server) -> None:
    headers = {"Content-Length": str(1 << 30), "Content-Type": CONTENT_TYPE}
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode())
        sock.sendall(b"\r\n")
        reply = sock.makefile("rb").read()
    assert reply.startswith(b"HTTP/1.1 400") and b"<Code>InvalidParameterValue</Code>" in reply
    assert b"\r\nConnection: close\r\n" in reply  # the unread body cannot be taken for a next request


class _Broken(ImportTasks):
    def dispatch(self, operation: str) -> Any:
        def fail(params: Any, now: Any) -> dict[str, Any]:
            raise RuntimeError("boom")

        return fail


def test_internal_failure_is_a_500_document() -> None:
    with LocalEC2Server(credentials=SERVER_KEY, tasks=_Broken()) as srv:
        response = _post(srv, ec2codec.encode("DescribeImportSnapshotTasks", {}), region="any-region-1")
    assert _refusal(response) == (500, "InternalError")
    assert "boom" not in response.text


def test_stop_joins_threads_and_releases_the_port() -> None:
    before = set(threading.enumerate())
    srv = LocalEC2Server(credentials=SERVER_KEY).start()
    port = int(srv.url.rsplit(":", 1)[1])
    assert _post(srv, ec2codec.encode("DescribeImportSnapshotTasks", {}), region="us-east-1").status_code == 200
    srv.stop()
    srv.stop()  # idempotent
    assert set(threading.enumerate()) <= before
    with pytest.raises(ec2codec.Error, match="not started"):
        _ = srv.url
    again = LocalEC2Server(port=port, credentials=SERVER_KEY).start()  # the port is free again
    assert again.url.endswith(f":{port}")
    again.stop()


def test_server_needs_a_key() -> None:
    with pytest.raises(ec2codec.ValidationError, match="credentials"):
        LocalEC2Server(credentials=[])


def test_serve_runs_until_interrupted() -> None:
    code = (
        "from ec2codec.server.httpd import serve\n"
        "serve(ready=lambda url: print(url, flush=True), time_scale=1)\n"
        "print('stopped', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        srv_url = url + "/"
        body = ec2codec.encode("DescribeImportSnapshotTasks", {})
        headers = ec2codec.sign("POST", srv_url, {"Content-Type": CONTENT_TYPE}, body, DEFAULT_CREDENTIALS, "us-west-2")
        assert requests.post(srv_url, headers=headers, data=body, timeout=10).status_code == 200
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and out.strip() == "stopped"


# ================================================================ hostile requests to a running LocalEC2
#
# Whatever a client sends, the answer is an EC2 document with a client error
# code: never a 500 (which clients retry), never a tampered request accepted.


@pytest.fixture(scope="module")
def local() -> Iterator[LocalEC2]:
    with LocalEC2(time_scale=100) as ec2:
        yield ec2


def _raw(local: LocalEC2, request_line: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Send bytes a well-behaved client library would refuse to send; ``(status, body)`` of the answer."""
    host, port = local.endpoint_url.removeprefix("http://").rsplit(":", 1)
    # Connection: close, so that reading to the end of the stream ends with the answer (LocalEC2 keeps alive).
    fields = {"Host": f"{host}:{port}", "Connection": "close", **(headers or {})}
    head = "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"{request_line}\r\n{head}\r\n".encode("latin-1"))
        reply = sock.makefile("rb").read()
    status_line, _, rest = reply.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def _ec2_refusal(status: int, body: bytes) -> str:
    assert 400 <= status < 500, (status, body)
    with pytest.raises(ec2codec.ServiceError) as info:
        ec2codec.parse("DescribeImportSnapshotTasks", body, status=status)
    return info.value.code


def _local_presign(local: LocalEC2, params: dict[str, Any], **options: Any) -> str:
    query = ec2codec.encode(params.pop("Action"), params).decode()
    creds = local.credentials
    return ec2codec.presign("GET", f"{local.endpoint_url}/?{query}", creds, local.region, **options)


def test_a_presigned_get_respelt_to_mean_something_else_is_refused(local: LocalEC2) -> None:
    params = {"Action": "ImportSnapshot", "DiskContainer": BUCKET, "Description": "C++ build"}
    url = _local_presign(local, params)
    assert "Description=C%2B%2B%20build" in url
    # "+" is a space to the form decoder: accepted, this would start a task described "C   build".
    tampered = requests.get(url.replace("C%2B%2B", "C++"), timeout=10)
    assert _refusal(tampered) == (401, "AuthFailure")
    assert ec2codec.parse("ImportSnapshot", requests.get(url, timeout=10).content)["Description"] == "C++ build"


def test_a_fragment_cannot_smuggle_parameters_past_the_signature(local: LocalEC2) -> None:
    url = _local_presign(local, {"Action": "DescribeImportSnapshotTasks"})
    target = url.removeprefix(local.endpoint_url)
    # urlsplit would end the query at "#"; the server's own split would read DryRun=true.
    assert _ec2_refusal(*_raw(local, f"GET {target}#&DryRun=true HTTP/1.1")) == "IncompleteSignature"
    assert _raw(local, f"GET {target} HTTP/1.1")[0] == 200


def test_a_tab_in_the_target_is_refused(server: LocalEC2Server) -> None:
    # A request line cannot carry a TAB (http.server splits on it), so this goes to the pipeline directly.
    url = ec2codec.presign(
        "GET",
        f"{server.url}/?" + _form(Action="CancelImportTask", Version=V, ImportTaskId="ab").decode(),
        SERVER_KEY,
        REGION,
        now=_now(server),
    )
    target = url.removeprefix(server.url)
    status, _, body = server.handle("GET", target.replace("=ab", "=a\tb"), [("Host", server.url[7:])], b"")
    assert _ec2_refusal(status, body) == "IncompleteSignature"


_LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
_ZERO_SIGNATURE = "0" * 64


def _dated_post(local: LocalEC2, date: str) -> tuple[int, bytes]:
    body = ec2codec.encode("DescribeImportSnapshotTasks", {})
    scope = f"{local.credentials.access_key}/99991231/{local.region}/ec2/aws4_request"
    auth = f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=date;host, Signature={_ZERO_SIGNATURE}"
    response = requests.post(
        local.endpoint_url + "/", data=body, headers={"Authorization": auth, "Date": date}, timeout=10
    )
    return response.status_code, response.content


def _signed_post(local: LocalEC2, body: bytes) -> tuple[int, bytes]:
    url = local.endpoint_url + "/"
    headers = ec2codec.sign("POST", url, {"Content-Type": CONTENT_TYPE}, body, local.credentials, local.region)
    response = requests.post(url, data=body, headers=headers, timeout=10)
    return response.status_code, response.content


def _get(url: str) -> tuple[int, bytes]:
    response = requests.get(url, timeout=10)
    return response.status_code, response.content


HOSTILE: list[tuple[str, Any, str]] = [
    # Python's int() refuses more than 4300 digits with a bare ValueError.
    (
        "int-5000-digits",
        lambda ec2: _signed_post(ec2, _form(Action="DescribeImportSnapshotTasks", Version=V, MaxResults="9" * 5000)),
        "InvalidParameterValue",
    ),
    (
        "index-5000-digits",
        lambda ec2: _signed_post(
            ec2, _form(Action="DescribeImportSnapshotTasks", Version=V, **{"ImportTaskId_" + "9" * 5000: "x"})
        ),
        "InvalidParameterValue",
    ),
    (
        "index-superscript",
        lambda ec2: _signed_post(
            ec2, _form(Action="DescribeImportSnapshotTasks", Version=V, ImportTaskId_="x").replace(b".=", b".%C2%B2=")
        ),
        "InvalidParameterValue",
    ),
    # datetime arithmetic past year 9999 raises OverflowError.
    ("date-past-9999", lambda ec2: _dated_post(ec2, "Fri, 31 Dec 9999 23:59:59 -0100"), "IncompleteSignature"),
    ("date-year-huge", lambda ec2: _dated_post(ec2, "Fri, 31 Dec 99999999999 23:59:59 GMT"), "IncompleteSignature"),
    (
        "amz-date-9999-expires-7-days",
        lambda ec2: _get(_local_presign(ec2, {"Action": "DescribeImportSnapshotTasks"}, expires=604800, now=_LAST)),
        "RequestExpired",
    ),
    (
        "expires-5000-digits",
        lambda ec2: _get(
            _local_presign(ec2, {"Action": "DescribeImportSnapshotTasks"}).replace(
                "Expires=3600", "Expires=" + "9" * 5000
            )
        ),
        "IncompleteSignature",
    ),
    # Targets verify cannot read as a URL.
    ("target-asterisk", lambda ec2: _raw(ec2, "GET * HTTP/1.1"), "InvalidAction"),  # not the path "/"
    (
        "host-port-out-of-range",
        lambda ec2: _raw(ec2, "GET /?Action=DescribeImportSnapshotTasks HTTP/1.1", {"Host": "127.0.0.1:99999"}),
        "IncompleteSignature",
    ),
    (
        "target-control-character",
        lambda ec2: _raw(ec2, "GET /?Action=Describe\x01ImportSnapshotTasks HTTP/1.1"),
        "IncompleteSignature",
    ),
]


@pytest.mark.parametrize(("send", "code"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_input_gets_a_4xx_ec2_error_not_a_500(local: LocalEC2, send: Any, code: str) -> None:
    assert _ec2_refusal(*send(local)) == code


def test_a_bad_signature_answer_does_not_carry_the_string_to_sign(
    server: LocalEC2Server, caplog: pytest.LogCaptureFixture
) -> None:
    body = ec2codec.encode("DescribeImportSnapshotTasks", {})
    with caplog.at_level(logging.DEBUG, logger="ec2codec.server"):
        response = _post(server, body, creds=Credentials(SERVER_KEY.access_key, "not-the-secret"))
    assert _refusal(response) == (401, "AuthFailure")
    for detail in ("AWS4-HMAC-SHA256", "aws4_request", "20231114T", "canonical", "string to sign", "content-type:"):
        assert detail not in response.text
    # The server's log has them, to debug the client with.
    assert "string to sign (as written):\nAWS4-HMAC-SHA256\n" in caplog.text
