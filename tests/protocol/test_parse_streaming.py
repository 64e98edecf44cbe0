"""Streaming: the same document decodes the same however it is split, and memory follows the result.

Bodies are fed whole, split at arbitrary points (down to one byte), as file
objects that return short reads, as iterables of bytes, memoryviews or str;
the result never changes. A multi-megabyte DescribeInstances fed in 64 KiB
chunks keeps only a sliver of its elements in lxml's tree at any time: the
pruner decodes finished list items and drops them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ec2codec
from ec2codec.protocol._xmlsafety import MAX_HEAD, parser_options
from tests.goldens import FIXTURES
from tests.parse_support import NAMESPACE, botocore_parse, comparable, describe_instances

GOLDENS = {path.name: path.read_bytes() for path in sorted((FIXTURES / "responses").glob("*.xml"))}
SUCCESS = {key: body for key, body in GOLDENS.items() if b"<Errors>" not in body}
INSTANCES = describe_instances(2, 3)


def _operation(name: str) -> str:
    return name.partition(".")[0]


def _decode(operation: str, body: Any) -> Any:
    try:
        return comparable(ec2codec.parse(operation, body))
    except ec2codec.ServiceError as exc:
        return ("ServiceError", exc.code, exc.message, exc.request_id)


@given(key=st.sampled_from(sorted(GOLDENS)), cuts=st.lists(st.integers(0, 1 << 16), max_size=12))
def test_any_split_gives_the_same_result(key: str, cuts: list[int]) -> None:
    operation, body = _operation(key), GOLDENS[key]
    points = sorted({c % (len(body) + 1) for c in cuts})
    pieces = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    assert _decode(operation, pieces) == _decode(operation, body)


@given(cuts=st.lists(st.integers(0, len(INSTANCES)), max_size=20))
def test_any_split_of_describe_instances(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    pieces = [INSTANCES[a:b] for a, b in zip([0, *points], [*points, len(INSTANCES)], strict=True)]
    assert _decode("DescribeInstances", pieces) == comparable(botocore_parse("DescribeInstances", INSTANCES))


@pytest.mark.parametrize("key", sorted(GOLDENS))
def test_one_byte_chunks_through_the_parser_object(key: str) -> None:
    operation, body = _operation(key), GOLDENS[key]
    parser = ec2codec.ResponseParser(operation)
    for i in range(len(body)):
        parser.feed(body[i : i + 1])
    try:
        result: Any = comparable(parser.close())
    except ec2codec.ServiceError as exc:
        result = ("ServiceError", exc.code, exc.message, exc.request_id)
    assert result == _decode(operation, body)


class _ShortReads(io.RawIOBase):
    """A raw binary file that hands out at most ``step`` bytes per read, like a socket."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data, self._at, self._step = data, 0, step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data[self._at : self._at + min(self._step, len(buffer))]
        buffer[: len(chunk)] = chunk
        self._at += len(chunk)
        return len(chunk)


@pytest.mark.parametrize("key", sorted(SUCCESS))
def test_input_forms(key: str, tmp_path: Path) -> None:
    operation, body = _operation(key), SUCCESS[key]
    expected = _decode(operation, body)
    path = tmp_path / "body.xml"
    path.write_bytes(body)
    forms: list[Any] = [
        bytearray(body),
        memoryview(body),
        body.decode("utf-8"),
        io.BytesIO(body),
        _ShortReads(body, 7),
        iter([body[:10], body[10:]]),
        (memoryview(body)[i : i + 100] for i in range(0, len(body), 100)),
        [body.decode("utf-8")[:50], body.decode("utf-8")[50:]],
        io.StringIO(body.decode("utf-8")),
    ]
    for form in forms:
        assert _decode(operation, form) == expected, type(form)
    with path.open("rb") as binary:
        assert _decode(operation, binary) == expected
    with path.open("rb", buffering=0) as raw:
        assert _decode(operation, raw) == expected


def test_bodies_over_a_megabyte_stream_internally() -> None:
    body = describe_instances(10, 45)
    assert len(body) > 1 << 20
    assert _decode("DescribeInstances", body) == comparable(botocore_parse("DescribeInstances", body))


def test_memory_follows_the_result_not_the_document() -> None:
    # One reservation holding every instance, so the pruning happens two lists deep.
    body = describe_instances(3, 600)
    total = body.count(b"<") - body.count(b"</")
    parser = ec2codec.ResponseParser("DescribeInstances")
    largest = 0
    for i in range(0, len(body), 65536):
        parser.feed(body[i : i + 65536])
        root = parser._root  # the tree lxml is building; internal, inspected on purpose
        if root is not None:
            largest = max(largest, int(root.xpath("count(//*)")))
    result = parser.close()
    assert sum(len(r["Instances"]) for r in result["Reservations"]) == 1800
    assert largest < total / 20, (largest, total)


