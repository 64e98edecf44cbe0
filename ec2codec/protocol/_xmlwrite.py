"""Compiled writers of EC2 response XML: one closure per output shape, plus the scalar text converters.

Owns the wire rules of the response encoder (:mod:`ec2codec.protocol.xml_encode` holds
the entry points and the error reports). They mirror what the decoder
(:mod:`ec2codec.protocol._xmlplan`) and botocore's ``EC2QueryParser`` read:

* a structure member is the element named by its ``locationName``, else by its
  member name (:func:`~ec2codec.protocol._names.member_name`), written in model
  order (botocore's models list members alphabetically; EC2's own order is not
  in the model, and no parser cares);
* a list is ``<name><item>..</item></name>``: the item element is the list
  member's ``locationName`` (``item`` on every EC2 list), else Smithy's default
  ``member``; a flattened list repeats ``<name>`` once per item (Smithy
  ``@xmlFlattened``), so an empty one is simply absent;
* a map is ``<name><entry><key/><value/></entry></name>`` (flattened: one
  ``<name><key/><value/></name>`` per entry), key and value renamed by their
  ``locationName``;
* scalars are written as EC2, a Java service, writes them: ``true``/``false``,
  decimal integers, doubles as ``Double.toString`` (``2.147483648E9``, ``NaN``,
  ``-Infinity``) with the shortest digits that read back exactly, blobs in
  base64, timestamps as ISO 8601 UTC with milliseconds
  (``2016-11-15T12:00:00.000Z``; six digits when the value has microseconds,
  so nothing is lost) unless the model's ``timestampFormat`` says otherwise.

The writers are the fast path: they append text pieces to a list and raise a
bare :class:`Reject` at the first bad value, without tracking where they are.
The caller then walks the value again (slowly, once) to name every problem
with its full path, using the converters of :func:`scalar_converter`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, NamedTuple

from ..model.service import ServiceModel
from ._names import member_name
from ._time import format_timestamp

__all__ = [
    "INVALID_XML_CHAR",
    "Compiler",
    "Emit",
    "Reject",
    "carries_xml",
    "escape",
    "java_double",
    "scalar_converter",
    "type_name",
]

Emit = Callable[[Any, list[str]], None]
Convert = Callable[[Any], str]

# XML 1.0 section 2.2 "Characters": the only code points a document may carry,
# even as character references. Everything else (most C0 controls, lone
# surrogates, U+FFFE/U+FFFF) would make the document ill-formed.
INVALID_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1)
# Smithy's integer types (smithy.api#Integer and friends) are signed two's complement.
_RANGES = {"byte": 8, "short": 16, "integer": 32, "long": 64}
_SPECIAL_FLOATS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def carries_xml(text: str, start: int = 0) -> bool:
    """Whether ``text[start:]`` holds only characters XML 1.0 allows.

    ``str.isprintable`` is a C loop about a hundred times faster than any
    regular expression over the text; it is False for every forbidden
    character (controls, surrogates, unassigned U+FFFE/U+FFFF) but also for
    some allowed ones (tab, newline, CR, non-ASCII spaces, format and
    private-use characters), and only then is the exact test run.
    """
    body = text[start:] if start else text
    return body.isprintable() or INVALID_XML_CHAR.search(body) is None


class Reject(Exception):
    """A value does not fit its shape; ``str()`` says why (the caller adds the path)."""


def type_name(value: object) -> str:
    return type(value).__name__


def escape(text: str) -> str:
    """Character data for element content (XML 1.0 section 2.4).

    ``&`` and ``<`` must be escaped, ``>`` is escaped so ``]]>`` cannot appear,
    and CR is written as ``&#13;`` because a parser turns a literal CR (and
    CR LF) into LF (section 2.11 "End-of-Line Handling"). Quotes need no
    escaping outside attributes. Characters XML cannot carry at all are
    checked on the whole document afterwards (see INVALID_XML_CHAR).
    """
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


# --- scalars: value -> element text -------------------------------------------------


def _show_int(value: int) -> str:
    # str() of an int past sys.get_int_max_str_digits() raises ValueError.
    return str(int(value)) if value.bit_length() <= 256 else f"a {value.bit_length()}-bit integer"


def _string(value: Any) -> str:
    if value.__class__ is not str and not isinstance(value, str):
        raise Reject(f"expected a string, got {type_name(value)}")
    return escape(value)


def _integer(bits: int) -> Convert:
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def convert(value: Any) -> str:
        if value.__class__ is not int and (not isinstance(value, int) or isinstance(value, bool)):
            raise Reject(f"expected an integer, got {type_name(value)}")
        if not low <= value <= high:
            raise Reject(f"{_show_int(value)} is outside the {bits}-bit signed range")
        return str(int(value))

    return convert


def _float(value: Any) -> str:
    if value.__class__ is not float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Reject(f"expected a number, got {type_name(value)}")
        try:
            value = float(value)
        except OverflowError:
            raise Reject(f"{_show_int(value)} is too large for a double") from None
    return java_double(value)


def java_double(value: float) -> str:
    """``value`` as Java's ``Double.toString`` writes it, which is what EC2 (a Java service) sends.

    ``2.147483648E9``, ``0.5``, ``1.0E-4``, ``NaN``, ``-Infinity``: plain
    notation from 10^-3 up to 10^7, else one digit, a fraction and ``E``; the
    digits are the shortest that read back as the same double (JDK 19+, and
    Python's ``repr``), so every parser gets exactly ``value`` back.
    """
    text = repr(value)
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    sign = "-" if text[0] == "-" else ""
    mantissa, _, exponent = text.lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent or 0)  # value = 0.<digits> * 10**point
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    if not digits:
        return f"{sign}0.0"
    if -3 < point <= 7:  # 10**-3 <= |value| < 10**7
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return f"{sign}{digits}{'0' * (point - len(digits))}.0"
        return f"{sign}{digits[:point]}.{digits[point:]}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{point - 1}"


def _boolean(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise Reject(f"expected a boolean, got {type_name(value)}")


def _blob(value: Any) -> str:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise Reject(f"expected bytes, got {type_name(value)}")
    return base64.b64encode(value).decode("ascii")


def _utc_fields(value: Any) -> datetime:
    """``value`` as a naive datetime holding its UTC wall-clock time (naive input is already UTC)."""
    if not isinstance(value, datetime):
        raise Reject(f"expected a datetime, got {type_name(value)}")
    moment: datetime = value
    offset = moment.utcoffset()
    if offset:
        try:
            moment = moment - offset
        except OverflowError:
            raise Reject(f"{moment.isoformat()} is out of range once converted to UTC") from None
    return moment.replace(tzinfo=None) if moment.tzinfo is not None else moment


def _iso8601(value: Any) -> str:
    # EC2 writes milliseconds (2016-11-15T12:00:00.000Z); finer values keep all
    # six digits so the parsed datetime equals the one encoded. The year is
    # padded by hand: strftime("%Y") does not pad years before 1000 on glibc.
    utc = _utc_fields(value)
    micro = utc.microsecond
    fraction = f"{micro // 1000:03d}" if micro % 1000 == 0 else f"{micro:06d}"
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{fraction}Z"


def _epoch_seconds(value: Any) -> str:
    # Smithy "epoch-seconds": decimal seconds, fraction only when present. Built
    # from integers, not a float, so every microsecond is written exactly.
    delta = _utc_fields(value) - _EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), 1_000_000)
    return f"{sign}{seconds}.{fraction:06d}".rstrip("0") if fraction else f"{sign}{seconds}"


def _http_date(value: Any) -> str:
    # Smithy "http-date" (RFC 7231 IMF-fixdate) has whole seconds only.
    return format_timestamp(_utc_fields(value).replace(tzinfo=_UTC), "rfc822")


_TIMESTAMPS = {"iso8601": _iso8601, "unixtimestamp": _epoch_seconds, "rfc822": _http_date}


def scalar_converter(shape: Mapping[str, Any], timestamp_format: str | None = None) -> Convert:
    """The text converter of a scalar shape (strings included); raises Reject with a reason."""
    kind = shape.get("type")
    if kind in _RANGES:
        return _integer(_RANGES[str(kind)])
    if kind in ("float", "double"):
        return _float
    if kind == "boolean":
        return _boolean
    if kind == "blob":
        return _blob
    if kind == "timestamp":
        fmt = str(timestamp_format or shape.get("timestampFormat") or "iso8601").lower()
        return _TIMESTAMPS.get(fmt, _iso8601)
    return _string  # string, character, enums; anything else is written as text, as the decoder reads it


# --- compiled shapes ------------------------------------------------------------------


# How a structure member's value is written: inline text, a scalar converter, or an aggregate's writer.
TEXT, SCALAR, AGGREGATE = range(3)


class Entry(NamedTuple):
    """One member of a compiled structure: its rank in the model, tags, and how its value is written."""

    rank: int  # position in the model's member order
    open: str  # "" for a flattened member (its writer writes every element)
    close: str
    kind: int  # TEXT, SCALAR or AGGREGATE
    write: Any  # None for TEXT, a Convert for SCALAR, an Emit for AGGREGATE


def _tags(name: str) -> tuple[str, str]:
    return f"<{name}>", f"</{name}>"


def _write_member(entry: Entry, item: Any, out: list[str]) -> None:
    _, open_, close, kind, write = entry
    if kind == AGGREGATE:
        out.append(open_)
        write(item, out)
        out.append(close)
    else:
        out += (open_, _string(item) if kind == TEXT else write(item), close)


def _structure(table: dict[str, Entry]) -> Emit:
    get = table.get

    def emit(value: Any, out: list[str]) -> None:
        if value.__class__ is not dict and not isinstance(value, Mapping):
            raise Reject
        last = -1
        mark = len(out)
        # Plain tuples unpacked inline: this loop is most of the encoder's time.
        for key, item in value.items():
            entry = get(key)
            if entry is None:
                raise Reject
            index, open_, close, kind, write = entry
            if index < last:
                break  # not in model order: rewritten sorted below
            last = index
            if kind == TEXT:
                if item.__class__ is not str and not isinstance(item, str):
                    raise Reject
                out += (open_, escape(item), close)
            elif kind == SCALAR:
                out += (open_, write(item), close)
            else:
                out.append(open_)
                write(item, out)
                out.append(close)
        else:
            return
        del out[mark:]
        if any(key not in table for key in value):
            raise Reject
        for key, item in sorted(value.items(), key=lambda pair: table[pair[0]].rank):
            _write_member(table[key], item, out)

    return emit


def _items(item: Entry) -> Emit:
    """Every item of a list, each in its own ``item.open .. item.close`` element."""
    _, open_, close, kind, write = item

    def emit(value: Any, out: list[str]) -> None:
        if value.__class__ is not list and not isinstance(value, (list, tuple)):
            raise Reject
        if kind == AGGREGATE:
            for one in value:
                out.append(open_)
                write(one, out)
                out.append(close)
        else:
            convert = _string if kind == TEXT else write
            for one in value:
                out += (open_, convert(one), close)

    return emit


def _entries(open_: str, close: str, key: Convert, key_tags: tuple[str, str], value: Entry) -> Emit:
    """Every entry of a map, each as ``open_ <key>k</key><value>v</value> close``."""
    key_open, key_close = key_tags

    def write(mapping: Any, out: list[str]) -> None:
        if not isinstance(mapping, Mapping):
            raise Reject
        for k, v in mapping.items():
            out += (open_, key_open, key(k), key_close)
            _write_member(value, v, out)
            out.append(close)

    return write


class Compiler:
    """Turns output shapes into writers, memoised per shape name (recursive shapes included).

    Not thread-safe: while a shape compiles, its memo entry is a forwarder to
    a writer that does not exist yet; a compiler is used only under its
    model's compile lock (``ServiceModel.compile_once``).
    """

    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self._memo: dict[str, Emit] = {}

    def structure(self, members: Mapping[str, Any]) -> Emit:
        """The writer of a structure's members (the content of its element, not the element)."""
        table: dict[str, Entry] = {}
        for index, (name, ref) in enumerate(members.items()):
            target = self.model.shape(ref["shape"])
            wire = member_name(name, ref, target)
            if (ref.get("flattened") or target.get("flattened")) and target.get("type") in ("list", "map"):
                # Smithy @xmlFlattened: the member's name (not the list member's) names each element.
                table[name] = Entry(index, "", "", AGGREGATE, self._flattened(wire, target))
            else:
                table[name] = self._entry(index, wire, ref)
        return _structure(table)

    def emitter(self, shape_name: str) -> Emit:
        """The writer of the content of an element holding a value of ``shape_name`` (an aggregate)."""
        found = self._memo.get(shape_name)
        if found is not None:
            return found
        compiled: list[Emit] = []

        def forward(value: Any, out: list[str]) -> None:  # what recursive references call
            compiled[0](value, out)

        self._memo[shape_name] = forward
        shape = self.model.shape(shape_name)
        kind = shape.get("type")
        if kind == "structure":
            emit = self.structure(shape.get("members", {}))
        elif kind == "list":
            member = shape["member"]
            emit = _items(self._entry(0, member.get("locationName") or "member", member))
        else:
            emit = self._map("entry", shape)
        compiled.append(emit)
        self._memo[shape_name] = emit
        return emit

    def _entry(self, index: int, wire: str, ref: Mapping[str, Any]) -> Entry:
        target = self.model.shape(ref["shape"])
        kind = target.get("type")
        if kind in ("structure", "list", "map"):
            return Entry(index, *_tags(wire), AGGREGATE, self.emitter(ref["shape"]))
        convert = scalar_converter(target, ref.get("timestampFormat"))
        return Entry(index, *_tags(wire), TEXT if convert is _string else SCALAR, convert)

    def _flattened(self, wire: str, shape: Mapping[str, Any]) -> Emit:
        if shape.get("type") == "list":
            return _items(self._entry(0, wire, shape["member"]))
        return self._map(wire, shape)

    def _map(self, wire: str, shape: Mapping[str, Any]) -> Emit:
        key_ref, value_ref = shape["key"], shape["value"]
        key = scalar_converter(self.model.shape(key_ref["shape"]))
        value = self._entry(0, value_ref.get("locationName") or "value", value_ref)
        return _entries(*_tags(wire), key, _tags(key_ref.get("locationName") or "key"), value)
