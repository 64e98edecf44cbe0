"""Hostile and malformed responses: every input gives a dict or raises ParseError/ServiceError.

Table-driven cases cover DTDs and entities (refused before anything is
expanded; a local HTTP server proves no fetch happens), the limits, truncation
at every byte, invalid UTF-8, wrong roots and unconvertible values (the
message names the element path). Hypothesis then throws random bytes and
mutated goldens at ``fuzz/fuzz_parse.py``'s target, which also checks that
the whole-body and streaming decoders agree.
"""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import threading
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ec2codec
from ec2codec import ParseError, ParseLimits
from tests.conftest import ROOT
from tests.goldens import FIXTURES

IMPORT_SNAPSHOT = (FIXTURES / "responses" / "ImportSnapshot.xml").read_bytes()
SNAPSHOTS = (FIXTURES / "responses" / "DescribeSnapshots.xml").read_bytes()
TASKS = (FIXTURES / "responses" / "DescribeImportSnapshotTasks.xml").read_bytes()
SEEDS = [path.read_bytes() for path in sorted((FIXTURES / "responses").glob("*.xml"))]


def _fuzz_target() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_parse", ROOT / "fuzz" / "fuzz_parse.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FUZZ = _fuzz_target()


def _both_ways(operation: str, body: bytes, limits: ParseLimits | None = None) -> list[str]:
    """The ParseError messages of the whole-body path and of the 3-byte streaming path."""
    messages = []
    for form in (body, [body[i : i + 3] for i in range(0, len(body), 3)]):
        with pytest.raises(ParseError) as info:
            ec2codec.parse(operation, form, limits=limits)
        messages.append(str(info.value))
    return messages


def _nested(depth: int, leaf: str = "x") -> str:
    return "<junk>" * depth + leaf + "</junk>" * depth


def _response(content: str, operation: str = "ImportSnapshot", *, latin1: bool = False) -> bytes:
    text = f"<{operation}Response><requestId>r</requestId>{content}</{operation}Response>"
    return text.encode("latin-1" if latin1 else "utf-8")


# --- DTDs and entities ----------------------------------------------------------------------

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%s;" % (str(i - 1).encode() if i > 1 else b"") for _ in range(10)))
        for i in range(1, 10)
    )
    + b"]><ImportSnapshotResponse><description>&lol9;</description></ImportSnapshotResponse>"
)
QUADRATIC = (
    b'<!DOCTYPE q [<!ENTITY a "'
    + b"a" * 50_000
    + b'">]><ImportSnapshotResponse><description>'
    + b"&a;" * 10_000
    + b"</description></ImportSnapshotResponse>"
)
DTD_CASES = {
    "billion-laughs": LAUGHS,
    "quadratic-blowup": QUADRATIC,
    "external-file": b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><ImportSnapshotResponse>'
    b"<description>&x;</description></ImportSnapshotResponse>",
    "parameter-entity": b'<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><ImportSnapshotResponse/>',
    "external-dtd": b'<!DOCTYPE ImportSnapshotResponse SYSTEM "file:///etc/passwd"><ImportSnapshotResponse/>',
    "after-comment-and-pi": b"<?xml version='1.0'?><!-- hi --><?pi x?>\n<!DOCTYPE r []><ImportSnapshotResponse/>",
    "lowercase": b"<!doctype r><ImportSnapshotResponse/>",
    "bom-then-doctype": b"\xef\xbb\xbf<!DOCTYPE r><ImportSnapshotResponse/>",
    "cdata-in-prolog": b"<![CDATA[x]]><ImportSnapshotResponse/>",
}


@pytest.mark.parametrize("body", DTD_CASES.values(), ids=DTD_CASES.keys())
def test_dtds_are_refused_before_expansion(body: bytes) -> None:
    for message in _both_ways("ImportSnapshot", body):
        assert "DOCTYPE" in message


def test_doctype_split_across_one_byte_chunks() -> None:
    parser = ec2codec.ResponseParser("ImportSnapshot")
    with pytest.raises(ParseError, match="DOCTYPE"):
        for i in range(len(LAUGHS)):
            parser.feed(LAUGHS[i : i + 1])
        parser.close()


def test_no_network_fetch_is_attempted() -> None:
    hits: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]

    def accept() -> None:
        try:
            conn, _ = server.accept()
            hits.append(conn.recv(100))
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        for doc in (
            f'<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:{port}/x">]><ImportSnapshotResponse>&x;</ImportSnapshotResponse>',
            f'<!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/d.dtd"><ImportSnapshotResponse/>',
            f'<ImportSnapshotResponse xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="http://127.0.0.1:{port}/i"/>'
            "</ImportSnapshotResponse>",
        ):
            with contextlib.suppress(ParseError):
                ec2codec.parse("ImportSnapshot", doc.encode())
    finally:
        thread.join()
        server.close()
    assert hits == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (_response("<description>&nope;</description>"), "Entity 'nope' not defined"),
        (_response("") + b"<!DOCTYPE late>", "malformed XML"),
        (_response("<description>a</description>").replace(b"</ImportSnapshotResponse>", b""), "truncated"),
    ],
    ids=["undefined-entity", "doctype-after-root", "unclosed-root"],
)
def test_entities_and_late_declarations(body: bytes, fragment: str) -> None:
    for message in _both_ways("ImportSnapshot", body):
        assert fragment in message or "truncated" in message


