"""The fast path of the response decoder: the strict XML subset EC2 emits, decoded without building a tree.

EC2 writes every success document the same way: an XML declaration (version
1.0, UTF-8), one root ``<{Operation}Response>`` with at most one ``xmlns``,
then start, end and empty tags without attributes, and text that uses only
the five predefined entities and character references. For such a document a
tree is wasted work: this module screens the bytes, splits the text on the
tag delimiters once, and walks the resulting ``[text, tag, text, tag, ...]``
list with per-shape decoders compiled from the model.

Anything outside that subset, or anything the fast path is not sure of, is
:class:`Fallback`: the caller hands the *unchanged* body to the lxml decoder,
which gives the result or the precise :class:`~ec2codec.ParseError`. So the
fast path never raises a ParseError of its own and never accepts what the
lxml path refuses: DOCTYPE, comments, processing instructions and CDATA
(screened out by ``<!``/``?``), namespace prefixes and attributes (tags that
are not plain names), carriage returns (XML 1.0 section 2.11 line-end
normalisation), illegal characters (section 2.2), unknown or malformed
entity references (section 4.1), mismatched tags, a scalar with child
elements, an unconvertible value, error documents and anything past a parse
limit all fall back.

Screening costs one ``bytes.translate`` (deleting every byte but ``<``, ``>``,
``!``, ``?``, ``\\r`` and the forbidden C0 controls) and a count: the
survivors must be ``<>`` pairs, which proves angle brackets strictly
alternate, so ``replace(">", "<").split("<")`` tokenises exactly.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable
from typing import Any

from ..model.service import ServiceModel
from ._time import parse_timestamp
from ._xmlplan import MAX_TIMESTAMP
from ._xmlsafety import QUOTED_PLAIN_URI, ParseLimits

__all__ = ["Fallback", "FastDecoder", "fast_decoder"]


class Fallback(Exception):
    """The body is outside the fast path's subset: decode it with lxml instead."""


# Tokens: [text, tag, text, tag, ..., text], references already resolved; a decoder gets the index of its
# element's start tag, the element's depth and the end tag that closes it (callers know it: no string is
# built per element), and returns (value, index of the next tag after its end tag).
Tokens = list[str]
Decode = Callable[[Tokens, int, int, str], tuple[Any, int]]

_KEEP = frozenset(b"<>!?\r") | frozenset(range(0x09)) | {0x0B, 0x0C} | frozenset(range(0x0E, 0x20))
_DELETE = bytes(b for b in range(256) if b not in _KEEP)
# U+FFFE and U+FFFF are valid UTF-8 but not XML characters (XML 1.0 section 2.2).
_NON_CHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")
_HEAD = re.compile(
    rb'(?:<\?xml version=(["\'])1\.0\1(?: encoding=(["\'])(?:UTF-8|utf-8)\2)?(?: standalone=(["\'])(?:yes|no)\3)?'
    rb"[ \t\n]*\?>)?[ \t\n]*<([A-Za-z_][A-Za-z0-9_.-]*)(?:[ \t\n]+xmlns=" + QUOTED_PLAIN_URI + rb")?[ \t\n]*>"
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
# Every "&": a well-formed reference, or (the last alternative) a bare one.
_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));|&")
_PREDEFINED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_WHITESPACE = " \t\n"


def _legal(code: int) -> bool:
    # XML 1.0 section 2.2, Char: what a character reference may name.
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def _replace(match: re.Match[str]) -> str:
    name, decimal, hexadecimal = match.groups()
    if name is not None:
        return _PREDEFINED[name]
    if decimal is None and hexadecimal is None:
        raise Fallback  # a bare "&"
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if not _legal(code):
        raise Fallback
    return chr(code)


def _resolve_references(marked: str, tokens: Tokens) -> None:
    """Replace every entity and character reference in ``tokens`` (XML 1.0 sections 4.1 and 4.6), in place.

    ``marked`` is the text the tokens were split from (both delimiters as
    ``<``), so the number of ``<`` before an ``&`` is the index of its token.
    Resolving after the split means a reference that stands for ``<`` needs
    no care. Fallback for an ``&`` in a tag (no name may hold one), a
    malformed or unknown reference (an ``&`` that starts none), or a
    reference to a character XML forbids.
    """
    at = marked.find("&")
    index = counted = 0
    while at >= 0:
        index += marked.count("<", counted, at)
        if index % 2:
            raise Fallback
        token = tokens[index]
        # "&amp;" alone is the common case: two counts and a replace beat a regex pass with a callback.
        if token.count("&") == token.count("&amp;"):
            tokens[index] = token.replace("&amp;", "&")
        else:
            tokens[index] = _ENTITY.sub(_replace, token)
        counted = marked.find("<", at)
        if counted < 0:
            return
        at = marked.find("&", counted)


