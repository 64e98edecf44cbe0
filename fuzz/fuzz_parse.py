"""atheris fuzz target for the response decoder: every input gives a dict, ParseError or ServiceError.

Beyond "nothing else escapes", each input is decoded twice, whole (the one-shot
path, blank-stripping parser) and streamed in small chunks (the pruning
path, exact parser), and both must agree; a document that libxml2 itself
finds ill-formed must be a ParseError. Inputs that start with ``<`` are
bodies as they are (the golden responses make a good seed corpus) and name
their operation by their root element; any other input spends its first byte
choosing the operation, its limits and the chunk size.

The default ``-max_len`` is :data:`MAX_LEN` (256 KiB): past the prescan's
16 KiB window (``MAX_HEAD``), the streaming decoder's 64 KiB pruning step and
the limit checks' 64 KiB chunk threshold, several times over. Seed it with
``fuzz/make_corpus.py``, whose generated documents reach those sizes; then::

    python3 fuzz/fuzz_parse.py fuzz/corpus/parse -timeout=10 -rss_limit_mb=2048

Without atheris the module still imports (the tests call :func:`test_one_input`
with hypothesis), and running it replays the files it is given.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import _harness  # noqa: E402

import ec2codec  # noqa: E402

MAX_LEN = 256 * 1024
OPERATIONS = (
    "DescribeImportSnapshotTasks",
    "ImportSnapshot",
    "CancelImportTask",
    "DescribeInstances",
    "DescribeSnapshots",
    "GetConsoleOutput",
    "DeleteVpc",
)
TIGHT = ec2codec.ParseLimits(max_depth=12, max_elements=2_000, max_bytes=1 << 20)
_ROOT = re.compile(rb"<(?:\w+:)?(\w+?)Response[\s/>]")
_KNOWN = frozenset(ec2codec.operations())


def operation_of(body: bytes) -> str:
    """The operation a body answers, read from its root element (the first of OPERATIONS if unknown)."""
    found = _ROOT.search(body, 0, 1 << 16)
    name = found.group(1).decode() if found else ""
    return name if name in _KNOWN else OPERATIONS[0]


def _choose(data: bytes) -> tuple[str, bytes, ec2codec.ParseLimits | None, int]:
    """Operation, body, limits and chunk size for one input."""
    if data[:1] == b"<":
        # Small chunks, but at most about 64 of them: big inputs stay fast enough to fuzz.
        return operation_of(data), data, None, max(1 + len(data) % 7, len(data) // 64)
    control = data[0] if data else 0
    operation = OPERATIONS[control % len(OPERATIONS)]
    limits = TIGHT if control & 0x80 else None
    return operation, data[1:], limits, max(1 + (control >> 3) % 13, len(data) // 64)


def outcome(operation: str, body: Any, limits: ec2codec.ParseLimits | None) -> Any:
    """What ``ec2codec.parse`` makes of ``body``: the dict, or the error reduced to what must agree."""
    try:
        result = ec2codec.parse(operation, body, limits=limits)
    except ec2codec.ServiceError as exc:
        return ("ServiceError", exc.code, exc.message, exc.request_id, exc.errors, exc.details)
    except ec2codec.ParseError:
        return ("ParseError",)
    assert isinstance(result, dict), type(result)
    return result


def brief(value: Any) -> str:
    """``repr(value)``, cut short for a failure message."""
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + f"... ({len(text)} characters)"


def same(left: Any, right: Any) -> bool:
    """Equal outcomes (repr as well: NaN != NaN)."""
    return bool(left == right or repr(left) == repr(right))


def well_formed(body: bytes) -> bool:
    """libxml2's own verdict on ``body`` as received, with the decoder's parser settings."""
    from lxml import etree

    from ec2codec.protocol._xmlsafety import parser_options

    try:
        etree.fromstring(body, etree.XMLParser(**parser_options()))
    except etree.XMLSyntaxError:
        return False
    return True


def check(operation: str, body: bytes, whole: Any) -> None:
    """The whole-body outcome may accept a document only if libxml2 finds it well-formed."""
    if whole != ("ParseError",):
        assert well_formed(body), f"ill-formed document accepted as {operation}: {brief(whole)}"


def test_one_input(data: bytes) -> None:
    """The fuzz property; anything raised here other than AssertionError is a finding too."""
    operation, body, limits, chunk = _choose(data)
    whole = outcome(operation, body, limits)
    streamed = outcome(operation, [body[i : i + chunk] for i in range(0, len(body), chunk)], limits)
    assert same(whole, streamed), f"whole {brief(whole)} != streamed in {chunk}-byte chunks {brief(streamed)}"
    check(operation, body, whole)


def warm_up() -> list[bytes]:
    """Inputs that load every module the target reaches (see _harness)."""
    responses = HERE.parent / "fixtures" / "responses"
    return [b"", b"\x00<x/>", *(p.read_bytes() for p in sorted(responses.glob("*.xml")))]


if __name__ == "__main__":
    _harness.main(test_one_input, max_len=MAX_LEN, warm_up=warm_up())
