"""Differential test of the encoder against botocore, over every operation of the bundled EC2 model.

Parameters are generated from the model itself (required members always
present, ``min`` respected, nesting bounded because EC2 has recursive shapes)
and sent through both ``ec2codec.encode`` and botocore's validating ec2
serializer plus the urlencode its ``AWSRequest`` applies to a dict body; the
bodies must agree byte for byte. Mutated parameters (wrong type, unknown or
missing member, value below ``min``) must be rejected by ec2codec exactly where
botocore's validator rejects them, with the problem's full path in the message.

The few inputs where ec2codec deliberately refuses what botocore accepts (or
crashes on) are pinned by the table-driven tests at the end, so a change on
either side fails loudly instead of being absorbed by the property.

Budget: under the ``ci`` profile the file takes about half a minute on one core:
every operation gets a couple of examples, the ImportSnapshot family and
RunInstances many more. ``HYPOTHESIS_PROFILE=thorough`` scales all of them
(about fifty times).
"""

from __future__ import annotations

import copy
import functools
import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from unittest import mock

import botocore.session
import pytest
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ParamValidationError
from botocore.serialize import create_serializer
from dateutil.tz import tzutc
from hypothesis import given, settings
from hypothesis import strategies as st

import ec2codec
from ec2codec.model.service import bundled_model
from ec2codec.protocol import _formencode
from tests.param_strategies import OPERATIONS, PER_OPERATION, params_for, texts

ENDPOINT = "https://ec2.us-east-1.amazonaws.com/"

# Examples per test, derived from the active profile (conftest: ci=10, thorough=500):
# the focus operations get many (PER_OPERATION, for all of them, lives in param_strategies).
_PROFILE_EXAMPLES = settings().max_examples
FOCUS = max(20, _PROFILE_EXAMPLES * 3)
FOCUS_OPERATIONS = ["ImportSnapshot", "DescribeImportSnapshotTasks", "CancelImportTask", "RunInstances"]


# --- botocore, the reference --------------------------------------------------------------------


@functools.cache
def _botocore() -> tuple[Any, Any]:
    service = botocore.session.get_session().get_service_model("ec2")
    return service, create_serializer("ec2", include_validation=True)


def botocore_body(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """botocore's body dict (``ParamValidationError`` for invalid params)."""
    service, serializer = _botocore()
    body: dict[str, Any] = serializer.serialize_to_request(params, service.operation_model(operation))["body"]
    return body


def botocore_wire(body: dict[str, Any]) -> bytes:
    """The bytes botocore sends for a dict body (``AWSRequest`` utf-8-encodes and urlencodes it)."""
    prepared = AWSRequest(method="POST", url=ENDPOINT, data=body).prepare()
    wire: str = prepared.body
    return wire.encode("ascii")


def assert_same_as_botocore(operation: str, params: dict[str, Any]) -> None:
    body = botocore_body(operation, params)
    assert ec2codec.encode(operation, params) == botocore_wire(body)
    assert ec2codec.serialize(operation, params) == [(k, str(v)) for k, v in body.items()]


# --- invalid parameters by mutation ------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """One value inside the params: where it lives, its shape, and its path as ec2codec spells it."""

    path: str
    parent: Any  # the dict or list holding it (None for the params themselves)
    key: Any
    value: Any
    shape: dict[str, Any]


def _thaw(value: Any) -> Any:
    # A private mutable copy: tuples become lists so any position can be replaced.
    if isinstance(value, dict):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thaw(v) for v in value]
    return copy.copy(value)


def sites(shape_name: str, value: Any, path: str = "", parent: Any = None, key: Any = None) -> list[Site]:
    shape = bundled_model().shape(shape_name)
    found = [Site(path, parent, key, value, shape)]
    if shape["type"] == "structure":
        members = shape.get("members", {})
        for name, item in value.items():
            found += sites(members[name]["shape"], item, f"{path}.{name}" if path else name, value, name)
    elif shape["type"] == "list":
        for i, item in enumerate(value):
            found += sites(shape["member"]["shape"], item, f"{path}[{i}]", value, i)
    return found


# Values of the wrong type for each shape type. Left out on purpose: bool for
# numbers and timestamps, bytes and free-form strings for timestamps (botocore
# accepts those, see the deliberate differences below).
_WRONG: dict[str, list[Any]] = {
    "string": [7, 1.5, b"bytes", None, ["list"], {"a": "dict"}, True],
    "integer": ["7", 1.5, Decimal(7), None, [1], {"a": 1}],
    "long": ["7", 2.5, None, [1]],
    "double": ["1.5", None, [1.0], b"1", {"a": 1.0}],
    "boolean": ["true", 1, 0, None, [True]],
    "timestamp": [None, [0], {"a": 0}, "", "not a date", "2020-13-45T00:00:00Z", float("nan"), 10**12],
    "blob": [7, None, [b"x"], 1.5, memoryview(b"x")],
    "structure": ["dict", 1, ["a"], None, ("a", 1)],
    "list": [{"a": 1}, 5, None, "abc"],
}