# --- limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "limits", "fragment"),
    [
        (_response(_nested(20)), ParseLimits(max_depth=10), "nested deeper than 10 levels"),
        (_response(_nested(300)), None, "nested deeper than 256 levels"),
        (
            _response("<tagSet>" + "<item/>" * 200 + "</tagSet>"),
            ParseLimits(max_elements=100),
            "more than 100 elements",
        ),
        (_response("<description>" + "x" * 2000 + "</description>"), ParseLimits(max_bytes=1000), "larger than 1000"),
    ],
    ids=["max_depth", "libxml2-depth", "max_elements", "max_bytes"],
)
def test_limits(body: bytes, limits: ParseLimits | None, fragment: str) -> None:
    for message in _both_ways("ImportSnapshot", body, limits):
        assert fragment in message


def test_limits_admit_what_they_allow() -> None:
    body = _response(_nested(8))  # root, junk * 8: 9 levels
    assert ec2codec.parse("ImportSnapshot", body, limits=ParseLimits(max_depth=9))
    elements = body.count(b"<") - body.count(b"</")
    assert ec2codec.parse("ImportSnapshot", body, limits=ParseLimits(max_elements=elements))
    with pytest.raises(ParseError):
        ec2codec.parse("ImportSnapshot", body, limits=ParseLimits(max_elements=elements - 1))


def test_element_count_is_exact_while_streaming_and_pruning() -> None:
    item = b"<item><importTaskId>import-snap-0123456789abcdef0</importTaskId><description>d</description></item>"
    tasks = "<importSnapshotTaskSet>" + (item * 4000).decode() + "</importSnapshotTaskSet>"
    body = _response(tasks, "DescribeImportSnapshotTasks")
    elements = body.count(b"<") - body.count(b"</")
    assert len(body) > 4 * 65536  # several prune passes happen
    chunks = [body[i : i + 4096] for i in range(0, len(body), 4096)]
    ok = ec2codec.parse("DescribeImportSnapshotTasks", chunks, limits=ParseLimits(max_elements=elements))
    assert len(ok["ImportSnapshotTasks"]) == 4000
    with pytest.raises(ParseError, match="more than"):
        ec2codec.parse("DescribeImportSnapshotTasks", chunks, limits=ParseLimits(max_elements=elements - 1))


@pytest.mark.parametrize("max_depth", [5, 9])
def test_depth_limit_holds_for_items_pruned_while_streaming(max_depth: int) -> None:
    # A finished item one level too deep, then a big open text node: the pruner
    # decodes and drops the item after 64 KiB. The check before it used to be
    # skipped, as if the document were finished (2 "<" per level), so the
    # streamed body passed while the same body whole was refused.
    depth = max_depth - 2  # junk levels under <item> (level 3): the innermost is at max_depth + 1
    deep = b"<junk>" * (depth - 1) + b"<junk/>" + b"</junk>" * (depth - 1)
    tasks = (
        b"<importSnapshotTaskSet><item>" + deep + b"</item><item>" + b"x" * 70_000 + b"</item></importSnapshotTaskSet>"
    )
    body = b"<DescribeImportSnapshotTasksResponse>" + tasks + b"</DescribeImportSnapshotTasksResponse>"
    limits = ParseLimits(max_depth=max_depth)
    for form in (body, [body[i : i + 4096] for i in range(0, len(body), 4096)]):
        with pytest.raises(ParseError, match=f"nested deeper than {max_depth} levels"):
            ec2codec.parse("DescribeImportSnapshotTasks", form, limits=limits)
    exact = body.replace(b"<junk/>", b"")  # the innermost now at max_depth
    for form in (exact, [exact[i : i + 4096] for i in range(0, len(exact), 4096)]):
        assert len(ec2codec.parse("DescribeImportSnapshotTasks", form, limits=limits)["ImportSnapshotTasks"]) == 2


@pytest.mark.parametrize("bad", [{"max_depth": 0}, {"max_depth": 257}, {"max_elements": 0}, {"max_bytes": -1}])
def test_limits_are_validated(bad: dict[str, int]) -> None:
    with pytest.raises(ec2codec.ValidationError, match=next(iter(bad))):  # ours, and still a ValueError
        ParseLimits(**bad)


# --- malformed input --------------------------------------------------------------------------


