"""ec2codec.client.customizations against botocore's own EC2 handlers, called directly.

Each customization is run next to the botocore handler it re-implements
(``botocore/handlers.py``) on the same input, with botocore's clock pinned
where it signs; the end-to-end comparison with boto3 over HTTP is in
``test_boto3_compat_moto.py``. A guard test lists every handler botocore
registers for EC2, so a new one in a newer botocore fails here until it is
handled or explained.
"""

from __future__ import annotations

import copy
import functools
import os
from datetime import datetime, timezone
from typing import Any
from unittest import mock

import pytest

import ec2codec
from ec2codec.auth.sigv4 import Credentials
from ec2codec.client import customizations
from ec2codec.client.endpoints import resolve_endpoint
from ec2codec.model.service import bundled_model
from ec2codec.protocol.query import encoder_for
from tests.client_support import make_client

botocore_session = pytest.importorskip("botocore.session")
from botocore import handlers  # noqa: E402
from botocore.awsrequest import prepare_request_dict  # noqa: E402

WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
KEYS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
TOKEN_KEYS = Credentials("ASIAEXAMPLE", "c2VjcmV0", "FQoGZXIvYXdzE//token+/=")


@functools.cache
def _botocore_client(region: str, credentials: Credentials, endpoint_url: str | None) -> Any:
    return botocore_session.get_session().create_client(
        "ec2",
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.token,
    )


def _pinned_botocore_clock() -> Any:
    # botocore's SigV4 reads the time through this name (naive UTC).
    return mock.patch("botocore.auth.get_current_datetime", return_value=WHEN.replace(tzinfo=None))


# -- CopySnapshot: PresignedUrl and DestinationRegion ------------------------------

_COPY = {"SourceRegion": "us-west-2", "SourceSnapshotId": "snap-0123456789abcdef0"}


@pytest.mark.parametrize(
    ("region", "endpoint_url", "credentials", "params"),
    [
        ("us-east-1", None, KEYS, _COPY),
        ("eu-west-1", None, TOKEN_KEYS, {**_COPY, "SourceRegion": "ap-southeast-2", "Description": "a/b c=d+é&"}),
        ("cn-north-1", None, KEYS, {**_COPY, "SourceRegion": "cn-northwest-1", "Encrypted": True, "KmsKeyId": "k"}),
        ("us-gov-west-1", None, KEYS, {**_COPY, "SourceRegion": "us-gov-east-1"}),
        ("us-east-1", "http://127.0.0.1:5000", KEYS, _COPY),
        ("us-east-1", None, KEYS, {"Description": "first", **_COPY, "DestinationRegion": "eu-central-1"}),
        ("us-east-1", None, KEYS, {**_COPY, "PresignedUrl": "https://given.example/?x=1"}),
        ("us-east-1", None, KEYS, {**_COPY, "SourceRegion": "us-east-1", "DryRun": True}),
        (
            "us-east-1",
            None,
            KEYS,
            {
                **_COPY,
                "TagSpecifications": [{"ResourceType": "snapshot", "Tags": [{"Key": "k", "Value": "v v"}]}],
                "CompletionDurationMinutes": 15,
            },
        ),
    ],
)
def test_copy_snapshot_presigned_url_equals_botocores_handler(
    region: str, endpoint_url: str | None, credentials: Credentials, params: dict[str, Any]
) -> None:
    client = _botocore_client(region, credentials, endpoint_url)
    model = client.meta.service_model.operation_model("CopySnapshot")
    request_dict = client._serializer.serialize_to_request(dict(params), model)
    prepare_request_dict(request_dict, endpoint_url=client.meta.endpoint_url)
    with _pinned_botocore_clock():
        handlers.inject_presigned_url_ec2(params=request_dict, request_signer=client._request_signer, model=model)
    expected = [(key, str(value)) for key, value in request_dict["body"].items()]  # as urlencode sends them

    encoder = encoder_for(bundled_model(), "CopySnapshot")
    url = encoder.request(params).url(resolve_endpoint(region, endpoint_url=endpoint_url, environ={}).url)
    context = customizations.CallContext(region, url, credentials, WHEN, encoder)
    ours = customizations.before_call("CopySnapshot", dict(params), context)
    assert encoder.serialize(ours) == expected
    if "PresignedUrl" not in params:
        assert "X-Amz-Signature=" in ours["PresignedUrl"]