@st.composite
def mutations(draw: st.DrawFn, operation: str) -> tuple[dict[str, Any], str]:
    """Valid params with one defect, and the path ec2codec must name."""
    params = _thaw(draw(params_for(operation)))
    input_shape = bundled_model().operation(operation).input
    assert input_shape is not None
    candidates = sites(input_shape, params)
    site = draw(st.sampled_from(candidates))
    shape = site.shape
    kinds = ["unknown"] if shape["type"] == "structure" else []
    if site.parent is not None:
        kinds.append("type")
    if shape["type"] == "structure" and set(shape.get("required", ())) & set(site.value):
        kinds.append("missing")
    minimum = shape.get("min")
    if minimum is not None and (shape["type"] in ("integer", "long", "double") or minimum > 0):
        kinds.append("min")
    kind = draw(st.sampled_from(kinds))
    prefix = f"{site.path}." if site.path else ""

    if kind == "unknown":
        members = shape.get("members", {})
        name = draw(st.sampled_from(["NotAMember", "dryRun", "Filters ", *(n.lower() for n in members)]))
        if name in members:
            name = "NotAMember"
        site.value[name] = "x"
        return params, prefix + name
    if kind == "missing":
        name = draw(st.sampled_from(sorted(set(shape["required"]) & set(site.value))))
        del site.value[name]
        return params, prefix + name
    if kind == "min":
        if shape["type"] == "string":
            bad: Any = draw(texts(0).map(lambda s: s[: minimum - 1]))
        elif shape["type"] == "list":
            bad = site.value[: minimum - 1]
        elif shape["type"] == "double":
            bad = draw(st.sampled_from([minimum / 2, -1.0, float("-inf"), Decimal(0)]))
        else:
            bad = draw(st.sampled_from([minimum - 1, -(2**63)]))
    else:
        bad = draw(st.sampled_from(_WRONG[shape["type"]]))
    site.parent[site.key] = bad
    return params, site.path


def assert_rejected_like_botocore(operation: str, params: dict[str, Any], path: str) -> None:
    try:
        body = botocore_body(operation, params)
    except ParamValidationError:
        pass
    else:
        # The mutation happened to be valid (an int for a double, say): both must send it.
        assert ec2codec.encode(operation, params) == botocore_wire(body)
        return
    with pytest.raises(ec2codec.ValidationError) as caught:
        ec2codec.encode(operation, params)
    assert path in [p for p, _ in caught.value.problems]
    assert f"{path}: " in str(caught.value)
    with pytest.raises(ec2codec.ValidationError):
        ec2codec.serialize(operation, params)


# --- the properties -----------------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS)
@settings(max_examples=PER_OPERATION)
@given(data=st.data())
def test_every_operation_encodes_like_botocore(operation: str, data: st.DataObject) -> None:
    assert_same_as_botocore(operation, data.draw(params_for(operation), label="params"))


@pytest.mark.parametrize("operation", OPERATIONS)
@settings(max_examples=PER_OPERATION)
@given(data=st.data())
def test_every_operation_rejects_like_botocore(operation: str, data: st.DataObject) -> None:
    params, path = data.draw(mutations(operation), label="mutated params and path")
    assert_rejected_like_botocore(operation, params, path)


@pytest.mark.parametrize("operation", FOCUS_OPERATIONS)
@settings(max_examples=FOCUS)
@given(data=st.data())
def test_focus_operations_encode_like_botocore(operation: str, data: st.DataObject) -> None:
    assert_same_as_botocore(operation, data.draw(params_for(operation), label="params"))


@pytest.mark.parametrize("operation", FOCUS_OPERATIONS)
@settings(max_examples=FOCUS)
@given(data=st.data())
def test_focus_operations_reject_like_botocore(operation: str, data: st.DataObject) -> None:
    params, path = data.draw(mutations(operation), label="mutated params and path")
    assert_rejected_like_botocore(operation, params, path)


# The encoder percent-encodes all values of a request at once, joined by SOH,
# with one pass per distinct unsafe byte; these values stress that: the
# separator itself, escapes that look like escapes, "+" next to spaces, every
# control character, and scripts whose UTF-8 bytes overlap.
_AWKWARD = [
    "\x01",
    "a\x01b",
    "\x00",
    "%",
    "%25",
    "%2B+ +",
    "+ ",
    " +",
    "100% & more=1+1",
    "".join(map(chr, range(32))),
    "\x7f\x80\xff",
    "é\u00e9e\u0301",
    "— ☕ 🚀 インフラ Ω",
    "~-._",
    "",
]


