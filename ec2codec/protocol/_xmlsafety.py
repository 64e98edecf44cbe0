"""What the response decoder lets through: parse limits, the prolog gate, the lxml parser settings.

EC2 answers with small, DTD-free UTF-8 documents, so everything else is refused
before libxml2 sees it. :func:`scan_prolog` reads the bytes in front of the root
element itself and rejects any ``<!DOCTYPE`` (or other ``<!`` declaration): no
DTD means no entity can be declared, so billion-laughs, quadratic blow-up and
external entities (file or network) are impossible, not merely switched off.
Its answer depends on the first :data:`MAX_HEAD` bytes alone and never changes
once given, so a body parsed whole and the same body fed in any chunks are
judged alike. The only bytes it keeps from libxml2 are a default namespace
declaration whose value is a plain URI that libxml2 is known to accept.
The lxml parsers are still built with ``resolve_entities=False``,
``no_network=True``, ``load_dtd=False`` and ``huge_tree=False`` as a second wall;
the last keeps libxml2's own hard caps (256 levels, 10 MB per text node).

:class:`ParseLimits` adds configurable bounds that the decoder checks with C-speed
XPath over the tree as it grows, skipping a check whenever the bytes seen so far
already prove the document is within the limit (an element needs a ``<``).

lxml is imported on first use, never at ``import ec2codec``.
"""

from __future__ import annotations

import re
import threading
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import ParseError, ValidationError

if TYPE_CHECKING:
    from lxml import etree

__all__ = [
    "DEFAULT_LIMITS",
    "QUOTED_PLAIN_URI",
    "LIBXML2_MAX_DEPTH",
    "MAX_HEAD",
    "ParseLimits",
    "Root",
    "TreeGuard",
    "built_stripped",
    "describe",
    "oneshot_parser",
    "parser_options",
    "scan_prolog",
]

# libxml2 refuses documents nested deeper than this unless XML_PARSE_HUGE is set
# (parserInternals.c, xmlParserMaxDepth); huge_tree=False keeps it in force.
LIBXML2_MAX_DEPTH = 256
# The prolog (XML declaration, comments, processing instructions) plus the root
# start tag must end within this many bytes, whole or streamed; EC2 sends about 100.
MAX_HEAD = 16 * 1024


class ParseLimits:
    """Bounds on one response document; exceeding any raises :class:`ParseError`. Immutable.

    ``max_depth``: element nesting, the root being level 1; the default is libxml2's
    own hard cap of 256, which costs nothing to enforce, while a lower value adds
    one XPath pass over the tree. ``max_elements``: elements in the whole
    document, counted as they are parsed, before any is decoded. ``max_bytes``:
    size of the body (``None`` for no limit). The defaults are far above any real
    EC2 response: the deepest EC2 output shape nests 15 levels, and a 50 MB
    DescribeInstances page has about 1.5 million elements.

    (A plain class rather than a frozen dataclass: importing ``dataclasses``
    would add tens of milliseconds to ``import ec2codec``.)
    """

    __slots__ = ("max_bytes", "max_depth", "max_elements")
    max_depth: int
    max_elements: int
    max_bytes: int | None

    def __init__(
        self, max_depth: int = LIBXML2_MAX_DEPTH, max_elements: int = 20_000_000, max_bytes: int | None = 1 << 30
    ) -> None:
        # A ValidationError (also a ValueError) naming each bad field: only our errors leave the public API.
        problems: list[tuple[str, str]] = []
        if not _is_int(max_depth) or not 1 <= max_depth <= LIBXML2_MAX_DEPTH:
            problems.append(("max_depth", f"must be an int from 1 to {LIBXML2_MAX_DEPTH}, got {max_depth!r}"))
        if not _is_int(max_elements) or max_elements < 1:
            problems.append(("max_elements", f"must be a positive int, got {max_elements!r}"))
        if max_bytes is not None and (not _is_int(max_bytes) or max_bytes < 1):
            problems.append(("max_bytes", f"must be a positive int or None, got {max_bytes!r}"))
        if problems:
            raise ValidationError("ParseLimits", problems)
        object.__setattr__(self, "max_depth", max_depth)
        object.__setattr__(self, "max_elements", max_elements)
        object.__setattr__(self, "max_bytes", max_bytes)

    def _fields(self) -> tuple[int, int, int | None]:
        return (self.max_depth, self.max_elements, self.max_bytes)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"ParseLimits is immutable; build a new one instead of setting {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("ParseLimits is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParseLimits) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"ParseLimits(max_depth={self.max_depth}, max_elements={self.max_elements}, max_bytes={self.max_bytes})"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


