"""boto3 (and ec2codec's own Client) pointed at LocalEC2 through the whole ImportSnapshot lifecycle."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ec2codec import ServiceError
from ec2codec.auth.sigv4 import Credentials
from ec2codec.server.testing import LocalEC2

TIME_SCALE = 0.6  # seconds for a whole import
BUCKET = {"Format": "VMDK", "UserBucket": {"S3Bucket": "imports", "S3Key": "disk.vmdk"}}
TAGS = [{"ResourceType": "import-snapshot-task", "Tags": [{"Key": "Name", "Value": "boto3"}]}]
TEMP = Credentials("ASIALOCALTEMP", "temp-secret", "temp-token")
NO_RETRY = Config(retries={"mode": "standard", "max_attempts": 1})


@pytest.fixture(scope="module")
def ec2() -> Iterator[LocalEC2]:
    with LocalEC2(time_scale=TIME_SCALE, region="eu-central-1", extra_credentials=[TEMP]) as local:
        yield local


def _client(ec2: LocalEC2, creds: Credentials | None = None) -> Any:
    creds = creds or ec2.credentials
    return boto3.client(
        "ec2",
        endpoint_url=ec2.endpoint_url,
        region_name=ec2.region,
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        aws_session_token=creds.token,
        config=NO_RETRY,
    )


def _detail(client: Any, task_id: str) -> dict[str, Any]:
    tasks = client.describe_import_snapshot_tasks(ImportTaskIds=[task_id])["ImportSnapshotTasks"]
    assert [t["ImportTaskId"] for t in tasks] == [task_id]
    return dict(tasks[0]["SnapshotTaskDetail"])


def test_import_lifecycle(ec2: LocalEC2) -> None:
    client = _client(ec2)
    started = client.import_snapshot(Description="lifecycle", DiskContainer=BUCKET, TagSpecifications=TAGS)
    task_id = started["ImportTaskId"]
    assert started["Tags"] == [{"Key": "Name", "Value": "boto3"}]
    assert started["SnapshotTaskDetail"]["Status"] == "active"
    assert started["ResponseMetadata"]["HTTPStatusCode"] == 200
    progress: list[int] = []
    deadline = time.monotonic() + 10 * TIME_SCALE
    while (detail := _detail(client, task_id))["Status"] == "active":
        progress.append(int(detail["Progress"]))
        assert time.monotonic() < deadline
        time.sleep(TIME_SCALE / 12)
    assert progress == sorted(progress) and len(set(progress)) >= 2, progress  # rising
    assert detail["Status"] == "completed" and detail["SnapshotId"].startswith("snap-")
    assert "Progress" not in detail and detail["UserBucket"] == BUCKET["UserBucket"]
    assert detail["Format"] == "VMDK" and detail["DiskImageSize"] > 0


def test_cancel_another_task(ec2: LocalEC2) -> None:
    client = _client(ec2, TEMP)  # a temporary key pair: its session token is checked too
    task_id = client.import_snapshot(DiskContainer={"Format": "raw", "Url": "s3://imports/disk.raw"})["ImportTaskId"]
    out = client.cancel_import_task(ImportTaskId=task_id, CancelReason="not needed")
    assert (out["PreviousState"], out["State"]) == ("active", "deleting")
    time.sleep(TIME_SCALE * 0.2)
    detail = _detail(client, task_id)
    assert (detail["Status"], detail["StatusMessage"]) == ("deleted", "not needed")
    with pytest.raises(ClientError) as info:
        client.cancel_import_task(ImportTaskId=task_id)
    assert info.value.response["Error"]["Code"] == "IncorrectState"


def test_dry_run_raises_dry_run_operation(ec2: LocalEC2) -> None:
    client = _client(ec2)
    for call in (
        lambda: client.import_snapshot(DiskContainer=BUCKET, DryRun=True),
        lambda: client.describe_import_snapshot_tasks(DryRun=True),
    ):
        with pytest.raises(ClientError) as info:
            call()
        assert info.value.response["Error"]["Code"] == "DryRunOperation"
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412


@pytest.mark.parametrize(
    ("key", "secret", "token"),
    [("unknown", "x", None), ("own-key", "wrong-secret", None), ("ASIALOCALTEMP", "temp-secret", "other-token")],
)
def test_bad_credentials(ec2: LocalEC2, key: str, secret: str, token: str | None) -> None:
    access_key = ec2.credentials.access_key if key == "own-key" else key
    client = _client(ec2, Credentials(access_key, secret, token))
    with pytest.raises(ClientError) as info:
        client.describe_import_snapshot_tasks()
    assert info.value.response["Error"]["Code"] == "AuthFailure"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401


def test_snapshot_imported_waiter_and_paginator(ec2: LocalEC2) -> None:
    client = _client(ec2)
    task_id = client.import_snapshot(DiskContainer=BUCKET)["ImportTaskId"]
    waiter = client.get_waiter("snapshot_imported")
    waiter.wait(ImportTaskIds=[task_id], WaiterConfig={"Delay": TIME_SCALE / 6, "MaxAttempts": 60})
    assert _detail(client, task_id)["Status"] == "completed"
    pages = list(client.get_paginator("describe_import_snapshot_tasks").paginate(PaginationConfig={"PageSize": 1}))
    ids = [task["ImportTaskId"] for page in pages for task in page["ImportSnapshotTasks"]]
    assert len(pages) == len(ids) >= 3 and len(set(ids)) == len(ids) and task_id in ids


def test_env_points_a_default_boto3_client_here(ec2: LocalEC2, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in ec2.env().items():
        monkeypatch.setenv(name, value)
    client = boto3.session.Session().client("ec2", config=NO_RETRY)
    assert client.meta.endpoint_url == ec2.endpoint_url and client.meta.region_name == ec2.region
    assert "ImportSnapshotTasks" in client.describe_import_snapshot_tasks()


def test_ec2codec_client_drives_the_lifecycle(ec2: LocalEC2) -> None:
    from ec2codec.client.sync import Client

    seen: list[tuple[str | None, int | None]] = []
    with Client(region=ec2.region, endpoint_url=ec2.endpoint_url, credentials=ec2.credentials) as client:
        task_id = client.import_snapshot(DiskContainer=BUCKET, TagSpecifications=TAGS)["ImportTaskId"]
        task = client.wait_import_snapshot(
            task_id,
            timeout=10 * TIME_SCALE,
            poll=TIME_SCALE / 12,
            on_progress=lambda p: seen.append((p.status, p.progress)),
        )
        assert task["SnapshotTaskDetail"]["SnapshotId"].startswith("snap-")
        assert task["Tags"] == [{"Key": "Name", "Value": "boto3"}]
        assert seen[0][0] == "active" and seen[-1][0] == "completed"
        progress = [p for status, p in seen if status == "active" and p is not None]
        assert progress == sorted(progress)
        with pytest.raises(ServiceError) as info:
            client.cancel_import_task(ImportTaskId=task_id)
        assert info.value.code == "IncorrectState"


def test_local_ec2_stops_cleanly() -> None:
    before = set(threading.enumerate())
    with LocalEC2(time_scale=0) as local:
        url = local.endpoint_url
        assert "ImportSnapshotTasks" in _client(local).describe_import_snapshot_tasks()
        assert url in repr(local)
    assert set(threading.enumerate()) <= before
    assert "stopped" in repr(local)
    with LocalEC2(port=int(url.rsplit(":", 1)[1])) as again:  # the port was released
        assert again.endpoint_url == url
