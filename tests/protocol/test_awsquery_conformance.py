"""botocore's awsQuery (``query``) protocol suites, input and output, every case, including the ones botocore skips.

botocore skips ``QueryFlattenedListArgWithXmlName`` (its serializer names a
flattened list's keys after the list's item, ``item.1``, where Smithy uses the
member's ``xmlName``, ``Hi.1``), ``QueryXmlLists`` (its parser looks flattened
lists up by the item's name and misses ``flattenedList`` and
``flattenedList2``) and ``QueryComplexError`` (its harness compares the
generic ``Error`` dict), plus the idempotency-token, request-compression and
host-with-path suites of every protocol. ec2codec follows the protocol in all
of them; the botocore behaviour is pinned at the end so a change on either
side shows. The older hand-written ("legacy") suites pass too: they name a
flattened list after its item when the *list shape* is flattened, which is
how pre-Smithy models (SimpleDB) spell it, see ``ec2codec/protocol/_names.py``.

Three Smithy output cases send no body at all for an output without members
(``QueryEmptyInputAndEmptyOutput``, ``QueryNoInputAndNoOutput``,
``QueryNoInputAndOutput``): for awsQuery models that decodes as ``{}``;
botocore would fail on the empty document.

Every request body also decodes back (``Model.decode_request``) to params
that encode to the same bytes, and every response decodes the same when it
arrives a byte at a time.
"""

from __future__ import annotations

import gzip
import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

import ec2codec
from tests.conftest import conformance_file, protocol_cases
from tests.parse_support import comparable
from tests.protocol.test_parse_conformance import _expected

FIXED_TOKEN = "00000000-0000-4000-8000-000000000000"
INPUT = {
    "smithy": ("tests", "unit", "protocols", "input", "query.json"),
    "legacy": ("tests", "unit", "protocols", "legacy", "input", "query.json"),
}
OUTPUT = {
    "smithy": ("tests", "unit", "protocols", "output", "query.json"),
    "legacy": ("tests", "unit", "protocols", "legacy", "output", "query.json"),
}
BOTOCORE_SKIPS = {"QueryFlattenedListArgWithXmlName", "QueryXmlLists", "QueryComplexError"}
NO_BODY = {"QueryEmptyInputAndEmptyOutput", "QueryNoInputAndNoOutput", "QueryNoInputAndOutput"}


def _model(suite: dict[str, Any], case: dict[str, Any]) -> ec2codec.Model:
    given = case["given"]
    # The legacy output suites carry no apiVersion; responses do not need one.
    metadata = {"apiVersion": "2014-01-01", **suite["metadata"]}
    model = ec2codec.load_model({"metadata": metadata, "shapes": suite["shapes"], "operations": {given["name"]: given}})
    assert model.service.protocol == "query"
    return model


def _special_floats(params: dict[str, Any]) -> dict[str, Any]:
    # JSON cannot spell NaN/Infinity, so the suite writes strings; a caller passes floats.
    special = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
    return {k: special.get(v, v) if isinstance(v, str) and k in ("FloatValue", "Boo") else v for k, v in params.items()}


def _cases(parts: dict[str, tuple[str, ...]]) -> list[Any]:
    return protocol_cases("smithy", parts["smithy"]) + protocol_cases("legacy", parts["legacy"])


def test_every_smithy_case_is_collected() -> None:
    inputs = [c["id"] for s in json.loads(conformance_file(*INPUT["smithy"]).read_text()) for c in s["cases"]]
    outputs = [c["id"] for s in json.loads(conformance_file(*OUTPUT["smithy"]).read_text()) for c in s["cases"]]
    assert len(inputs) == len(outputs) == 38
    assert set(inputs) | set(outputs) >= BOTOCORE_SKIPS
    legacy_in = json.loads(conformance_file(*INPUT["legacy"]).read_text())
    legacy_out = json.loads(conformance_file(*OUTPUT["legacy"]).read_text())
    assert sum(len(s["cases"]) for s in legacy_in) == 25
    assert sum(len(s["cases"]) for s in legacy_out) == 19


