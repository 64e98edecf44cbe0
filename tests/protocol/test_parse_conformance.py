"""botocore's EC2 protocol output suites, every case, including the two botocore skips.

botocore skips ``Ec2XmlLists`` (its parser looks flattened lists up by the list
member's ``locationName`` and misses ``flattenedList`` and ``flattenedList2``)
and ``Ec2ComplexError`` (its harness compares the generic ``Error`` dict, where
the modeled members are mixed in with Code and Message); ec2codec passes both,
the error's modeled members arriving as ``ServiceError.details``. Each suite's shapes are loaded as
a model with ``ec2codec.load_model``. Expected values are converted by shape:
the suite writes timestamps as epoch seconds, blobs as text and special floats
as strings.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any

import pytest

import ec2codec
from tests.conftest import conformance_file, protocol_cases, suite_model
from tests.parse_support import comparable

SUITES = {
    "smithy": ("tests", "unit", "protocols", "output", "ec2.json"),
    "legacy": ("tests", "unit", "protocols", "legacy", "output", "ec2.json"),
}
BOTOCORE_SKIPS = {"Ec2XmlLists", "Ec2ComplexError"}


def _expected(shapes: dict[str, Any], shape_name: str, value: Any) -> Any:
    """The suite's JSON value as the Python value a parser returns for ``shape_name``."""
    shape = shapes[shape_name]
    kind = shape["type"]
    if kind == "structure":
        members = shape.get("members", {})
        return {k: _expected(shapes, members[k]["shape"], v) for k, v in value.items()}
    if kind == "list":
        return [_expected(shapes, shape["member"]["shape"], v) for v in value]
    if kind == "map":
        return {k: _expected(shapes, shape["value"]["shape"], v) for k, v in value.items()}
    if kind == "timestamp":
        return datetime.fromtimestamp(value, timezone.utc)
    if kind == "blob":
        return value.encode()
    if kind in ("float", "double") and isinstance(value, str):
        return float(value.replace("Infinity", "inf"))
    return value


def test_all_cases_are_collected() -> None:
    path = conformance_file(*SUITES["smithy"])
    cases = [c["id"] for suite in json.loads(path.read_text()) for c in suite["cases"]]
    assert len(cases) == 29
    assert set(cases) >= BOTOCORE_SKIPS


@pytest.mark.parametrize(
    ("suite", "case"), protocol_cases("smithy", SUITES["smithy"]) + protocol_cases("legacy", SUITES["legacy"])
)
def test_output_case(suite: dict[str, Any] | None, case: dict[str, Any] | None) -> None:
    if suite is None or case is None:
        conformance_file(*SUITES["smithy"])  # skips, naming the path
        return
    model = suite_model(suite, case)
    op = case["given"]["name"]
    response = case["response"]
    body = response["body"].encode()

    if "errorCode" in case:
        with pytest.raises(ec2codec.ServiceError) as info:
            model.parse(op, body, status=response["status_code"])
        error = info.value
        assert error.code == case["errorCode"]
        if "errorMessage" in case:
            assert error.message == case["errorMessage"]
        assert error.status == response["status_code"]
        shape = next((name for name in suite["shapes"] if name == case["errorCode"]), None)
        expected = _expected(suite["shapes"], shape, case["error"]) if shape else case["error"]
        assert comparable(error.details) == comparable(expected)
        return

    result = model.parse(op, body)
    meta = result.pop("ResponseMetadata")
    assert set(meta) <= {"RequestId"}
    output = case["given"].get("output", {}).get("shape")
    expected = _expected(suite["shapes"], output, case["result"]) if output else case["result"]
    assert comparable(result) == comparable(expected)
    # Every result is the same when the body arrives a byte at a time.
    parser = ec2codec.ResponseParser(op, model=model)
    for i in range(len(body)):
        parser.feed(body[i : i + 1])
    streamed = parser.close()
    streamed.pop("ResponseMetadata")
    assert comparable(streamed) == comparable(result)


def test_special_floats_are_real_floats() -> None:
    path = conformance_file(*SUITES["smithy"])
    suite = next(
        s for s in json.loads(path.read_text()) if s["cases"][0]["given"]["name"] == "SimpleScalarXmlProperties"
    )
    case = next(c for c in suite["cases"] if c["id"] == "Ec2QuerySupportsNaNFloatOutputs")
    result = suite_model(suite, case).parse("SimpleScalarXmlProperties", case["response"]["body"])
    assert math.isnan(result["floatValue"]) and math.isnan(result["doubleValue"])