def test_pruned_and_whole_results_are_identical() -> None:
    body = describe_instances(4, 150)
    chunks = [body[i : i + 4096] for i in range(0, len(body), 4096)]
    assert comparable(ec2codec.parse("DescribeInstances", chunks)) == comparable(
        ec2codec.parse("DescribeInstances", body)
    )


_BIG = describe_instances(2, 60)  # about 300 KB: pruning runs several times when streamed
_ROOT_END = _BIG.index(b"<requestId>")
_STARTS = [i for i in range(_ROOT_END, len(_BIG) - 30) if _BIG[i : i + 1] == b"<"]
_JUNK = [
    b"<description>dup</description>",
    b"<unknownThing><a>1</a><b><c/></b></unknownThing>",
    b"<item/>",
    b"<item><instanceId>i-extra</instanceId></item>",
    b"loose text",
    b"<requestId>again</requestId>",
    b"<tagSet/>",
    b"<groupSet><item><groupId>sg-x</groupId></item></groupSet>",
    b"<instanceId>i-dup</instanceId>",
    b"<reservationId>r-dup</reservationId><instancesSet/>",
]


@given(st.lists(st.tuples(st.sampled_from(_STARTS), st.sampled_from(_JUNK)), min_size=1, max_size=8))
def test_pruning_never_changes_the_result(insertions: list[tuple[int, bytes]]) -> None:
    # Well-formed junk is inserted in front of random tags: repeated members,
    # unknown subtrees, stray items and text. Whole (no pruning) and streamed
    # in small chunks (pruned every 64 KiB) must agree exactly.
    body = bytearray(_BIG)
    for at, junk in sorted(insertions, reverse=True):
        body[at:at] = junk
    data = bytes(body)
    outcomes = []
    for form in (data, [data[i : i + 1000] for i in range(0, len(data), 1000)]):
        try:
            outcomes.append(_decode("DescribeInstances", form))
        except ec2codec.ParseError as exc:  # text inside an integer, say: both must say so
            outcomes.append(("ParseError", str(exc)))
    assert outcomes[0] == outcomes[1]


# --- whole and chunked input agree, whatever the input and the chunking --------------------------
#
# The prescan that finds the root start tag reads the first MAX_HEAD bytes,
# drops a plain default namespace declaration before libxml2 parses the rest,
# and the streaming decoder prunes every 64 KiB: the documents below put root
# tags, huge attributes, escaped or ill-formed namespaces and big bodies across
# those offsets, and the cuts land on them.

_TASKS_ROOT = b"DescribeImportSnapshotTasksResponse"
_TASK = (
    "<item><description>{text}</description><importTaskId>import-snap-{i:017x}</importTaskId>"
    "<snapshotTaskDetail><diskImageSize>{i}.0</diskImageSize><encrypted>false</encrypted>"
    "<progress>{p}</progress><status>active</status></snapshotTaskDetail>{deep}"
    "<tagSet><item><key>Name</key><value>t-{i}</value></item></tagSet></item>\n"
)
# Text that is escaped, multi-byte (so cuts split characters) or carries a CR.
_TEXTS = ["converting", "a &amp; b &lt;c&gt;", "caf\u00e9 \u20ac \U0001d11e", "line\r\nnext", "  ", ""]
# Each list holds well-formed choices first and damaging ones after _GOOD[name]:
# a document is either clean (the decoded values must agree) or damaged in a
# few places (both ways must refuse it, with the same error class).
# Default namespace values: plain (dropped unseen), then escaped but accepted
# by libxml2 (left for it to check), then ill-formed or refused by libxml2.
_NAMESPACES = [
    NAMESPACE.encode(),
    b"",
    b"urn:x:y",
    b"http://" + b"a" * 15000,
    b"a&amp;b",
    b"&#65;",
    b"a&apos;b",
    b"a%20b",
    b"a<b",
    b"a&b",
    b"&nope;",
    b"\xff",
    b"\x01",
    b"a\tb",
    b"a%zz",
    b"&#x3C;",
    b"caf\xc3\xa9",
    b"http://www.w3.org/XML/1998/namespace",
    b"http://www.w3.org/2000/xmlns/",
    b"http://" + b"a" * 17000,
]
_ATTRIBUTES = [
    b' a="1"',
    b" a='&amp;'",
    b' a = "spaced"',
    b' huge="' + b"h" * 1000 + b'"',
    b' huge="' + b"h" * 15000 + b'"',
    b' xmlns="urn:twice"',
    b' b="2"c="3"',
    b" a='<'",
    b' huge="' + b"h" * 17000 + b'"',
    b' huge="' + b"h" * 40000 + b'"',
]
_PROLOG = [b"<!-- c -->", b"<?pi x?>", b"\n  ", b"<!--x-->\r\n", b"<!--" + b"c" * 15000 + b"-->", b"<!DOCTYPE r>"]
_PREFIXES = [b"", b"p:", b"q:"]  # q: is never declared
_ENDINGS = [b"", b"\n", b"<!-- t -->", b"<late/>", b"\x00"]
_GOOD = {"namespace": 8, "attribute": 5, "prolog": 5, "prefix": 2, "ending": 3}
_INSERTS = [
    b"<!-- c -->",
    b"<![CDATA[x<y]]>",
    b"\r\n",
    b"&amp;",
    b"<x/>",
    b"</item>",
    b"&e;",
    b"\xff",
    b"\xc3",
    b"\x00",
]


