"""Compiled response shapes: what each model shape decodes an XML element into.

A :class:`Plan` holds one shape's decode closure, ``decode(element, pending)``,
plus the tag-to-member map the streaming pruner in :mod:`ec2codec.protocol.xml` walks.
Closures look each child tag up in a per-shape dict built once, read plain
string members inline instead of calling a function, and iterate
``element[:]`` (a list lxml builds in C, faster than iterating the element).

Decoding follows botocore's ``BaseXMLResponseParser``: a member is the element
named by its ``locationName``, else by its member name (a flattened list
shape's items by the item's name: :func:`~ec2codec.protocol._names.member_name`),
whatever its namespace; every child of a list element is an item, whatever its name; an
element without text is ``""`` (``b""`` for a blob); maps are
``<entry><key/><value/></entry>``. ``pending`` maps list elements to the items
the pruner already decoded and removed from the tree; the list decoder puts
them in front of the rest.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from ..model.service import ServiceModel
from ._names import member_name
from ._time import parse_timestamp
from ._xmlsafety import built_stripped

if TYPE_CHECKING:
    from lxml import etree

    Element = etree._Element
    Pending = dict[Element, list[Any]]
    Decode = Callable[[Element, Pending], Any]
    Entry = tuple[str, Decode | None]

__all__ = ["MAX_TIMESTAMP", "BadValue", "Compiler", "Plan", "Reparse", "local_name", "prune"]

STRUCT, LIST, MAP, SCALAR = range(4)
_FLAT_LIST, _FLAT_MAP = 1, 2
# No timestamp form is longer; the cap keeps regex matching linear on hostile text.
MAX_TIMESTAMP = 64


class BadValue(Exception):
    """The text of ``element`` does not convert; the caller adds the element's path."""

    def __init__(self, element: Element, problem: str) -> None:
        super().__init__(problem)
        self.element = element
        self.problem = problem


class Reparse(Exception):
    """A value depends on whitespace the blank-stripping parser dropped; parse the body exactly."""


def _empty(element: Element) -> str:
    # No text at all. If the element has children, the fast one-shot parser may
    # have dropped whitespace before the first one, which botocore would return.
    if len(element) and built_stripped(element):
        raise Reparse
    return ""


def _show(text: str | None) -> str:
    text = text or ""
    return repr(text) if len(text) <= 60 else repr(text[:60]) + "..."


