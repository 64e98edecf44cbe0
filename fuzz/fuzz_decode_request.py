"""atheris fuzz target for ``ec2codec.decode_request``: the input is a form-encoded request body.

Every body must give ``(operation, params)`` or raise ``ValidationError``,
nothing else. What decodes must also encode again (``ec2codec.encode``) and
decode to the same thing: the decoder never hands back a value its own
encoder refuses or changes. Two exceptions are allowed: a missing required
member (the decoder leaves it for the server to answer), and a timestamp
before the year 1000, which the encoder writes as botocore does and the
decoder then refuses (it requires four-digit years), a known asymmetry.

Seeds: the request bodies of ``fixtures/requests`` (``fuzz/make_corpus.py``
copies them to ``fuzz/corpus/decode_request``); then::

    python3 fuzz/fuzz_decode_request.py fuzz/corpus/decode_request -timeout=10

Request bodies are small; the default ``-max_len`` is :data:`MAX_LEN`.
"""

from __future__ import annotations

import math
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import _harness  # noqa: E402

import ec2codec  # noqa: E402

MAX_LEN = 16 * 1024


def same(left: Any, right: Any) -> bool:
    """Equal values of equal types (NaN equals NaN)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    return type(left) is type(right) and left == right


def test_one_input(data: bytes) -> None:
    """The fuzz property; anything raised here other than AssertionError is a finding too."""
    try:
        operation, params = ec2codec.decode_request(data)
    except ec2codec.ValidationError:
        return
    try:
        body = ec2codec.encode(operation, params)
    except ec2codec.ValidationError as exc:
        # The decoder leaves required members to the server (EC2 answers
        # MissingParameter); the encoder enforces them. Any other refusal is a finding.
        assert all(message == "missing required member" for _, message in exc.problems), exc
        return
    try:
        again = ec2codec.decode_request(body)
    except ec2codec.ValidationError:
        # Known: a timestamp before the year 1000 is written as botocore writes
        # it (strftime, the year not padded to four digits), which the decoder
        # refuses as not ISO 8601. Any other refusal of our own output is a finding.
        if _early_year(params):
            return
        raise
    assert again[0] == operation and same(again[1], params), (operation, params, again)


def _early_year(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_early_year(v) for v in value.values())
    if isinstance(value, list):
        return any(_early_year(v) for v in value)
    return isinstance(value, datetime) and value.year < 1000


def warm_up() -> list[bytes]:
    """Inputs that load every module the target reaches (see _harness)."""
    requests = HERE.parent / "fixtures" / "requests"
    return [b"", b"Action=X", *(p.read_bytes() for p in sorted(requests.glob("*.body")))]


if __name__ == "__main__":
    _harness.main(test_one_input, max_len=MAX_LEN, warm_up=warm_up())