@pytest.mark.parametrize("value", _AWKWARD, ids=[ascii(v) for v in _AWKWARD])
def test_awkward_values_encode_like_botocore(value: str) -> None:
    params = {"Filters": [{"Name": value, "Values": [value, "plain", value + value]}], "DryRun": True}
    assert_same_as_botocore("DescribeInstances", params)


@settings(max_examples=max(50, _PROFILE_EXAMPLES * 10))
@given(
    values=st.lists(
        st.text(st.one_of(st.sampled_from("\x00\x01%+ &="), st.characters(codec="utf-8")), max_size=8),
        max_size=12,
    )
)
def test_form_encoding_of_any_text_matches_botocore(values: list[str]) -> None:
    assert_same_as_botocore("DescribeInstances", {"InstanceIds": values})


# Text in other scripts brings many distinct non-ASCII bytes, which quote_joined
# escapes in four whole-body passes (_formencode._escape_high) instead of a pass
# per byte value; around it, the bytes those passes set aside or map ("x", "X",
# STX, ETX, backslash, space) and those escaped before them.
_MANY_SCRIPTS = "Zoë Ångström, インフラ, Ωμέγα 🚀 naïve café ☕"


@settings(max_examples=max(50, _PROFILE_EXAMPLES * 10))
@given(
    values=st.lists(
        st.text(st.one_of(st.sampled_from("xX\\\x02\x03\x01+ %&=~"), st.characters(codec="utf-8")), max_size=12),
        max_size=10,
    )
)
def test_text_in_many_scripts_encodes_like_botocore(values: list[str]) -> None:
    assert_same_as_botocore("DescribeInstances", {"InstanceIds": [*values, _MANY_SCRIPTS, *values]})


@pytest.mark.parametrize(("text", "whole_body"), [(_MANY_SCRIPTS, True), ("café x X \\ \x02\x03 + %", False)])
def test_whole_body_escaping_is_taken_for_many_distinct_bytes(text: str, whole_body: bool) -> None:
    # Guards the property above: it really goes through _escape_high (and the
    # per-byte passes are still taken for a few).
    with mock.patch.object(_formencode, "_escape_high", wraps=_formencode._escape_high) as escape:
        assert_same_as_botocore("DescribeInstances", {"InstanceIds": [text, "i-1 x"]})
    assert escape.called is whole_body


# The compiled emitter spells naive and UTC datetimes itself; every other one
# (years before 1000, other time zones, subclasses) goes through the converter.
class _Moment(datetime):
    pass


_ZONES = st.one_of(
    st.none(),
    st.just(timezone.utc),
    st.just(timezone(timedelta(0), "UTC")),  # UTC, but not timezone.utc
    st.just(tzutc()),
    st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda minutes: timezone(timedelta(minutes=minutes))),
)


@settings(max_examples=max(50, _PROFILE_EXAMPLES * 10))
@given(
    moment=st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=_ZONES),
    whole_second=st.booleans(),
    subclass=st.booleans(),
)
def test_any_datetime_encodes_like_botocore(moment: datetime, whole_second: bool, subclass: bool) -> None:
    if whole_second:
        moment = moment.replace(microsecond=0)
    if subclass:
        moment = _Moment.combine(moment.date(), moment.timetz())
    assert_same_as_botocore("DescribeSpotPriceHistory", {"StartTime": moment, "EndTime": moment})
    # A structure nested at a fixed place in the body (ImportSnapshot's ClientData).
    assert_same_as_botocore("ImportSnapshot", {"ClientData": {"UploadStart": moment, "UploadSize": 1.5}})


def test_lists_longer_than_the_spelled_out_suffixes_encode_like_botocore() -> None:
    # The key suffixes "1." ... are spelled once for the first 256 items.
    ids = [f"i-{n:017x}" for n in range(300)]
    filters = [{"Name": f"tag:k{n}", "Values": [f"v{n}"] * (n % 3)} for n in range(300)]
    assert_same_as_botocore("DescribeInstances", {"InstanceIds": ids, "Filters": filters})


# Timestamp strings already in the form ec2codec sends are passed through after a
# range check; the edges of that shortcut, valid and not.
_TIMESTAMP_STRINGS = [
    "2020-02-29T23:59:59.999999Z",
    "2021-02-29T00:00:00Z",
    "2021-04-31T00:00:00Z",
    "2021-13-01T00:00:00Z",
    "2021-01-01T24:00:00Z",
    "2021-01-01T23:59:60Z",
    "2021-01-01T00:00:00.000000Z",
    "2021-01-01T00:00:00.100000Z",
    "2021-01-01T00:00:00.1Z",
    "1999-12-31T23:59:59Z",
    "0999-12-31T23:59:59Z",
]


