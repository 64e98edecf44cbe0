"""Hypothesis strategies for request parameters, built from the bundled EC2 model.

Shared by the encoder's differential test and the request decoder's round
trip: required members always present, ``min`` respected, structure nesting
bounded (EC2 has recursive shapes), strings rich in reserved and non-ASCII
characters, and every timestamp form the encoder accepts.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

import ec2codec
from ec2codec.model.service import bundled_model

OPERATIONS = ec2codec.operations()
# Examples per operation, derived from the active profile (conftest: ci=10, thorough=500).
PER_OPERATION = max(2, settings().max_examples // 5)

# Structure nesting past which only required members are drawn (EC2 input
# shapes nest about five deep and some are recursive), and extra list items.
MAX_DEPTH = 5
MAX_EXTRA_ITEMS = 3


# Reserved characters of the form encoding and of URLs, plus space, are drawn
# often; everything else comes from the whole of Unicode minus lone surrogates.
_RESERVED = "&=+/%~* .-_?#;:,@!$'()[]\r\n\t"
_TEXT = st.one_of(st.sampled_from(_RESERVED), st.characters(codec="utf-8"))
_UTC_DAYS = (datetime(1970, 1, 2), datetime(2099, 12, 30))
_OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


def texts(minimum: int) -> st.SearchStrategy[str]:
    return st.text(_TEXT, min_size=minimum, max_size=minimum + 12)


def _integers(minimum: int | None) -> st.SearchStrategy[int]:
    big = [2**31, 2**63 - 1, 2**63, 2**64 + 1, 10**40, -(2**31), -(2**63), -(10**40)]
    return st.one_of(
        st.integers(min_value=minimum, max_value=None if minimum is None else minimum + 100),
        st.integers(min_value=minimum),
        st.sampled_from([n for n in big if minimum is None or n >= minimum]),
    )


def _not_below(value: Any, minimum: float | None) -> bool:
    # botocore's range_check is a plain ``value < min`` (NaN passes it).
    return minimum is None or not value < minimum


def _doubles(minimum: float | None) -> st.SearchStrategy[Any]:
    floats = st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: _not_below(v, minimum))
    special = st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, 1e16, 1e-7, 5e-324])
    # botocore crashes comparing a Decimal NaN with a min, and on any signalling
    # NaN; those are not valid input for either side.
    decimals = st.decimals(allow_nan=minimum is None, allow_infinity=True).filter(
        lambda v: not v.is_snan() and _not_below(v, minimum)
    )
    return st.one_of(floats, special.filter(lambda v: _not_below(v, minimum)), decimals, _integers(None)).filter(
        lambda v: _not_below(v, minimum)
    )


@st.composite
def _iso_timestamps(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(*_UTC_DAYS))
    if draw(st.booleans()) and draw(st.booleans()):
        return moment.strftime(draw(st.sampled_from(["%Y-%m-%d", "%Y%m%d"])))
    basic = draw(st.booleans()) and draw(st.booleans())
    text = moment.strftime("%Y%m%d" if basic else "%Y-%m-%d") + draw(st.sampled_from("T t"))
    text += moment.strftime("%H%M%S" if basic else "%H:%M:%S")
    if moment.microsecond or draw(st.booleans()):
        digits = f"{moment.microsecond:06d}"[: draw(st.integers(1, 6))]
        digits += draw(st.text("0123456789", max_size=3))  # past microseconds: truncated by both
        text += draw(st.sampled_from(".,")) + digits
    zone = draw(st.sampled_from(["Z", "z", "", "+00:00", "offset"]))
    if zone == "offset":
        minutes = draw(st.integers(-14 * 60, 14 * 60))
        hours, rest = divmod(abs(minutes), 60)
        sign = "-" if minutes < 0 else "+"
        zone = draw(st.sampled_from([f"{sign}{hours:02d}:{rest:02d}", f"{sign}{hours:02d}{rest:02d}"]))
        if not rest and draw(st.booleans()):
            zone = f"{sign}{hours:02d}"
    return text + zone


def _timestamps() -> st.SearchStrategy[Any]:
    epoch_range = {"min_value": 0, "max_value": 4_102_444_800}
    return st.one_of(
        st.datetimes(*_UTC_DAYS),  # naive: taken as UTC by both
        st.datetimes(*_UTC_DAYS, timezones=st.one_of(st.just(timezone.utc), _OFFSETS)),
        _iso_timestamps(),
        st.integers(**epoch_range),
        st.floats(**epoch_range),
        st.decimals(**epoch_range, places=6),
        st.integers(**epoch_range).map(str),
        st.floats(**epoch_range).map(repr),
        # RFC 7231 HTTP-date, and the RFC 2822 numeric-offset variant.
        st.datetimes(*_UTC_DAYS, timezones=st.just(timezone.utc)).map(lambda d: format_datetime(d, usegmt=True)),
        st.datetimes(*_UTC_DAYS, timezones=_OFFSETS).map(format_datetime),
    )


def _blobs() -> st.SearchStrategy[Any]:
    return st.one_of(st.binary(max_size=24), st.binary(max_size=8).map(bytearray), texts(0))


@functools.cache
def strategy(shape_name: str, depth: int = 0) -> st.SearchStrategy[Any]:
    """Valid values for a shape of the bundled model."""
    shape = bundled_model().shape(shape_name)
    kind = shape["type"]
    minimum = shape.get("min")
    if kind == "structure":
        members = shape.get("members", {})
        required = set(shape.get("required", ()))
        # Past MAX_DEPTH only required members are drawn, which ends recursion.
        optional = {} if depth >= MAX_DEPTH else {n: strategy(r["shape"], depth + 1) for n, r in members.items()}
        return st.fixed_dictionaries(
            {n: strategy(members[n]["shape"], depth + 1) for n in members if n in required},
            optional={n: s for n, s in optional.items() if n not in required},
        )
    if kind == "list":
        size = minimum or 0
        items = st.lists(
            strategy(shape["member"]["shape"], depth),
            min_size=size,
            max_size=size if depth >= MAX_DEPTH else size + MAX_EXTRA_ITEMS,
        )
        return st.one_of(items, items.map(tuple))
    if kind == "string":
        return texts(minimum or 0)
    if kind in ("integer", "long"):
        return _integers(minimum)
    if kind in ("float", "double"):
        return _doubles(minimum)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return _timestamps()
    if kind == "blob":
        return _blobs()
    raise AssertionError(f"the EC2 model has no {kind} shapes in requests")


def params_for(operation: str) -> st.SearchStrategy[dict[str, Any]]:
    input_shape = bundled_model().operation(operation).input
    return strategy(input_shape) if input_shape else st.just({})
