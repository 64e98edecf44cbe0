"""The compiler behind the EC2 Query encoder: input shapes -> specialised emit closures.

Owns the wire rules (AWS "EC2 Query protocol", Smithy ``aws.protocols#ec2Query``):
a member's key is its ``ec2QueryName`` (model ``queryName``), else its
``xmlName`` (model ``locationName``) with the first letter upper-cased, else the
member name with the first letter upper-cased; lists flatten to ``Name.1``,
``Name.2`` and an empty list sends nothing; keys and values are
``application/x-www-form-urlencoded`` exactly as botocore's ``urlencode`` does
(:mod:`ec2codec.protocol._formencode`).

Each shape is compiled once into nested closures (the fast path), which stop
at the first invalid value. ``encode`` does not quote value by value: the
closures append each field's key already spelled ``&Key=`` and its raw value
to one flat list; the values are joined and percent-encoded in a few C-level
passes (see :func:`~ec2codec.protocol._formencode.quote_joined`), put back in
place by a slice assignment, and the list is joined. That, and containers
appending plain strings themselves, is what makes it an order of magnitude
faster than botocore.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ..errors import ModelError
from ..model.service import ServiceModel
from ._formencode import needs_quoting
from ._scalars import Converter, Invalid, converter
from ._time import UTC

__all__ = ["Compiler", "Emit", "Flat", "wire_name"]

# An emitter appends key, value, key, value ... to a flat list (see Compiler).
Flat = list[str]
Emit = Callable[[Any, str, Flat], None]

# Integers inside these bounds render with str() (no digit limit to worry about).
_PLAIN_INT = 10**18
_2D = [f"{n:02d}" for n in range(100)]
# The key suffixes of list items, "1." "2." ... and "1=" "2=" ..., spelled once
# for lists up to _SHORT_LIST items (an f-string per item costs half as much as
# the rest of a Tag's emission); zip stops at the end of the list.
_SHORT_LIST = 256
_SUFFIXES = {sep: [f"{i}{sep}" for i in range(1, _SHORT_LIST + 1)] for sep in ".="}
_INF = math.inf


def wire_name(member: str, ref: Mapping[str, Any]) -> str:
    """The query key of a structure member under the ec2 protocol."""
    name = ref.get("queryName")
    if name:
        return str(name)
    name = ref.get("locationName") or member
    return name[:1].upper() + name[1:]


class Compiler:
    """Turns shapes into emit functions ``emit(value, key, out)``, memoised per shape.

    An emitter appends ``key, text`` for every scalar under ``value`` to the flat
    list ``out``. ``key`` arrives with the separator its emitter needs already
    appended by the parent, which knows the child's type when compiling:
    ``Name.`` for a structure, list or map, ``Name=`` for a scalar. That saves
    concatenations; so does :meth:`body`, which compiles an operation's input
    structure with its keys spelled ``&Name=``, ready to join into a body.

    The scalar emitters inline the common, obviously valid cases and hand
    everything else to the converter, which is the single judge of validity,
    with one exception: a plain ``str`` is emitted without the converter's UTF-8
    check, which callers make on all values at once (see OperationEncoder).

    Not thread-safe: ``memo`` and ``tables`` hold shapes still being compiled
    (a placeholder emitter, a member table being filled in), so a compiler is
    used only under its model's compile lock (``ServiceModel.compile_once``).
    """

    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self.memo: dict[tuple[str, str | None], Emit] = {}
        # Per structure shape: its member table, required members and union flag,
        # registered before the members compile so recursive lists can share it.
        self.tables: dict[str, tuple[dict[str, tuple[str, Emit, type[str] | None]], frozenset[str], bool]] = {}
        # True once any key of this model needs percent-encoding (never in EC2).
        self.unsafe_keys = False
        # Per input structure shape: its emitter for a request body (see body).
        self.bodies: dict[str, Emit] = {}

    def emitter(self, shape_name: str, timestamp_format: str | None = None) -> Emit:
        key = (shape_name, timestamp_format)
        found = self.memo.get(key)
        if found is not None:
            return found
        cell: list[Emit] = []
        # A placeholder lets recursive shapes refer to themselves while compiling.
        self.memo[key] = lambda value, k, out: cell[0](value, k, out)  # noqa: PLW0108
        shape = self.model.shape(shape_name)
        kind = shape.get("type")
        if kind == "structure":
            emit = self._structure(shape_name, shape)
        elif kind == "list":
            emit = self._list(shape)
        elif kind == "map":
            emit = self._map(shape)
        else:
            emit = self._scalar(shape, converter(shape, timestamp_format), timestamp_format)
        cell.append(emit)
        self.memo[key] = emit
        return emit

    def body(self, shape_name: str) -> Emit:
        """The emitter of an operation's input structure, called with the key "".

        Its keys come out as ``&Name=``, and so do those of the structures
        nested in it through structure members alone (no list or map on the
        way, no recursion): their place in a body is fixed, so each is compiled
        apart for it with its keys spelled out whole, and no key is built by
        concatenation until a list is reached.
        """
        found = self.bodies.get(shape_name)
        if found is None:
            found = self.bodies[shape_name] = self._structure(shape_name, self.model.shape(shape_name), "&", ())
        return found

    def _member(self, ref: Mapping[str, Any]) -> tuple[str, Emit, type[str] | None]:
        """The separator to append to the member's key, its emitter, and its verbatim type.

        The verbatim type is ``str`` for a string shape without a ``min``: a value
        of exactly that type is what the emitter would append unchanged, so
        containers append it themselves and save a call per value; for every
        other member it is None, which no value has.
        """
        shape = self.model.shape(ref["shape"])
        kind = shape.get("type")
        sep = "." if kind in ("structure", "list", "map") else "="
        verbatim = str if kind == "string" and not shape.get("min") else None
        return sep, self.emitter(ref["shape"], ref.get("timestampFormat")), verbatim

    def member_key(self, name: str, ref: Mapping[str, Any]) -> str:
        """The key of structure member ``name`` (the ec2 rule; awsQuery's compiler overrides it)."""
        return wire_name(name, ref)

    def _wire(self, name: str) -> str:
        if needs_quoting(name):
            self.unsafe_keys = True
        return name

    def _structure(
        self, shape_name: str, shape: Mapping[str, Any], prefix: str = "", fixed: tuple[str, ...] | None = None
    ) -> Emit:
        # ``fixed``: the structure shapes this one is nested in (see body), or None
        # for the shared emitter of the shape; ``prefix`` goes before each key.
        if shape.get("document"):
            raise ModelError("document shapes cannot be sent with the ec2 protocol")
        members: dict[str, tuple[str, Emit, type[str] | None]] = {}
        required = frozenset(shape.get("required", ()))
        union = bool(shape.get("union"))
        if fixed is None:  # lists of this shape inline its loop with this table
            self.tables[shape_name] = (members, required, union)
        else:
            fixed += (shape_name,)
        for name, ref in shape.get("members", {}).items():
            sep, child, verbatim = self._member(ref)
            wire = prefix + self._wire(self.member_key(name, ref)) + sep
            inner = self.model.shape(ref["shape"])
            if fixed is not None and inner.get("type") == "structure" and ref["shape"] not in fixed:
                child = self._structure(ref["shape"], inner, wire, fixed)
                wire = ""
            members[name] = (wire, child, verbatim)

        def emit(value: Any, key: str, out: Flat) -> None:
            if not isinstance(value, dict) or (required and not required.issubset(value)):
                raise Invalid
            if union and len(value) != 1:
                raise Invalid
            for name, item in value.items():
                wire, child, verbatim = members[name]  # KeyError: unknown member
                if type(item) is verbatim:
                    out.append(key + wire)
                    out.append(item)
                else:
                    child(item, key + wire, out)

        def emit_plain(value: Any, key: str, out: Flat) -> None:
            # The same without the required/union checks (most shapes have neither).
            if not isinstance(value, dict):
                raise Invalid
            for name, item in value.items():
                wire, child, verbatim = members[name]  # KeyError: unknown member
                if type(item) is verbatim:
                    out.append(key + wire)
                    out.append(item)
                else:
                    child(item, key + wire, out)

        return emit if required or union else emit_plain

    def _list(self, shape: Mapping[str, Any]) -> Emit:
        sep, child, verbatim = self._member(shape["member"])
        minimum = shape.get("min")
        table = self.tables.get(shape["member"]["shape"])
        if table is not None:
            return self._list_of_structures(table, minimum)

        def emit(value: Any, key: str, out: Flat) -> None:
            if not isinstance(value, (list, tuple)) or (minimum is not None and len(value) < minimum):
                raise Invalid
            for suffix, item in zip(_suffixes(len(value), sep), value):  # noqa: B905
                if type(item) is verbatim:
                    out.append(key + suffix)
                    out.append(item)
                else:
                    child(item, key + suffix, out)

        return emit

    @staticmethod
    def _list_of_structures(
        table: tuple[dict[str, tuple[str, Emit, type[str] | None]], frozenset[str], bool], minimum: int | None
    ) -> Emit:
        # Tags, Filters, BlockDeviceMappings ...: the structure emitter's loop runs
        # inline for each item, which saves a call per item.
        members, required, union = table

        def emit(value: Any, key: str, out: Flat) -> None:
            if not isinstance(value, (list, tuple)) or (minimum is not None and len(value) < minimum):
                raise Invalid
            for suffix, item in zip(_suffixes(len(value), "."), value):  # noqa: B905
                if not isinstance(item, dict) or (required and not required.issubset(item)):
                    raise Invalid
                if union and len(item) != 1:
                    raise Invalid
                prefix = key + suffix
                for name, member in item.items():
                    wire, child, verbatim = members[name]  # KeyError: unknown member
                    if type(member) is verbatim:
                        out.append(prefix + wire)
                        out.append(member)
                    else:
                        child(member, prefix + wire, out)

        def emit_plain(value: Any, key: str, out: Flat) -> None:
            # The same without the required/union checks (Tag, Filter ... have neither).
            if not isinstance(value, (list, tuple)) or (minimum is not None and len(value) < minimum):
                raise Invalid
            for suffix, item in zip(_suffixes(len(value), "."), value):  # noqa: B905
                if not isinstance(item, dict):
                    raise Invalid
                prefix = key + suffix
                for name, member in item.items():
                    wire, child, verbatim = members[name]  # KeyError: unknown member
                    if type(member) is verbatim:
                        out.append(prefix + wire)
                        out.append(member)
                    else:
                        child(member, prefix + wire, out)

        return emit if required or union else emit_plain

    def _map(self, shape: Mapping[str, Any]) -> Emit:
        # Only loaded (non-EC2) models have maps; the layout is botocore's
        # QuerySerializer._serialize_type_map: Key.entry.N.key / .value.
        key_ref, value_ref = shape["key"], shape["value"]
        key_sep, key_emit, _ = self._member(key_ref)
        value_sep, value_emit, _ = self._member(value_ref)
        key_name = self._wire(wire_name("key", key_ref) if _named(key_ref) else "key") + key_sep
        value_name = self._wire(wire_name("value", value_ref) if _named(value_ref) else "value") + value_sep
        entry = "" if shape.get("flattened") else "entry."

        def emit(value: Any, key: str, out: Flat) -> None:
            if not isinstance(value, dict):
                raise Invalid
            for i, k in enumerate(value, 1):
                stem = f"{key}{entry}{i}."
                key_emit(k, stem + key_name, out)
                value_emit(value[k], stem + value_name, out)

        return emit

    @staticmethod
    def _scalar(shape: Mapping[str, Any], convert: Converter, timestamp_format: str | None) -> Emit:
        kind = shape.get("type")
        iso = (timestamp_format or shape.get("timestampFormat") or "iso8601").lower() == "iso8601"
        emit: Emit
        if kind == "string":
            minimum = shape.get("min") or 0

            # What _scalars._string returns unchanged, but for the UTF-8 check (see
            # the class docstring); subclasses, short or non-str values go through it.
            def emit(value: Any, key: str, out: Flat) -> None:
                if type(value) is str and len(value) >= minimum:
                    out.append(key)
                    out.append(value)
                else:
                    out.append(key)
                    out.append(convert(value))

        elif kind in ("integer", "long"):
            low = max(shape.get("min", -_PLAIN_INT), -_PLAIN_INT)

            def emit(value: Any, key: str, out: Flat) -> None:
                if type(value) is int and low <= value <= _PLAIN_INT:
                    out.append(key)
                    out.append(f"{value}")
                else:
                    out.append(key)
                    out.append(convert(value))

        elif kind in ("float", "double"):
            # A finite float at or above the minimum, for which convert returns str(value);
            # the floor is finite so that -inf, like inf and NaN, goes through convert.
            floor = max(shape.get("min", -math.inf), -sys.float_info.max)

            def emit(value: Any, key: str, out: Flat) -> None:
                if type(value) is float and floor <= value < _INF:
                    out.append(key)
                    out.append(f"{value!r}")
                else:
                    out.append(key)
                    out.append(convert(value))

        elif kind == "boolean":

            def emit(value: Any, key: str, out: Flat) -> None:
                if value is True:
                    out.append(key)
                    out.append("true")
                elif value is False:
                    out.append(key)
                    out.append("false")
                else:
                    out.append(key)
                    out.append(convert(value))  # convert raises Invalid

        elif kind == "timestamp" and iso:

            def emit(value: Any, key: str, out: Flat) -> None:
                out.append(key)
                # A naive or UTC datetime, spelled as format_timestamp's strftime does
                # (botocore's ISO8601 and ISO8601_MICRO: the fraction only when not
                # zero) for four-digit years, at a third of the cost; years before
                # 1000, other time zones and strings go through the converter.
                if type(value) is datetime and value.year >= 1000 and (value.tzinfo is None or value.tzinfo is UTC):
                    if value.microsecond:
                        out.append(
                            f"{value.year}-{_2D[value.month]}-{_2D[value.day]}T{_2D[value.hour]}:"
                            f"{_2D[value.minute]}:{_2D[value.second]}.{value.microsecond:06d}Z"
                        )
                    else:
                        out.append(
                            f"{value.year}-{_2D[value.month]}-{_2D[value.day]}T{_2D[value.hour]}:"
                            f"{_2D[value.minute]}:{_2D[value.second]}Z"
                        )
                else:
                    out.append(convert(value))

        else:

            def emit(value: Any, key: str, out: Flat) -> None:
                out.append(key)
                out.append(convert(value))

        return emit


def _suffixes(count: int, sep: str) -> list[str]:
    # The item key suffixes of a list of count items (at least): the table, or spelled for a longer list.
    return _SUFFIXES[sep] if count <= _SHORT_LIST else [f"{i}{sep}" for i in range(1, count + 1)]


def _named(ref: Mapping[str, Any]) -> bool:
    return bool(ref.get("queryName") or ref.get("locationName"))
