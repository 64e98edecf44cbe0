"""Scalar parameter converters for the EC2 Query encoder: check one value, render its wire text.

Each converter is built once per shape and is the single source of truth for
what a scalar accepts: the compiled fast path calls it (inlining only common
cases whose result is certain, such as a plain ``str`` or ``True``; see
``_querycompile.Compiler``), and the reporting pass that explains a rejected request
calls the same function, so the two can never disagree. Acceptance follows
botocore's ``ParamValidator`` (``validate.py``) except where botocore accepts
something it then sends as nonsense; those are rejected and listed in the
README ("Differences from botocore").
"""

from __future__ import annotations

import binascii
import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ..errors import ModelError
from ._time import format_timestamp, is_decimal, to_utc

__all__ = ["Converter", "Invalid", "converter"]

Converter = Callable[[Any], str]


class Invalid(Exception):
    """Internal: one value is unacceptable; the message says why (no path yet)."""


def _got(value: object) -> str:
    return type(value).__name__


def _string(shape: Mapping[str, Any]) -> Converter:
    minimum = shape.get("min")

    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid(f"expected str, got {_got(value)}")
        if minimum is not None and len(value) < minimum:
            raise Invalid(f"length {len(value)} is below the minimum {minimum}")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                # Lone surrogates: botocore crashes in urlencode; we refuse up front.
                raise Invalid(f"cannot be encoded as UTF-8 ({exc.reason} at index {exc.start})") from None
        return value

    return convert


def _int_text(value: int) -> str:
    try:
        return str(value)
    except ValueError:
        # Past sys.get_int_max_str_digits() (4300 digits by default) str()
        # refuses; botocore then crashes in urlencode, mid-request.
        raise Invalid(f"{_shown(value)} has more digits than int-to-str conversion allows") from None


def _shown(value: object) -> str:
    # For messages: an int too long for str() is described, not printed.
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:
            return f"an int of {value.bit_length()} bits"
    return str(value)


def _integer(shape: Mapping[str, Any]) -> Converter:
    minimum = shape.get("min")

    def convert(value: Any) -> str:
        # bool is an int subclass; botocore accepts True and sends "True".
        if not isinstance(value, int) or isinstance(value, bool):
            raise Invalid(f"expected int, got {_got(value)}")
        if minimum is not None and value < minimum:
            raise Invalid(f"{_shown(value)} is below the minimum {minimum}")
        return _int_text(value)

    return convert


def _float(shape: Mapping[str, Any]) -> Converter:
    minimum = shape.get("min")

    def convert(value: Any) -> str:
        if not (isinstance(value, (float, int)) or is_decimal(value)) or isinstance(value, bool):
            raise Invalid(f"expected float, int or Decimal, got {_got(value)}")
        try:
            nan = not isinstance(value, int) and math.isnan(value)
        except (ValueError, ArithmeticError):  # decimal.InvalidOperation is an ArithmeticError
            raise Invalid("a signalling NaN cannot be sent") from None
        if minimum is not None and not nan and value < minimum:
            raise Invalid(f"{_shown(value)} is below the minimum {minimum}")
        # Smithy's NaN/Infinity spellings, as botocore's Serializer._handle_float.
        if nan:
            return "NaN"
        if not isinstance(value, int) and math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return _int_text(value) if isinstance(value, int) else str(value)

    return convert


def _boolean(shape: Mapping[str, Any]) -> Converter:
    def convert(value: Any) -> str:
        if value is True:
            return "true"
        if value is False:
            return "false"
        raise Invalid(f"expected bool, got {_got(value)}")

    return convert


def _blob(shape: Mapping[str, Any]) -> Converter:
    def convert(value: Any) -> str:
        if isinstance(value, str):
            try:
                value = value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise Invalid(f"cannot be encoded as UTF-8 ({exc.reason} at index {exc.start})") from None
        elif not isinstance(value, (bytes, bytearray)):
            # botocore's validator lets file objects through and its query
            # serializer then crashes on them; reading a stream into a form
            # field is never what the caller wants, so say so.
            raise Invalid(f"expected bytes, bytearray or str, got {_got(value)}")
        return binascii.b2a_base64(value, newline=False).decode("ascii")

    return convert


# A timestamp string already spelled as format_timestamp would spell it (four-digit
# year, no zero fraction): once its fields are in range it is sent unchanged.
_CANONICAL_ISO = re.compile(
    r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.(?!0{6})[0-9]{6})?Z"
).fullmatch


def _timestamp(shape: Mapping[str, Any], fmt: str | None) -> Converter:
    fmt = fmt or shape.get("timestampFormat")
    iso = (fmt or "iso8601").lower() == "iso8601"

    def convert(value: Any) -> str:
        # (The compiled emitter spells naive and UTC datetimes itself, faster.)
        try:
            if iso and type(value) is str and _CANONICAL_ISO(value):
                datetime.fromisoformat(value[:-1])  # ValueError for a month 13, a February 30 ...
                return value
            return format_timestamp(to_utc(value), fmt)
        except (TypeError, ValueError, OverflowError) as exc:
            raise Invalid(f"not a timestamp: {exc}") from None

    return convert


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Converter]] = {
    "string": _string,
    "integer": _integer,
    "long": _integer,
    "float": _float,
    "double": _float,
    "boolean": _boolean,
    "blob": _blob,
}


def converter(shape: Mapping[str, Any], timestamp_format: str | None = None) -> Converter:
    """The converter for a scalar shape (``timestamp_format`` from the member reference wins)."""
    kind = shape.get("type")
    if kind == "timestamp":
        return _timestamp(shape, timestamp_format)
    try:
        return _BUILDERS[kind](shape)  # type: ignore[index]
    except KeyError:
        raise ModelError(f"shape type {kind!r} is not supported by the ec2 protocol") from None