def test_the_presigned_copy_verifies_for_the_source_region() -> None:
    encoder = encoder_for(bundled_model(), "CopySnapshot")
    url = encoder.request(_COPY).url("https://ec2.us-east-1.amazonaws.com")
    context = customizations.CallContext("us-east-1", url, TOKEN_KEYS, WHEN, encoder)
    presigned = customizations.before_call("CopySnapshot", dict(_COPY), context)["PresignedUrl"]
    assert presigned.startswith("https://ec2.us-west-2.amazonaws.com/?Action=CopySnapshot&")
    verified = ec2codec.verify("GET", presigned, {}, b"", lambda key: TOKEN_KEYS, now=WHEN)
    assert (verified.region, verified.presigned, verified.token) == ("us-west-2", True, TOKEN_KEYS.token)
    # The presigned request is the copy itself, with the destination region.
    operation, decoded = ec2codec.decode_request(presigned.split("?", 1)[1].split("&X-Amz-Algorithm")[0])
    assert (operation, decoded) == ("CopySnapshot", {**_COPY, "DestinationRegion": "us-east-1"})


def test_copy_snapshot_without_source_region_is_left_to_the_encoder() -> None:
    client, _ = make_client()
    with pytest.raises(ec2codec.ValidationError, match="SourceRegion: missing required member"):
        client.copy_snapshot(SourceSnapshotId="snap-1")


# -- RunInstances: UserData ---------------------------------------------------


@pytest.mark.parametrize(
    "user_data", ["#!/bin/bash\necho hi\n", "", "ünïcödé ✓", b"\x00\xff binary", bytearray(b"abc"), "a" * 20000]
)
def test_user_data_is_base64_as_botocore_encodes_it(user_data: Any) -> None:
    expected = {"ImageId": "ami-1", "UserData": user_data, "MinCount": 1}
    handlers.base64_encode_user_data(expected)
    original = {"ImageId": "ami-1", "UserData": user_data, "MinCount": 1}
    ours = customizations.prepare_params("RunInstances", {"UserData": {}}, original)
    assert list(ours.items()) == list(expected.items())
    assert original["UserData"] is user_data  # the caller's params are not changed


@pytest.mark.parametrize("user_data", [5, None, ["x"], "\ud800"])
def test_user_data_botocore_cannot_encode_is_a_validation_error(user_data: Any) -> None:
    client, _ = make_client()
    with pytest.raises(ec2codec.ValidationError, match="UserData"):
        client.run_instances(MinCount=1, MaxCount=1, UserData=user_data)


def test_user_data_of_other_operations_is_sent_as_given() -> None:
    # botocore encodes only RunInstances' top-level UserData.
    params = {"InstanceId": "i-1", "UserData": {"Value": "plain"}}
    assert customizations.prepare_params("ModifyInstanceAttribute", {"UserData": {}}, params) == params


# -- GetConsoleOutput: Output ------------------------------------------------------


@pytest.mark.parametrize(
    "output",
    [
        "TGludXggdmVyc2lvbg==",  # "Linux version"
        "",
        "not base64!",  # skipped characters, as b64decode without validate
        "abc",  # bad padding: left as it came
        "//79",  # bytes that are not UTF-8: U+FFFD
        "TGlu\ndXg=",  # a line break inside
        "Zm9v€",  # not latin-1: left as it came
    ],
)
def test_console_output_is_decoded_as_botocore_decodes_it(output: str) -> None:
    expected = {"InstanceId": "i-1", "Output": output}
    handlers.decode_console_output(expected)
    ours = customizations.after_call("GetConsoleOutput", {"InstanceId": "i-1", "Output": output})
    assert ours == expected


