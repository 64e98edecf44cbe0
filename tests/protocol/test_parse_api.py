"""The response-decoding API: entry points, error documents, and the documented differences from botocore.

Each difference listed in ``ec2codec.protocol.xml`` is pinned here next to what
botocore does with the same bytes, so a change on either side shows up.
"""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import datetime, timezone
from typing import Any

import pytest

import ec2codec
from ec2codec import ParseError, ServiceError
from ec2codec.model.service import bundled_model
from tests.parse_support import botocore_parse, comparable


def _snap(content: str, operation: str = "ImportSnapshot") -> bytes:
    return f"<{operation}Response><requestId>req-1</requestId>{content}</{operation}Response>".encode()


def _error_doc(errors: list[tuple[str, str]], request_id: str = "req-9", extra: str = "") -> bytes:
    body = "".join(f"<Error><Code>{c}</Code><Message>{m}</Message>{extra}</Error>" for c, m in errors)
    return f"<Response><Errors>{body}</Errors><RequestID>{request_id}</RequestID></Response>".encode()


def test_importing_ec2codec_does_not_import_lxml() -> None:
    code = "import sys, ec2codec; ec2codec.ResponseParser; sys.exit('lxml' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_public_names() -> None:
    for name in ("parse", "ResponseParser", "ParseLimits"):
        assert name in ec2codec.__all__ and hasattr(ec2codec, name)


def test_model_parse_and_parser_accept_a_loaded_model() -> None:
    raw = {
        "metadata": {"protocol": "ec2", "apiVersion": "2020-01-01"},
        "operations": {"Hello": {"name": "Hello", "output": {"shape": "HelloOutput"}}},
        "shapes": {
            "HelloOutput": {"type": "structure", "members": {"Greeting": {"shape": "S", "locationName": "greeting"}}},
            "S": {"type": "string"},
        },
    }
    model = ec2codec.load_model(raw)
    body = b"<HelloResponse><greeting>hi</greeting><requestId>r</requestId></HelloResponse>"
    expected = {"Greeting": "hi", "ResponseMetadata": {"RequestId": "r"}}
    assert model.parse("Hello", body) == expected
    for handle in (model, model.service):
        parser = ec2codec.ResponseParser("Hello", model=handle)
        parser.feed(body)
        assert parser.close() == expected


def test_unknown_operation() -> None:
    with pytest.raises(ec2codec.ModelError):
        ec2codec.parse("NoSuchOperation", b"<x/>")
    with pytest.raises(ec2codec.ModelError):
        ec2codec.ResponseParser("NoSuchOperation")


def test_parser_is_spent_after_close_or_error() -> None:
    parser = ec2codec.ResponseParser("CancelImportTask")
    parser.feed(b"<CancelImportTaskResponse/>")
    assert parser.close() == {"ResponseMetadata": {}}
    with pytest.raises(ParseError, match="after the parser was closed"):
        parser.feed(b"x")
    with pytest.raises(ParseError, match="after the parser was closed"):
        parser.close()
    broken = ec2codec.ResponseParser("CancelImportTask")
    with pytest.raises(ParseError):
        broken.feed(b"<!DOCTYPE x>")
    with pytest.raises(ParseError, match="after the parser was failed"):
        broken.feed(b"<CancelImportTaskResponse/>")


def test_bad_argument_types_are_type_errors() -> None:
    with pytest.raises(TypeError):
        ec2codec.parse("CancelImportTask", 42)
    with pytest.raises(TypeError):
        ec2codec.parse("CancelImportTask", [b"<CancelImportTaskResponse/>", 7])


# --- error documents ---------------------------------------------------------------------------


def test_service_error_fields() -> None:
    body = _error_doc([("InvalidParameterValue", "Value (x) for parameter foo is invalid"), ("Second", "two")])
    with pytest.raises(ServiceError) as info:
        ec2codec.parse("ImportSnapshot", body, status=400)
    error = info.value
    assert (error.code, error.message, error.request_id, error.status) == (
        "InvalidParameterValue",
        "Value (x) for parameter foo is invalid",
        "req-9",
        400,
    )
    assert error.errors == [("InvalidParameterValue", "Value (x) for parameter foo is invalid"), ("Second", "two")]
    assert error.details == {} and not error.is_dry_run_success
    reference = botocore_parse("ImportSnapshot", body, status=400)
    assert reference["Error"] == {"Code": error.code, "Message": error.message}
    assert reference["ResponseMetadata"] == {"RequestId": error.request_id}


def test_dry_run_is_recognisable() -> None:
    body = _error_doc([("DryRunOperation", "Request would have succeeded, but DryRun flag is set.")])
    with pytest.raises(ServiceError) as info:
        ec2codec.parse("CancelImportTask", body)
    assert info.value.is_dry_run_success


@pytest.mark.parametrize(
    ("body", "code", "request_id"),
    [
        (
            b'<Response xmlns="urn:x"><Errors><Error><Code>A</Code></Error></Errors>'
            b"<RequestId>r</RequestId></Response>",
            "A",
            "r",
        ),
        (
            b"<ErrorResponse><Error><Code>B</Code><Message>m</Message></Error><RequestId>q</RequestId></ErrorResponse>",
            "B",
            "q",
        ),
        (b"<Response><Errors><Error><Code>C</Code></Error></Errors></Response>", "C", None),
    ],
    ids=["namespaced", "awsQuery-layout", "no-request-id"],
)
def test_error_document_variants(body: bytes, code: str, request_id: str | None) -> None:
    with pytest.raises(ServiceError) as info:
        ec2codec.parse("CancelImportTask", body)
    assert (info.value.code, info.value.request_id) == (code, request_id)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<Response/>", "without <Errors><Error>"),
        (b"<Response><Errors/></Response>", "without <Errors><Error>"),
        (b"<Response><Errors><Error><Message>m</Message></Error></Errors></Response>", "an <Error> without <Code>"),
    ],
)
def test_error_document_without_code_is_a_parse_error(body: bytes, problem: str) -> None:
    with pytest.raises(ParseError, match=problem):
        ec2codec.parse("CancelImportTask", body)