class _Doc(NamedTuple):
    body: bytes
    marks: list[int]  # offsets around which cuts are interesting
    limits: ec2codec.ParseLimits | None


@st.composite
def _documents(draw: st.DrawFn) -> _Doc:
    """A response with a varied head and a body of up to about 200 KiB, clean or damaged."""
    damaged = draw(st.booleans())

    def pick(name: str, choices: list[bytes]) -> bytes:
        return draw(st.sampled_from(choices if damaged else choices[: _GOOD[name]]))

    head = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    head += draw(st.sampled_from([b"", b'<?xml version="1.0" encoding="UTF-8"?>\n', b"<?xml version='1.0'?>"]))
    for _ in range(draw(st.integers(0, 2))):
        head += pick("prolog", _PROLOG)
    prefix = pick("prefix", _PREFIXES)
    error = draw(st.integers(0, 9)) == 0
    root = b"Response" if error else prefix + _TASKS_ROOT
    attributes = [pick("attribute", _ATTRIBUTES) for _ in range(draw(st.integers(0, 2)))]
    if prefix == b"p:":
        attributes.append(b' xmlns:p="urn:p"')
    if draw(st.booleans()):
        value, quote = pick("namespace", _NAMESPACES), draw(st.sampled_from([b'"', b"'"]))
        declaration = b" xmlns" + draw(st.sampled_from([b"=", b" = "])) + quote + value + quote
        attributes.insert(draw(st.integers(0, len(attributes))), declaration)
    start = len(head)
    head += b"<" + root + b"".join(attributes) + draw(st.sampled_from([b">", b" >", b"\n>"]))
    marks = [start, len(head), MAX_HEAD]
    limits = draw(st.sampled_from([None, None, ec2codec.ParseLimits(max_depth=6), ec2codec.ParseLimits(max_depth=9)]))
    # Unknown elements nested in one item (level 3), often right at the depth limit.
    near = [] if limits is None else [limits.max_depth - 3, limits.max_depth - 2]
    depth = draw(st.sampled_from([0, 5, *near]))
    deep = "<junk>" * (depth - 1) + "<junk/>" + "</junk>" * (depth - 1) if depth else ""
    filler = draw(st.sampled_from([0, 1000, 70000, 140000]))
    big = "f\u00e9" * (filler // 3)  # one big text node: the pruner runs while it is still open
    if error:
        content = b"<Errors><Error><Code>Oops</Code><Message>m</Message></Error></Errors><RequestID>r</RequestID>"
    elif draw(st.integers(0, 2)) == 0:  # few tags: the limits are checked with little markup seen
        big = big or "f\u00e9" * 23333
        content = f"<importSnapshotTaskSet><item>{deep}</item><item>{big}</item></importSnapshotTaskSet>".encode()
    else:
        parts = [f"<requestId>{draw(st.sampled_from(_TEXTS))}</requestId><importSnapshotTaskSet>"]
        for i in range(draw(st.sampled_from([0, 1, 2, 40, 150, 400]))):
            parts.append(_TASK.format(i=i, p=i % 101, text=_TEXTS[i % len(_TEXTS)], deep=deep if i == 1 else ""))
        if filler:
            parts.append(_TASK.format(i=9999, p=1, text=big, deep=""))
        parts.append("</importSnapshotTaskSet>")
        content = "".join(parts).encode()
    body = head + content + b"</" + root + b">" + pick("ending", _ENDINGS)
    marks += range(65536, len(body), 65536)
    for _ in range(draw(st.integers(0, 2)) if damaged else 0):
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.sampled_from(_INSERTS)) + body[at:]
        marks.append(at)
    return _Doc(body, marks, limits)


