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
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ec2codec
from tests.goldens import FIXTURES
from tests.parse_support import botocore_parse, comparable, describe_instances

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