DEFAULT_LIMITS = ParseLimits()


class Root(NamedTuple):
    """The root start tag found by :func:`scan_prolog`."""

    local: str  # local name (prefix dropped)
    head: bytes  # the bytes up to the end of the root start tag, default namespace removed
    end: int  # offset in the original bytes where ``head`` stops


_BOM = b"\xef\xbb\xbf"
# Patterns are compiled on first use (by _regex) to keep ``import ec2codec`` cheap.
_SPACE = rb"[ \t\r\n]*"
_NAME_END = rb"[ \t\r\n/>]"
# One attribute (XML 1.0 section 3.1, production [41]) or the end of the start tag.
_ATTRIBUTE = rb"""[ \t\r\n]+([^ \t\r\n=/>]+)[ \t\r\n]*=[ \t\r\n]*("[^"]*"|'[^']*')"""
_TAG_END = rb"[ \t\r\n]*/?>"
# What may still become an attribute or the tag end once more bytes arrive.
_TAG_PREFIX = rb"""[ \t\r\n]*(?:[^ \t\r\n=/>]+[ \t\r\n]*(?:=[ \t\r\n]*(?:"[^"]*|'[^']*)?)?|/)?\Z"""
# A default namespace that may be dropped unseen, quotes included: an optional
# URI scheme, then unreserved characters and slashes (RFC 3986 section 2.3), so
# no reference, no markup, no byte that is not ASCII, nothing libxml2's URI
# check (xmlParseURI: "xmlns: ... is not a valid URI") could refuse, and not one
# of the two names Namespaces in XML 1.0 (section 3) forbids as a default
# namespace. EC2 sends ``http://ec2.amazonaws.com/doc/2016-11-15/``. Any other
# value stays in the document for libxml2 to judge, and the elements keep it.
_PLAIN_URI = rb"(?:[A-Za-z][A-Za-z0-9+.-]*:)?[A-Za-z0-9/._~-]*"
_RESERVED_URI = rb"http://www\.w3\.org/(?:XML/1998/namespace|2000/xmlns/)"
QUOTED_PLAIN_URI = rb"""(?:"(?!%s")%s"|'(?!%s')%s')""" % (_RESERVED_URI, _PLAIN_URI, _RESERVED_URI, _PLAIN_URI)
# What EC2 actually sends, matched in one step: an optional XML declaration and
# a root start tag with at most a plain default namespace declaration.
_PLAIN_HEAD = (
    rb"""(?:\xef\xbb\xbf)?(?:<\?xml[^<>?]*\?>)?[ \t\r\n]*<([A-Za-z_][A-Za-z0-9_.-]*)"""
    rb"""([ \t\r\n]+xmlns[ \t\r\n]*=[ \t\r\n]*""" + QUOTED_PLAIN_URI + rb""")?[ \t\r\n]*>"""
)


@cache
def _regex(pattern: bytes) -> re.Pattern[bytes]:
    return re.compile(pattern)


def _skip_space(data: bytes, pos: int) -> int:
    found = _regex(_SPACE).match(data, pos)
    return found.end() if found else pos


def scan_prolog(data: bytes, pos: int = 0) -> Root | int:
    """Find the root start tag in ``data``, the first bytes of a document.

    Returns the :class:`Root`, or the offset to resume from once more bytes
    have been appended (scanning restarts at the unfinished construct, so a
    prolog that trickles in byte by byte is not rescanned from the start).
    Raises :class:`ParseError` for a DOCTYPE or other markup declaration, for
    text before the root, for a UTF-16 or UTF-32 byte-order mark, and when the
    root start tag does not end within the first :data:`MAX_HEAD` bytes.

    Only ``data[:MAX_HEAD]`` is read, and a :class:`Root` or an error, once
    returned for some bytes, is returned for every longer ``data`` starting
    with them: whether a body comes whole or in pieces, and however often the
    pieces are scanned, the answer is the same.
    """
    if pos == 0:
        plain = _regex(_PLAIN_HEAD).match(data, 0, MAX_HEAD)  # endpos: no copy of a big body
        if plain is not None:
            end = plain.end()
            cut = plain.span(2)
            head = data[:end] if cut[0] < 0 else data[: cut[0]] + data[cut[1] : end]
            return Root(plain.group(1).decode("ascii"), head, end)
    if len(data) > MAX_HEAD:
        data = data[:MAX_HEAD]
    found = _scan(data, pos)
    if isinstance(found, int) and len(data) == MAX_HEAD:
        raise ParseError(f"no root element start tag ends in the first {MAX_HEAD} bytes")
    return found


