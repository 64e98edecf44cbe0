"""The bundled STS model over awsQuery, differential against botocore's ``QuerySerializer`` and ``QueryParser``.

* Requests: random valid params for every STS operation (built from the
  bundled model: required members present, ``min`` respected, empty lists
  drawn often since awsQuery sends them as ``Name=``) encode to exactly the
  bytes botocore sends; params with one defect are refused by both, with the
  path named; every body decodes back (``decode_request``) to params that
  encode to the same bytes.
* Responses: random documents in STS's form (members rendered independently
  of ec2codec, inside ``<{Op}Result>``, with or without ``ResponseMetadata``
  and the namespace) parse as botocore parses them, whole and in chunks;
  random results written by ``encode_response`` are read back unchanged by
  both parsers, and error documents by ``encode_error`` too.
* The bundle: current with the installed botocore, opened only when used.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ec2codec
from ec2codec.model.service import bundled_model
from ec2codec.protocol.codec import bundled
from tests.conftest import ROOT, tool
from tests.param_strategies import _blobs, _integers, _timestamps, texts
from tests.parse_support import XML_TEXT, comparable, values_for
from tests.result_strategies import REQUEST_IDS, results_for

botocore = pytest.importorskip("botocore")
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.exceptions import ParamValidationError  # noqa: E402
from botocore.parsers import create_parser  # noqa: E402
from botocore.serialize import create_serializer  # noqa: E402

STS = bundled("sts")
SERVICE = bundled_model("sts")
OPERATIONS = STS.operations()
WITH_OUTPUT = [op for op in OPERATIONS if SERVICE.operation(op).output]
NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
EXAMPLES = max(5, settings().max_examples)


@functools.cache
def _botocore() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("sts")


def botocore_wire(operation: str, params: dict[str, Any]) -> bytes:
    """The body botocore sends (``ParamValidationError`` for invalid params)."""
    serializer = create_serializer("query", include_validation=True)
    body = serializer.serialize_to_request(params, _botocore().operation_model(operation))["body"]
    prepared = AWSRequest(method="POST", url="https://sts.us-east-1.amazonaws.com/", data=body).prepare()
    wire: str = prepared.body
    return wire.encode("ascii")


def botocore_parse(operation: str, body: bytes, status: int = 200) -> dict[str, Any]:
    """botocore's ``QueryParser`` result, ``ResponseMetadata`` reduced to ``RequestId`` as ec2codec keeps it."""
    shape = _botocore().operation_model(operation).output_shape
    result: dict[str, Any] = create_parser("query").parse({"body": body, "headers": {}, "status_code": status}, shape)
    meta = result.get("ResponseMetadata", {})
    result["ResponseMetadata"] = {k: v for k, v in meta.items() if k == "RequestId"}
    return result


# --- request params ---------------------------------------------------------------------------


@functools.cache
def params(shape_name: str, depth: int = 0) -> st.SearchStrategy[Any]:
    """Valid values of an STS input shape."""
    shape = SERVICE.shape(shape_name)
    kind, minimum = shape["type"], shape.get("min")
    if kind == "structure":
        members = shape.get("members", {})
        required = set(shape.get("required", ()))
        return st.fixed_dictionaries(
            {n: params(r["shape"], depth + 1) for n, r in members.items() if n in required},
            optional={n: params(r["shape"], depth + 1) for n, r in members.items() if n not in required and depth < 4},
        )
    if kind == "list":
        items = st.lists(
            params(shape["member"]["shape"], depth + 1), min_size=minimum or 0, max_size=(minimum or 0) + 3
        )
        return items | items.map(tuple)
    return {
        "string": lambda: texts(minimum or 0),
        "integer": lambda: _integers(minimum),
        "long": lambda: _integers(minimum),
        "boolean": st.booleans,
        "timestamp": _timestamps,
        "blob": _blobs,
    }[kind]()


def params_for(operation: str) -> st.SearchStrategy[dict[str, Any]]:
    input_shape = SERVICE.operation(operation).input
    return params(input_shape) if input_shape else st.just({})


def test_the_model_is_sts_over_awsquery() -> None:
    assert STS.service.protocol == "query"
    assert STS.api_version == "2011-06-15"
    assert {"AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity", "GetSessionToken"} <= set(OPERATIONS)
    assert sorted(_botocore().operation_names) == OPERATIONS