@pytest.mark.parametrize("value", _TIMESTAMP_STRINGS)
def test_timestamp_strings_like_botocore(value: str) -> None:
    params = {"StartTime": value}
    try:
        body = botocore_body("DescribeSpotPriceHistory", params)
    except ParamValidationError:
        with pytest.raises(ec2codec.ValidationError):
            ec2codec.encode("DescribeSpotPriceHistory", params)
    else:
        assert ec2codec.encode("DescribeSpotPriceHistory", params) == botocore_wire(body)


def test_strategies_cover_every_operation() -> None:
    # Guards the layout above: the parametrisation really is the whole model.
    assert len(OPERATIONS) == len(bundled_model().operation_names()) > 700
    assert set(FOCUS_OPERATIONS) <= set(OPERATIONS)


# --- deliberate differences: ec2codec refuses what botocore accepts or crashes on ----------------


# (operation, params, path ec2codec names, what botocore does: the body value it
# sends under that key, or the exception type it crashes with).
DIFFERENCES = [
    pytest.param("DescribeInstances", {"MaxResults": True}, "MaxResults", "True", id="bool-for-integer"),
    pytest.param(
        "CopyImage",
        {"Name": "name", "SourceImageId": "ami-1", "SourceRegion": "r", "SnapshotCopyCompletionDurationMinutes": False},
        "SnapshotCopyCompletionDurationMinutes",
        "False",
        id="bool-for-long",
    ),
    pytest.param(
        "CreateCapacityReservation",
        {"InstanceType": "t3.micro", "InstancePlatform": "Linux/UNIX", "InstanceCount": 1, "CommitmentDuration": True},
        "CommitmentDuration",
        "True",
        id="bool-for-long-with-min",
    ),
    pytest.param(
        "DescribeInstances",
        {"Filters": [{"Name": "tag:\ud800", "Values": ["x"]}]},
        "Filters[0].Name",
        UnicodeEncodeError,
        id="lone-surrogate-string",
    ),
    pytest.param(
        "ImportKeyPair",
        {"KeyName": "k", "PublicKeyMaterial": "\udfff"},
        "PublicKeyMaterial",
        UnicodeEncodeError,
        id="lone-surrogate-blob",
    ),
    pytest.param(
        "ImportKeyPair",
        {"KeyName": "k", "PublicKeyMaterial": io.BytesIO(b"ssh-rsa AAAA")},
        "PublicKeyMaterial",
        TypeError,
        id="file-like-blob",
    ),
    pytest.param("DescribeInstances", {"MaxResults": 10**5000}, "MaxResults", ValueError, id="int-past-str-limit"),
    pytest.param(
        "DescribeSpotPriceHistory",
        {"StartTime": "May 5 2021 10:30pm"},
        "StartTime",
        "2021-05-05T22:30:00Z",
        id="free-form-date",
    ),
    pytest.param(
        "DescribeSpotPriceHistory", {"StartTime": "2021/05/05"}, "StartTime", "2021-05-05T00:00:00Z", id="slashed-date"
    ),
    pytest.param(
        "DescribeSpotPriceHistory",
        {"StartTime": "1_600_000_000"},
        "StartTime",
        "2020-09-13T12:26:40Z",
        id="python-number-literal",
    ),
    pytest.param(
        "DescribeSpotPriceHistory", {"StartTime": True}, "StartTime", "1970-01-01T00:00:01Z", id="bool-for-timestamp"
    ),
    pytest.param(
        "DescribeSpotPriceHistory",
        {"StartTime": b"2021-05-05T00:00:00Z"},
        "StartTime",
        "2021-05-05T00:00:00Z",
        id="bytes-for-timestamp",
    ),
]


@pytest.mark.parametrize(("operation", "params", "path", "botocore_does"), DIFFERENCES)
def test_deliberate_difference(operation: str, params: dict[str, Any], path: str, botocore_does: Any) -> None:
    if isinstance(botocore_does, str):
        sent = botocore_body(operation, params)
        assert str(sent[path]) == botocore_does
    else:
        with pytest.raises(botocore_does) as crashed:
            botocore_wire(botocore_body(operation, params))
        assert not isinstance(crashed.value, ParamValidationError)  # a crash, not a validation report
    with pytest.raises(ec2codec.ValidationError) as caught:
        ec2codec.encode(operation, params)
    assert [p for p, _ in caught.value.problems] == [path]