def _scan(data: bytes, pos: int) -> Root | int:
    if pos == 0:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:4] == b"\x00\x00\xfe\xff":
            raise ParseError("response body is not UTF-8 (it starts with a UTF-16 or UTF-32 byte-order mark)")
        if data.startswith(_BOM):
            pos = len(_BOM)
        elif _BOM.startswith(data[:3]) and len(data) < 3:
            return 0
    size = len(data)
    while True:
        pos = _skip_space(data, pos)
        if size - pos < 2:
            return pos
        if data[pos] != 0x3C:  # "<"
            raise ParseError(f"not an XML document: expected '<' at byte {pos}, found {data[pos : pos + 1]!r}")
        marker = data[pos + 1]
        if marker == 0x3F:  # "<?": the XML declaration or a processing instruction
            close = data.find(b"?>", pos + 2)
            if close < 0:
                return pos
            pos = close + 2
        elif marker == 0x21:  # "<!": a comment, or a declaration we refuse
            if size - pos < 4:
                return pos
            if data[pos : pos + 4] != b"<!--":
                raise ParseError(
                    "DOCTYPE and other markup declarations are not allowed in an EC2 response "
                    f"(found {data[pos : pos + 9]!r} at byte {pos}); refused before anything is expanded"
                )
            close = data.find(b"-->", pos + 4)
            if close < 0:
                return pos
            pos = close + 3
        else:
            found = _root_tag(data, pos)
            return pos if found is None else found


def _root_tag(data: bytes, start: int) -> Root | None:
    found = _regex(_NAME_END).search(data, start + 1)
    if found is None:
        return None
    qname = data[start + 1 : found.start()]
    if not qname:
        raise ParseError(f"malformed root start tag at byte {start}")
    local = qname.rpartition(b":")[2].decode("utf-8", "replace")
    # Drop the root's default namespace declaration when its value is a plain
    # URI (see _PLAIN_URI): every element then has a plain tag, which lxml hands
    # back several times faster than "{uri}name". Namespaces carry no meaning in
    # EC2 responses (botocore strips them too). Any other value is left for
    # libxml2 to check: bytes it never sees are bytes nobody checks.
    pos = found.start()
    cut: tuple[int, int] | None = None
    declared = False
    while True:
        attr = _regex(_ATTRIBUTE).match(data, pos)
        if attr is None:
            break
        if attr.group(1) == b"xmlns":
            if declared:
                raise ParseError("root element declares its default namespace twice")
            declared = True
            if _regex(QUOTED_PLAIN_URI).fullmatch(data, attr.start(2), attr.end()):
                cut = attr.span()
        pos = attr.end()
    tag_end = _regex(_TAG_END).match(data, pos)
    if tag_end is None:
        if _regex(_TAG_PREFIX).match(data, pos):
            return None  # the start tag continues in the next chunk
        # Malformed: hand libxml2 the bytes untouched so it reports the error.
        return Root(local, data[:pos], pos)
    end = tag_end.end()
    head = data[:end] if cut is None else data[: cut[0]] + data[cut[1] : end]
    return Root(local, head, end)


def parser_options() -> dict[str, Any]:
    """Keyword arguments for every lxml parser the decoder builds."""
    return {
        # botocore decodes every body as UTF-8 whatever the XML declaration says.
        "encoding": "utf-8",
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "attribute_defaults": False,
        "huge_tree": False,
        # Comments and processing instructions vanish and the text around them
        # joins, exactly as xml.etree's TreeBuilder does for botocore.
        "remove_comments": True,
        "remove_pis": True,
        "strip_cdata": True,
        "collect_ids": False,
    }


_LOCAL = threading.local()


def oneshot_parser(*, exact: bool) -> etree.XMLParser:
    """This thread's parser for whole documents (lxml parsers must not be shared across threads).

    The inexact one also drops whitespace-only text between elements
    (``remove_blank_text``), which parses about a fifth faster; it is only used
    when that cannot change a decoded value (see ``ec2codec.protocol.xml``).
    """
    name = "exact" if exact else "stripped"
    parser: etree.XMLParser | None = getattr(_LOCAL, name, None)
    if parser is None:
        from lxml import etree

        parser = etree.XMLParser(remove_blank_text=not exact, **parser_options())
        setattr(_LOCAL, name, parser)
    return parser


