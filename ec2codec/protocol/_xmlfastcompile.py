"""The fast path's per-shape decoders: compiled from the model, they walk the token list of a document.

A document's tokens are ``[text, tag, text, tag, ..., text]`` (see
:mod:`._xmlfast`). A decoder gets the index of its element's start tag, the
element's depth and the end tag that closes it (its caller knows that one, so
no string is built per element) and returns ``(value, index of the next tag
after the end tag)``, or raises :class:`Fallback` whenever the lxml path might
decide differently: a mismatched end tag, a scalar with children, a value
that does not convert, an element past the depth limit, a malformed name.

A structure's decoder is generated source, compiled once per shape: one
``if tag == <member>`` step per member in model order, which is the order
EC2 writes them in, so a typical element costs one string comparison, where
a table look-up costs a hash and two probes. Anything else (another order, a
repeated or unknown element, an empty scalar) continues in :func:`_rest`'s
table-driven loop from where the generated steps stopped, with the same
result. Names enter the generated source only as ``repr`` literals.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable
from typing import Any

from ..model.service import ServiceModel
from ._time import parse_timestamp
from ._xmlplan import MAX_TIMESTAMP

__all__ = ["Decode", "Fallback", "Tokens", "compile_root"]


class Fallback(Exception):
    """The body is outside the fast path's subset: decode it with lxml instead."""


Tokens = list[str]
Decode = Callable[[Tokens, int, int, str], tuple[Any, int]]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")


# --- scalars: text -> value; Fallback (or ValueError, which the caller maps to it) where lxml's path refuses


def _boolean(text: str) -> bool:
    if text == "true":
        return True
    if text == "false":
        return False
    raise Fallback


def _timestamp(text: str) -> Any:
    if len(text) <= MAX_TIMESTAMP:  # the lxml path's cap, so both refuse the same texts
        try:
            return parse_timestamp(text)
        except (ValueError, OverflowError, TypeError):
            pass
    raise Fallback


# int, float and a2b_base64 (binascii.Error is one) raise ValueError on a bad text, which the fast decoder
# turns into Fallback: calling the builtins directly spares a Python frame per number.
_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "integer": int,
    "long": int,
    "short": int,
    "byte": int,
    "float": float,
    "double": float,
    "boolean": _boolean,
    "timestamp": _timestamp,
    "blob": binascii.a2b_base64,
}
# What an empty element (<x/> or <x></x>) decodes to, as the lxml path decodes it.
_EMPTY_SCALARS: dict[str, Callable[[], Any]] = {"string": str, "character": str, "blob": bytes}

# Entry kinds in a structure's tag table.
_TEXT, _SCALAR, _NESTED, _EMPTY, _REFUSE = range(5)
Entry = tuple[Any, ...]


def _skip(tokens: Tokens, at: int, depth: int, limit: int) -> int:
    """Step over an element the shape does not know, checking its markup as libxml2 would."""
    tag = tokens[at]
    if depth > limit:
        raise Fallback
    if tag[-1:] == "/":
        if not _NAME.match(tag[:-1]):
            raise Fallback
        return at + 2
    if not _NAME.match(tag):
        raise Fallback  # an end tag that does not match, attributes, a prefix, a bad name
    open_tags = [tag]
    at += 2
    while open_tags:
        tag = tokens[at]
        if tag[:1] == "/":
            if tag[1:] != open_tags[-1]:
                raise Fallback
            open_tags.pop()
        elif tag[-1:] == "/":
            if not _NAME.match(tag[:-1]) or depth + len(open_tags) > limit:
                raise Fallback
        else:
            if not _NAME.match(tag) or depth + len(open_tags) > limit:
                raise Fallback
            open_tags.append(tag)
        at += 2
    return at


def _rest(table: dict[str, Entry], limit: int) -> Callable[..., tuple[dict[str, Any], int]]:
    """The table-driven loop that finishes a structure from any child tag on (see the module docstring)."""
    leaves = {wire: (entry[0], entry[2]) for wire, entry in table.items() if entry[1] == _TEXT}
    get = table.get

    def rest(tokens: Tokens, at: int, depth: int, end: str, out: dict[str, Any]) -> tuple[dict[str, Any], int]:
        while True:
            tag = tokens[at]
            if tag in leaves:
                name, close = leaves[tag]
                if tokens[at + 2] != close:
                    raise Fallback  # child elements in a scalar, or a mismatched end tag
                out[name] = tokens[at + 1]
                at += 4
                continue
            if tag == end:
                return out, at + 2
            entry = get(tag)
            if entry is None:
                at = _skip(tokens, at, depth + 1, limit)
                continue
            how = entry[1]
            if how == _NESTED:
                out[entry[0]], at = entry[2](tokens, at, depth + 1, entry[3])
            elif how == _SCALAR:
                if tokens[at + 2] != entry[2]:
                    raise Fallback
                out[entry[0]] = entry[3](tokens[at + 1])
                at += 4
            elif how == _EMPTY:
                out[entry[0]] = entry[2]()
                at += 2
            else:
                raise Fallback

    return rest


