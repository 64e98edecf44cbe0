"""atheris fuzz target for ``ResponseParser.feed``: the input is a body and where to cut it.

Input layout: one control byte, then ``3 * n`` bytes of cut positions, then
the body. The control byte's low four bits are ``n`` (0-15); bit 4 applies
tight :class:`ec2codec.ParseLimits`; bit 5 feeds the first bytes one at a
time (up to the first cut, at most :data:`BYTEWISE` bytes, past the
prescan's 16 KiB window); bits 6 and 7 hand the chunks over as
``memoryview`` or ``bytearray``. Each cut is a 24-bit fraction of the body
length, so the fuzzer can place a boundary on any byte of a body of up to
16 MiB. The body names its operation by its root element.

Whatever the cuts, the chunks fed to a :class:`ec2codec.ResponseParser` must
give what ``ec2codec.parse`` gives for the whole body: the same dict, or the
same error class (ServiceError with the same fields), and only those; an
ill-formed body must be a ParseError. Seeds: ``fuzz/make_corpus.py`` writes
``fuzz/corpus/stream``; then::

    python3 fuzz/fuzz_stream.py fuzz/corpus/stream -timeout=10 -rss_limit_mb=2048
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import _harness  # noqa: E402
import fuzz_parse  # noqa: E402

import ec2codec  # noqa: E402

MAX_LEN = fuzz_parse.MAX_LEN
BYTEWISE = 16 * 1024 + 256
_SCALE = 1 << 24


def encode_input(body: bytes, cuts: list[int], *, limits: bool = False, bytewise: bool = False, form: int = 0) -> bytes:
    """The fuzz input that cuts ``body`` at (about) ``cuts`` (used to write seeds)."""
    cuts = cuts[:15]
    control = len(cuts) | limits << 4 | bytewise << 5 | (form & 3) << 6
    size = max(len(body), 1)
    fractions = b"".join((min(_SCALE - 1, -(-c * _SCALE // size))).to_bytes(3, "big") for c in cuts)
    return bytes([control]) + fractions + body


def decode_input(data: bytes) -> tuple[bytes, list[int], ec2codec.ParseLimits | None, int]:
    """Body, sorted cut offsets, limits and the chunk form (0 bytes, 1 memoryview, 2 bytearray, 3 bytes)."""
    control = data[0] if data else 0
    count = control & 0x0F
    body = data[1 + 3 * count :]
    size = len(body)
    cuts = {int.from_bytes(data[1 + 3 * i : 4 + 3 * i], "big") * size // _SCALE for i in range(count)}
    if control & 0x20:
        first = min(cuts, default=64)
        cuts.update(range(1, min(first, BYTEWISE, size)))
    limits = fuzz_parse.TIGHT if control & 0x10 else None
    return body, sorted(c for c in cuts if 0 < c < size), limits, control >> 6


def _streamed(operation: str, chunks: list[Any], limits: ec2codec.ParseLimits | None) -> Any:
    try:
        parser = ec2codec.ResponseParser(operation, limits=limits)
        for chunk in chunks:
            parser.feed(chunk)
        result = parser.close()
    except ec2codec.ServiceError as exc:
        return ("ServiceError", exc.code, exc.message, exc.request_id, exc.errors, exc.details)
    except ec2codec.ParseError:
        return ("ParseError",)
    assert isinstance(result, dict), type(result)
    return result


def test_one_input(data: bytes) -> None:
    """The fuzz property; anything raised here other than AssertionError is a finding too."""
    body, cuts, limits, form = decode_input(data)
    operation = fuzz_parse.operation_of(body)
    bounds = [0, *cuts, len(body)]
    chunks: list[Any] = [body[a:b] for a, b in itertools.pairwise(bounds)]
    if form == 1:
        chunks = [memoryview(c) for c in chunks]
    elif form == 2:
        chunks = [bytearray(c) for c in chunks]
    whole = fuzz_parse.outcome(operation, body, limits)
    streamed = _streamed(operation, chunks, limits)
    brief = fuzz_parse.brief
    assert fuzz_parse.same(whole, streamed), f"whole {brief(whole)} != cut at {brief(cuts)} {brief(streamed)}"
    fuzz_parse.check(operation, body, whole)


def warm_up() -> list[bytes]:
    """Inputs that load every module the target reaches (see _harness)."""
    return [b"", *(encode_input(body, [len(body) // 2], bytewise=True) for body in fuzz_parse.warm_up())]


if __name__ == "__main__":
    _harness.main(test_one_input, max_len=MAX_LEN, warm_up=warm_up())
