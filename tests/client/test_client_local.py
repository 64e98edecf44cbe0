"""ec2codec's own client against LocalEC2 over real HTTP: the promises of the import workflow, end to end.

A retried import never creates a second task (the response of the first
attempt is lost after the server acted on it), a skewed local clock is
corrected from the server's ``Date``, cancel surfaces the task's
StatusMessage, DryRun and bad keys give EC2's codes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from ec2codec import Credentials, ImportTaskFailed, ServiceError, TransportError
from ec2codec.client.sync import Client
from ec2codec.server.httpd import DEFAULT_CREDENTIALS, LocalEC2Server
from ec2codec.server.testing import LocalEC2

DISK = {"Format": "VHD", "UserBucket": {"S3Bucket": "amzn-s3-demo-bucket", "S3Key": "disks/a.vhd"}}


@pytest.fixture(scope="module")
def ec2() -> Iterator[LocalEC2]:
    with LocalEC2(time_scale=0.6) as local:
        yield local


def _client(ec2: LocalEC2, **options: Any) -> Client:
    return Client(ec2.region, ec2.endpoint_url, options.pop("credentials", ec2.credentials), environ={}, **options)


class _LoseFirstImportResponse(HTTPAdapter):
    """Delivers each request, but throws away the server's answer to the first ImportSnapshot (a read timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.import_bodies: list[bytes] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().send(request, *args, **kwargs)
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        if body.startswith(b"Action=ImportSnapshot&"):
            self.import_bodies.append(body)
            if len(self.import_bodies) == 1:
                response.close()
                raise requests.exceptions.ReadTimeout("the answer was lost on the way back")
        return response


def _task_ids(client: Client) -> set[str]:
    return {t["ImportTaskId"] for t in client.describe_import_snapshot_tasks()["ImportSnapshotTasks"]}


def test_a_retried_import_never_starts_a_second_task(ec2: LocalEC2) -> None:
    session = requests.Session()
    lossy = _LoseFirstImportResponse()
    session.mount("http://", lossy)
    with _client(ec2) as plain:
        before = _task_ids(plain)
    with _client(ec2, session=session, sleep=lambda _: None) as client:
        task = client.import_snapshot(DiskContainer=DISK, Description="retried")
        after = _task_ids(client)
    # Two attempts reached the server with byte-identical bodies (the same ClientToken) ...
    assert len(lossy.import_bodies) == 2 and lossy.import_bodies[0] == lossy.import_bodies[1]
    assert b"ClientToken=" in lossy.import_bodies[0]
    # ... and EC2's idempotency made the second one return the first task: exactly one was created.
    assert after - before == {task["ImportTaskId"]}


def test_without_a_token_the_same_loss_would_have_created_two_tasks(ec2: LocalEC2) -> None:
    # The control for the test above: it can fail. A client that does not keep
    # the token across attempts (a fresh one each time) creates a second task.
    tokens = iter(["token-a", "token-b"])
    session = requests.Session()
    session.mount("http://", _LoseFirstImportResponse())
    with _client(ec2) as plain:
        before = _task_ids(plain)
    params = {"DiskContainer": DISK}
    with _client(ec2, session=session, max_attempts=1) as client:
        with pytest.raises(TransportError, match=r"no data from 127\.0\.0\.1 port"):
            client.call("ImportSnapshot", {**params, "ClientToken": next(tokens)})
        client.call("ImportSnapshot", {**params, "ClientToken": next(tokens)})  # a "retry" with a new token
        assert len(_task_ids(client) - before) == 2


def test_cancel_ends_the_wait_with_the_status_message(ec2: LocalEC2) -> None:
    with _client(ec2) as client:
        task_id = client.import_snapshot(DiskContainer=DISK)["ImportTaskId"]
        client.cancel_import_task(ImportTaskId=task_id, CancelReason="wrong disk")
        with pytest.raises(ImportTaskFailed) as info:
            client.wait_import_snapshot(task_id, timeout=5, poll=0.05)
    assert info.value.status in {"deleting", "deleted"}
    assert info.value.status_message == "wrong disk"


def test_dry_run_is_recognisable(ec2: LocalEC2) -> None:
    with _client(ec2) as client, pytest.raises(ServiceError) as info:
        client.import_snapshot(DiskContainer=DISK, DryRun=True)
    assert info.value.is_dry_run_success and info.value.status == 412


def test_a_wrong_secret_is_an_auth_failure_not_retried(ec2: LocalEC2) -> None:
    wrong = Credentials(ec2.credentials.access_key, "not-the-secret")
    attempts: list[float] = []
    with _client(ec2, credentials=wrong, sleep=attempts.append) as client, pytest.raises(ServiceError) as info:
        client.describe_import_snapshot_tasks()
    assert (info.value.code, info.value.status) == ("AuthFailure", 401)
    assert attempts == []  # a client error: no backoff, no second attempt


def test_a_skewed_local_clock_is_corrected_from_the_server_date() -> None:
    # The server runs 15 minutes ahead of this machine: the first signature is
    # "expired"; the client adopts the server's clock, re-signs, and keeps it.
    ahead = 15 * 60
    server = LocalEC2Server(clock=lambda: time.time() + ahead, time_scale=1)
    with server, Client("us-east-1", server.url, DEFAULT_CREDENTIALS, environ={}, sleep=lambda _: None) as client:
        assert client.describe_import_snapshot_tasks()["ImportSnapshotTasks"] == []
        assert abs(client.clock_offset.total_seconds() - ahead) < 30
        client.describe_import_snapshot_tasks()  # later calls sign with the offset at once


def test_a_presigned_url_is_boto3s_and_local_ec2_accepts_it(ec2: LocalEC2) -> None:
    from datetime import datetime, timezone
    from unittest import mock

    boto3 = pytest.importorskip("boto3")
    import ec2codec

    pinned = datetime.now(timezone.utc).replace(microsecond=0)
    creds = ec2.credentials
    theirs = boto3.session.Session(
        aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key, region_name=ec2.region
    ).client("ec2", endpoint_url=ec2.endpoint_url)
    params = {"MaxResults": 5}
    with mock.patch("botocore.auth.get_current_datetime", return_value=pinned.replace(tzinfo=None)):
        expected = theirs.generate_presigned_url("describe_import_snapshot_tasks", Params=params, HttpMethod="GET")
    with _client(ec2, now=lambda: pinned) as client:
        url = client.generate_presigned_url("describe_import_snapshot_tasks", Params=params, HttpMethod="GET")
    assert url == expected
    answer = requests.get(url, timeout=10)  # LocalEC2 verifies the query signature
    assert answer.status_code == 200, answer.text
    assert "ImportSnapshotTasks" in ec2codec.parse("DescribeImportSnapshotTasks", answer.content)