def test_every_truncation_is_a_parse_error() -> None:
    end = IMPORT_SNAPSHOT.rindex(b"</ImportSnapshotResponse>") + len(b"</ImportSnapshotResponse>")
    for cut in range(end):
        for message in _both_ways("ImportSnapshot", IMPORT_SNAPSHOT[:cut]):
            assert "truncated" in message or "empty response body" in message, (cut, message)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (IMPORT_SNAPSHOT.replace(b"tooling", b"tool\xffing"), "not valid UTF-8"),
        (IMPORT_SNAPSHOT.replace(b"tooling", b"tool\xc3"), "not valid UTF-8"),
        (IMPORT_SNAPSHOT.replace(b"tooling", b"tool\xed\xa0\x80"), "not valid UTF-8"),  # a UTF-8 surrogate
        (
            b'<?xml version="1.0" encoding="ISO-8859-1"?>' + _response("<description>\xe9</description>", latin1=True),
            "UTF-8",
        ),
        ("<ImportSnapshotResponse/>".encode("utf-16"), "not UTF-8"),
        (IMPORT_SNAPSHOT.replace(b"tooling", b"tool\x01ing"), "malformed XML"),
        (b"garbage", "not an XML document"),
        (b"   \n ", "empty response body"),
        (b"", "empty response body"),
        (b"<ImportSnapshotResponse></ImportSnapshotResponse><second/>", "malformed XML"),
    ],
    ids=["ff", "cut", "surrogate", "latin-1", "utf-16", "control-char", "text", "blank", "empty", "two-roots"],
)
def test_malformed_bodies(body: bytes, fragment: str) -> None:
    for message in _both_ways("ImportSnapshot", body):
        assert fragment in message


def test_str_with_lone_surrogate() -> None:
    with pytest.raises(ParseError, match="UTF-8"):
        ec2codec.parse("ImportSnapshot", "<ImportSnapshotResponse>\ud800</ImportSnapshotResponse>")


def test_wrong_root_names_expected_and_actual() -> None:
    for message in _both_ways("ImportSnapshot", TASKS):
        assert "<ImportSnapshotResponse>" in message and "<DescribeImportSnapshotTasksResponse>" in message


@pytest.mark.parametrize(
    ("operation", "body", "message"),
    [
        (
            "ImportSnapshot",
            IMPORT_SNAPSHOT.replace(b"8589934592.0", b"abc"),
            "ImportSnapshotResponse.snapshotTaskDetail.diskImageSize: not a number: 'abc'",
        ),
        (
            "ImportSnapshot",
            IMPORT_SNAPSHOT.replace(b"<encrypted>true", b"<encrypted>yes"),
            "ImportSnapshotResponse.snapshotTaskDetail.encrypted: not a boolean (true or false): 'yes'",
        ),
        (
            "DescribeSnapshots",
            SNAPSHOTS.replace(b">30<", b">thirty<"),
            "DescribeSnapshotsResponse.snapshotSet.item.volumeSize: not an integer: 'thirty'",
        ),
        (
            "DescribeSnapshots",
            SNAPSHOTS.replace(b"2024-05-01T12:00:00.123Z", b"soon"),
            "DescribeSnapshotsResponse.snapshotSet.item.startTime: not a timestamp: 'soon'",
        ),
        (
            "DescribeSnapshots",
            SNAPSHOTS.replace(b"<volumeSize>30", b"<volumeSize>" + b"9" * 5000),
            "volumeSize: not an integer",
        ),
    ],
    ids=["double", "boolean", "integer", "timestamp", "huge-integer"],
)
def test_bad_values_name_the_path(operation: str, body: bytes, message: str) -> None:
    for got in _both_ways(operation, body):
        assert message in got


def test_long_timestamp_text_is_refused_quickly() -> None:
    body = SNAPSHOTS.replace(b"2024-05-01T12:00:00.123Z", b"1" * 100_000 + b"x")
    with pytest.raises(ParseError, match="not a timestamp"):
        ec2codec.parse("DescribeSnapshots", body)


# --- properties -------------------------------------------------------------------------------


@given(st.binary(max_size=300))
def test_random_bytes_only_raise_our_errors(data: bytes) -> None:
    FUZZ.test_one_input(data)


_FRAGMENTS = st.sampled_from(
    [b"<!-- c -->", b"<![CDATA[x<y]]>", b"\r\n", b"\r", b" \t\n", b"<?pi x?>", b"&amp;", b"&#10;", b"<x/>", b"<item/>",
     b"</item>", b"<!DOCTYPE x>", b"&e;", b"\xff", b"\xc3", b"<tagSet>", b"<key> </key>", b'xmlns="u"', b"]]>", b"\x00"]
)  # fmt: skip


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    doc = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(doc)))
        kind = draw(st.sampled_from(["insert", "delete", "flip", "cut"]))
        if kind == "insert":
            doc[at:at] = draw(_FRAGMENTS | st.binary(min_size=1, max_size=4))
        elif kind == "delete":
            del doc[at : at + draw(st.integers(1, 12))]
        elif kind == "flip" and at < len(doc):
            doc[at] = draw(st.integers(0, 255))
        else:
            del doc[at:]
    return bytes(doc)


@given(_mutated())
def test_mutated_documents_only_raise_our_errors(data: bytes) -> None:
    FUZZ.test_one_input(data)