# --- scalars: text -> value, Fallback when the lxml path would raise --------------


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


# int, float and a2b_base64 (binascii.Error is one) raise ValueError on a bad text, which decode() turns into
# Fallback: calling the builtins directly spares a Python frame per number.
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
_TEXT, _SCALAR, _NESTED, _FLAT, _EMPTY, _REFUSE = range(6)


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


class _Compiler:
    """Turns shapes into decoders; memoised per shape, under the model's compile lock."""

    def __init__(self, model: ServiceModel, limit: int) -> None:
        self.model = model
        self.limit = limit
        self.memo: dict[str, Decode] = {}

    def decoder(self, shape_name: str) -> Decode:
        found = self.memo.get(shape_name)
        if found is not None:
            return found
        shape = self.model.shape(shape_name)
        kind = shape.get("type")
        if kind == "structure":
            members = shape.get("members", {})
            slot: list[Decode] = []

            def forward(tokens: Tokens, at: int, depth: int, end: str) -> tuple[Any, int]:  # recursive shapes
                return slot[0](tokens, at, depth, end)

            self.memo[shape_name] = forward
            decode = self.structure(members)
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

    def entry(self, name: str, shape_name: str, wire: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
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
            decode = self.decoder(shape_name)
            flat = self.flat(shape)
            if flat is not None:
                return (name, _FLAT, decode, close, flat), (name, _EMPTY, empty_value)
            return (name, _NESTED, decode, close), (name, _EMPTY, empty_value)
        raise Fallback

    def flat(self, shape: dict[str, Any]) -> dict[str, tuple[str, str]] | None:
        """``{wire name: (member name, end tag)}`` of a structure whose members are all plain strings, else None.

        Such structures (a Tag, a UserBucket) are decoded inline by their
        parent, sparing a call per element: see :func:`_flat_record`.
        """
        if shape.get("type") != "structure":
            return None
        table = {}
        for name, ref in shape.get("members", {}).items():
            target = self.model.shape(ref["shape"])
            if target.get("type") not in ("string", "character") or ref.get("flattened"):
                return None
            wire = ref.get("locationName") or name
            table[wire] = (name, "/" + wire)
        return table or None

    def structure(self, members: dict[str, Any], extra: dict[str, tuple[Any, ...]] | None = None) -> Decode:
        table: dict[str, tuple[Any, ...]] = {}
        for name, ref in members.items():
            target = self.model.shape(ref["shape"])
            if ref.get("flattened") or target.get("flattened"):
                raise Fallback  # the Smithy flattened rules stay with the lxml path
            wire = ref.get("locationName") or name
            table[wire], table[wire + "/"] = self.entry(name, ref["shape"], wire)
        for wire, entry in (extra or {}).items():
            table.setdefault(wire, entry)  # the output's own member of that name wins, as in the lxml path
        # Plain strings, the common case, get their own table and the first look-up.
        leaves = {wire: (entry[0], entry[2]) for wire, entry in table.items() if entry[1] == _TEXT}
        get = table.get
        limit = self.limit

        def decode(tokens: Tokens, at: int, depth: int, end: str) -> tuple[dict[str, Any], int]:
            at += 2
            if depth >= limit and tokens[at] != end:
                raise Fallback  # a child would be nested deeper than the limit
            out: dict[str, Any] = {}
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
                if how == _FLAT and depth + 1 < limit:
                    out[entry[0]], at = _flat_record(tokens, at, depth + 1, entry)
                elif how in (_NESTED, _FLAT):
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
        flat = self.flat(shape)
        # What _flat_record reads of an entry: the item's decoder (index 2), end tag (3) and members (4).
        flat_item = ("", _FLAT, item, "/item", flat)

        def nested(tokens: Tokens, at: int, depth: int, end: str) -> tuple[list[Any], int]:
            at += 2
            if depth >= limit and tokens[at] != end:
                raise Fallback
            out: list[Any] = []
            append = out.append
            while True:
                tag = tokens[at]
                if tag == "item" and depth < limit:  # what EC2 writes: checked first
                    if flat is not None and depth + 1 < limit:
                        value, at = _flat_record(tokens, at, depth + 1, flat_item)
                    else:
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


def _flat_record(tokens: Tokens, at: int, depth: int, entry: tuple[Any, ...]) -> tuple[dict[str, Any], int]:
    """A structure of plain strings at ``tokens[at]``: its members read in one loop, with no depth bookkeeping
    (its children are leaves, one level down, which the caller allowed). Anything but those members and the
    end tag is left to the structure's own decoder, from the start."""
    members, end = entry[4], entry[3]
    start, record = at, {}
    at += 2
    while True:
        tag = tokens[at]
        if tag in members:
            name, close = members[tag]
            if tokens[at + 2] != close:
                raise Fallback
            record[name] = tokens[at + 1]
            at += 4
        elif tag == end:
            return record, at + 2
        else:
            decode: Decode = entry[2]
            return decode(tokens, start, depth, end)


def _request_id_entries() -> dict[str, tuple[Any, ...]]:
    # EC2QueryParser._inject_response_metadata: <requestId> becomes ResponseMetadata.RequestId.
    return {
        "requestId": ("ResponseMetadata", _NESTED, _request_id, "/requestId"),
        "requestId/": ("ResponseMetadata", _EMPTY, lambda: {"RequestId": None}),
    }


def _request_id(tokens: Tokens, at: int, depth: int, end: str) -> tuple[dict[str, Any], int]:
    if tokens[at + 2] != "/requestId":
        raise Fallback
    # lxml reports an element without text as None, which the lxml path passes on.
    return {"RequestId": tokens[at + 1] or None}, at + 4


class FastDecoder:
    """The fast decoder of one operation's success documents."""

    def __init__(self, model: ServiceModel, operation: str, limits: ParseLimits) -> None:
        self.root_name = f"{operation}Response"
        self._root_bytes = self.root_name.encode()
        self._root_end = "/" + self.root_name
        self.max_depth = limits.max_depth
        self._head: tuple[bytes | None, int] = (None, 0)  # the last head the regex accepted, its screen offset
        output = model.operation(operation).output
        members = model.shape(output).get("members", {}) if output else {}
        compiler = _Compiler(model, limits.max_depth)
        self._root = compiler.structure(members, _request_id_entries())

    def starts(self, data: bytes) -> bool:
        """Whether ``data`` begins with the declaration and root start tag the fast path takes."""
        head = _HEAD.match(data)
        return head is not None and head.group(4) == self._root_bytes

    def decode(self, data: bytes, limits: ParseLimits) -> dict[str, Any]:
        """The result for ``data``, or :class:`Fallback` (nothing is decided about the body then)."""
        known, start = self._head
        if known is None or not data.startswith(known):
            head = _HEAD.match(data)
            if head is None or head.group(4) != self._root_bytes:
                raise Fallback  # another prolog, an error document, another root: the lxml path judges
            # The head keeps "<??><>" (with a declaration) or "<>" through the screen.
            start = 4 if head.group(1) is not None else 0
            # The same service sends the same head every time: the next document is checked by one startswith.
            self._head = (head.group(), start)
        if limits.max_bytes is not None and len(data) > limits.max_bytes:
            raise Fallback
        # The whole document is screened and decoded (a body slice would be one more copy of it).
        screened = data.translate(None, _DELETE)
        pairs = screened.count(b"<>", start)
        if 2 * pairs != len(screened) - start or pairs > limits.max_elements:
            raise Fallback
        # One-byte search first: memchr-fast, where a two-byte "in" is not.
        if b"\xef" in data and (_NON_CHARACTERS[0] in data or _NON_CHARACTERS[1] in data):
            raise Fallback
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Fallback from None
        marked = text.replace(">", "<")
        tokens = marked.split("<")
        if "&" in text:
            _resolve_references(marked, tokens)
        root = 3 if start else 1  # the root start tag's token: after the declaration and the text after it
        result: dict[str, Any]
        try:
            result, at = self._root(tokens, root, 1, self._root_end)
        except (IndexError, RecursionError, ValueError):
            # The document ends early, or a number or blob does not convert: let lxml say what is wrong.
            raise Fallback from None
        if at != len(tokens) or tokens[-1].strip(_WHITESPACE):
            raise Fallback  # content after the root element
        result.setdefault("ResponseMetadata", {})
        return result


def _new_fast_decoder(model: ServiceModel, operation: str, limits: ParseLimits) -> FastDecoder | bool:
    if model.protocol not in ("ec2", ""):
        return False  # awsQuery wraps results in <{Operation}Result>: the lxml path's root plan knows it
    try:
        return FastDecoder(model, operation, limits)
    except (Fallback, RecursionError):
        return False  # a shape outside the fast path (a map, a flattened member): always lxml


def fast_decoder(model: ServiceModel, operation: str, limits: ParseLimits) -> FastDecoder | None:
    """The cached fast decoder of ``operation``, or None when its shapes are outside the fast path.

    Compiled whole under the model's compile lock and published only then
    (``ServiceModel.compile_once``), so no thread ever sees a half-built decoder.
    """
    key = ("xmlfast", operation, limits.max_depth)
    found = model.cache.get(key)
    if found is None:
        # Each decoder compiles with a compiler of its own, so there is no shared one to drop.
        found = model.compile_once(key, "xmlfast-compiler", _new_fast_decoder, model, operation, limits)
    return found if isinstance(found, FastDecoder) else None
