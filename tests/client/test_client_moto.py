"""End to end: ec2codec.client.sync and boto3 against the same moto server on 127.0.0.1.

Each scenario runs through ec2codec's client over real HTTP and compares the
result with what boto3 gets from the same server: equal dicts where the two
read the same resource (``ResponseMetadata`` dropped, since request ids differ
per request), equal structure and values but for generated ids and times where
each creates its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import ec2codec
from ec2codec.auth.sigv4 import Credentials
from ec2codec.client.sync import Client

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

_REGION = "us-east-1"
_GENERATED = {"VolumeId", "SnapshotId", "CreateTime", "StartTime", "InstanceId", "ReservationId", "RequestId"}


@pytest.fixture(scope="module")
def endpoint(moto_endpoint: str) -> str:
    return moto_endpoint


@pytest.fixture(scope="module")
def ours(endpoint: str) -> Iterator[Client]:
    with Client(_REGION, endpoint, Credentials("testing", "testing"), environ={}, max_attempts=1) as client:
        yield client


@pytest.fixture(scope="module")
def theirs(endpoint: str) -> Any:
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=_REGION)
    return session.client("ec2", endpoint_url=endpoint)


def _body(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "ResponseMetadata"}


def _shape(value: Any) -> Any:
    """``value`` with generated ids and times replaced by their type: what two creations share."""
    if isinstance(value, dict):
        return {
            k: type(v).__name__ if k in _GENERATED else _shape(v) for k, v in value.items() if k != "ResponseMetadata"
        }
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return value


def test_describe_regions(ours: Client, theirs: Any) -> None:
    result = ours.describe_regions()
    assert result["ResponseMetadata"]["RequestId"]
    assert _body(result) == _body(theirs.describe_regions())
    assert len(result["Regions"]) > 10


def test_create_volume_and_describe_it(ours: Client, theirs: Any) -> None:
    params = {"AvailabilityZone": "us-east-1a", "Size": 8, "VolumeType": "gp3"}
    created = ours.create_volume(**params)
    assert _shape(created) == _shape(theirs.create_volume(**params))
    volume_id = created["VolumeId"]
    assert _body(ours.describe_volumes(VolumeIds=[volume_id])) == _body(theirs.describe_volumes(VolumeIds=[volume_id]))


def test_snapshot_with_tags_and_filters(ours: Client, theirs: Any) -> None:
    volume_id = ours.create_volume(AvailabilityZone="us-east-1a", Size=4)["VolumeId"]
    tags = [{"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": "ec2codec-e2e"}]}]
    snapshot = ours.create_snapshot(VolumeId=volume_id, Description="e2e", TagSpecifications=tags)
    assert snapshot["Tags"] == [{"Key": "Name", "Value": "ec2codec-e2e"}]
    assert _shape(snapshot) == _shape(
        theirs.create_snapshot(VolumeId=volume_id, Description="e2e", TagSpecifications=tags)
    )
    filters = [{"Name": "tag:Name", "Values": ["ec2codec-e2e"]}, {"Name": "volume-id", "Values": [volume_id]}]
    found = ours.describe_snapshots(Filters=filters, OwnerIds=["self"])
    assert _body(found) == _body(theirs.describe_snapshots(Filters=filters, OwnerIds=["self"]))
    assert len(found["Snapshots"]) == 2
    assert snapshot["SnapshotId"] in {s["SnapshotId"] for s in found["Snapshots"]}


def test_create_tags(ours: Client, theirs: Any) -> None:
    volume_id = ours.create_volume(AvailabilityZone="us-east-1b", Size=1)["VolumeId"]
    assert _body(ours.create_tags(Resources=[volume_id], Tags=[{"Key": "team", "Value": "codec"}])) == {}
    filters = [{"Name": "resource-id", "Values": [volume_id]}]
    tags = ours.describe_tags(Filters=filters)
    assert tags["Tags"] == [{"Key": "team", "ResourceId": volume_id, "ResourceType": "volume", "Value": "codec"}]
    assert _body(tags) == _body(theirs.describe_tags(Filters=filters))


def test_run_instances_then_paginate_describe_instances(ours: Client, theirs: Any) -> None:
    from moto.ec2.models.amis import AMIS

    tag = [{"ResourceType": "instance", "Tags": [{"Key": "run", "Value": "paginate"}]}]
    for _ in range(3):
        ours.run_instances(ImageId=AMIS[0]["ami_id"], MinCount=1, MaxCount=1, TagSpecifications=tag)
    params = {"Filters": [{"Name": "tag:run", "Values": ["paginate"]}], "MaxResults": 2}
    pages = list(ours.paginate("DescribeInstances", params))
    expected = list(theirs.get_paginator("describe_instances").paginate(**params))
    assert [len(p["Reservations"]) for p in pages] == [2, 1]
    assert [_body(p) for p in pages] == [_body(p) for p in expected]


def test_an_error_is_the_service_error_boto3_sees(ours: Client, theirs: Any) -> None:
    missing = "vol-00000000000000000"
    with pytest.raises(ec2codec.ServiceError) as info:
        ours.describe_volumes(VolumeIds=[missing])
    with pytest.raises(theirs.exceptions.ClientError) as boto_info:
        theirs.describe_volumes(VolumeIds=[missing])
    error = boto_info.value.response["Error"]
    assert (info.value.code, info.value.message) == (error["Code"], error["Message"])
    assert info.value.code == "InvalidVolume.NotFound"
    assert info.value.status == boto_info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