def local_name(tag: Any) -> str:
    """``tag`` without its ``{namespace}``."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else "?"


# --- scalars: one function per model type --------------------------------------


def _string(element: Element, pending: Pending) -> str:
    text = element.text
    return _empty(element) if text is None else text


def _integer(element: Element, pending: Pending) -> int:
    text = element.text
    try:
        return int(text)  # type: ignore[arg-type]  # None -> TypeError
    except (TypeError, ValueError):
        raise BadValue(element, f"not an integer: {_show(text)}") from None


def _float(element: Element, pending: Pending) -> float:
    text = element.text
    try:
        return float(text)  # type: ignore[arg-type]  # NaN and Infinity included, as botocore
    except (TypeError, ValueError):
        raise BadValue(element, f"not a number: {_show(text)}") from None


def _boolean(element: Element, pending: Pending) -> bool:
    text = element.text
    if text == "true":
        return True
    if text == "false":
        return False
    raise BadValue(element, f"not a boolean (true or false): {_show(text)}")


def _timestamp(element: Element, pending: Pending) -> Any:
    text = element.text or ""
    if len(text) <= MAX_TIMESTAMP:
        try:
            return parse_timestamp(text)
        except (ValueError, OverflowError, TypeError):
            pass
    raise BadValue(element, f"not a timestamp: {_show(text)}")


def _blob(element: Element, pending: Pending) -> bytes:
    text = element.text or ""
    try:
        # base64.b64decode's lenient mode, as botocore: stray characters are skipped.
        return binascii.a2b_base64(text)
    except (binascii.Error, ValueError):
        raise BadValue(element, f"not base64: {_show(text)}") from None


def _request_id(element: Element, pending: Pending) -> dict[str, Any]:
    text = element.text
    return {"RequestId": (_empty(element) or None) if text is None else text}


# --- plans ------------------------------------------------------------------------


class Member(NamedTuple):
    name: str
    plan: Plan  # of the member's own element (for a flattened list: of one item)
    repeats: int  # 0, or _FLAT_LIST / _FLAT_MAP when every occurrence adds to the value


def _not_compiled(element: Element, pending: Pending) -> Any:  # pragma: no cover - replaced before use
    raise AssertionError("shape decoder used before it was compiled")


class Plan:
    """One compiled shape: its decode closure, and the member map the pruner walks."""

    __slots__ = ("decode", "item", "kind", "members", "text")

    def __init__(self, kind: int, decode: Decode = _not_compiled, *, text: bool = False) -> None:
        self.kind = kind
        self.decode = decode
        self.text = text  # a plain string: structure and list decoders read it inline
        self.members: dict[str, Member] = {}
        self.item: Plan | None = None

    def member(self, tag: Any) -> Member | None:
        found = self.members.get(tag)
        if found is None and isinstance(tag, str) and tag[:1] == "{":
            found = self.members.get(tag.rpartition("}")[2])
        return found

    def conv(self) -> Decode | None:
        """What a parent calls for this shape: ``None`` for inline text, else the decoder."""
        if self.text:
            return None
        if self.decode is not _not_compiled:
            return self.decode

        def forward(element: Element, pending: Pending) -> Any:  # a recursive shape, still compiling
            return self.decode(element, pending)

        return forward


_STRING = Plan(SCALAR, _string, text=True)
_SCALARS = {
    "string": _STRING,
    "character": _STRING,
    "integer": Plan(SCALAR, _integer),
    "long": Plan(SCALAR, _integer),
    "short": Plan(SCALAR, _integer),
    "byte": Plan(SCALAR, _integer),
    "float": Plan(SCALAR, _float),
    "double": Plan(SCALAR, _float),
    "boolean": Plan(SCALAR, _boolean),
    "timestamp": Plan(SCALAR, _timestamp),
    "blob": Plan(SCALAR, _blob),
}
IGNORED = Plan(SCALAR, _string)  # unknown elements: the pruner may drop their finished children


def _foreign(table: dict[str, Entry], tag: Any) -> Entry | None:
    # Elements outside the root's default namespace arrive as "{uri}name".
    if isinstance(tag, str) and tag[:1] == "{":
        return table.get(tag.rpartition("}")[2])
    return None


def _structure(table: dict[str, Entry]) -> Decode:
    get = table.get

    def decode(element: Element, pending: Pending) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in element[:]:  # type: ignore[index]  # lxml-stubs lack slicing
            entry = get(child.tag)
            if entry is None:
                entry = _foreign(table, child.tag)
                if entry is None:
                    continue
            name, conv = entry
            if conv is None:
                text = child.text
                out[name] = _empty(child) if text is None else text
            else:
                out[name] = conv(child, pending)
        return out

    return decode


def _structure_with_flattened(table: dict[str, Entry], repeats: dict[str, int]) -> Decode:
    plain = _structure(table)

    def decode(element: Element, pending: Pending) -> dict[str, Any]:
        out: dict[str, Any] = plain(element, pending)  # gives each flattened member its last occurrence ...
        for name in repeats:
            out.pop(name, None)
        for child in element[:]:  # type: ignore[index]  # ... so collect them all again, in order
            entry = table.get(child.tag) or _foreign(table, child.tag)
            if entry is None or entry[0] not in repeats:
                continue
            name, conv = entry
            value = _string(child, pending) if conv is None else conv(child, pending)
            if repeats[name] == _FLAT_LIST:
                out.setdefault(name, []).append(value)
            else:
                out.setdefault(name, {})[value[0]] = value[1]
        return out

    return decode


def _list(item: Decode | None) -> Decode:
    def decode(element: Element, pending: Pending) -> list[Any]:
        children = element[:]  # type: ignore[index]
        if item is None:
            out = [_empty(child) if (text := child.text) is None else text for child in children]
        else:
            out = [item(child, pending) for child in children]
        if pending:
            done = pending.pop(element, None)  # items the streaming pruner decoded already
            if done is not None:
                done.extend(out)
                return done
        return out

    return decode


def _map_entry(key_tag: str, key: Decode, value_tag: str, value: Decode) -> Decode:
    def decode(element: Element, pending: Pending) -> tuple[Any, Any]:
        found: dict[str, Any] = {}
        for child in element[:]:  # type: ignore[index]
            tag = local_name(child.tag)
            if tag == key_tag:
                found["k"] = key(child, pending)
            elif tag == value_tag:
                found["v"] = value(child, pending)
            else:
                raise BadValue(child, f"unexpected <{tag}> in a map entry (expected <{key_tag}> and <{value_tag}>)")
        if len(found) != 2:
            raise BadValue(element, f"map entry without <{value_tag if 'k' in found else key_tag}>")
        return found["k"], found["v"]

    return decode


class Compiler:
    """Turns shapes into :class:`Plan` objects, memoised per shape name.

    Not thread-safe: a plan is memoised before its members are compiled (so
    recursive shapes find themselves), and until then its ``decode`` is
    ``_not_compiled``; a compiler is used only under its model's compile lock
    (``ServiceModel.compile_once``), which publishes finished plans only.
    """

    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self.memo: dict[str, Plan] = {}

    def plan(self, shape_name: str) -> Plan:
        found = self.memo.get(shape_name)
        if found is not None:
            return found
        shape = self.model.shape(shape_name)
        kind = shape.get("type")
        # Memoised before compiling members, so recursive shapes find themselves.
        if kind == "structure":
            plan = self.memo[shape_name] = Plan(STRUCT)
            self._fill_structure(plan, shape.get("members", {}))
        elif kind == "list":
            plan = self.memo[shape_name] = Plan(LIST)
            plan.item = self.plan(shape["member"]["shape"])
            plan.decode = _list(plan.item.conv())
        elif kind == "map":
            plan = self.memo[shape_name] = Plan(MAP)
            entry = self._map_entry(shape)

            def decode(element: Element, pending: Pending) -> dict[Any, Any]:
                return dict(entry(child, pending) for child in element[:])  # type: ignore[index]

            plan.decode = decode
        else:
            plan = self.memo[shape_name] = _SCALARS.get(str(kind), _STRING)
        return plan

    def root(self, output: str | None) -> Plan:
        """The plan of an ``<{Operation}Response>`` element: the output shape plus ``<requestId>``."""
        plan = Plan(STRUCT)
        self._fill_structure(plan, self.model.shape(output).get("members", {}) if output else {})
        # EC2QueryParser._inject_response_metadata reads only this child of the root.
        plan.members.setdefault("requestId", Member("ResponseMetadata", Plan(SCALAR, _request_id), 0))
        plan.decode = self._structure_decoder(plan)
        return plan

    def _fill_structure(self, plan: Plan, members: dict[str, Any]) -> None:
        for name, ref in members.items():
            target = self.model.shape(ref["shape"])
            flattened = bool(ref.get("flattened") or target.get("flattened"))
            repeats = 0
            if flattened and target.get("type") == "list":
                child, repeats = self.plan(target["member"]["shape"]), _FLAT_LIST
            elif flattened and target.get("type") == "map":
                child, repeats = Plan(MAP, self._map_entry(target)), _FLAT_MAP
            else:
                child = self.plan(ref["shape"])
            plan.members[member_name(name, ref, target)] = Member(name, child, repeats)
        plan.decode = self._structure_decoder(plan)

    @staticmethod
    def _structure_decoder(plan: Plan) -> Decode:
        table = {wire: (m.name, m.plan.conv()) for wire, m in plan.members.items()}
        repeats = {m.name: m.repeats for m in plan.members.values() if m.repeats}
        return _structure_with_flattened(table, repeats) if repeats else _structure(table)

    def _map_entry(self, shape: dict[str, Any]) -> Decode:
        # botocore BaseXMLResponseParser._handle_map: <key>/<value> unless renamed.
        key, value = shape["key"], shape["value"]
        return _map_entry(
            key.get("locationName") or "key",
            self.plan(key["shape"]).decode,
            value.get("locationName") or "value",
            self.plan(value["shape"]).conv() or _string,
        )


# --- streaming ---------------------------------------------------------------------


def prune(element: Element, plan: Plan | None, pending: Pending) -> None:
    """Decode and drop what is finished along the open path ``element`` -> last child -> ...

    While lxml is still building the tree, every child but the last of an
    element is complete (XML is written in order). So the finished items of a
    list are decoded into ``pending`` and removed, as are unknown elements,
    all but the last occurrence of a member, and the children of scalars
    (only the text before the first child counts).
    """
    while plan is not None:
        count = len(element)
        if count == 0:
            return
        last = element[count - 1]
        if plan.kind == LIST and plan.item is not None:
            if count > 1:
                item = plan.item.decode
                done = [item(child, pending) for child in element[: count - 1]]  # type: ignore[index]
                earlier = pending.get(element)
                if earlier is None:
                    pending[element] = done
                else:
                    earlier.extend(done)
                del element[: count - 1]
            plan = plan.item
        elif plan.kind == STRUCT:
            if count > 1:
                _prune_structure(element, plan, pending, last)
            member = plan.member(last.tag)
            plan = IGNORED if member is None else member.plan
        elif plan.kind == SCALAR:
            if count > 1:
                del element[: count - 1]
            plan = IGNORED
        else:  # maps appear only in loaded models; they are left whole
            return
        element = last


def _prune_structure(element: Element, plan: Plan, pending: Pending, last: Element) -> None:
    later: set[str] = set()
    for child in reversed(element[:]):  # type: ignore[index]
        member = plan.member(child.tag)
        if child is not last and (member is None or (not member.repeats and member.name in later)):
            pending.pop(child, None)
            element.remove(child)
        elif member is not None and not member.repeats:
            later.add(member.name)