def built_stripped(element: etree._Element) -> bool:
    """Whether ``element``'s tree came from this thread's inexact (blank-stripping) parser."""
    return element.getroottree().parser is getattr(_LOCAL, "stripped", None)


def describe(exc: Exception, *, at_end: bool, own_log: bool = False) -> str:
    """A ParseError message for an lxml syntax error.

    ``at_end``: raised when the input ran out (a truncated document).
    ``own_log``: the thread's lxml error log was
    cleared when this parse began, so its first entry is the real cause; a
    push parser sometimes reports only a later, misleading symptom.
    """
    msg = str(getattr(exc, "msg", "") or exc)
    if msg.startswith("no element found"):
        # lxml's summary when libxml2 logged an error without stopping (an
        # undefined entity, for one); the log names it.
        at_end = False
    if own_log:
        from lxml import etree

        log = getattr(exc, "error_log", None) or ()
        errors = [entry for entry in log if entry.level >= etree.ErrorLevels.ERROR]
        if errors:
            first = errors[0]
            msg = f"{first.message.strip()}, line {first.line}, column {first.column}"
    if "Excessive depth" in msg:
        return f"document nested deeper than {LIBXML2_MAX_DEPTH} levels (libxml2's hard limit): {msg}"
    if "huge" in msg.lower() or "too long" in msg.lower():
        return f"document exceeds a libxml2 size limit (10 MB per text node): {msg}"
    if "encoding" in msg.lower() or "UTF-8" in msg:
        return f"response body is not valid UTF-8: {msg}"
    if at_end:
        return f"truncated document: {msg}"
    return f"malformed XML: {msg}"


@lru_cache(maxsize=16)
def _deeper_than(depth: int) -> Any:
    from lxml import etree

    # True when some element sits at level depth + 1; libxml2 walks the
    # levels in C, about 50 ns per element.
    return etree.XPath("boolean(" + "/*" * (depth + 1) + ")")


@lru_cache(maxsize=1)
def _count() -> Any:
    from lxml import etree

    return etree.XPath("count(//*)")


class TreeGuard:
    """Enforces :class:`ParseLimits` on a tree that grows as chunks arrive and shrinks as it is pruned.

    An element needs at least one ``<`` byte, and in a finished document each
    level of nesting two (``<a>`` then ``</a>``; only the innermost may be
    ``<a/>``), so while the bytes seen so far hold few ``<`` the XPath checks
    are skipped (in an unfinished one, checked before pruning, a level costs
    only its start tag). Once the
    streaming decoder starts pruning, every check counts, so elements pruned
    between checks are still counted exactly once.
    """

    __slots__ = ("_counted", "_counting", "limits", "markup")

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.markup = 0  # "<" bytes seen so far
        self._counted = 0  # elements counted so far, minus those still in the tree
        self._counting = False

    def take(self, data: bytes, total: int) -> None:
        """Account for ``data`` arriving, ``total`` bytes so far."""
        limit = self.limits.max_bytes
        if limit is not None and total > limit:
            raise ParseError(f"response body larger than {limit} bytes (ParseLimits.max_bytes)")
        # Counting "<" pays off for small pieces, where it usually rules the
        # checks out; for big ones its length is bound enough.
        self.markup += data.count(b"<") if len(data) <= 65536 else len(data)

    def check(self, root: etree._Element, *, pruning: bool = False) -> None:
        """Check the whole current tree; ``pruning``: the caller removes parts of it next."""
        limits = self.limits
        # A finished document at depth d holds 2d - 1 "<" at least; while the
        # streaming decoder prunes, the document is unfinished and the deepest
        # path may still be open (d start tags, no end tags yet).
        levels = self.markup if pruning else (self.markup + 1) // 2
        if limits.max_depth < LIBXML2_MAX_DEPTH and levels > limits.max_depth and _deeper_than(limits.max_depth)(root):
            raise ParseError(f"document nested deeper than {limits.max_depth} levels (ParseLimits.max_depth)")
        if pruning or self._counting or self.markup > limits.max_elements:
            total = self._counted + int(_count()(root))
            if total > limits.max_elements:
                raise ParseError(f"document has more than {limits.max_elements} elements (ParseLimits.max_elements)")
            self._counted = total

    def pruned(self, root: etree._Element) -> None:
        """Note what survived a prune, so the next :meth:`check` does not count it again."""
        self._counting = True
        self._counted -= int(_count()(root))