def _steps(index: int, wire: str, entry: Entry, empty: Entry | None, names: dict[str, Any]) -> list[str]:
    """The generated lines that take member ``wire`` if it is the current tag (``names`` gets what they use)."""
    name, how = repr(entry[0]), entry[1]
    if how in (_TEXT, _SCALAR):
        value = "tokens[at + 1]"
        if how == _SCALAR:
            names[f"convert{index}"] = entry[3]
            value = f"convert{index}({value})"
        lines = [
            f"    if tag == {wire!r}:",
            f"        if tokens[at + 2] != {entry[2]!r}:",
            "            raise Fallback",
            f"        out[{name}] = {value}",
            "        at += 4",
            "        tag = tokens[at]",
        ]
    elif how == _NESTED:
        names[f"decode{index}"] = entry[2]
        lines = [
            f"    if tag == {wire!r}:",
            f"        out[{name}], at = decode{index}(tokens, at, depth + 1, {entry[3]!r})",
            "        tag = tokens[at]",
        ]
    else:
        return []
    if empty is not None and empty[1] == _EMPTY:  # <member/>: what EC2 writes for an empty string
        names[f"empty{index}"] = empty[2]
        lines += [f"    elif tag == {wire + '/'!r}:", f"        out[{name}] = empty{index}()", "        at += 2"]
        lines += ["        tag = tokens[at]"]
    return lines