@pytest.mark.parametrize(("suite", "case"), _cases(INPUT))
def test_input_case(suite: dict[str, Any] | None, case: dict[str, Any] | None) -> None:
    if suite is None or case is None:
        conformance_file(*INPUT["smithy"])  # skips, naming the path
        return
    model = _model(suite, case)
    op = case["given"]["name"]
    expected = case["serialized"]
    params = _special_floats(case["params"])
    req = model.request(op, params, token_factory=lambda: FIXED_TOKEN)

    assert req.method == expected.get("method", "POST")
    body = model.encode(op, params, token_factory=lambda: FIXED_TOKEN)
    if "body" in expected:
        assert req.body.decode() == expected["body"]
        assert req.body == body
    for name, value in expected.get("headers", {}).items():
        if name == "Content-Type":  # the suite checks the media type; ec2codec adds "; charset=utf-8"
            assert req.headers[name].split(";")[0] == value.split(";")[0]
        else:
            assert req.headers[name] == value
    if req.headers.get("Content-Encoding") == "gzip":
        assert gzip.decompress(req.body) == body
    if "host" in expected:
        host, _, path = expected["host"].partition("/")
        endpoint = f"https://{host.removeprefix(req.host_prefix or '')}/{path}"
        url = urlsplit(req.url(endpoint))
        assert url.netloc == host
        assert url.path == (f"/{path}{req.path}" if path else expected.get("uri", "/"))
    else:
        assert req.path == expected.get("uri", "/")

    # The server side reads the body back into params that encode to the same bytes.
    operation, decoded = model.decode_request(body)
    assert operation == op
    assert model.encode(op, decoded) == body


@pytest.mark.parametrize(("suite", "case"), _cases(OUTPUT))
def test_output_case(suite: dict[str, Any] | None, case: dict[str, Any] | None) -> None:
    if suite is None or case is None:
        conformance_file(*OUTPUT["smithy"])  # skips, naming the path
        return
    model = _model(suite, case)
    op = case["given"]["name"]
    response = case["response"]
    assert ("body" in response) is (case.get("id") not in NO_BODY)
    body = response.get("body", "").encode()

    if "errorCode" in case:
        with pytest.raises(ec2codec.ServiceError) as info:
            model.parse(op, body, status=response["status_code"])
        error = info.value
        assert error.code == case["errorCode"]
        assert error.message == case.get("errorMessage", "")
        assert error.status == response["status_code"]
        assert error.request_id == ("foo-id" if "<RequestId>" in response["body"] else None)
        shape = case["errorCode"] if case["errorCode"] in suite["shapes"] else None
        if shape is None:  # a code carried by a shape's "error": {"code": ...} (QueryCustomizedError)
            shape = next((n for n, s in suite["shapes"].items() if s.get("error", {}).get("code") == error.code), None)
        expected = _expected(suite["shapes"], shape, case["error"]) if shape else case["error"]
        assert comparable(error.details) == comparable(expected)
        return

    result = model.parse(op, body)
    found = re.search(r"<ResponseMetadata><RequestId>([^<]*)</RequestId>", response.get("body", ""))
    assert result.pop("ResponseMetadata") == ({"RequestId": found.group(1)} if found else {})
    output = case["given"].get("output", {}).get("shape")
    expected = _expected(suite["shapes"], output, case["result"]) if output else case["result"]
    assert comparable(result) == comparable(expected)
    # The same result when the body arrives a byte at a time.
    parser = ec2codec.ResponseParser(op, model=model)
    for i in range(len(body)):
        parser.feed(body[i : i + 1])
    streamed = parser.close()
    streamed.pop("ResponseMetadata")
    assert comparable(streamed) == comparable(result)


