"""The response encoder: ``encode_response`` and ``encode_error`` against ec2codec's parser and botocore's.

Properties: for every operation, a random result in parsed form encodes to a
document that ``ec2codec.parse`` and botocore's ``EC2QueryParser`` both turn
back into the same dict; error documents raise the same ServiceError. Tables
pin the exact bytes, the value formats (Java-style doubles, millisecond
timestamps, ``&#13;``), model order, and the ValidationError paths. The
goldens in ``fixtures/responses`` re-encode to the elements EC2 sent, and
the botocore output suites (flattened lists, maps, renamed members, recursive
shapes, timestamp formats) round-trip through loaded models.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

import ec2codec
from ec2codec.model.service import bundled_model
from ec2codec.protocol._time import parse_timestamp
from ec2codec.protocol._xmlwrite import java_double
from ec2codec.protocol.xml_encode import encode_error, encode_response, writer_for
from tests.conftest import conformance_file, protocol_cases, suite_model
from tests.goldens import loads, walk
from tests.param_strategies import PER_OPERATION
from tests.parse_support import NAMESPACE, botocore_parse, comparable
from tests.result_strategies import REQUEST_IDS, XML_TEXT, results_for

from .test_parse_conformance import SUITES, _expected

UTC = timezone.utc
MODEL = bundled_model()
WITH_OUTPUT = [op for op in MODEL.operation_names() if MODEL.operation(op).output]
WITHOUT_OUTPUT = [op for op in MODEL.operation_names() if not MODEL.operation(op).output]
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def round_trip(operation: str, result: Mapping[str, Any], request_id: str) -> bytes:
    """Encode, then check both parsers give ``result`` back; returns the document."""
    body = encode_response(operation, result, request_id)
    expected = comparable({**result, "ResponseMetadata": {"RequestId": request_id}})
    assert comparable(ec2codec.parse(operation, body)) == expected
    assert comparable(botocore_parse(operation, body)) == expected
    return body


# --- properties ------------------------------------------------------------------------


def test_operation_lists_cover_the_model() -> None:
    assert len(WITH_OUTPUT) + len(WITHOUT_OUTPUT) == len(MODEL.operation_names()) == 830
    assert "DescribeImportSnapshotTasks" in WITH_OUTPUT and "DeleteTags" in WITHOUT_OUTPUT


# Operations are checked in batches: hypothesis costs a few milliseconds per
# test and per example whatever is drawn, and 777 separate tests spent most of
# their time there. Each example draws one result for every operation of its batch.
BATCHES = [WITH_OUTPUT[i : i + 8] for i in range(0, len(WITH_OUTPUT), 8)]


@pytest.mark.parametrize("operations", BATCHES, ids=lambda batch: f"{batch[0]}..{batch[-1]}")
@settings(max_examples=max(2, PER_OPERATION))  # the first example is the smallest: 2 is the least useful
@given(data=st.data())
def test_every_operation_round_trips(operations: list[str], data: st.DataObject) -> None:
    for operation in operations:
        result = data.draw(results_for(operation), label=operation)
        body = round_trip(operation, result, data.draw(REQUEST_IDS, label="request id"))
        assert body.startswith(f'{HEAD}<{operation}Response xmlns="{NAMESPACE}"><requestId>'.encode())


def test_batches_cover_every_operation_with_an_output() -> None:
    assert [op for batch in BATCHES for op in batch] == WITH_OUTPUT


@pytest.mark.parametrize("operation", ["DescribeImportSnapshotTasks", "DescribeSnapshots", "DescribeInstances"])
@settings(max_examples=PER_OPERATION * 5)
@given(data=st.data())
def test_rich_operations_round_trip_more(operation: str, data: st.DataObject) -> None:
    round_trip(operation, data.draw(results_for(operation)), data.draw(REQUEST_IDS))


@pytest.mark.parametrize("operation", WITHOUT_OUTPUT)
def test_operations_without_output_send_only_the_request_id(operation: str) -> None:
    body = round_trip(operation, {}, "req-1")
    assert (
        body
        == f'{HEAD}<{operation}Response xmlns="{NAMESPACE}"><requestId>req-1</requestId></{operation}Response>'.encode()
    )


@settings(max_examples=PER_OPERATION * 10)
@given(
    code=XML_TEXT.filter(bool),
    message=XML_TEXT,
    request_id=REQUEST_IDS,
    more=st.lists(st.tuples(XML_TEXT.filter(bool), XML_TEXT), max_size=3),
)
def test_error_documents_round_trip(code: str, message: str, request_id: str, more: list[tuple[str, str]]) -> None:
    body = encode_error(code, message, request_id, errors=more)
    with pytest.raises(ec2codec.ServiceError) as info:
        ec2codec.parse("ImportSnapshot", body, status=400)
    error = info.value
    assert (error.code, error.message, error.request_id) == (code, message, request_id)
    assert error.errors == [(code, message), *more]
    # botocore reports the first error only, and an empty message as None.
    expected = {"Error": {"Code": code, "Message": message or None}, "ResponseMetadata": {"RequestId": request_id}}
    assert botocore_parse("ImportSnapshot", body, status=400) == expected


def test_round_trip_can_fail() -> None:
    # The property compares values, not just shapes: a changed value is caught.
    body = encode_response("DescribeSnapshots", {"Snapshots": [{"VolumeSize": 30}]}, "r")
    assert comparable(ec2codec.parse("DescribeSnapshots", body)) != comparable(
        {"Snapshots": [{"VolumeSize": 31}], "ResponseMetadata": {"RequestId": "r"}}
    )


# --- exact documents and value formats ----------------------------------------------------


def test_exact_document() -> None:
    result = {
        "ImportSnapshotTasks": [
            {
                "ImportTaskId": "import-snap-1",
                "SnapshotTaskDetail": {
                    "DiskImageSize": 2147483648.0,
                    "Encrypted": True,
                    "Status": "a & b <c>\r\n",
                    "UserBucket": {"S3Bucket": "b", "S3Key": ""},
                },
                "Tags": [],
            }
        ],
        "NextToken": "t",
        "ResponseMetadata": {"RequestId": "ignored", "HTTPStatusCode": 200},
    }
    expected = (
        f'{HEAD}<DescribeImportSnapshotTasksResponse xmlns="{NAMESPACE}"><requestId>rid</requestId>'
        "<importSnapshotTaskSet><item><importTaskId>import-snap-1</importTaskId><snapshotTaskDetail>"
        "<diskImageSize>2.147483648E9</diskImageSize><encrypted>true</encrypted>"
        "<status>a &amp; b &lt;c&gt;&#13;\n</status><userBucket><s3Bucket>b</s3Bucket><s3Key></s3Key></userBucket>"
        "</snapshotTaskDetail><tagSet></tagSet></item></importSnapshotTaskSet><nextToken>t</nextToken>"
        "</DescribeImportSnapshotTasksResponse>"
    )
    assert encode_response("DescribeImportSnapshotTasks", result, "rid").decode() == expected


def test_members_are_written_in_model_order_whatever_the_dict_order() -> None:
    ordered = {"Description": "d", "DiskImageSize": 1.0, "Format": "VHD", "Status": "active"}
    shuffled = dict(reversed(ordered.items()))
    one = encode_response(
        "DescribeImportSnapshotTasks", {"ImportSnapshotTasks": [{"SnapshotTaskDetail": ordered}]}, "r"
    )
    two = encode_response(
        "DescribeImportSnapshotTasks", {"ImportSnapshotTasks": [{"SnapshotTaskDetail": shuffled}]}, "r"
    )
    assert one == two
    assert one.index(b"<description>") < one.index(b"<diskImageSize>") < one.index(b"<format>") < one.index(b"<status>")


def _first_value(operation: str, result: dict[str, Any], tag: str) -> str:
    body = encode_response(operation, result, "r").decode()
    start = body.index(f"<{tag}>") + len(tag) + 2
    return body[start : body.index(f"</{tag}>", start)]


_SNAP = "DescribeSnapshots"
_TASKS = "DescribeImportSnapshotTasks"


def _disk(size: Any) -> dict[str, Any]:
    return {"ImportSnapshotTasks": [{"SnapshotTaskDetail": {"DiskImageSize": size}}]}


def _start(when: Any) -> dict[str, Any]:
    return {"Snapshots": [{"StartTime": when}]}


@pytest.mark.parametrize(
    ("operation", "result", "tag", "text"),
    [
        (_SNAP, _start(datetime(2016, 11, 15, 12, tzinfo=UTC)), "startTime", "2016-11-15T12:00:00.000Z"),
        (_SNAP, _start(datetime(2016, 11, 15, 12)), "startTime", "2016-11-15T12:00:00.000Z"),  # naive = UTC
        (
            _SNAP,
            _start(datetime(2016, 11, 15, 14, 30, tzinfo=timezone(timedelta(hours=2)))),
            "startTime",
            "2016-11-15T12:30:00.000Z",
        ),
        (_SNAP, _start(datetime(2016, 11, 15, 12, 0, 0, 123000, tzinfo=UTC)), "startTime", "2016-11-15T12:00:00.123Z"),
        (
            _SNAP,
            _start(datetime(2016, 11, 15, 12, 0, 0, 123456, tzinfo=UTC)),
            "startTime",
            "2016-11-15T12:00:00.123456Z",
        ),
        (_SNAP, _start(datetime(999, 1, 2, tzinfo=UTC)), "startTime", "0999-01-02T00:00:00.000Z"),
        (_SNAP, {"Snapshots": [{"VolumeSize": 2**31 - 1}]}, "volumeSize", "2147483647"),
        (_SNAP, {"Snapshots": [{"Encrypted": False}]}, "encrypted", "false"),
        (_TASKS, _disk(0.5), "diskImageSize", "0.5"),
        (_TASKS, _disk(1e7), "diskImageSize", "1.0E7"),
        (_TASKS, _disk(1e-4), "diskImageSize", "1.0E-4"),
        (_TASKS, _disk(-0.0), "diskImageSize", "-0.0"),
        (_TASKS, _disk(3), "diskImageSize", "3.0"),  # an int for a double
        (_TASKS, _disk(float("nan")), "diskImageSize", "NaN"),
        (_TASKS, _disk(float("-inf")), "diskImageSize", "-Infinity"),
        ("GetConsoleScreenshot", {"ImageData": "x"}, "imageData", "x"),
        (
            "GetPasswordData",
            {"Timestamp": datetime(2020, 2, 29, 23, 59, 59, tzinfo=UTC)},
            "timestamp",
            "2020-02-29T23:59:59.000Z",
        ),
    ],
)
def test_value_formats(operation: str, result: dict[str, Any], tag: str, text: str) -> None:
    assert _first_value(operation, result, tag) == text
    parsed = ec2codec.parse(operation, encode_response(operation, result, "r"))
    assert comparable(parsed) == comparable({**_as_parsed(result), "ResponseMetadata": {"RequestId": "r"}})


def _as_parsed(value: Any) -> Any:
    """What the parser returns for an encoded value: aware UTC datetimes, floats for doubles."""
    if isinstance(value, dict):
        return {k: (float(v) if k == "DiskImageSize" else _as_parsed(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_parsed(v) for v in value]
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


@pytest.mark.parametrize(
    "value",
    [
        0.0,
        1.0,
        100.0,
        9999999.0,
        0.001,
        0.00099,
        123.456,
        1e16,
        5e-324,
        1.7976931348623157e308,
        -2.5e-7,
        0.1,
        2147483648.0,
    ],
)
def test_doubles_are_written_like_java_and_read_back_exactly(value: float) -> None:
    text = java_double(value)
    assert float(text) == value
    assert ("E" in text) == (not 1e-3 <= abs(value) < 1e7 and value != 0)
    assert "." in text


@settings(max_examples=PER_OPERATION * 20)
@given(st.floats(allow_nan=False))
def test_every_double_reads_back_exactly(value: float) -> None:
    assert float(java_double(value)) == value
    assert math.copysign(1, float(java_double(value))) == math.copysign(1, value)


_UPLOAD = "BundleInstance"


def _upload_policy(blob: Any) -> dict[str, Any]:
    return {"BundleTask": {"Storage": {"S3": {"UploadPolicy": blob}}}}


@pytest.mark.parametrize("blob", [b"\x00\xff policy", bytearray(b"\x00\xff policy"), memoryview(b"\x00\xff policy")])
def test_blobs_are_base64_of_any_bytes_like(blob: Any) -> None:
    assert _first_value(_UPLOAD, _upload_policy(blob), "uploadPolicy") == "AP8gcG9saWN5"
    round_trip(_UPLOAD, _upload_policy(b"\x00\xff policy"), "r")
    assert _first_value(_UPLOAD, _upload_policy(b""), "uploadPolicy") == ""


def test_any_mapping_and_tuples_are_accepted() -> None:
    result = MappingProxyType({"Snapshots": ({"SnapshotId": "s"}, MappingProxyType({"VolumeSize": 1}))})
    body = encode_response("DescribeSnapshots", result, "r")
    assert ec2codec.parse("DescribeSnapshots", body)["Snapshots"] == [{"SnapshotId": "s"}, {"VolumeSize": 1}]


def test_compiled_writer_is_cached_on_the_model() -> None:
    writer = writer_for(MODEL, "DescribeSnapshots")
    assert writer is writer_for(MODEL, "DescribeSnapshots")
    assert MODEL.cache[("xml-write", "DescribeSnapshots")] is writer


def test_an_ec2codec_model_is_accepted() -> None:
    model = ec2codec.load_model(json.loads(json.dumps(_tiny_model())))
    assert encode_response("Op", {"Value": "v"}, "r", model=model) == encode_response(
        "Op", {"Value": "v"}, "r", model=model.service
    )


def test_importing_the_encoder_does_not_load_lxml() -> None:
    code = (
        "import sys, ec2codec.protocol.xml_encode as x; x.encode_response('DescribeSnapshots', {}, 'r');"
        "print('lxml' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _tiny_model() -> dict[str, Any]:
    return {
        "metadata": {"apiVersion": "2020-01-01", "protocol": "ec2", "xmlNamespace": "https://example.com/"},
        "operations": {"Op": {"name": "Op", "output": {"shape": "Out"}}},
        "shapes": {
            "Out": {"type": "structure", "members": {"Value": {"shape": "S", "locationName": "value"}}},
            "S": {"type": "string"},
        },
    }


# --- goldens ----------------------------------------------------------------------------------


def _tree(element: Any) -> Any:
    """Element names and nesting, children in name order, leaf values compared as what they denote.

    The goldens were written by hand, so timestamps carry offsets and doubles
    are written both ``8589934592.0`` and ``2.147483648E9``; the encoder
    always writes UTC and Java's notation.
    """
    tag = etree.QName(element).localname
    if len(element):
        return (tag, sorted((_tree(child) for child in element), key=repr))
    text = element.text or ""
    if _NUMBER.fullmatch(text):
        return (tag, float(text))
    if _TIMESTAMP.match(text):
        return (tag, parse_timestamp(text))
    return (tag, text)


_NUMBER = re.compile(r"-?\d+\.\d+(E-?\d+)?")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:")


GOLDENS = [p for p in walk("responses", ".json") if "Error" not in loads(p.read_text(encoding="utf-8"))]
ERROR_GOLDENS = [p for p in walk("responses", ".json") if p not in GOLDENS]


@pytest.mark.parametrize("path", GOLDENS, ids=lambda p: p.stem)
def test_golden_results_re_encode_to_what_ec2_sent(path: Path) -> None:
    operation = path.name.split(".")[0]
    expected = loads(path.read_text(encoding="utf-8"))
    body = round_trip(operation, expected, expected["ResponseMetadata"]["RequestId"])
    sent = etree.fromstring(path.with_suffix(".xml").read_bytes(), etree.XMLParser(remove_blank_text=True))
    assert _tree(etree.fromstring(body)) == _tree(sent)


@pytest.mark.parametrize("path", ERROR_GOLDENS, ids=lambda p: p.stem)
def test_golden_errors_re_encode(path: Path) -> None:
    expected = loads(path.read_text(encoding="utf-8"))
    code, message = expected["Error"]["Code"], expected["Error"]["Message"]
    body = encode_error(code, message, expected["ResponseMetadata"]["RequestId"])
    assert botocore_parse(path.name.split(".")[0], body, status=400) == expected
    sent = etree.fromstring(path.with_suffix(".xml").read_bytes(), etree.XMLParser(remove_blank_text=True))
    assert _tree(etree.fromstring(body)) == _tree(sent)


def test_goldens_exist() -> None:
    assert len(GOLDENS) >= 4 and ERROR_GOLDENS


# --- validation ---------------------------------------------------------------------------------


def _problems(operation: str, result: Any, request_id: Any = "r") -> list[tuple[str, str]]:
    with pytest.raises(ec2codec.ValidationError) as info:
        encode_response(operation, result, request_id)
    assert info.value.operation == operation
    return info.value.problems


_TASK_DETAIL = "ImportSnapshotTasks[0].SnapshotTaskDetail"


@pytest.mark.parametrize(
    ("operation", "result", "problems"),
    [
        (_TASKS, _disk("1"), [(f"{_TASK_DETAIL}.DiskImageSize", "expected a number, got str")]),
        (_TASKS, _disk(True), [(f"{_TASK_DETAIL}.DiskImageSize", "expected a number, got bool")]),
        (_TASKS, _disk(10**400), [(f"{_TASK_DETAIL}.DiskImageSize", "a 1329-bit integer is too large for a double")]),
        (_TASKS, _disk(None), [(f"{_TASK_DETAIL}.DiskImageSize", "expected a number, got NoneType")]),
        (
            _SNAP,
            {"Snapshots": [{"VolumeSize": 2**31}]},
            [("Snapshots[0].VolumeSize", "2147483648 is outside the 32-bit signed range")],
        ),
        (_SNAP, {"Snapshots": [{"VolumeSize": True}]}, [("Snapshots[0].VolumeSize", "expected an integer, got bool")]),
        (_SNAP, {"Snapshots": [{"VolumeSize": 1.0}]}, [("Snapshots[0].VolumeSize", "expected an integer, got float")]),
        (_SNAP, {"Snapshots": [{"Encrypted": "true"}]}, [("Snapshots[0].Encrypted", "expected a boolean, got str")]),
        (
            _SNAP,
            {"Snapshots": [{"StartTime": "2016-11-15T12:00:00Z"}]},
            [("Snapshots[0].StartTime", "expected a datetime, got str")],
        ),
        (_SNAP, {"Snapshots": [{"SnapshotId": 5}]}, [("Snapshots[0].SnapshotId", "expected a string, got int")]),
        (_SNAP, {"Snapshots": [{"SnapshotId": b"s"}]}, [("Snapshots[0].SnapshotId", "expected a string, got bytes")]),
        (_SNAP, {"Snapshots": {"SnapshotId": "s"}}, [("Snapshots", "expected a list, got dict")]),
        (_SNAP, {"Snapshots": "s"}, [("Snapshots", "expected a list, got str")]),
        (_SNAP, {"Snapshots": [["s"]]}, [("Snapshots[0]", "expected a dict, got list")]),
        (_UPLOAD, _upload_policy("text"), [("BundleTask.Storage.S3.UploadPolicy", "expected bytes, got str")]),
        (
            _SNAP,
            {"Snapshots": [{"StartTime": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))}]},
            [("Snapshots[0].StartTime", "0001-01-01T00:00:00+01:00 is out of range once converted to UTC")],
        ),
        (_SNAP, {"Snapshot": []}, [("Snapshot", "unknown member (valid: NextToken, Snapshots)")]),
        (_SNAP, {1: []}, [("1", "unknown member (valid: NextToken, Snapshots)")]),
        (_SNAP, {"NextToken": "a\x00b"}, [("NextToken", "character U+0000 at index 1 cannot appear in XML 1.0")]),
        (_SNAP, {"NextToken": "\ud800"}, [("NextToken", "character U+D800 at index 0 cannot appear in XML 1.0")]),
        (
            _SNAP,
            {"NextToken": "ok\t\n\r\ufffe"},
            [("NextToken", "character U+FFFE at index 5 cannot appear in XML 1.0")],
        ),
        (
            _SNAP,
            {"Snapshots": [{"Tags": [{"Key": "k", "Value": "\x1b[31m"}]}]},
            [("Snapshots[0].Tags[0].Value", "character U+001B at index 0 cannot appear in XML 1.0")],
        ),
        (_SNAP, [], [("(result)", "expected a dict, got list")]),
        ("DeleteTags", {"Return": True}, [("Return", "unknown member (valid: none)")]),
        (
            _SNAP,
            {"NextToken": 1, "Snapshots": [{"VolumeSize": "x", "Bogus": 1}, {"Encrypted": 0}]},
            [
                ("NextToken", "expected a string, got int"),
                ("Snapshots[0].VolumeSize", "expected an integer, got str"),
                ("Snapshots[0].Bogus", "unknown member (valid: " + ", ".join(MODEL.shape("Snapshot")["members"]) + ")"),
                ("Snapshots[1].Encrypted", "expected a boolean, got int"),
            ],
        ),
    ],
)
def test_bad_results_name_every_problem_with_its_path(
    operation: str, result: Any, problems: list[tuple[str, str]]
) -> None:
    assert _problems(operation, result) == problems


@pytest.mark.parametrize(
    ("request_id", "problem"),
    [
        ("", "must not be empty"),
        (None, "expected a string, got NoneType"),
        (b"r", "expected a string, got bytes"),
        ("r\x07", "character U+0007 at index 1 cannot appear in XML 1.0"),
    ],
)
def test_bad_request_ids(request_id: Any, problem: str) -> None:
    assert _problems(_SNAP, {"NextToken": 1}, request_id) == [
        ("request_id", problem),
        ("NextToken", "expected a string, got int"),
    ]
    assert _problems(_SNAP, {}, request_id) == [("request_id", problem)]


def test_response_metadata_is_ignored_whatever_it_holds() -> None:
    plain = encode_response(_SNAP, {"NextToken": "t"}, "r")
    assert encode_response(_SNAP, {"NextToken": "t", "ResponseMetadata": object()}, "r") == plain


def test_unknown_operation_and_bad_model() -> None:
    with pytest.raises(ec2codec.ValidationError, match="unknown operation 'Nope'"):
        encode_response("Nope", {}, "r")
    with pytest.raises(ec2codec.ModelError):
        encode_response(_SNAP, {}, "r", model=object())  # type: ignore[arg-type]


def test_nothing_but_ec2codec_errors_escape() -> None:
    # Values whose own methods misbehave are still reported, not crashed on.
    class Weird(float):
        def __repr__(self) -> str:
            return "1.5"

    assert _first_value(_TASKS, _disk(Weird(2.0)), "diskImageSize") == "2.0"  # the value, not its repr
    huge = 10**5000  # str() of it raises ValueError
    assert _problems(_SNAP, {"Snapshots": [{"VolumeSize": huge}]}) == [
        ("Snapshots[0].VolumeSize", "a 16610-bit integer is outside the 32-bit signed range")
    ]
    assert _problems(_TASKS, _disk(huge)) == [
        (f"{_TASK_DETAIL}.DiskImageSize", "a 16610-bit integer is too large for a double")
    ]


# --- error documents ----------------------------------------------------------------------------


def test_exact_error_document() -> None:
    body = encode_error("InvalidParameterValue", "Value (x&y) for parameter <z> is invalid.\r", "rid-1")
    assert body == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>InvalidParameterValue</Code>'
        b"<Message>Value (x&amp;y) for parameter &lt;z&gt; is invalid.&#13;</Message></Error></Errors>"
        b"<RequestID>rid-1</RequestID></Response>"
    )


def test_several_errors_are_kept_in_order() -> None:
    body = encode_error("A", "first", "r", errors=[("B", "second"), ["C", ""]])  # type: ignore[list-item]
    with pytest.raises(ec2codec.ServiceError) as info:
        ec2codec.parse("DescribeSnapshots", body)
    assert info.value.errors == [("A", "first"), ("B", "second"), ("C", "")]
    assert body.count(b"<Error>") == 3


def test_dry_run_success_round_trips() -> None:
    body = encode_error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", "r")
    with pytest.raises(ec2codec.ServiceError) as info:
        ec2codec.parse("CancelImportTask", body)
    assert info.value.is_dry_run_success


@pytest.mark.parametrize(
    ("args", "errors", "problems"),
    [
        (("", "m", "r"), (), [("code", "must not be empty")]),
        (("C", None, "r"), (), [("message", "expected a string, got NoneType")]),
        (("C", "m", ""), (), [("request_id", "must not be empty")]),
        (("C", "m\x00", "r"), (), [("message", "character U+0000 at index 1 cannot appear in XML 1.0")]),
        (("C", "m", "r"), [("D", 1)], [("errors[0].message", "expected a string, got int")]),
        (
            ("C", "m", "r"),
            [("", "x"), "E"],
            [("errors[1]", "expected a (code, message) pair, got str"), ("errors[0].code", "must not be empty")],
        ),
        (("C", "m", "r"), "DE", [("errors", "expected a sequence of (code, message) pairs, got str")]),
        (
            (1, 2, 3),
            (),
            [
                ("code", "expected a string, got int"),
                ("message", "expected a string, got int"),
                ("request_id", "expected a string, got int"),
            ],
        ),
    ],
)
def test_bad_error_documents(args: tuple[Any, Any, Any], errors: Any, problems: list[tuple[str, str]]) -> None:
    with pytest.raises(ec2codec.ValidationError) as info:
        encode_error(*args, errors=errors)
    assert info.value.problems == problems
    assert info.value.operation == "error document"


# --- loaded models: the botocore output suites --------------------------------------------------


def _suite_cases() -> list[Any]:
    return [
        case
        for case in protocol_cases("smithy", SUITES["smithy"]) + protocol_cases("legacy", SUITES["legacy"])
        if case.values[1] is None or "errorCode" not in case.values[1]
    ]


@pytest.mark.parametrize(("suite", "case"), _suite_cases())
def test_output_suite_results_round_trip(suite: dict[str, Any] | None, case: dict[str, Any] | None) -> None:
    # Flattened lists and maps, renamed members and entries, recursive shapes,
    # timestamp formats and special floats, through models loaded at run time.
    if suite is None or case is None:
        conformance_file(*SUITES["smithy"])  # skips, naming the path
        return
    model = suite_model(suite, case)
    operation = case["given"]["name"]
    output = case["given"].get("output", {}).get("shape")
    result = _expected(suite["shapes"], output, case["result"]) if output else {}
    body = encode_response(operation, result, "req", model=model)
    assert comparable(model.parse(operation, body)) == comparable({**result, "ResponseMetadata": {"RequestId": "req"}})


def test_suite_flattened_and_map_wire_forms() -> None:
    shapes = {
        "Out": {
            "type": "structure",
            "members": {
                "Flat": {"shape": "Names", "flattened": True, "locationName": "flat"},
                "Map": {"shape": "Pairs", "locationName": "map"},
                "FlatMap": {"shape": "Pairs", "flattened": True},
                "When": {"shape": "Epoch"},
            },
        },
        "Names": {"type": "list", "member": {"shape": "S", "locationName": "name"}},
        "Pairs": {"type": "map", "key": {"shape": "S", "locationName": "k"}, "value": {"shape": "S"}},
        "Epoch": {"type": "timestamp", "timestampFormat": "unixTimestamp"},
        "S": {"type": "string"},
    }
    model = ec2codec.load_model(
        {
            "metadata": {"apiVersion": "1", "protocol": "ec2"},
            "operations": {"Op": {"name": "Op", "output": {"shape": "Out"}}},
            "shapes": shapes,
        }
    )
    result = {
        "Flat": ["a", "b"],
        "Map": {"x": "1"},
        "FlatMap": {"y": "2", "z": "3"},
        "When": datetime(1969, 12, 31, 23, 59, 58, 500000, tzinfo=UTC),
    }
    body = encode_response("Op", result, "r", model=model).decode()
    assert body.endswith(
        '<OpResponse xmlns="http://ec2.amazonaws.com/doc/1/"><requestId>r</requestId>'
        "<flat>a</flat><flat>b</flat><map><entry><k>x</k><value>1</value></entry></map>"
        "<FlatMap><k>y</k><value>2</value></FlatMap><FlatMap><k>z</k><value>3</value></FlatMap>"
        "<When>-1.5</When></OpResponse>"
    )
    assert model.parse("Op", body) == {**result, "ResponseMetadata": {"RequestId": "r"}}
    # An empty flattened list has no element at all, so it comes back absent.
    assert "Flat" not in model.parse("Op", encode_response("Op", {"Flat": []}, "r", model=model))


def _recursive_model() -> Any:
    shapes = {
        "Out": {"type": "structure", "members": {"Node": {"shape": "Node", "locationName": "node"}}},
        "Node": {
            "type": "structure",
            "members": {"Next": {"shape": "Node", "locationName": "next"}, "Items": {"shape": "Nodes"}},
        },
        "Nodes": {"type": "list", "member": {"shape": "Node", "locationName": "item"}},
    }
    operations = {"Op": {"name": "Op", "output": {"shape": "Out"}}}
    return ec2codec.load_model(
        {"metadata": {"apiVersion": "1", "protocol": "ec2"}, "operations": operations, "shapes": shapes}
    )


def test_recursive_shapes_and_runaway_nesting() -> None:
    model = _recursive_model()
    result = {"Node": {"Next": {"Items": [{"Next": {}}, {}]}}}
    body = encode_response("Op", result, "r", model=model)
    assert b"<node><next><Items><item><next></next></item><item></item></Items></next></node>" in body
    assert model.parse("Op", body) == {**result, "ResponseMetadata": {"RequestId": "r"}}
    deep: dict[str, Any] = {}
    for _ in range(sys.getrecursionlimit()):
        deep = {"Next": deep}
    cycle: dict[str, Any] = {}
    cycle["Next"] = cycle
    for node in (deep, cycle):
        with pytest.raises(ec2codec.ValidationError, match="nested too deeply"):
            encode_response("Op", {"Node": node}, "r", model=model)


def test_a_loaded_model_encodes_responses_too() -> None:
    model = ec2codec.load_model(_bundle_path())
    body = model.encode_response("CancelImportTask", {"ImportTaskId": "import-snap-1", "State": "deleting"}, "r-1")
    assert model.parse("CancelImportTask", body) == {
        "ImportTaskId": "import-snap-1",
        "State": "deleting",
        "ResponseMetadata": {"RequestId": "r-1"},
    }


def _bundle_path() -> str:
    from pathlib import Path

    return str(Path(ec2codec.__file__).parent / "model" / "_data" / "ec2.model")