@st.composite
def _cuts(draw: st.DrawFn, doc: _Doc) -> list[int]:
    """Chunk boundaries: every byte of the head, a fixed chunk size, or next to the marks and anywhere."""
    size = len(doc.body)
    mode = draw(st.integers(0, 3))
    if mode == 0:
        return [*range(1, min(size, doc.marks[1] + 3)), size]
    if mode == 1:
        step = draw(st.sampled_from([7, 4096, 65535, 65536, 65537]))
        return [*range(step, size, step), size]
    near = st.builds(lambda m, d: m + d, st.sampled_from(doc.marks), st.integers(-3, 3))
    points = draw(st.lists(near | st.integers(0, size), max_size=12))
    return sorted({min(max(p, 0), size) for p in points} | {size})


def _outcome(body: bytes | list[bytes], limits: ec2codec.ParseLimits | None) -> Any:
    operation = "DescribeImportSnapshotTasks"
    try:
        if isinstance(body, bytes):
            return comparable(ec2codec.parse(operation, body, limits=limits))
        parser = ec2codec.ResponseParser(operation, limits=limits)
        for chunk in body:
            parser.feed(chunk)
        return comparable(parser.close())
    except ec2codec.ServiceError as exc:
        return ("ServiceError", exc.code, exc.message, exc.request_id, exc.errors)
    except ec2codec.ParseError:
        return ("ParseError",)


def _well_formed(body: bytes) -> bool:
    """libxml2's verdict on the document exactly as received (the decoder may refuse more, never less)."""
    from lxml import etree

    try:
        etree.fromstring(body, etree.XMLParser(**parser_options()))
    except etree.XMLSyntaxError:
        return False
    return True


@settings(max_examples=max(30, settings().max_examples * 3))
@given(st.data())
def test_whole_and_chunked_input_agree(data: st.DataObject) -> None:
    doc = data.draw(_documents())
    cuts = data.draw(_cuts(doc))
    pieces = [doc.body[a:b] for a, b in zip([0, *cuts[:-1]], cuts, strict=True)]
    whole = _outcome(doc.body, doc.limits)
    assert _outcome(pieces, doc.limits) == whole
    if not _well_formed(doc.body):
        assert whole == ("ParseError",)


def test_root_start_tag_past_max_head_is_refused_whole_and_streamed() -> None:
    # It parsed whole and failed streamed: the 16 KiB bound applied to what had been buffered.
    for size, expected in ((MAX_HEAD - 200, "ok"), (MAX_HEAD + 10, "ParseError")):
        body = b'<ImportSnapshotResponse a="' + b"x" * size + b'"><requestId>r</requestId></ImportSnapshotResponse>'
        for form in (body, [body], [body[:1000], body[1000:]], [body[i : i + 1] for i in range(len(body))]):
            try:
                got = ec2codec.parse("ImportSnapshot", form)["ResponseMetadata"]["RequestId"] and "ok"
            except ec2codec.ParseError as exc:
                assert f"first {MAX_HEAD} bytes" in str(exc)
                got = "ParseError"
            assert got == expected, (size, type(form))


@pytest.mark.parametrize(
    "value", [b"a<b", b"a&b", b"&nope;", b"\xff", b"\x01", b"a b", b"a%zz", b"http://www.w3.org/2000/xmlns/"]
)
def test_an_ill_formed_default_namespace_is_refused(value: bytes) -> None:
    # It was cut out of the root start tag before libxml2 could see it.
    for head in (b"", b'<?xml version="1.0"?><!-- c -->'):
        body = head + b'<ImportSnapshotResponse xmlns="%s"><requestId>r</requestId></ImportSnapshotResponse>' % value
        for form in (body, [body[i : i + 5] for i in range(0, len(body), 5)]):
            with pytest.raises(ec2codec.ParseError):
                ec2codec.parse("ImportSnapshot", form)


@pytest.mark.parametrize("value", [NAMESPACE.encode(), b"", b"a&amp;b", b"&#65;", b"urn:x:y"])
def test_a_well_formed_default_namespace_is_accepted(value: bytes) -> None:
    body = b'<ImportSnapshotResponse xmlns="%s"><requestId>r</requestId></ImportSnapshotResponse>' % value
    for form in (body, [body[i : i + 5] for i in range(0, len(body), 5)]):
        assert ec2codec.parse("ImportSnapshot", form) == {"ResponseMetadata": {"RequestId": "r"}}