@pytest.mark.parametrize("operation", OPERATIONS)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_requests_encode_like_botocore_and_decode_back(operation: str, data: st.DataObject) -> None:
    drawn = data.draw(params_for(operation), label="params")
    body = STS.encode(operation, drawn)
    assert body == botocore_wire(operation, drawn)
    name, decoded = STS.decode_request(body)
    assert name == operation
    # STS requests hold only strings, integers, lists and structures, which decode as given.
    assert decoded == _sent(drawn)


def _silent(value: Any) -> bool:
    # A structure of nothing but such structures sends no key at all, and so does a
    # list of them (an empty list sends "Name=").
    if isinstance(value, (list, tuple)):
        return bool(value) and all(map(_silent, value))
    return isinstance(value, dict) and all(map(_silent, value.values()))


def _sent(value: Any) -> Any:
    """``value`` without what the encoder sends nothing for, which the decoder cannot see (list items renumber)."""
    if isinstance(value, dict):
        return {k: _sent(v) for k, v in value.items() if not _silent(v)}
    if isinstance(value, (list, tuple)):
        return [_sent(v) for v in value if not _silent(v)]
    return value


_WRONG: dict[str, list[Any]] = {
    "string": [7, None, b"bytes", ["list"]],
    "integer": ["7", 1.5, None],
    "list": [{"a": 1}, 5, "abc"],
    "structure": ["dict", 1, ["a"]],
}


def _takes_params(operation: str) -> bool:
    input_shape = SERVICE.operation(operation).input
    return bool(input_shape and SERVICE.shape(input_shape).get("members"))


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if _takes_params(op)])
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_invalid_params_are_refused_like_botocore(operation: str, data: st.DataObject) -> None:
    shape = SERVICE.shape(SERVICE.operation(operation).input or "")
    drawn = dict(data.draw(params_for(operation), label="params"))
    members = shape.get("members", {})
    required = sorted(set(shape.get("required", ())))
    name = data.draw(st.sampled_from(sorted(members)), label="member")
    if required and data.draw(st.booleans(), label="drop a required member"):
        name = data.draw(st.sampled_from(required))
        del drawn[name]
    else:
        kind = SERVICE.shape(members[name]["shape"])["type"]
        drawn[name] = data.draw(st.sampled_from(_WRONG[kind]), label="wrong value")
    with pytest.raises(ParamValidationError):
        botocore_wire(operation, drawn)
    with pytest.raises(ec2codec.ValidationError) as caught:
        STS.encode(operation, drawn)
    assert name in [path for path, _ in caught.value.problems]


def test_sts_request_keys() -> None:
    body = STS.encode(
        "AssumeRole",
        {
            "RoleArn": "arn:aws:iam::123456789012:role/deploy",
            "RoleSessionName": "ci run",
            "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
            "Tags": [{"Key": "team", "Value": "infra"}],
            "TransitiveTagKeys": [],
            "DurationSeconds": 900,
        },
    )
    assert body == (
        b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeploy"
        b"&RoleSessionName=ci+run&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess"
        b"&Tags.member.1.Key=team&Tags.member.1.Value=infra&TransitiveTagKeys=&DurationSeconds=900"
    )
    with pytest.raises(ec2codec.ValidationError, match=r"DurationSeconds: 899 is below the minimum 900"):
        STS.encode("AssumeRole", {"RoleArn": "a" * 20, "RoleSessionName": "ok", "DurationSeconds": 899})
    with pytest.raises(ec2codec.ValidationError, match=r"ProvidedContexts: length 0 is below the minimum 1"):
        STS.encode("AssumeRole", {"RoleArn": "a" * 20, "RoleSessionName": "ok", "ProvidedContexts": []})


# --- responses ---------------------------------------------------------------------------------


def document(operation: str, content: str, request_id: str | None, namespace: bool) -> bytes:
    """An STS response document around ``content`` (the result's members), written by hand."""
    xmlns = f' xmlns="{NAMESPACE}"' if namespace else ""
    meta = f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata>" if request_id else ""
    root = f"{operation}Response"
    return f"<{root}{xmlns}>\n  <{operation}Result>{content}</{operation}Result>\n  {meta}\n</{root}>\n".encode()