def test_console_output_without_output_is_unchanged() -> None:
    assert customizations.after_call("GetConsoleOutput", {"InstanceId": "i-1"}) == {"InstanceId": "i-1"}


# -- Filters alias of Filter ---------------------------------------------------------

_ALIASED = [
    "DescribeFlowLogs",
    "DescribeHostReservationOfferings",
    "DescribeHostReservations",
    "DescribeHosts",
    "DescribeNatGateways",
]


def test_the_aliased_operations_are_those_botocore_aliases() -> None:
    model = bundled_model()
    found = [op for op in model.operation_names() if "Filter" in _members(op)]
    assert found == _ALIASED


def _members(operation: str) -> dict[str, Any]:
    model = bundled_model()
    shape = model.operation(operation).input
    return dict(model.shape(shape).get("members", {})) if shape else {}


@pytest.mark.parametrize("operation", [*_ALIASED, "DescribeInstances"])
def test_filters_alias_moves_like_botocores_parameter_alias(operation: str) -> None:
    model = botocore_session.get_session().get_service_model("ec2").operation_model(operation)
    filters = [{"Name": "state", "Values": ["available"]}]
    expected: dict[str, Any] = {"MaxResults": 5, "Filters": filters, "NextToken": "t"}
    handlers.ParameterAlias("Filter", "Filters").alias_parameter_in_call(expected, model)
    ours = customizations.prepare_params(
        operation, _members(operation), {"MaxResults": 5, "Filters": filters, "NextToken": "t"}
    )
    assert list(ours.items()) == list(expected.items())  # the member moves to the end, as on the wire


def test_filters_and_filter_together_are_refused_as_botocore_refuses_them() -> None:
    from botocore.exceptions import AliasConflictParameterError

    model = botocore_session.get_session().get_service_model("ec2").operation_model("DescribeHosts")
    both = {"Filter": [], "Filters": []}
    with pytest.raises(AliasConflictParameterError):
        handlers.ParameterAlias("Filter", "Filters").alias_parameter_in_call(dict(both), model)
    with pytest.raises(ec2codec.ValidationError, match="Filters: Filters is an alias of Filter"):
        customizations.prepare_params("DescribeHosts", _members("DescribeHosts"), both)


# -- X-Amzn-Trace-Id in Lambda --------------------------------------------------------


@pytest.mark.parametrize(
    "environ",
    [
        {"AWS_LAMBDA_FUNCTION_NAME": "f", "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"},
        {"AWS_LAMBDA_FUNCTION_NAME": "f", "_X_AMZN_TRACE_ID": "Root=1-abc;Parent=x y/z?é\"'{}[]&+:"},
        {"AWS_LAMBDA_FUNCTION_NAME": "f", "_X_AMZN_TRACE_ID": ""},
        {"_X_AMZN_TRACE_ID": "Root=1-abc"},
        {"AWS_LAMBDA_FUNCTION_NAME": "f"},
        {},
    ],
)
def test_trace_header_equals_botocores_recursion_detection(environ: dict[str, str]) -> None:
    request: dict[str, Any] = {"headers": {}}
    with mock.patch.dict(os.environ, environ, clear=True):
        handlers.add_recursion_detection_header(request)
    assert customizations.trace_headers(environ) == request["headers"]


def test_the_trace_header_is_sent_unsigned() -> None:
    import responses

    from tests.client_support import ENDPOINT, regions_document

    environ = {"AWS_LAMBDA_FUNCTION_NAME": "f", "_X_AMZN_TRACE_ID": "Root=1-abc"}
    with responses.RequestsMock() as mocked:
        mocked.add(responses.POST, ENDPOINT, body=regions_document())
        client, _ = make_client(environ=environ)
        client.describe_regions()
        sent = mocked.calls[0].request.headers
    assert sent["X-Amzn-Trace-Id"] == "Root=1-abc"
    assert "x-amzn-trace-id" not in sent["Authorization"]