def test_empty_code_and_message() -> None:
    with pytest.raises(ServiceError) as info:
        ec2codec.parse("CancelImportTask", b"<Response><Errors><Error><Code/></Error></Errors></Response>")
    assert (info.value.code, info.value.message, info.value.errors) == ("", "", [("", "")])


# --- what botocore would do, and where ec2codec differs on purpose ------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "<description>  <junk/>tail</description>",  # whitespace before a child: botocore keeps it
        "<description> \n <junk>x</junk></description><importTaskId>\t</importTaskId>",
        "<description>a<!-- c -->b</description>",
        "<description><![CDATA[<x> & y]]> z</description>",
        "<description>  <!-- c -->  </description>",
        "<description>line\r\nbreak\r</description>",
        "<description>&#32;<x/></description>",
        "<tagSet><item><key> </key><value/></item><other/><item><key>k</key></item></tagSet>",
        "<snapshotTaskDetail><userBucket/></snapshotTaskDetail><tagSet/>",
        "<unknown><deep><deeper>x</deeper></deep></unknown><description/>",
        '<ec2:description xmlns:ec2="urn:other">ns</ec2:description>',
    ],
)
def test_matches_botocore_on_odd_but_legal_documents(content: str) -> None:
    body = _snap(content)
    expected = comparable(botocore_parse("ImportSnapshot", body))
    assert comparable(ec2codec.parse("ImportSnapshot", body)) == expected
    assert comparable(ec2codec.parse("ImportSnapshot", [body[i : i + 5] for i in range(0, len(body), 5)])) == expected


def test_response_metadata() -> None:
    assert ec2codec.parse("CancelImportTask", b"<CancelImportTaskResponse/>") == {"ResponseMetadata": {}}
    empty = b"<CancelImportTaskResponse><requestId/></CancelImportTaskResponse>"
    assert ec2codec.parse("CancelImportTask", empty) == botocore_parse("CancelImportTask", empty)
    assert ec2codec.parse("CancelImportTask", empty)["ResponseMetadata"] == {"RequestId": None}


def test_booleans_are_strict() -> None:
    body = _snap("<snapshotTaskDetail><encrypted>True</encrypted></snapshotTaskDetail>")
    assert botocore_parse("ImportSnapshot", body)["SnapshotTaskDetail"]["Encrypted"] is False
    with pytest.raises(ParseError, match="not a boolean"):
        ec2codec.parse("ImportSnapshot", body)


def test_repeated_member_keeps_the_last() -> None:
    body = _snap("<description>first</description><description>last</description>")
    assert ec2codec.parse("ImportSnapshot", body)["Description"] == "last"
    assert isinstance(botocore_parse("ImportSnapshot", body)["Description"], list)  # raw elements


def test_timestamps_are_aware_utc() -> None:
    body = (
        b"<DescribeSnapshotsResponse><snapshotSet><item><startTime>2024-05-01T12:00:00</startTime></item>"
        b"<item><startTime>1714564800.5</startTime></item><item><startTime>Wed, 01 May 2024 12:00:00 GMT</startTime>"
        b"</item></snapshotSet></DescribeSnapshotsResponse>"
    )
    ours = [s["StartTime"] for s in ec2codec.parse("DescribeSnapshots", body)["Snapshots"]]
    theirs = [s["StartTime"] for s in botocore_parse("DescribeSnapshots", body)["Snapshots"]]
    assert all(t.tzinfo is timezone.utc for t in ours)
    assert theirs[0].tzinfo is None  # botocore: naive for ISO text without an offset
    assert ours == [comparable(t) for t in theirs]
    assert ours[0] == datetime(2024, 5, 1, 12, tzinfo=timezone.utc)


def test_special_floats_and_blobs() -> None:
    raw: dict[str, Any] = {
        "metadata": {"protocol": "ec2", "apiVersion": "2020-01-01"},
        "operations": {"Op": {"name": "Op", "output": {"shape": "Out"}}},
        "shapes": {
            "Out": {"type": "structure", "members": {"F": {"shape": "F"}, "B": {"shape": "B"}, "L": {"shape": "L"}}},
            "F": {"type": "double"},
            "B": {"type": "blob"},
            "L": {"type": "list", "member": {"shape": "F"}},
        },
    }
    model = ec2codec.load_model(raw)
    out = model.parse("Op", b"<OpResponse><F>-Infinity</F><B>aGk=</B><L><member>NaN</member></L></OpResponse>")
    assert out["F"] == float("-inf") and out["B"] == b"hi" and math.isnan(out["L"][0])
    with pytest.raises(ParseError, match=r"OpResponse\.B: not base64"):
        model.parse("Op", b"<OpResponse><B>a</B></OpResponse>")


def test_compiled_decoders_are_cached_on_the_model() -> None:
    ec2codec.parse("CancelImportTask", b"<CancelImportTaskResponse/>")
    assert ("xml", "CancelImportTask") in bundled_model().cache