@pytest.mark.parametrize("operation", WITH_OUTPUT)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_responses_parse_like_botocore(operation: str, data: st.DataObject) -> None:
    output = SERVICE.operation(operation).output or ""
    content = data.draw(values_for(SERVICE, output), label="content")
    request_id = data.draw(st.none() | XML_TEXT, label="request id")
    body = document(operation, content, request_id, data.draw(st.booleans(), label="namespace"))
    expected = comparable(botocore_parse(operation, body))
    assert comparable(STS.parse(operation, body)) == expected
    size = data.draw(st.integers(1, len(body)), label="chunk size")
    assert comparable(STS.parse(operation, iter([body[i : i + size] for i in range(0, len(body), size)]))) == expected


@pytest.mark.parametrize("operation", WITH_OUTPUT)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_encoded_responses_read_back_unchanged(operation: str, data: st.DataObject) -> None:
    result = data.draw(results_for(operation, SERVICE), label="result")
    request_id = data.draw(REQUEST_IDS, label="request id")
    body = STS.encode_response(operation, result, request_id)
    assert body.startswith(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{operation}Response xmlns="{NAMESPACE}">'.encode()
    )
    expected = comparable({**result, "ResponseMetadata": {"RequestId": request_id}})
    assert comparable(STS.parse(operation, body)) == expected
    assert comparable(botocore_parse(operation, body)) == expected


