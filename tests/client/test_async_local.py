"""AsyncClient against LocalEC2 over real HTTP: the sync end-to-end scenarios, and the same under concurrency.

100 imports started at once with ``asyncio.gather`` create exactly 100 tasks;
when the answer to each one's first attempt is lost after LocalEC2 acted on it
(a proxy resets the connection instead of relaying it), the retries, carrying
the same ClientToken, still create exactly 100. The control shows the same
loss with a fresh token would create a second task. Then: waiting with
progress, cancel, DryRun, a wrong secret, and a skewed local clock.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest

import ec2codec
from ec2codec import Credentials, ImportTaskFailed, ServiceError, TransportError
from ec2codec.client.aio import AsyncClient
from ec2codec.server.httpd import DEFAULT_CREDENTIALS, LocalEC2Server
from ec2codec.server.testing import LocalEC2
from tests.client.faults import Fault, FaultServer, Forward, Received

DISK = {"Format": "VHD", "UserBucket": {"S3Bucket": "amzn-s3-demo-bucket", "S3Key": "disks/a.vhd"}}


@pytest.fixture
def ec2() -> Iterator[LocalEC2]:
    with LocalEC2(time_scale=0.6) as local:
        yield local


def _client(ec2: LocalEC2, endpoint_url: str | None = None, **options: Any) -> AsyncClient:
    credentials = options.pop("credentials", ec2.credentials)
    return AsyncClient(ec2.region, endpoint_url or ec2.endpoint_url, credentials, environ={}, **options)


async def _task_ids(client: AsyncClient) -> list[str]:
    pages = client.paginate("DescribeImportSnapshotTasks", page_size=40)
    return [task["ImportTaskId"] async for page in pages for task in page["ImportSnapshotTasks"]]


def _token(received: Received) -> str | None:
    values = parse_qs(received.body.decode()).get("ClientToken")
    return values[0] if values else None


class _LoseFirstAnswers:
    """A proxy's decision: pass everything to LocalEC2, but lose the answer to each import's first attempt."""

    def __init__(self) -> None:
        self.imports: Counter[str] = Counter()
        self.bodies: dict[str, set[bytes]] = {}

    def __call__(self, received: Received, index: int) -> Fault:
        if not received.body.startswith(b"Action=ImportSnapshot&"):
            return Forward()
        token = _token(received) or ""
        self.imports[token] += 1
        self.bodies.setdefault(token, set()).add(received.body)
        return Forward(lose=self.imports[token] == 1)


def _proxy(ec2: LocalEC2, decide: Any) -> FaultServer:
    host, port = ec2.endpoint_url.removeprefix("http://").split(":")
    return FaultServer(decide=decide, upstream=(host, int(port)))


async def _nap(seconds: float) -> None:
    await asyncio.sleep(0)  # backoff is the attempt machine's business; here it only has to yield


def test_100_concurrent_imports_create_exactly_100_tasks(ec2: LocalEC2) -> None:
    async def main() -> tuple[list[dict[str, Any]], list[str]]:
        async with _client(ec2) as client:
            results = await asyncio.gather(
                *(client.import_snapshot(DiskContainer=DISK, Description=f"disk {n}") for n in range(100))
            )
            return list(results), await _task_ids(client)

    results, listed = asyncio.run(main())
    created = {r["ImportTaskId"] for r in results}
    assert len(created) == 100
    assert sorted(listed) == sorted(created)


def test_lost_answers_retried_under_concurrency_create_no_task_twice(ec2: LocalEC2) -> None:
    decide = _LoseFirstAnswers()
    with _proxy(ec2, decide) as proxy:

        async def main() -> tuple[list[dict[str, Any]], list[str]]:
            async with _client(ec2, proxy.url, sleep=_nap) as client:
                results = await asyncio.gather(*(client.import_snapshot(DiskContainer=DISK) for _ in range(100)))
            async with _client(ec2) as direct:
                return list(results), await _task_ids(direct)

        results, listed = asyncio.run(main())
    # Every import reached LocalEC2 twice, byte for byte the same (one ClientToken per call) ...
    assert len(decide.imports) == 100 and set(decide.imports.values()) == {2}
    assert all(len(bodies) == 1 for bodies in decide.bodies.values())
    # ... and EC2's idempotency answered each retry with the task the lost answer had named.
    created = {r["ImportTaskId"] for r in results}
    assert len(created) == 100
    assert sorted(listed) == sorted(created)


def test_without_the_same_token_a_lost_answer_would_have_created_a_second_task(ec2: LocalEC2) -> None:
    # The control for the test above: it can fail. A "retry" with a new token creates another task.
    decide = _LoseFirstAnswers()
    with _proxy(ec2, decide) as proxy:

        async def main() -> list[str]:
            async with _client(ec2, proxy.url, max_attempts=1) as client:
                with pytest.raises(TransportError):
                    await client.import_snapshot(DiskContainer=DISK, ClientToken="token-a")
                with pytest.raises(TransportError):
                    await client.import_snapshot(DiskContainer=DISK, ClientToken="token-b")
            async with _client(ec2) as direct:
                return await _task_ids(direct)

        assert len(asyncio.run(main())) == 2


def test_wait_import_snapshot_reports_progress_to_completion(ec2: LocalEC2) -> None:
    seen: list[ec2codec.ImportProgress] = []

    async def main() -> dict[str, Any]:
        async with _client(ec2) as client:
            task_id = (await client.import_snapshot(DiskContainer=DISK))["ImportTaskId"]
            return await client.wait_import_snapshot(task_id, timeout=10, poll=0.05, on_progress=seen.append)

    done = asyncio.run(main())
    assert done["SnapshotTaskDetail"]["Status"] == "completed"
    assert done["SnapshotTaskDetail"]["SnapshotId"].startswith("snap-")
    assert seen[-1].status == "completed" and seen[-1].snapshot_id == done["SnapshotTaskDetail"]["SnapshotId"]
    progress = [p.progress for p in seen if p.progress is not None]
    assert progress == sorted(progress) and len(seen) >= 3
    states = [(p.status, p.progress, p.status_message) for p in seen]
    assert all(a != b for a, b in itertools.pairwise(states))  # each change reported once


def test_many_waits_at_once_share_the_loop(ec2: LocalEC2) -> None:
    async def main() -> list[dict[str, Any]]:
        async with _client(ec2) as client:
            ids = [(await client.import_snapshot(DiskContainer=DISK))["ImportTaskId"] for _ in range(10)]
            return list(await asyncio.gather(*(client.wait_import_snapshot(i, timeout=10, poll=0.05) for i in ids)))

    started = time.perf_counter()
    done = asyncio.run(main())
    assert {d["SnapshotTaskDetail"]["Status"] for d in done} == {"completed"}
    assert time.perf_counter() - started < 5  # concurrently, not one 0.6 s import after another


def test_cancel_ends_the_wait_with_the_status_message(ec2: LocalEC2) -> None:
    async def main() -> None:
        async with _client(ec2) as client:
            task_id = (await client.import_snapshot(DiskContainer=DISK))["ImportTaskId"]
            await client.cancel_import_task(ImportTaskId=task_id, CancelReason="wrong disk")
            with pytest.raises(ImportTaskFailed) as info:
                await client.wait_import_snapshot(task_id, timeout=5, poll=0.05)
        assert info.value.status in {"deleting", "deleted"}
        assert info.value.status_message == "wrong disk"

    asyncio.run(main())


def test_dry_run_is_recognisable(ec2: LocalEC2) -> None:
    async def main() -> None:
        async with _client(ec2) as client:
            with pytest.raises(ServiceError) as info:
                await client.import_snapshot(DiskContainer=DISK, DryRun=True)
        assert info.value.is_dry_run_success and info.value.status == 412

    asyncio.run(main())


def test_a_wrong_secret_is_an_auth_failure_not_retried(ec2: LocalEC2) -> None:
    wrong = Credentials(ec2.credentials.access_key, "not-the-secret")
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def main() -> None:
        async with _client(ec2, credentials=wrong, sleep=sleep) as client:
            with pytest.raises(ServiceError) as info:
                await client.describe_import_snapshot_tasks()
        assert (info.value.code, info.value.status) == ("AuthFailure", 401)

    asyncio.run(main())
    assert slept == []


def test_a_skewed_local_clock_is_corrected_from_the_server_date() -> None:
    ahead = 15 * 60
    server = LocalEC2Server(clock=lambda: time.time() + ahead, time_scale=1)

    async def main(url: str) -> None:
        async with AsyncClient("us-east-1", url, DEFAULT_CREDENTIALS, environ={}, sleep=_nap) as client:
            assert (await client.describe_import_snapshot_tasks())["ImportSnapshotTasks"] == []
            assert abs(client.clock_offset.total_seconds() - ahead) < 30
            await client.describe_import_snapshot_tasks()  # later calls sign with the offset at once

    with server:
        asyncio.run(main(server.url))
