"""The fast path (protocol/_xmlfast.py) against the lxml path: the same result, or a fallback, for every input.

Every document is decoded both ways. Where the fast path answers, its result
must equal the lxml path's; where the lxml path raises (ParseError or
ServiceError), the fast path must have fallen back. Inputs: documents EC2
would send for generated results of many operations, those documents mutated
byte by byte and token by token (entities, comments, CDATA, attributes,
prefixes, CR, bad characters, swapped or dropped tags), the golden responses
and the hostile corpus. ``HYPOTHESIS_PROFILE=thorough`` runs many more.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ec2codec
from ec2codec import ParseError, ServiceError
from ec2codec.model.service import bundled_model
from ec2codec.protocol._xmlfast import Fallback, FastDecoder, fast_decoder
from ec2codec.protocol._xmlsafety import DEFAULT_LIMITS, ParseLimits
from ec2codec.protocol.xml import decoder_for
from tests.goldens import FIXTURES
from tests.param_strategies import OPERATIONS, PER_OPERATION
from tests.parse_support import comparable
from tests.protocol.test_parse_hostile import DTD_CASES
from tests.result_strategies import REQUEST_IDS, results_for

MODEL = bundled_model()
WITH_OUTPUT = [op for op in OPERATIONS if MODEL.operation(op).output]
GOLDEN = sorted((FIXTURES / "responses").glob("*.xml"))


def _lxml(operation: str, body: bytes, limits: ParseLimits) -> tuple[Any, ...]:
    try:
        return ("ok", comparable(decoder_for(MODEL, operation).parse_tree(body, limits, None)))
    except ParseError:
        return ("ParseError",)
    except ServiceError as exc:
        return ("ServiceError", exc.code)


@functools.cache
def _tiers(operation: str, limits: ParseLimits) -> tuple[FastDecoder, ...]:
    # The table-driven decoders and the generated ones: the tiered decoder parse() uses runs one, then the other.
    if fast_decoder(MODEL, operation, limits) is None:
        return ()
    return tuple(FastDecoder(MODEL, operation, limits, tier=tier) for tier in (1, 2))


def _fast(fast: FastDecoder, body: bytes, limits: ParseLimits) -> tuple[Any, ...] | None:
    try:
        return ("ok", comparable(fast.decode(body, limits)))
    except Fallback:
        return None


def agree(operation: str, body: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> bool:
    """Assert the two paths (and both fast tiers) agree on ``body``; True when the fast path answered."""
    outcomes = [_fast(fast, body, limits) for fast in _tiers(operation, limits)]
    if not outcomes:
        return False
    assert outcomes[0] == outcomes[1], body[:2000]
    if outcomes[0] is None:
        return False
    assert outcomes[0] == _lxml(operation, body, limits), body[:2000]
    return True


def test_the_fast_path_answers_for_what_ec2_sends() -> None:
    # Without this the differential tests below could pass by always falling back.
    answered = [path.name for path in GOLDEN if agree(path.name.split(".")[0], path.read_bytes())]
    assert len(answered) >= len(GOLDEN) // 2, answered
    body = (FIXTURES / "responses" / "ImportSnapshot.xml").read_bytes()
    assert agree("ImportSnapshot", body)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_golden_responses(path: Any) -> None:
    agree(path.name.split(".")[0], path.read_bytes())


@pytest.mark.parametrize("body", DTD_CASES.values(), ids=DTD_CASES.keys())
def test_hostile_documents_never_reach_the_fast_decoders(body: bytes) -> None:
    assert not agree("ImportSnapshot", body)


_SMALL = ParseLimits(max_depth=3, max_elements=5, max_bytes=200)


@pytest.mark.parametrize("limits", [_SMALL, ParseLimits(max_depth=2), ParseLimits(max_elements=3)])
def test_limits_are_the_lxml_paths(limits: ParseLimits) -> None:
    body = (FIXTURES / "responses" / "ImportSnapshot.xml").read_bytes()
    assert not agree("ImportSnapshot", body, limits)


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, bytes]:
    operation = draw(st.sampled_from(WITH_OUTPUT))
    result = draw(results_for(operation))
    return operation, ec2codec.encode_response(operation, result, draw(REQUEST_IDS))


@settings(max_examples=PER_OPERATION * 20)
@given(documents())
def test_generated_documents(case: tuple[str, bytes]) -> None:
    agree(*case)


_TAG = re.compile(rb"<(/?)([A-Za-z_][A-Za-z0-9_.-]*)(/?)>")
_TOKEN_EDITS = st.sampled_from(
    [
        lambda m: b"<" + m.group(1) + m.group(2) + b' a="1"' + m.group(3) + b">",  # an attribute
        lambda m: b"<" + m.group(1) + b"p:" + m.group(2) + m.group(3) + b">",  # a prefix
        lambda m: b"<" + m.group(1) + m.group(2) + b"x" + m.group(3) + b">",  # a renamed tag
        lambda m: b"<" + m.group(1) + m.group(2) + b" " + m.group(3) + b">",  # space before >
        lambda m: b"",  # a dropped tag
        lambda m: m.group(0) * 2,  # a doubled tag
        lambda m: m.group(0) + b"<!-- c -->",
        lambda m: m.group(0) + b"<![CDATA[<x>&]]>",
        lambda m: m.group(0) + b"<?pi x?>",
        lambda m: m.group(0) + b"&bogus;",
        lambda m: m.group(0) + b"&#0;",
        lambda m: m.group(0) + b"&#x10FFFF;&#65;&lt;",
        lambda m: m.group(0) + b"\r\n",
        lambda m: m.group(0) + b"\x01",
        lambda m: m.group(0) + b"\xef\xbf\xbe",
        lambda m: m.group(0) + b"\xff",
        lambda m: m.group(0) + b"]]>",
        lambda m: m.group(0) + b" > ",
        lambda m: m.group(0) + b"<unknown><deeper>t</deeper><e/></unknown>",
        lambda m: m.group(0) + b"<unknown><deeper>t</unknown></deeper>",
        lambda m: m.group(0) + b"<item/>",
        lambda m: m.group(0) + b"<x:y xmlns:x='u'/>",
        lambda m: m.group(0) + b"<1bad/>",
    ]
)


@settings(max_examples=PER_OPERATION * 20)
@given(documents(), st.integers(1, 9))
def test_depth_limits(case: tuple[str, bytes], max_depth: int) -> None:
    # Every element, leaf, empty or unknown, counts against max_depth, as libxml2 counts it.
    agree(*case, ParseLimits(max_depth=max_depth))


@pytest.mark.parametrize("max_depth", range(1, 7))
@pytest.mark.parametrize(
    "inner",
    [b"<snapshotTaskDetail><status>s</status></snapshotTaskDetail>", b"<tagSet><item><key>k</key></item></tagSet>",
     b"<snapshotTaskDetail><userBucket/></snapshotTaskDetail>", b"<tagSet><item/></tagSet>",
     b"<junk><a><b/></a></junk>", b"<description/>"],
)  # fmt: skip
def test_depth_limit_edges(max_depth: int, inner: bytes) -> None:
    body = b"<ImportSnapshotResponse>" + inner + b"</ImportSnapshotResponse>"
    agree("ImportSnapshot", body, ParseLimits(max_depth=max_depth))


@settings(max_examples=PER_OPERATION * 30)
@given(documents(), st.data())
def test_token_mutations(case: tuple[str, bytes], data: st.DataObject) -> None:
    operation, body = case
    for _ in range(data.draw(st.integers(1, 3))):
        tags = list(_TAG.finditer(body))
        if not tags:
            break
        match = data.draw(st.sampled_from(tags))
        edit = data.draw(_TOKEN_EDITS)
        body = body[: match.start()] + edit(match) + body[match.end() :]
    agree(operation, body)


@settings(max_examples=PER_OPERATION * 30)
@given(documents(), st.data())
def test_byte_mutations(case: tuple[str, bytes], data: st.DataObject) -> None:
    operation, body = case
    doc = bytearray(body)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(doc)))
        kind = data.draw(st.sampled_from(["insert", "delete", "flip", "cut"]))
        if kind == "insert":
            doc[at:at] = data.draw(st.sampled_from([b"<", b">", b"/", b"&", b"&amp;", b"<a>", b"</a>", b"\n"]))
        elif kind == "delete":
            del doc[at : at + data.draw(st.integers(1, 8))]
        elif kind == "flip" and at < len(doc):
            doc[at] = data.draw(st.integers(0, 255))
        else:
            del doc[at:]
    agree(operation, bytes(doc))


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        # Whitespace-only text in a scalar is kept (libxml2 keeps blanks directly inside a childless element).
        ("ImportSnapshot", b"<ImportSnapshotResponse><description>  \n </description></ImportSnapshotResponse>"),
        ("ImportSnapshot", b"<ImportSnapshotResponse><requestId></requestId></ImportSnapshotResponse>"),
        ("ImportSnapshot", b"<ImportSnapshotResponse><requestId/></ImportSnapshotResponse>"),
        ("ImportSnapshot", b"<ImportSnapshotResponse><description>a<b/>c</description></ImportSnapshotResponse>"),
        ("ImportSnapshot", b"<ImportSnapshotResponse><snapshotTaskDetail><progress/></snapshotTaskDetail>"
                           b"</ImportSnapshotResponse>"),
        ("ImportSnapshot", b"<ImportSnapshotResponse><description>&#xD;&#9;&quot;&apos;</description>"
                           b"</ImportSnapshotResponse>"),
        ("ImportSnapshot", b"<ImportSnapshotResponse xmlns='a&amp;b'><description>x</description>"
                           b"</ImportSnapshotResponse>"),
        ("ImportSnapshot", b"<ImportSnapshotResponse xmlns='a<b'></ImportSnapshotResponse>"),
        ("ImportSnapshot", b"<ImportSnapshotResponse></ImportSnapshotResponse> trailing"),
        ("ImportSnapshot", b"<ImportSnapshotResponse></ImportSnapshotResponse><again/>"),
        ("ImportSnapshot", b"<ImportSnapshotResponse><tagSet><item><key>k</key></item><x>y</x></tagSet>"
                           b"</ImportSnapshotResponse>"),
        ("ImportSnapshot", b"<ImportSnapshotResponse>" + b"<a>" * 300 + b"</a>" * 300 + b"</ImportSnapshotResponse>"),
        ("ImportSnapshot", b"<Response><Errors><Error><Code>X</Code><Message>m</Message></Error></Errors></Response>"),
    ],
)  # fmt: skip
def test_edge_cases(operation: str, body: bytes) -> None:
    agree(operation, body)


_TASK = b"<ImportSnapshotResponse><snapshotTaskDetail>%s</snapshotTaskDetail></ImportSnapshotResponse>"


@pytest.mark.parametrize(
    "body",
    [
        # The generated steps take members in model order; any other order, repeats and empty elements
        # continue in the table-driven loop, with the same result as the lxml path.
        _TASK % b"<status>active</status><description>d</description><format>VHD</format>",
        _TASK % b"<description>one</description><description>two</description><status>s</status>",
        _TASK % b"<description>d</description><snapshotId/><status>s</status><userBucket/>",
        _TASK % b"<description/><diskImageSize>1.5</diskImageSize><encrypted>false</encrypted>",
        _TASK % b"<userBucket><s3Key>k</s3Key><s3Bucket>b</s3Bucket></userBucket><description>d</description>",
        _TASK % b"<unknown><deeper>x</deeper></unknown><description>d</description><other/>",
        b"<ImportSnapshotResponse><tagSet/><description>d</description><requestId>r</requestId>"
        b"</ImportSnapshotResponse>",
        b"<ImportSnapshotResponse><tagSet><item><value>v</value><key>k</key></item><item/></tagSet>"
        b"</ImportSnapshotResponse>",
        # References are resolved per text token, after the split.
        _TASK % b"<description>&lt;a&gt; &amp;lt; &#60;&#x3E; &quot;&apos;</description><status>&amp;</status>",
        _TASK % b"<description>x &amp; y</description><format>&#86;HD</format><url>a&amp;b&amp;c</url>",
    ],
)
def test_order_repeats_empties_and_references_are_answered(body: bytes) -> None:
    assert agree("ImportSnapshot", body)


@pytest.mark.parametrize(
    "body",
    [
        _TASK % b"<encrypted/>",  # an empty boolean: the lxml path refuses it
        _TASK % b"<diskImageSize>big</diskImageSize>",  # float() refuses it: a ValueError, not an escape
        _TASK % b"<descr&amp;iption>d</descr&amp;iption>",  # an "&" in a tag
        _TASK % b"<descr&#105;ption>d</descr&#105;ption>",  # one that would spell a member's name
        _TASK % b"<description>a & b</description>",  # a bare "&"
        _TASK % b"<description>&#0;</description>",  # a character XML forbids
        _TASK % b"<description>&nbsp;</description>",  # not one of the five
        b"<ImportSnapshotResponse></ImportSnapshotResponse>&amp;",  # text after the root
    ],
)
def test_what_the_fast_path_must_hand_to_lxml(body: bytes) -> None:
    assert not agree("ImportSnapshot", body)


def test_generated_decoders_take_any_member_name() -> None:
    # Member names enter the generated source only as repr literals: quotes, backslashes and newlines
    # in a loaded model's locationName cannot break (or inject into) the compiled decoder.
    odd = "a'\"\\\n)"
    raw = {
        "version": "2.0",
        "metadata": {"protocol": "ec2", "apiVersion": "2016-11-15", "serviceId": "EC2"},
        "operations": {"Op": {"name": "Op", "http": {"method": "POST", "requestUri": "/"}, "output": {"shape": "Out"}}},
        "shapes": {
            "Out": {"type": "structure", "members": {"Odd": {"shape": "S", "locationName": odd}, "B": {"shape": "S"}}},
            "S": {"type": "string"},
        },
    }
    model = ec2codec.load_model(raw).service
    for tier in (1, 2):
        fast = FastDecoder(model, "Op", DEFAULT_LIMITS, tier=tier)
        expected = {"B": "x", "ResponseMetadata": {}}
        assert fast.decode(b"<OpResponse><B>x</B></OpResponse>", DEFAULT_LIMITS) == expected


def test_the_generated_decoders_take_over_once_they_pay() -> None:
    # parse() starts on the table-driven decoders and compiles the generated ones after enough bytes.
    fast = FastDecoder(MODEL, "ImportSnapshot", DEFAULT_LIMITS)
    first = fast._root
    body = (FIXTURES / "responses" / "ImportSnapshot.xml").read_bytes()
    expected = fast.decode(body, DEFAULT_LIMITS)
    assert fast._root is first
    while fast._root is first:
        assert fast.decode(body, DEFAULT_LIMITS) == expected
    assert fast.decode(body, DEFAULT_LIMITS) == expected
    assert fast._root is FastDecoder(MODEL, "ImportSnapshot", DEFAULT_LIMITS)._generated()  # compiled once


def test_the_tier_switch_under_many_threads() -> None:
    # A fresh model, so the generated decoders are compiled while 16 threads are decoding: each thread must
    # get the single-threaded result on every call, before, during and after the switch.
    raw = {
        "metadata": {"protocol": "ec2", "apiVersion": "2016-11-15", "serviceId": "EC2"},
        "operations": {"Op": {"name": "Op", "output": {"shape": "Out"}}},
        "shapes": {
            "Out": {"type": "structure", "members": {"Items": {"shape": "Items", "locationName": "itemSet"}}},
            "Items": {"type": "list", "member": {"shape": "Item", "locationName": "item"}},
            "Item": {"type": "structure", "members": {"Name": {"shape": "S", "locationName": "name"},
                                                      "Size": {"shape": "N", "locationName": "size"},
                                                      "Inner": {"shape": "Item", "locationName": "inner"}}},
            "S": {"type": "string"},
            "N": {"type": "integer"},
        },
    }  # fmt: skip
    model = ec2codec.load_model(raw).service
    item = b"<item><name>n&amp;m</name><size>7</size><inner><name>i</name></inner></item>\n"
    body = b"<OpResponse><requestId>r</requestId><itemSet>" + item * 800 + b"</itemSet></OpResponse>"
    fast = FastDecoder(model, "Op", DEFAULT_LIMITS)
    first = fast._root
    expected = FastDecoder(model, "Op", DEFAULT_LIMITS, tier=1).decode(body, DEFAULT_LIMITS)
    barrier = threading.Barrier(16)
    results: list[bool] = []

    def work() -> None:
        barrier.wait()
        results.extend(fast.decode(body, DEFAULT_LIMITS) == expected for _ in range(12))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert results == [True] * 16 * 12
    assert fast._root is not first  # the switch happened during the run


def test_a_generated_tier_that_fails_to_compile_leaves_the_first_one_on(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = FastDecoder(MODEL, "ImportSnapshot", DEFAULT_LIMITS)
    body = (FIXTURES / "responses" / "ImportSnapshot.xml").read_bytes()
    expected = fast.decode(body, DEFAULT_LIMITS)

    def broken() -> None:
        raise RecursionError

    monkeypatch.setattr(fast, "_generated", broken)
    fast._until_generated = 1
    assert fast.decode(body, DEFAULT_LIMITS) == expected
    assert fast._until_generated == 0
