"""The fast path of the response decoder: the strict XML subset EC2 emits, decoded without building a tree.

EC2 writes every success document the same way: an XML declaration (version
1.0, UTF-8), one root ``<{Operation}Response>`` with at most one ``xmlns``,
then start, end and empty tags without attributes, and text that uses only
the five predefined entities and character references. For such a document a
tree is wasted work: this module screens the bytes, splits the text on the
tag delimiters once, and walks the resulting ``[text, tag, text, tag, ...]``
list with the per-shape decoders of :mod:`._xmlfastcompile`.

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
alternate, so ``replace(b">", b"<")`` and one ``split("<")`` tokenise exactly.
"""

from __future__ import annotations

import re
from typing import Any

from ..model.service import ServiceModel
from ._xmlfastcompile import Decode, Fallback, Tokens, compile_root
from ._xmlsafety import QUOTED_PLAIN_URI, ParseLimits

__all__ = ["Fallback", "FastDecoder", "fast_decoder"]

_KEEP = frozenset(b"<>!?\r") | frozenset(range(0x09)) | {0x0B, 0x0C} | frozenset(range(0x0E, 0x20))
_DELETE = bytes(b for b in range(256) if b not in _KEEP)
# U+FFFE and U+FFFF are valid UTF-8 but not XML characters (XML 1.0 section 2.2).
_NON_CHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")
_HEAD = re.compile(
    rb'(?:<\?xml version=(["\'])1\.0\1(?: encoding=(["\'])(?:UTF-8|utf-8)\2)?(?: standalone=(["\'])(?:yes|no)\3)?'
    rb"[ \t\n]*\?>)?[ \t\n]*<([A-Za-z_][A-Za-z0-9_.-]*)(?:[ \t\n]+xmlns=" + QUOTED_PLAIN_URI + rb")?[ \t\n]*>"
)
# Every "&": a well-formed reference, or (the last alternative) a bare one.
_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));|&")
_PREDEFINED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_WHITESPACE = " \t\n"
# Bytes an operation decodes with the table-driven decoders, per structure decoder, before the generated
# ones are compiled (the break-even point measured on ImportSnapshot and DescribeImportSnapshotTasks).
_BYTES_PER_STRUCTURE = 256 << 10


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


class FastDecoder:
    """The fast decoder of one operation's success documents."""

    def __init__(self, model: ServiceModel, operation: str, limits: ParseLimits, *, tier: int | None = None) -> None:
        """``tier`` pins the decoders for tests: 1 the table-driven ones only, 2 the generated ones at once."""
        root_name = f"{operation}Response"
        self._root_bytes = root_name.encode()
        self._root_end = "/" + root_name
        self._head: tuple[bytes | None, int] = (None, 0)  # the last head the regex accepted, its screen offset
        self._model, self._operation, self._depth = model, operation, limits.max_depth
        # First the table-driven decoders, cheap to build; the generated ones (about twice as fast to walk,
        # about 0.25 ms each to compile) once this operation has decoded enough bytes to repay compiling them,
        # at about a microsecond saved per KiB. A process that parses a few responses never pays for them.
        self._root, structures = compile_root(model, operation, limits.max_depth, generate=tier == 2)
        self._until_generated = structures * _BYTES_PER_STRUCTURE if tier is None else 0

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
        # Both delimiters as "<", so one split tokenises; replacing in the bytes (ASCII, so the UTF-8 stays
        # valid) spares a second copy of the text: about 15% of a large document's time.
        try:
            marked = data.replace(b">", b"<").decode("utf-8")
        except UnicodeDecodeError:
            raise Fallback from None
        tokens = marked.split("<")
        if "&" in marked:
            _resolve_references(marked, tokens)
        root = 3 if start else 1  # the root start tag's token: after the declaration and the text after it
        decode = self._root
        if self._until_generated > 0:  # a lost update between threads only shifts the moment a little
            self._until_generated -= len(data)
            if self._until_generated <= 0:
                try:
                    decode = self._generated()
                except (Fallback, RecursionError):
                    # The generated tier is an optimisation: the table-driven decoders stay on, for good.
                    self._until_generated = 0
        result: dict[str, Any]
        try:
            result, at = decode(tokens, root, 1, self._root_end)
        except (IndexError, RecursionError, ValueError):
            # The document ends early, or a number or blob does not convert: let lxml say what is wrong.
            raise Fallback from None
        if at != len(tokens) or tokens[-1].strip(_WHITESPACE):
            raise Fallback  # content after the root element
        result.setdefault("ResponseMetadata", {})
        return result

    def _generated(self) -> Decode:
        key = ("xmlfast-generated", self._operation, self._depth)
        found: Decode | None = self._model.cache.get(key)
        if found is None:
            found = self._model.compile_once(
                key, "xmlfast-compiler", _generate, self._model, self._operation, self._depth
            )
        self._root = found  # complete when published: a thread still holding the old decoder is fine too
        return found


def _generate(model: ServiceModel, operation: str, depth: int) -> Decode:
    return compile_root(model, operation, depth, generate=True)[0]


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