def test_assume_role_response_as_sts_sends_it() -> None:
    body = b"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity>Alice</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>AQoDYXdzEPT//////////wEXAMPLE</SessionToken>
      <Expiration>2019-11-09T13:34:41Z</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>"""
    result = STS.parse("AssumeRole", body)
    assert result["Credentials"]["AccessKeyId"] == "ASIAIOSFODNN7EXAMPLE"
    assert result["Credentials"]["Expiration"].isoformat() == "2019-11-09T13:34:41+00:00"
    assert result["PackedPolicySize"] == 6
    assert result["ResponseMetadata"] == {"RequestId": "c6104cbe-af31-11e0-8154-cbc7ccf896c7"}
    assert comparable(result) == comparable(botocore_parse("AssumeRole", body))


@pytest.mark.parametrize("fault", ["Sender", "Receiver"])
def test_error_documents_read_back(fault: str) -> None:
    body = STS.encode_error("ExpiredTokenException", "Token expired: <now> & gone", "req-7", fault=fault)
    assert body.decode().endswith(
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{fault}</Type><Code>ExpiredTokenException</Code>'
        "<Message>Token expired: &lt;now&gt; &amp; gone</Message></Error><RequestId>req-7</RequestId></ErrorResponse>"
    )
    with pytest.raises(ec2codec.ServiceError) as caught:
        STS.parse("AssumeRole", body, status=400)
    error = caught.value
    assert (error.code, error.message, error.request_id, error.status) == (
        "ExpiredTokenException",
        "Token expired: <now> & gone",
        "req-7",
        400,
    )
    # The modeled member is "message"; the document's <Message> is the generic one.
    assert error.details == {}
    theirs = create_parser("query").parse({"body": body, "headers": {}, "status_code": 400}, None)
    assert theirs["Error"] == {"Type": fault, "Code": error.code, "Message": error.message}
    assert theirs["ResponseMetadata"]["RequestId"] == "req-7"


def test_error_document_arguments_are_checked() -> None:
    with pytest.raises(ec2codec.ValidationError, match="fault: expected one of Sender, Receiver"):
        STS.encode_error("AccessDenied", "no", "r", fault="Client")
    with pytest.raises(ec2codec.ValidationError, match="awsQuery error document carries one error"):
        STS.encode_error("AccessDenied", "no", "r", errors=[("Other", "x")])
    # The EC2 form is unchanged, with or without the model.
    assert ec2codec.Model(bundled_model()).encode_error("Bad", "m", "r") == ec2codec.encode_error("Bad", "m", "r")


# --- decode_request strictness ---------------------------------------------------------------

HEAD = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fx&RoleSessionName=s1"


@pytest.mark.parametrize(
    ("tail", "key", "message"),
    [
        ("&Tags.1.Key=a&Tags.1.Value=b", "Tags", "expected Tags.member.1"),
        ("&Tags.member.0.Key=a", "Tags.member.0", "positive integer"),
        ("&TransitiveTagKeys=a", "TransitiveTagKeys", "expected TransitiveTagKeys.member.1"),
        ("&TransitiveTagKeys.member.2=a", "TransitiveTagKeys.member.1", "without gaps"),
        ("&TransitiveTagKeys=&TransitiveTagKeys.member.1=a", "TransitiveTagKeys", "both as a value and as a prefix"),
        ("&Tags.member.1.key=a", "Tags.member.1.key", "unknown parameter"),
        ("&policyArns.member.1.arn=a", "policyArns", "unknown parameter"),
        ("&DurationSeconds=15m", "DurationSeconds", "not an integer"),
    ],
)
def test_decode_request_refuses_malformed_keys(tail: str, key: str, message: str) -> None:
    with pytest.raises(ec2codec.ValidationError) as caught:
        STS.decode_request(HEAD + tail)
    ((found_key, found_message),) = caught.value.problems
    assert found_key == key
    assert message in found_message


def test_decode_request_reads_empty_lists_and_refuses_awsquery_models_without_the_facade() -> None:
    operation, decoded = STS.decode_request(HEAD + "&TransitiveTagKeys=&Tags.member.1.Key=k&Tags.member.1.Value=v")
    assert (operation, decoded["TransitiveTagKeys"], decoded["Tags"]) == (
        "AssumeRole",
        [],
        [{"Key": "k", "Value": "v"}],
    )
    # An empty structure sends nothing, so a list of structures may skip an index (as for ec2).
    _, holey = STS.decode_request(HEAD + "&PolicyArns.member.2.arn=" + "a" * 20)
    assert holey["PolicyArns"] == [{"arn": "a" * 20}]
    from ec2codec.protocol.query_decode import decode_request

    with pytest.raises(ec2codec.ModelError, match="awsQuery"):
        decode_request(HEAD, SERVICE)


MAP_MODEL = {
    "metadata": {"protocol": "query", "apiVersion": "2020-01-08"},
    "operations": {"Put": {"name": "Put", "input": {"shape": "In"}}},
    "shapes": {
        "In": {
            "type": "structure",
            "members": {
                "Attrs": {"shape": "Map"},
                "Flat": {"shape": "Map", "flattened": True, "locationName": "F"},
                "Nested": {"shape": "StructMap"},
            },
        },
        "Map": {"type": "map", "key": {"shape": "S", "locationName": "Name"}, "value": {"shape": "S"}},
        "StructMap": {"type": "map", "key": {"shape": "S"}, "value": {"shape": "Struct"}},
        "Struct": {"type": "structure", "members": {"A": {"shape": "S"}}},
        "S": {"type": "string"},
    },
}


def test_maps_round_trip_and_malformed_entries_are_refused() -> None:
    model = ec2codec.load_model(MAP_MODEL)
    params = {"Attrs": {"a": "1", "b": ""}, "Flat": {"x": "y"}, "Nested": {"k": {}, "j": {"A": "z"}}}
    body = model.encode("Put", params)
    assert body == (
        b"Action=Put&Version=2020-01-08&Attrs.entry.1.Name=a&Attrs.entry.1.value=1&Attrs.entry.2.Name=b"
        b"&Attrs.entry.2.value=&F.1.Name=x&F.1.value=y&Nested.entry.1.key=k&Nested.entry.2.key=j&Nested.entry.2.value.A=z"
    )
    assert model.decode_request(body) == ("Put", params)
    head = "Action=Put&Version=2020-01-08"
    for tail, key in [
        ("&Attrs.1.Name=a&Attrs.1.value=1", "Attrs"),
        ("&Attrs.entry.1.Name=a", "Attrs.entry.1"),
        ("&Attrs.entry.1.key=a&Attrs.entry.1.value=1", "Attrs.entry.1"),
        ("&F.entry.1.Name=a&F.entry.1.value=1", "F.entry"),
    ]:
        with pytest.raises(ec2codec.ValidationError) as caught:
            model.decode_request(head + tail)
        assert caught.value.problems[0][0] == key, tail


# --- the bundle -------------------------------------------------------------------------------


def test_bundled_sts_model_is_current() -> None:
    recorded = SERVICE.provenance["botocore_version"]
    if botocore.__version__ != recorded:
        pytest.skip(f"bundle generated from botocore {recorded}, installed {botocore.__version__}")
    assert tool("build_model").main(["--check", "--service", "sts"]) == 0, "run python tools/build_model.py"


def test_unknown_bundle_is_a_model_error() -> None:
    with pytest.raises(ec2codec.ModelError, match="no bundled model for 'iam'"):
        bundled("iam")
    with pytest.raises(ec2codec.ModelError, match="no bundled model"):
        bundled_model(["sts"])  # type: ignore[arg-type]


def test_sts_bundle_is_opened_only_when_used() -> None:
    script = """