class _Compiler:
    """Turns shapes into decoders; memoised per shape, under the model's compile lock."""

    def __init__(self, model: ServiceModel, limit: int, generate: bool) -> None:
        self.model = model
        self.limit = limit
        self.generate = generate  # generated structure decoders, or the table-driven loop alone
        self.structures = 0  # structure decoders compiled: what generating them all would cost
        self.memo: dict[str, Decode] = {}

    def decoder(self, shape_name: str) -> Decode:
        found = self.memo.get(shape_name)
        if found is not None:
            return found
        shape = self.model.shape(shape_name)
        kind = shape.get("type")
        if kind == "structure":
            slot: list[Decode] = []

            def forward(tokens: Tokens, at: int, depth: int, end: str) -> tuple[Any, int]:  # recursive shapes
                return slot[0](tokens, at, depth, end)

            self.memo[shape_name] = forward
            decode = self.structure(shape.get("members", {}))
            slot.append(decode)
            self.memo[shape_name] = decode
            return decode
        if kind == "list":
            if shape.get("flattened"):
                raise Fallback
            decode = self.list(shape["member"]["shape"])
            self.memo[shape_name] = decode
            return decode
        raise Fallback  # maps appear only in loaded models: the lxml path decodes them

    def entry(self, name: str, shape_name: str, wire: str) -> tuple[Entry, Entry]:
        """(entry for ``<wire>``, entry for ``<wire/>``) of a member."""
        shape = self.model.shape(shape_name)
        kind = str(shape.get("type"))
        close = "/" + wire
        if kind in ("string", "character"):
            return (name, _TEXT, close), (name, _EMPTY, str)
        if kind in _CONVERTERS:
            empty = _EMPTY_SCALARS.get(kind)
            return (name, _SCALAR, close, _CONVERTERS[kind]), (name, _EMPTY, empty) if empty else (name, _REFUSE)
        if kind in ("structure", "list"):
            empty_value = dict if kind == "structure" else list
            return (name, _NESTED, self.decoder(shape_name), close), (name, _EMPTY, empty_value)
        raise Fallback

    def structure(self, members: dict[str, Any], extra: dict[str, Entry] | None = None) -> Decode:
        table: dict[str, Entry] = {}
        order: list[str] = [wire for wire in extra or {} if not wire.endswith("/")]
        for name, ref in members.items():
            target = self.model.shape(ref["shape"])
            if ref.get("flattened") or target.get("flattened"):
                raise Fallback  # the Smithy flattened rules stay with the lxml path
            wire = ref.get("locationName") or name
            table[wire], table[wire + "/"] = self.entry(name, ref["shape"], wire)
            order.append(wire)
        for wire, entry in (extra or {}).items():
            table.setdefault(wire, entry)  # the output's own member of that name wins, as in the lxml path
        rest = _rest(table, self.limit)
        self.structures += 1
        if not self.generate:
            limit = self.limit

            def first_tier(tokens: Tokens, at: int, depth: int, end: str) -> tuple[dict[str, Any], int]:
                at += 2
                if depth >= limit and tokens[at] != end:
                    raise Fallback  # a child would be nested deeper than the limit
                return rest(tokens, at, depth, end, {})

            return first_tier
        names: dict[str, Any] = {"Fallback": Fallback, "limit": self.limit, "rest": rest}
        lines = [
            "def decode(tokens, at, depth, end):",
            "    at += 2",
            "    tag = tokens[at]",
            "    if depth >= limit and tag != end:",
            "        raise Fallback  # a child would be nested deeper than the limit",
            "    out = {}",
        ]
        for index, wire in enumerate(dict.fromkeys(order)):
            lines += _steps(index, wire, table[wire], table.get(wire + "/"), names)
        lines += ["    if tag == end:", "        return out, at + 2", "    return rest(tokens, at, depth, end, out)"]
        exec("\n".join(lines), names)  # our own source: model names enter it only as repr literals
        decode: Decode = names["decode"]
        return decode

    def list(self, item_shape: str) -> Decode:
        shape = self.model.shape(item_shape)
        kind = str(shape.get("type"))
        limit = self.limit
        if kind in ("string", "character") or kind in _CONVERTERS:
            convert = _CONVERTERS.get(kind)
            empty = _EMPTY_SCALARS.get(kind)

            def scalars(tokens: Tokens, at: int, depth: int, end: str) -> tuple[list[Any], int]:
                at += 2
                if depth >= limit and tokens[at] != end:
                    raise Fallback
                out: list[Any] = []
                while True:
                    tag = tokens[at]
                    if tag[:1] == "/":
                        if tag == end:
                            return out, at + 2
                        raise Fallback
                    if tag[-1:] == "/":
                        if empty is None or not _NAME.match(tag[:-1]):
                            raise Fallback
                        out.append(empty())
                        at += 2
                        continue
                    if tokens[at + 2] != "/" + tag or not _NAME.match(tag):
                        raise Fallback
                    text = tokens[at + 1]
                    out.append(text if convert is None else convert(text))
                    at += 4

            return scalars
        if kind not in ("structure", "list"):
            raise Fallback
        item = self.decoder(item_shape)
        empty_item = dict if kind == "structure" else list

        def nested(tokens: Tokens, at: int, depth: int, end: str) -> tuple[list[Any], int]:
            at += 2
            if depth >= limit and tokens[at] != end:
                raise Fallback
            out: list[Any] = []
            append = out.append
            while True:
                tag = tokens[at]
                if tag == "item" and depth < limit:  # what EC2 writes: checked first
                    value, at = item(tokens, at, depth + 1, "/item")
                    append(value)
                    continue
                if tag == end:
                    return out, at + 2
                if tag[:1] == "/":
                    raise Fallback
                if tag[-1:] == "/":
                    if not _NAME.match(tag[:-1]):
                        raise Fallback
                    append(empty_item())
                    at += 2
                    continue
                if depth >= limit or not _NAME.match(tag):
                    raise Fallback
                value, at = item(tokens, at, depth + 1, "/" + tag)
                append(value)

        return nested


def _request_id(tokens: Tokens, at: int, depth: int, end: str) -> tuple[dict[str, Any], int]:
    if tokens[at + 2] != "/requestId":
        raise Fallback
    # lxml reports an element without text as None, which the lxml path passes on.
    return {"RequestId": tokens[at + 1] or None}, at + 4


def compile_root(model: ServiceModel, operation: str, limit: int, *, generate: bool) -> tuple[Decode, int]:
    """The decoder of ``operation``'s root element and its number of structure decoders (Fallback if a shape
    is outside the fast path). ``generate`` chooses the generated decoders (see the module docstring), which
    cost about 0.25 ms of compiling each, over the table-driven loop alone."""
    output = model.operation(operation).output
    members = model.shape(output).get("members", {}) if output else {}
    # EC2QueryParser._inject_response_metadata: <requestId> becomes ResponseMetadata.RequestId.
    request_id = {
        "requestId": ("ResponseMetadata", _NESTED, _request_id, "/requestId"),
        "requestId/": ("ResponseMetadata", _EMPTY, lambda: {"RequestId": None}),
    }
    compiler = _Compiler(model, limit, generate)
    return compiler.structure(members, request_id), compiler.structures