# -- generate_presigned_url ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params", "expires", "http_method"),
    [
        ("describe_instances", {"InstanceIds": ["i-1", "i-2"]}, 3600, None),
        ("describe_nat_gateways", {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}], "MaxResults": 5}, 60, None),
        ("run_instances", {"MinCount": 1, "MaxCount": 1, "UserData": "#!/bin/sh", "ClientToken": "t-1"}, 900, "GET"),
        ("copy_snapshot", dict(_COPY), 3600, None),  # botocore presigns without the inner PresignedUrl
        ("describe_regions", None, 7, "GET"),
    ],
)
def test_generate_presigned_url_equals_botocores(
    method: str, params: dict[str, Any] | None, expires: int, http_method: str | None
) -> None:
    from tests.client_support import CREDENTIALS

    theirs = _botocore_client("us-east-1", CREDENTIALS, None)
    with _pinned_botocore_clock():
        expected = theirs.generate_presigned_url(
            method, Params=copy.deepcopy(params), ExpiresIn=expires, HttpMethod=http_method
        )
    client, _ = make_client(now=lambda: WHEN, endpoint_url=None)
    assert client.generate_presigned_url(method, Params=params, ExpiresIn=expires, HttpMethod=http_method) == expected


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"ClientMethod": "DescribeInstances"}, "ClientMethod: no client method 'DescribeInstances'"),
        ({"ClientMethod": "describe_instances", "ExpiresIn": 0}, "ExpiresIn: expected seconds"),
        ({"ClientMethod": "describe_instances", "HttpMethod": 1}, "HttpMethod: expected str"),
        ({"ClientMethod": "describe_instances", "Params": {"Bogus": 1}}, "Bogus: unknown member"),
    ],
)
def test_generate_presigned_url_refuses_bad_arguments(arguments: dict[str, Any], problem: str) -> None:
    client, _ = make_client()
    with pytest.raises(ec2codec.ValidationError, match=problem):
        client.generate_presigned_url(**arguments)


# -- every EC2 handler botocore registers is accounted for ----------------------------------

_ACCOUNTED = {
    "handle_service_name_alias": "service-name aliases of other services",
    "add_generate_presigned_url": "Client.generate_presigned_url",
    "decode_console_output": "customizations.decode_console_output",
    "generate_idempotent_uuid": "the client fills idempotency tokens",
    "_handle_request_validation_mode_member": "no EC2 operation has an httpChecksum trait",
    "add_recursion_detection_header": "customizations.trace_headers",
    "inject_presigned_url_ec2": "customizations.inject_presigned_url_ec2",
    "add_retry_headers": "SDK telemetry, not sent",
    "set_operation_specific_signer": "every EC2 operation is SigV4",
    "_set_auth_scheme_preference_signer": "every EC2 operation is SigV4",
    "base64_encode_user_data": "customizations.base64_encode_user_data",
    "inject_api_version_header_if_needed": "no EC2 operation uses endpoint discovery",
    "ParameterAlias.alias_parameter_in_call": "customizations.prepare_params",
}


def test_every_handler_botocore_registers_for_ec2_is_accounted_for() -> None:
    registered = set()
    for entry in handlers.BUILTIN_HANDLERS:
        event, handler = entry[0], entry[1]
        parts = event.split(".")
        module = getattr(handler, "__module__", None) or type(handler).__module__
        if not module.startswith("botocore."):
            continue  # moto, once imported, adds its stubber to the list
        if parts[0] != "docs" and (len(parts) == 1 or parts[1] in ("*", "ec2")):
            registered.add(getattr(handler, "__qualname__", type(handler).__name__))
    assert registered == set(_ACCOUNTED)
    # The reasons given for the handlers that do nothing for EC2 hold for the model.
    service = botocore_session.get_session().get_service_model("ec2")
    operations = [service.operation_model(name) for name in service.operation_names]
    assert not any(op.http_checksum or op.endpoint_discovery or op.is_endpoint_discovery_operation for op in operations)
    assert {op.auth_type for op in operations} <= {None, "v4"}
    assert all(op.auth in (None, ["aws.auth#sigv4"]) for op in operations)