def test_response_metadata_is_the_request_id() -> None:
    path = conformance_file(*OUTPUT["legacy"])
    suite = next(s for s in json.loads(path.read_text()) if s["description"] == "Scalar members")
    case = suite["cases"][0]
    result = _model(suite, case).parse("OperationName", case["response"]["body"])
    assert result["ResponseMetadata"] == {"RequestId": "request-id"}


def test_empty_body_is_only_accepted_where_there_is_nothing_to_decode() -> None:
    raw = {
        "metadata": {"protocol": "query", "apiVersion": "2020-01-08"},
        "operations": {
            "Nothing": {"name": "Nothing", "output": {"shape": "Empty"}},
            "Something": {"name": "Something", "output": {"shape": "Out", "resultWrapper": "SomethingResult"}},
        },
        "shapes": {
            "Empty": {"type": "structure", "members": {}},
            "Out": {"type": "structure", "members": {"A": {"shape": "S"}}},
            "S": {"type": "string"},
        },
    }
    model = ec2codec.load_model(raw)
    assert model.parse("Nothing", b"") == model.parse("Nothing", b" \n") == {"ResponseMetadata": {}}
    assert ec2codec.ResponseParser("Nothing", model=model).close() == {"ResponseMetadata": {}}
    with pytest.raises(ec2codec.ParseError, match="empty response body"):
        model.parse("Something", b"")
    with pytest.raises(ec2codec.ParseError, match="empty response body"):
        model.parse("Nothing", b"", status=500)
    # The ec2 protocol never had the allowance.
    with pytest.raises(ec2codec.ParseError, match="empty response body"):
        ec2codec.parse("CancelImportTask", b"")


# --- where botocore departs from the protocol, pinned -------------------------------------------


def _suite_case(parts: tuple[str, ...], case_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for suite in json.loads(conformance_file(*parts).read_text()):
        for case in suite["cases"]:
            if case.get("id") == case_id:
                return suite, case
    raise AssertionError(case_id)


def _botocore_service(suite: dict[str, Any], case: dict[str, Any]) -> Any:
    from botocore.model import ServiceModel

    given = case["given"]
    return ServiceModel(
        {"metadata": suite["metadata"], "shapes": suite["shapes"], "operations": {given["name"]: given}}
    )


def test_botocore_names_a_flattened_list_after_its_item() -> None:
    pytest.importorskip("botocore")
    from botocore.serialize import QuerySerializer

    suite, case = _suite_case(INPUT["smithy"], "QueryFlattenedListArgWithXmlName")
    operation = _botocore_service(suite, case).operation_model("QueryLists")
    body = QuerySerializer().serialize_to_request(case["params"], operation)["body"]
    assert dict(body) == {"Action": "QueryLists", "Version": "2020-01-08", "item.1": "A", "item.2": "B"}
    assert _model(suite, case).serialize("QueryLists", case["params"])[2:] == [("Hi.1", "A"), ("Hi.2", "B")]


def test_botocore_misses_flattened_lists_named_by_the_member() -> None:
    pytest.importorskip("botocore")
    from botocore.parsers import QueryParser

    suite, case = _suite_case(OUTPUT["smithy"], "QueryXmlLists")
    # The suite's model leaves out the resultWrapper Smithy implies; without it botocore finds nothing at all.
    output = {"shape": "XmlListsOutput", "resultWrapper": "XmlListsResult"}
    operation = _botocore_service(suite, {**case, "given": {**case["given"], "output": output}}).operation_model(
        "XmlLists"
    )
    shape = operation.output_shape
    response = {"body": case["response"]["body"].encode(), "headers": {}, "status_code": 200}
    parsed = QueryParser().parse(response, shape)
    assert "flattenedList" not in parsed and "flattenedList2" not in parsed
    ours = _model(suite, case).parse("XmlLists", case["response"]["body"])
    assert ours["flattenedList"] == ["hi", "bye"] and ours["flattenedList2"] == ["yep", "nope"]
