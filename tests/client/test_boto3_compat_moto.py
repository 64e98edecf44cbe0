"""boto3 and ec2codec.Client make the same calls: the EC2 customizations and helpers, differentially, on moto.

Each test makes the same call through boto3 and through our client against
one moto server on 127.0.0.1 and compares what went over the wire (bodies
byte for byte: tokens are passed explicitly and, for CopySnapshot, both
clocks are pinned to the same second) and what came back (results without
``ResponseMetadata``, whose request ids differ per request).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from unittest import mock

import pytest
import requests

import ec2codec
from ec2codec.auth.sigv4 import Credentials
from ec2codec.client.sync import Client
from ec2codec.client.waiters import WaiterError

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")

_REGION = "us-east-1"


class _Recording(requests.Session):
    """A session that keeps every request it sent (as prepared: final headers and body)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []
        self.hooks["response"].append(self._record)

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.sent.append(response.request)


class _Pair:
    """boto3 and our client on one endpoint, each with the bodies and headers it sent."""

    def __init__(self, endpoint: str, region: str = _REGION, now: Any = None, environ: Any = None) -> None:
        self.session = _Recording()
        self.ours = Client(
            region,
            endpoint,
            Credentials("testing", "testing"),
            environ=environ or {},
            max_attempts=1,
            session=self.session,
            now=now,
        )
        boto_session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        )
        self.theirs = boto_session.client("ec2", endpoint_url=endpoint)
        self.boto_sent: list[Any] = []
        self.theirs.meta.events.register("before-send.ec2", lambda request, **kwargs: self.boto_sent.append(request))

    def our_body(self) -> bytes:
        body = self.session.sent[-1].body
        assert isinstance(body, bytes)
        return body

    def their_body(self) -> bytes:
        body = self.boto_sent[-1].body
        return body.encode() if isinstance(body, str) else bytes(body)

    def call(self, method: str, **params: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """The same call both ways; asserts equal bodies; returns (ours, theirs) without ResponseMetadata."""
        ours = getattr(self.ours, method)(**params)
        theirs = getattr(self.theirs, method)(**params)
        assert self.our_body() == self.their_body()
        return _body(ours), _body(theirs)


def _body(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "ResponseMetadata"}


def _types(value: Any) -> Any:
    """The structure of a result with each value replaced by its type: what two creations share."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__


@pytest.fixture(scope="module")
def pair(moto_endpoint: str) -> Iterator[_Pair]:
    both = _Pair(moto_endpoint)
    yield both
    both.ours.close()


def _ami() -> str:
    from moto.ec2.models.amis import AMIS

    return str(AMIS[0]["ami_id"])


# -- RunInstances: UserData base64 --------------------------------------------------


@pytest.mark.parametrize("user_data", ["#!/bin/bash\necho 'hello ü'\n", b"\x00\x01binary"])
def test_run_instances_encodes_user_data_as_boto3(pair: _Pair, user_data: str | bytes) -> None:
    token = f"user-data-{len(user_data)}"
    params = {"ImageId": _ami(), "MinCount": 1, "MaxCount": 1, "UserData": user_data, "ClientToken": token}
    ours, theirs = pair.call("run_instances", **params)
    assert _types(ours) == _types(theirs)  # moto makes two instances: ids and times differ
    assert ours["Instances"][0]["ClientToken"] == theirs["Instances"][0]["ClientToken"] == token
    instance_id = ours["Instances"][0]["InstanceId"]
    got, expected = pair.call("describe_instance_attribute", InstanceId=instance_id, Attribute="userData")
    assert got == expected
    raw = user_data.encode() if isinstance(user_data, str) else user_data
    import base64

    assert base64.b64decode(got["UserData"]["Value"]) == raw


# -- CopySnapshot: PresignedUrl and DestinationRegion -----------------------------------


def test_copy_snapshot_presigns_as_boto3(moto_endpoint: str) -> None:
    pinned = datetime.now(timezone.utc).replace(microsecond=0)
    west = _Pair(moto_endpoint, region="us-west-2").theirs
    volume = west.create_volume(AvailabilityZone="us-west-2a", Size=1)["VolumeId"]
    snapshot = west.create_snapshot(VolumeId=volume)["SnapshotId"]
    both = _Pair(moto_endpoint, now=lambda: pinned)
    params = {"SourceRegion": "us-west-2", "SourceSnapshotId": snapshot, "Description": "copy from west & co"}
    with mock.patch("botocore.auth.get_current_datetime", return_value=pinned.replace(tzinfo=None)):
        ours = both.ours.copy_snapshot(**params)
        theirs = both.theirs.copy_snapshot(**params)
    assert both.our_body() == both.their_body()
    assert b"&PresignedUrl=http%3A%2F%2F127.0.0.1" in both.our_body()
    assert both.our_body().endswith(b"&DestinationRegion=us-east-1")
    assert set(ours) == set(theirs) and ours["SnapshotId"].startswith("snap-")
    both.ours.close()


# -- GetConsoleOutput: Output decoded --------------------------------------------------


def test_console_output_is_decoded_as_boto3(pair: _Pair) -> None:
    instance_id = pair.ours.run_instances(ImageId=_ami(), MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ours, theirs = pair.call("get_console_output", InstanceId=instance_id)
    assert ours["Output"] == theirs["Output"]
    assert ours["Output"].startswith("Linux version")
    assert ours.keys() == theirs.keys()


# -- Filters, the alias of Filter ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name"),
    [("describe_nat_gateways", "vpc-id"), ("describe_flow_logs", "resource-id"), ("describe_hosts", "state")],
)
def test_filters_alias_as_boto3(pair: _Pair, method: str, name: str) -> None:
    params = {"MaxResults": 5, "Filters": [{"Name": name, "Values": ["x", "y"]}]}
    ours, theirs = pair.call(method, **params)
    assert ours == theirs
    assert pair.our_body().endswith(f"&Filter.1.Name={name}&Filter.1.Value.1=x&Filter.1.Value.2=y".encode())


# -- X-Amzn-Trace-Id inside Lambda ----------------------------------------------------------


def test_trace_header_as_boto3(moto_endpoint: str) -> None:
    environ = {"AWS_LAMBDA_FUNCTION_NAME": "fn", "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a9;Sampled=1"}
    both = _Pair(moto_endpoint, environ=environ)
    with mock.patch.dict(os.environ, environ):
        ours, theirs = both.call("describe_regions")
    assert ours == theirs
    header = both.session.sent[-1].headers["X-Amzn-Trace-Id"]
    assert header.encode() == both.boto_sent[-1].headers["X-Amzn-Trace-Id"] == environ["_X_AMZN_TRACE_ID"].encode()
    both.ours.close()


# -- paginators ----------------------------------------------------------------------------


def test_paginator_max_items_page_size_and_starting_token_as_boto3(pair: _Pair) -> None:
    tags = [{"ResourceType": "instance", "Tags": [{"Key": "compat", "Value": "paginator"}]}]
    for _ in range(5):
        pair.ours.run_instances(ImageId=_ami(), MinCount=1, MaxCount=1, TagSpecifications=tags)
    params = {"Filters": [{"Name": "tag:compat", "Values": ["paginator"]}]}
    ours = pair.ours.get_paginator("describe_instances")
    theirs = pair.theirs.get_paginator("describe_instances")
    config: dict[str, Any] = {"PageSize": 2, "MaxItems": 3}
    steps = []
    while True:  # resume from each NextToken, as boto3 code does
        got = ours.paginate(**params, PaginationConfig=config).build_full_result()
        expected = theirs.paginate(**params, PaginationConfig=config).build_full_result()
        assert got == expected
        steps.append(len(got["Reservations"]))
        if "NextToken" not in got:
            break
        config = {**config, "StartingToken": got["NextToken"]}
    assert steps == [3, 2]
    pages = [_body(p) for p in ours.paginate(**params, PaginationConfig={"PageSize": 2, "MaxItems": 3})]
    assert pages == [_body(p) for p in theirs.paginate(**params, PaginationConfig={"PageSize": 2, "MaxItems": 3})]
    assert [len(p["Reservations"]) for p in pages] == [2, 1]
    expression = "Reservations[].Instances[].InstanceId"
    found = list(ours.paginate(**params, PaginationConfig={"PageSize": 2}).search(expression))
    assert found == list(theirs.paginate(**params, PaginationConfig={"PageSize": 2}).search(expression))
    assert len(found) == 5
    assert pair.ours.can_paginate("describe_instances") == pair.theirs.can_paginate("describe_instances") is True


# -- waiters --------------------------------------------------------------------------------


def test_waiters_as_boto3(pair: _Pair) -> None:
    instance_id = pair.ours.run_instances(ImageId=_ami(), MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    config = {"Delay": 0, "MaxAttempts": 3}
    assert pair.ours.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=config) is None
    assert pair.theirs.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=config) is None
    assert pair.our_body() == pair.their_body()
    from botocore.exceptions import WaiterError as BotocoreWaiterError

    config = {"Delay": 0, "MaxAttempts": 1}
    with pytest.raises(WaiterError, match="Max attempts exceeded"):
        pair.ours.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=config)
    with pytest.raises(BotocoreWaiterError, match="Max attempts exceeded"):
        pair.theirs.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=config)
    assert sorted(pair.ours.waiter_names) == sorted(pair.theirs.waiter_names)


# -- errors ---------------------------------------------------------------------------------


def test_service_error_is_shaped_like_boto3s_client_error(pair: _Pair) -> None:
    missing = {"VolumeIds": ["vol-00000000000000000"]}
    with pytest.raises(pair.ours.exceptions.ClientError) as ours:
        pair.ours.describe_volumes(**missing)
    with pytest.raises(pair.theirs.exceptions.ClientError) as theirs:
        pair.theirs.describe_volumes(**missing)
    assert pair.our_body() == pair.their_body()
    assert ours.value.operation_name == theirs.value.operation_name == "DescribeVolumes"
    assert ours.value.response["Error"] == theirs.value.response["Error"]
    expected_metadata = theirs.value.response["ResponseMetadata"]
    assert ours.value.response["ResponseMetadata"]["HTTPStatusCode"] == expected_metadata["HTTPStatusCode"] == 400
    assert isinstance(ours.value, ec2codec.ServiceError)
