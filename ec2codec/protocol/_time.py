"""Timestamp reading and writing shared by the request encoder and the response decoder.

botocore reads timestamps with ``dateutil``; ec2codec keeps run-time
dependencies to lxml and requests, so it accepts the forms AWS actually uses
and documents (AWS "Timestamp formats": ISO 8601 / RFC 3339, epoch seconds,
and the RFC 7231 HTTP-date) and rejects free-form dates dateutil would guess at.
"""

from __future__ import annotations

import math
import re
import sys
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, TypeGuard

if TYPE_CHECKING:
    from decimal import Decimal

__all__ = ["format_timestamp", "is_decimal", "parse_timestamp", "to_utc"]

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def is_decimal(value: object) -> TypeGuard[Decimal]:
    """Whether ``value`` is a ``decimal.Decimal``, without importing decimal (about 1.5 ms at start-up).

    A Decimal can only exist once its module has been imported, so asking
    ``sys.modules`` is exact.
    """
    decimal = sys.modules.get("decimal")
    return decimal is not None and isinstance(value, decimal.Decimal)


# ISO 8601 calendar dates, extended or basic, with optional time, fraction and offset
# (RFC 3339 section 5.6 plus the basic form EC2 documents show in examples).
_ISO = re.compile(
    r"""\s*(\d{4})-?(\d{2})-?(\d{2})
    (?:[Tt\ ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?
    \s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?\s*""",
    re.VERBOSE,
)
_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def _from_epoch(seconds: float | int | Decimal) -> datetime:
    # datetime.fromtimestamp rounds to the microsecond half-even, exactly as
    # botocore's parse_timestamp does; timedelta covers the years it refuses.
    try:
        return datetime.fromtimestamp(float(seconds), UTC)
    except (OverflowError, OSError, ValueError):
        try:
            return _EPOCH + timedelta(seconds=float(seconds))
        except OverflowError:
            raise ValueError(f"epoch seconds {seconds} out of range") from None


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO 8601, epoch-seconds or HTTP-date string into an aware UTC datetime."""
    if _NUMBER.fullmatch(text):
        return _from_epoch(float(text))
    m = _ISO.fullmatch(text)
    if m:
        year, month, day, hh, mm, ss, frac, _zulu, sign, oh, om = m.groups()
        micro = int((frac or "0")[:6].ljust(6, "0"))
        dt = datetime(int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0), micro)
        if sign:
            offset = timedelta(hours=int(oh), minutes=int(om or 0))
            return (dt - offset if sign == "+" else dt + offset).replace(tzinfo=UTC)
        return dt.replace(tzinfo=UTC)
    from email.utils import parsedate_to_datetime  # rare form; keeps import cheap

    try:
        dt = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise ValueError(f"not a timestamp: {text!r}") from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def to_utc(value: object) -> datetime:
    """Normalise a timestamp parameter (datetime, epoch number, or string) to aware UTC.

    Naive datetimes are taken as UTC, as botocore does.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, bool):
        raise TypeError("a bool is not a timestamp")
    if isinstance(value, (int, float)) or is_decimal(value):
        seconds = float(value)  # ValueError for a signalling Decimal NaN
        if not math.isfinite(seconds):
            raise ValueError(f"epoch seconds must be finite, got {value}")
        return _from_epoch(value)
    if isinstance(value, str):
        return parse_timestamp(value)
    raise TypeError(f"expected datetime, epoch seconds or timestamp string, got {type(value).__name__}")


def format_timestamp(value: datetime, fmt: str | None) -> str:
    """Render an aware UTC datetime in a model ``timestampFormat`` (query default: iso8601)."""
    fmt = (fmt or "iso8601").lower()
    if fmt == "iso8601":
        # strftime, not isoformat: byte-for-byte what botocore sends, including
        # its handling of years before 1000.
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ")
    # calendar.timegm(value.timetuple()) without importing calendar (and locale).
    seconds = (value - _EPOCH) // _SECOND
    if fmt == "unixtimestamp":
        return str(int(seconds))
    if fmt == "rfc822":
        from email.utils import formatdate

        return formatdate(seconds, usegmt=True)
    raise ValueError(f"unknown timestampFormat {fmt!r}")
