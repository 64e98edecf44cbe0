"""End to end: ec2codec.AsyncClient and boto3 against the same moto server on 127.0.0.1.

The scenarios of ``test_client_moto.py`` (the sync client), awaited: each
result is compared with what boto3 gets from the same server, equal where
both read the same resource (``ResponseMetadata`` dropped) and equal but for
generated ids and times where each creates its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

import ec2codec
from ec2codec.auth.sigv4 import Credentials
from ec2codec.client.aio import AsyncClient
from tests.client.test_client_moto import _body, _shape

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

_REGION = "us-east-1"
T = TypeVar("T")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def theirs(endpoint: str) -> Any:
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=_REGION)
    return session.client("ec2", endpoint_url=endpoint)


def _run(endpoint: str, scenario: Callable[[AsyncClient], Awaitable[T]]) -> T:
    async def main() -> T:
        credentials = Credentials("testing", "testing")
        async with AsyncClient(_REGION, endpoint, credentials, environ={}, max_attempts=1) as ours:
            return await scenario(ours)

    return asyncio.run(main())


def test_describe_regions(endpoint: str, theirs: Any) -> None:
    result = _run(endpoint, lambda ours: ours.describe_regions())
    assert result["ResponseMetadata"]["RequestId"]
    assert _body(result) == _body(theirs.describe_regions())
    assert len(result["Regions"]) > 10


def test_create_volume_and_describe_it(endpoint: str, theirs: Any) -> None:
    params = {"AvailabilityZone": "us-east-1a", "Size": 8, "VolumeType": "gp3"}

    async def scenario(ours: AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
        created = await ours.create_volume(**params)
        return created, await ours.describe_volumes(VolumeIds=[created["VolumeId"]])

    created, described = _run(endpoint, scenario)
    assert _shape(created) == _shape(theirs.create_volume(**params))
    assert _body(described) == _body(theirs.describe_volumes(VolumeIds=[created["VolumeId"]]))


def test_snapshot_with_tags_and_filters(endpoint: str, theirs: Any) -> None:
    tags = [{"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": "ec2codec-async-e2e"}]}]

    async def scenario(ours: AsyncClient) -> tuple[str, dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
        volume_id = (await ours.create_volume(AvailabilityZone="us-east-1a", Size=4))["VolumeId"]
        snapshot = await ours.create_snapshot(VolumeId=volume_id, Description="e2e", TagSpecifications=tags)
        theirs_snapshot = theirs.create_snapshot(VolumeId=volume_id, Description="e2e", TagSpecifications=tags)
        filters = [{"Name": "tag:Name", "Values": ["ec2codec-async-e2e"]}, {"Name": "volume-id", "Values": [volume_id]}]
        found = await ours.describe_snapshots(Filters=filters, OwnerIds=["self"])
        assert _body(found) == _body(theirs.describe_snapshots(Filters=filters, OwnerIds=["self"]))
        return volume_id, snapshot, theirs_snapshot, found["Snapshots"]

    _, snapshot, theirs_snapshot, found = _run(endpoint, scenario)
    assert snapshot["Tags"] == [{"Key": "Name", "Value": "ec2codec-async-e2e"}]
    assert _shape(snapshot) == _shape(theirs_snapshot)
    assert len(found) == 2 and snapshot["SnapshotId"] in {s["SnapshotId"] for s in found}


def test_create_tags(endpoint: str, theirs: Any) -> None:
    async def scenario(ours: AsyncClient) -> tuple[str, dict[str, Any], dict[str, Any]]:
        volume_id = (await ours.create_volume(AvailabilityZone="us-east-1b", Size=1))["VolumeId"]
        created = await ours.create_tags(Resources=[volume_id], Tags=[{"Key": "team", "Value": "codec"}])
        return volume_id, created, await ours.describe_tags(Filters=[{"Name": "resource-id", "Values": [volume_id]}])

    volume_id, created, tags = _run(endpoint, scenario)
    assert _body(created) == {}
    assert tags["Tags"] == [{"Key": "team", "ResourceId": volume_id, "ResourceType": "volume", "Value": "codec"}]
    assert _body(tags) == _body(theirs.describe_tags(Filters=[{"Name": "resource-id", "Values": [volume_id]}]))


def test_run_instances_then_paginate_describe_instances(endpoint: str, theirs: Any) -> None:
    from moto.ec2.models.amis import AMIS

    tag = [{"ResourceType": "instance", "Tags": [{"Key": "run", "Value": "async-paginate"}]}]
    params = {"Filters": [{"Name": "tag:run", "Values": ["async-paginate"]}], "MaxResults": 2}

    async def scenario(ours: AsyncClient) -> list[dict[str, Any]]:
        await asyncio.gather(
            *(ours.run_instances(ImageId=AMIS[0]["ami_id"], MinCount=1, MaxCount=1, TagSpecifications=tag)
              for _ in range(3))
        )  # fmt: skip
        return [page async for page in ours.paginate("DescribeInstances", params)]

    pages = _run(endpoint, scenario)
    expected = list(theirs.get_paginator("describe_instances").paginate(**params))
    assert [len(p["Reservations"]) for p in pages] == [2, 1]
    assert [_body(p) for p in pages] == [_body(p) for p in expected]


def test_an_error_is_the_service_error_boto3_sees(endpoint: str, theirs: Any) -> None:
    missing = "vol-00000000000000000"

    async def scenario(ours: AsyncClient) -> ec2codec.ServiceError:
        with pytest.raises(ec2codec.ServiceError) as info:
            await ours.describe_volumes(VolumeIds=[missing])
        return info.value

    error = _run(endpoint, scenario)
    with pytest.raises(theirs.exceptions.ClientError) as boto_info:
        theirs.describe_volumes(VolumeIds=[missing])
    expected = boto_info.value.response["Error"]
    assert (error.code, error.message) == (expected["Code"], expected["Message"])
    assert error.code == "InvalidVolume.NotFound"
    assert error.status == boto_info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