import sys
import ec2codec
assert sorted(m for m in sys.modules if m.startswith("ec2codec")) == ["ec2codec", "ec2codec.errors"]
from ec2codec.model import service
ec2codec.encode("CancelImportTask", {"ImportTaskId": "import-snap-1"})
ec2codec.parse("CancelImportTask", b"<CancelImportTaskResponse><requestId>r</requestId></CancelImportTaskResponse>")
assert sorted(service._BUNDLED) == ["ec2"], service._BUNDLED
from ec2codec.protocol.codec import bundled
bundled("sts").encode("GetCallerIdentity")
assert sorted(service._BUNDLED) == ["ec2", "sts"]
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 0, run.stderr


# --- hostile input: only ec2codec's errors ------------------------------------------------------

_SEED = STS.encode_response(
    "AssumeRole",
    {
        "AssumedRoleUser": {"Arn": "arn:aws:sts::123456789012:assumed-role/r/s", "AssumedRoleId": "ARO:s"},
        "Credentials": {"AccessKeyId": "A", "SecretAccessKey": "S", "SessionToken": "T", "Expiration": datetime.now()},
        "PackedPolicySize": 3,
        "SourceIdentity": "x & y",
    },
    "req-1",
)
_SEEDS = [_SEED, STS.encode_error("AccessDenied", "no", "r-1"), STS.encode_response("AssumeRole", {}, "r-2")]


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    doc = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(doc)))
        kind = draw(st.sampled_from(["insert", "delete", "flip", "cut"]))
        if kind == "insert":
            fragment = st.sampled_from([b"<Error>", b"<Code>x</Code>", b"<ResponseMetadata>", b"</AssumeRoleResult>"])
            doc[at:at] = draw(fragment | st.binary(min_size=1, max_size=4))
        elif kind == "delete":
            del doc[at : at + draw(st.integers(1, 12))]
        elif kind == "flip" and at < len(doc):
            doc[at] = draw(st.integers(0, 255))
        else:
            del doc[at:]
    return bytes(doc)


@settings(max_examples=EXAMPLES * 5)
@given(_mutated(), st.integers(1, 64))
def test_mutated_responses_only_raise_our_errors(body: bytes, chunk: int) -> None:
    outcomes = []
    for source in (body, iter([body[i : i + chunk] for i in range(0, len(body), chunk)])):
        try:
            outcomes.append(comparable(STS.parse("AssumeRole", source)))
        except (ec2codec.ParseError, ec2codec.ServiceError) as exc:
            outcomes.append(type(exc))
    assert outcomes[0] == outcomes[1]  # whole and streamed decoding agree


_FORM_PIECES = st.sampled_from(
    ["Tags", "member", "entry", "1", "2", "0", "Key", "Value", "TransitiveTagKeys", "PolicyArns", "arn", "x", ""]
)


@settings(max_examples=EXAMPLES * 5)
@given(st.lists(st.tuples(st.lists(_FORM_PIECES, min_size=1, max_size=4), st.text(max_size=3)), max_size=4))
def test_random_request_keys_only_raise_validation_errors(fields: list[tuple[list[str], str]]) -> None:
    tail = "".join(f"&{'.'.join(key)}={value}" for key, value in fields)
    try:
        operation, decoded = STS.decode_request(HEAD + tail)
    except ec2codec.ValidationError:
        return
    assert operation == "AssumeRole"
    assert decoded["RoleSessionName"] == "s1"
