"""Property: ``decode_request(encode(op, p))`` gives back ``p``, normalised, for every operation."""

from __future__ import annotations

import base64
import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ec2codec
from ec2codec.model.service import bundled_model
from ec2codec.protocol._time import to_utc
from tests.param_strategies import OPERATIONS, PER_OPERATION, params_for

_ABSENT = object()


def normalise(shape_name: str, value: Any) -> Any:
    """What the decoder is documented to return for ``value`` (absent when nothing is sent)."""
    shape = bundled_model().shape(shape_name)
    kind = shape["type"]
    if kind == "structure":
        out = {}
        for name, item in value.items():
            got = normalise(shape["members"][name]["shape"], item)
            if got is not _ABSENT:
                out[name] = got
        return out or _ABSENT
    if kind == "list":
        items = [normalise(shape["member"]["shape"], item) for item in value]
        return [i for i in items if i is not _ABSENT] or _ABSENT
    if kind == "timestamp":
        return to_utc(value)
    if kind == "blob":
        return value.encode() if isinstance(value, str) else bytes(value)
    if kind in ("float", "double"):
        return float(value) if isinstance(value, (Decimal, int)) else value
    return value


def same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


def check(operation: str, params: dict[str, Any]) -> None:
    op, decoded = ec2codec.decode_request(ec2codec.encode(operation, params))
    assert op == operation
    input_shape = bundled_model().operation(operation).input
    expected = normalise(input_shape, params) if input_shape else {}
    expected = {} if expected is _ABSENT else expected
    assert same(decoded, expected), (decoded, expected)


@pytest.mark.parametrize("operation", OPERATIONS)
# Two at least: hypothesis draws the smallest case first (required members only).
@settings(max_examples=PER_OPERATION)
@given(data=st.data())
def test_every_operation_round_trips(operation: str, data: st.DataObject) -> None:
    check(operation, data.draw(params_for(operation)))


def test_round_trip_notices_a_difference() -> None:
    # The property must be able to fail: a decoded value that differs is caught.
    assert not same({"A": [1.0]}, {"A": [1]})
    assert not same({"B": base64.b64decode("AA==")}, {"B": b""})
    assert same({"F": float("nan")}, {"F": float("nan")})
