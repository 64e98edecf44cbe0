"""ec2codec.client.sync: wire format, streaming, snake_case methods, resolution, delegation and debug logging.

HTTP is mocked with ``responses``; retries and clock skew are in
``test_client_retries.py`` and the end-to-end run against moto in
``test_client_moto.py``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

import pytest
import requests
import responses

import ec2codec
from ec2codec.auth.credentials.chain import CredentialProvider
from ec2codec.auth.sigv4 import Credentials
from ec2codec.client import _shared
from ec2codec.client import sync as client_module
from ec2codec.client._client_methods import ClientMethods
from ec2codec.client._wirelog import redact_xml
from ec2codec.client.sync import Client
from tests.client_support import (
    CREDENTIALS,
    ENDPOINT,
    NOW,
    error_document,
    make_client,
    regions_document,
    resetting_body,
)
from tests.conftest import tool

_OPERATIONS = ec2codec.operations()

# -- generated methods ------------------------------------------------------------


def test_snake_case_equals_botocore_xform_name_for_every_operation() -> None:
    from botocore import xform_name

    snake_case = tool("build_client_methods").snake_case
    assert len(_OPERATIONS) == 830
    mismatches = {op: (snake_case(op), xform_name(op)) for op in _OPERATIONS if snake_case(op) != xform_name(op)}
    assert mismatches == {}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("DescribeVpcs", "describe_vpcs"), ("ListWebACLs", "list_web_acls"), ("GetIPAddress", "get_ip_address")],
)
def test_snake_case_special_cases(name: str, expected: str) -> None:
    from botocore import xform_name

    assert tool("build_client_methods").snake_case(name) == xform_name(name) == expected


def test_generated_client_methods_are_current() -> None:
    assert tool("build_client_methods").main(["--check"]) == 0, "run python tools/build_client_methods.py"


def test_every_operation_has_a_method_that_calls_it() -> None:
    from botocore import xform_name

    seen: list[tuple[str, Any]] = []

    class Spy(ClientMethods):
        def call(self, operation: str, params: Any = None) -> dict[str, Any]:
            seen.append((operation, params))
            return {}

    spy = Spy()
    for op in _OPERATIONS:
        getattr(spy, xform_name(op))(DryRun=True)
    assert seen == [(op, {"DryRun": True}) for op in _OPERATIONS]
    # No operation method shadows the client's own API, boto3's helpers included.
    own = {name for cls in Client.__mro__ if cls is not ClientMethods for name in vars(cls) if not name.startswith("_")}
    assert {"get_paginator", "get_waiter", "can_paginate", "generate_presigned_url", "call"} <= own
    assert own.isdisjoint({xform_name(op) for op in _OPERATIONS})


@pytest.mark.parametrize(
    ("documentation", "sentence"),
    [
        (
            "<p>Imports a disk into an EBS snapshot.</p> <p>For more, see <a href='x'>this</a>.</p>",
            "Imports a disk into an EBS snapshot.",
        ),
        ("<p>Accepts a transfer. For more information, see <a>A</a>.</p>", "Accepts a transfer."),
        (
            "<p> Create a <code>thing</code> &amp; its &lt;parts&gt;, e.g. Amazon ones. Then more.</p>",
            "Create a thing & its <parts>, e.g. Amazon ones.",
        ),
        ("<p>[IPv6 only] Creates a gateway.</p>", "[IPv6 only] Creates a gateway."),
        ("<note><p>Read this first</p></note><p>Second.</p>", "Read this first."),
        ("<p>It\u2019s 10\u201320 \u201cunits\u201d.</p>", 'It\'s 10-20 "units".'),
        ("Describes it (see docs). Then.", "Describes it (see docs)."),
        ("", ""),
    ],
)
def test_first_sentence_of_the_documentation(documentation: str, sentence: str) -> None:
    assert tool("build_client_methods").first_sentence(documentation) == sentence


def test_method_docstrings_give_the_summary_and_required_parameters() -> None:
    from ec2codec.model.service import bundled_model

    model = bundled_model()
    for op in _OPERATIONS:
        doc = getattr(ClientMethods, tool("build_client_methods").snake_case(op)).__doc__
        summary, _, details = doc.partition("\n\n")
        assert summary.strip().endswith((".", "?", "!")) and "</" not in summary, op
        assert f"EC2 ``{op}``;" in details, op
        shape = model.shape(model.operation(op).input) if model.operation(op).input else {}
        for name in shape.get("required", ()):
            assert f"``{name}`` (" in " ".join(details.split()), (op, name)
    assert Client.import_snapshot.__doc__.startswith("Imports a disk into an EBS snapshot.")
    assert "``UserData`` is base64-encoded for you" in " ".join(Client.run_instances.__doc__.split())
    assert "``Filters`` is accepted for ``Filter``" in " ".join(Client.describe_nat_gateways.__doc__.split())


# -- one call on the wire --------------------------------------------------------------


@responses.activate
def test_call_sends_the_encoded_signed_body_and_returns_the_parsed_result() -> None:
    responses.add(responses.POST, ENDPOINT, body=regions_document())
    client, _ = make_client()
    params = {"AllRegions": True, "RegionNames": ["us-east-1", "eu-west-1"]}
    result = client.describe_regions(**params)
    assert result == ec2codec.parse("DescribeRegions", regions_document())
    request = responses.calls[0].request
    assert request.body == ec2codec.encode("DescribeRegions", params)
    assert request.method == "POST"
    assert request.req_kwargs["stream"] is True
    assert request.req_kwargs["timeout"] == (10.0, 60.0)
    content_type = {"Content-Type": request.headers["Content-Type"]}
    expected = ec2codec.sign("POST", ENDPOINT, content_type, request.body, CREDENTIALS, "us-east-1", now=NOW)
    for name, value in expected.items():
        assert request.headers[name] == value


@responses.activate
def test_a_success_document_with_an_error_status_is_a_service_error() -> None:
    responses.add(responses.POST, ENDPOINT, body=regions_document(), status=404)
    client, _ = make_client()
    with pytest.raises(ec2codec.ServiceError) as info:
        client.describe_regions()
    assert (info.value.code, info.value.status) == ("404", 404)


@responses.activate
def test_redirects_are_not_followed() -> None:
    # requests would re-send a redirected POST as a GET without the body.
    elsewhere = "https://elsewhere.example/"
    responses.add(responses.POST, ENDPOINT, status=301, headers={"Location": elsewhere})
    responses.add(responses.GET, elsewhere, body=regions_document())
    client, sleep = make_client()
    with pytest.raises(ec2codec.ServiceError) as info:
        client.describe_regions()
    assert (info.value.code, info.value.status) == ("301", 301)
    assert [c.request.url for c in responses.calls] == [ENDPOINT]
    assert sleep.delays == []


@responses.activate
def test_service_errors_carry_code_message_request_id_and_status() -> None:
    responses.add(responses.POST, ENDPOINT, body=error_document("InvalidVolume.NotFound", "gone", "rid-1"), status=400)
    client, _ = make_client()
    with pytest.raises(ec2codec.ServiceError) as info:
        client.describe_volumes(VolumeIds=["vol-1"])
    error = info.value
    assert (error.code, error.message, error.request_id) == ("InvalidVolume.NotFound", "gone", "rid-1")
    assert error.status == 400


class _SpyParser(client_module.ResponseParser):
    chunks: ClassVar[list[int]] = []

    def feed(self, chunk: Any) -> None:
        type(self).chunks.append(len(chunk))
        super().feed(chunk)


@responses.activate
def test_the_body_is_streamed_to_the_parser_in_64_kib_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    body = regions_document(3000).encode()
    assert len(body) > 3 * 65536
    responses.add(responses.POST, ENDPOINT, body=body)
    monkeypatch.setattr(client_module, "ResponseParser", _SpyParser)
    _SpyParser.chunks = []
    client, _ = make_client()
    assert len(client.describe_regions()["Regions"]) == 3000
    assert len(_SpyParser.chunks) >= 4
    assert max(_SpyParser.chunks) == 65536
    assert sum(_SpyParser.chunks) == len(body)


@responses.activate
def test_a_reset_mid_body_is_seen_after_the_parser_got_data(monkeypatch: pytest.MonkeyPatch) -> None:
    body = regions_document(3000).encode()
    responses.add(responses.POST, ENDPOINT, body=resetting_body(body[:100_000]))
    monkeypatch.setattr(client_module, "ResponseParser", _SpyParser)
    _SpyParser.chunks = []
    client, _ = make_client(max_attempts=1)
    with pytest.raises(client_module.TransportError, match="reset"):
        client.describe_regions()
    assert _SpyParser.chunks == [65536]


class _RotatingProvider(CredentialProvider):
    def __init__(self) -> None:
        super().__init__(Credentials("AKID0", "secret"))
        self.calls = 0

    def get(self) -> Credentials:
        self.calls += 1
        return Credentials(f"AKID{self.calls}", "secret")


@responses.activate
def test_a_credential_provider_is_asked_before_every_attempt() -> None:
    responses.add(responses.POST, ENDPOINT, body=error_document("InternalError"), status=500)
    responses.add(responses.POST, ENDPOINT, body=regions_document())
    provider = _RotatingProvider()
    client, _ = make_client(credentials=provider)
    client.describe_regions()
    assert [c.request.headers["Authorization"].split("/")[0][-5:] for c in responses.calls] == ["AKID1", "AKID2"]


# -- construction -----------------------------------------------------------------------


@responses.activate
def test_region_credentials_and_endpoint_come_from_the_environment(tmp_path: Path) -> None:
    environ = {
        "AWS_REGION": "eu-west-3",
        "AWS_ACCESS_KEY_ID": "AKIDENV",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }
    responses.add(responses.POST, "https://ec2.eu-west-3.amazonaws.com/", body=regions_document())
    with Client(environ=environ) as client:
        assert client.region == "eu-west-3"
        assert client.endpoint.url == "https://ec2.eu-west-3.amazonaws.com"
        client.describe_regions()
    assert "Credential=AKIDENV/20" in responses.calls[0].request.headers["Authorization"]
    assert "/eu-west-3/ec2/aws4_request" in responses.calls[0].request.headers["Authorization"]


def test_the_profile_selects_region_credentials_and_fips(tmp_path: Path) -> None:
    (tmp_path / "config").write_text("[profile work]\nregion = us-west-2\nuse_fips_endpoint = true\n")
    (tmp_path / "credentials").write_text("[work]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n")
    environ = {
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }
    client = Client(profile="work", environ=environ)
    assert client.region == "us-west-2"
    assert client.endpoint.url == "https://ec2-fips.us-west-2.amazonaws.com"
    assert client.credentials.get().access_key == "AKIDFILE"


@pytest.mark.parametrize("value", [0, -1, True, 2.5])
def test_max_attempts_must_be_a_positive_integer(value: Any) -> None:
    with pytest.raises(ec2codec.ValidationError, match="max_attempts"):
        make_client(max_attempts=value)


def test_missing_configuration_is_an_ec2codec_error(tmp_path: Path) -> None:
    environ = {"AWS_CONFIG_FILE": str(tmp_path / "c"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "s")}
    with pytest.raises(ec2codec.RegionError, match="no AWS region") as info:
        Client(environ=environ, credentials=CREDENTIALS)
    assert not isinstance(info.value, ec2codec.CredentialsError)


def test_close_closes_only_an_own_session() -> None:
    with mock.patch.object(requests.Session, "close") as close:
        with make_client()[0]:
            pass
        assert close.call_count == 1
        session = requests.Session()
        with make_client(session=session)[0]:
            pass
        assert close.call_count == 1


# -- delegation to paginate and waiters ------------------------------------------------------


def _instances_page(token: str | None, instance_id: str) -> str:
    next_token = f"<nextToken>{token}</nextToken>" if token else ""
    return (
        "<DescribeInstancesResponse><requestId>r</requestId><reservationSet><item><reservationId>r-1</reservationId>"
        f"<instancesSet><item><instanceId>{instance_id}</instanceId></item></instancesSet></item></reservationSet>"
        f"{next_token}</DescribeInstancesResponse>"
    )


@responses.activate
def test_paginate_follows_next_token_through_call() -> None:
    responses.add(responses.POST, ENDPOINT, body=_instances_page("t-1", "i-1"))
    responses.add(responses.POST, ENDPOINT, body=_instances_page(None, "i-2"))
    client, _ = make_client()
    pages = list(client.paginate("DescribeInstances", {"MaxResults": 5}))
    assert [p["Reservations"][0]["Instances"][0]["InstanceId"] for p in pages] == ["i-1", "i-2"]
    bodies = [ec2codec.decode_request(c.request.body)[1] for c in responses.calls]
    assert bodies == [{"MaxResults": 5}, {"MaxResults": 5, "NextToken": "t-1"}]


def _volumes(state: str) -> str:
    return (
        "<DescribeVolumesResponse><requestId>r</requestId><volumeSet><item><volumeId>vol-1</volumeId>"
        f"<status>{state}</status></item></volumeSet></DescribeVolumesResponse>"
    )


@responses.activate
def test_wait_polls_with_the_clients_sleep() -> None:
    responses.add(responses.POST, ENDPOINT, body=_volumes("creating"))
    responses.add(responses.POST, ENDPOINT, body=_volumes("available"))
    client, sleep = make_client()
    result = client.wait("VolumeAvailable", {"VolumeIds": ["vol-1"]}, delay=3)
    assert result["Volumes"][0]["State"] == "available"
    assert sleep.delays == [3]


def _import_tasks(status: str, snapshot: str = "") -> str:
    return (
        "<DescribeImportSnapshotTasksResponse><requestId>r</requestId><importSnapshotTaskSet><item>"
        f"<importTaskId>import-snap-1</importTaskId><snapshotTaskDetail><status>{status}</status>"
        f"<snapshotId>{snapshot}</snapshotId></snapshotTaskDetail></item></importSnapshotTaskSet>"
        "</DescribeImportSnapshotTasksResponse>"
    )


@responses.activate
def test_wait_import_snapshot_polls_the_task() -> None:
    responses.add(responses.POST, ENDPOINT, body=_import_tasks("active"))
    responses.add(responses.POST, ENDPOINT, body=_import_tasks("completed", "snap-1"))
    client, sleep = make_client()
    task = client.wait_import_snapshot("import-snap-1", poll=7.0)
    assert task["SnapshotTaskDetail"]["SnapshotId"] == "snap-1"
    assert sleep.delays == [7.0]
    assert ec2codec.decode_request(responses.calls[0].request.body)[1] == {"ImportTaskIds": ["import-snap-1"]}


# -- debug logging -----------------------------------------------------------------------------

_SECRETS = ("SESSIONTOKENVALUE", "c2VjcmV0IHVzZXIgZGF0YQ==", "hunter2", "-----BEGIN RSA PRIVATE KEY-----abc")


@responses.activate
def test_debug_log_shows_the_exchange_with_secrets_redacted(caplog: pytest.LogCaptureFixture) -> None:
    key_pair = (
        "<CreateKeyPairResponse><requestId>r-kp</requestId><keyName>k</keyName>"
        f"<keyMaterial>{_SECRETS[3]}</keyMaterial><keyFingerprint>fp</keyFingerprint></CreateKeyPairResponse>"
    )
    attribute = (
        "<DescribeInstanceAttributeResponse><requestId>r</requestId><instanceId>i-1</instanceId>"
        f"<userData><value>{_SECRETS[1]}</value></userData></DescribeInstanceAttributeResponse>"
    )
    responses.add(responses.POST, ENDPOINT, body=key_pair)
    responses.add(responses.POST, ENDPOINT, body=error_document("InternalError"), status=500)
    responses.add(responses.POST, ENDPOINT, body=attribute)
    modified = "<ModifyInstanceAttributeResponse><return>true</return></ModifyInstanceAttributeResponse>"
    responses.add(responses.POST, ENDPOINT, body=modified)
    responses.add(responses.POST, ENDPOINT, body=regions_document())
    responses.add(responses.POST, ENDPOINT, body="<ModifyVpnTunnelOptionsResponse/>")
    client, _ = make_client()
    with caplog.at_level(logging.DEBUG, logger="ec2codec.wire"):
        assert client.create_key_pair(KeyName="k")["KeyMaterial"] == _SECRETS[3]
        client.describe_instance_attribute(InstanceId="i-1", Attribute="userData")
        client.modify_instance_attribute(InstanceId="i-1", UserData={"Value": _SECRETS[1].encode()})
        client.call("DescribeRegions", {})
        client.modify_vpn_tunnel_options(
            VpnConnectionId="vpn-1", VpnTunnelOutsideIpAddress="1.2.3.4", TunnelOptions={"PreSharedKey": _SECRETS[2]}
        )
    text = caplog.text
    signatures = [c.request.headers["Authorization"].rsplit("=", 1)[1] for c in responses.calls]
    for secret in (*_SECRETS, *signatures):
        assert secret not in text
    assert "Signature=***" in text
    assert "X-Amz-Security-Token': '***'" in text
    assert "<keyMaterial>***</keyMaterial>" in text
    assert "<userData><value>***</value></userData>" in text
    assert "UserData.Value=***" in text and "TunnelOptions.PreSharedKey=***" in text
    assert "KeyName=k" in text and "<keyFingerprint>fp</keyFingerprint>" in text  # the rest is shown
    assert "response 500" in text and "retrying DescribeInstanceAttribute after attempt 1 of 3" in text


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (b"<a><Password>x</Password><b>y</b></a>", "<a><Password>***</Password><b>y</b></a>"),
        (b"<a><secretThing><x>1</x><y/></secretThing></a>", "<a><secretThing><x>***</x><y/></secretThing></a>"),
        (b"<a><passwordData/><n>1</n></a>", "<a><passwordData/><n>1</n></a>"),
        (b"<a><userData><value>cut sho", "<a><userData><value>***"),
    ],
)  # fmt: skip
def test_response_redaction_covers_nested_elements(document: bytes, expected: str) -> None:
    assert redact_xml(document) == expected


def test_debug_logging_is_free_when_disabled() -> None:
    with mock.patch.object(_shared, "redact_headers") as redact, responses.RequestsMock() as rsps:
        rsps.add(responses.POST, ENDPOINT, body=regions_document())
        logging.getLogger("ec2codec.wire").setLevel(logging.INFO)
        try:
            make_client()[0].describe_regions()
        finally:
            logging.getLogger("ec2codec.wire").setLevel(logging.NOTSET)
    redact.assert_not_called()
