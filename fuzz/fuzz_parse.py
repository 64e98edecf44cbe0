"""atheris fuzz target for the response decoder: every input gives a dict, ParseError or ServiceError.

Beyond "nothing else escapes", each input is decoded twice, whole (the one-shot
path, blank-stripping parser) and streamed in small chunks (the pruning
path, exact parser), and both must agree. Inputs that start with ``<`` are
bodies as they are (the golden responses make a good seed corpus) and name
their operation by their root element; any other input spends its first byte
choosing the operation, its limits and the chunk size.

Long campaigns need atheris (``pip install atheris``)::

    mkdir -p fuzz/corpus && cp fixtures/responses/*.xml fuzz/corpus/
    python fuzz/fuzz_parse.py fuzz/corpus -max_len=65536 -timeout=10 -rss_limit_mb=2048

Without atheris the module still imports (the tests call :func:`test_one_input`
with hypothesis); running it then exits with a message.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ec2codec

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


def _choose(data: bytes) -> tuple[str, bytes, ec2codec.ParseLimits | None, int]:
    """Operation, body, limits and chunk size for one input."""
    if data[:1] == b"<":
        found = _ROOT.search(data)
        name = found.group(1).decode() if found else ""
        return (name if name in _KNOWN else OPERATIONS[0]), data, None, 1 + len(data) % 7
    control = data[0] if data else 0
    operation = OPERATIONS[control % len(OPERATIONS)]
    limits = TIGHT if control & 0x80 else None
    return operation, data[1:], limits, 1 + (control >> 3) % 13


def _outcome(operation: str, body: Any, limits: ec2codec.ParseLimits | None) -> Any:
    try:
        result = ec2codec.parse(operation, body, limits=limits)
    except ec2codec.ServiceError as exc:
        return ("ServiceError", exc.code, exc.message, exc.request_id, exc.errors, exc.details)
    except ec2codec.ParseError:
        return ("ParseError",)
    assert isinstance(result, dict), type(result)
    return result


def _same(left: Any, right: Any) -> bool:
    return left == right or repr(left) == repr(right)  # repr: NaN != NaN


def test_one_input(data: bytes) -> None:
    """The fuzz property; anything raised here other than AssertionError is a finding too."""
    operation, body, limits, chunk = _choose(data)
    whole = _outcome(operation, body, limits)
    streamed = _outcome(operation, [body[i : i + chunk] for i in range(0, len(body), chunk)], limits)
    assert _same(whole, streamed), (whole, streamed)


def main() -> None:
    try:
        import atheris  # type: ignore[import-not-found]
    except ImportError:
        sys.exit("fuzz/fuzz_parse.py needs atheris for long campaigns: pip install atheris (tests use hypothesis)")
    atheris.instrument_all()
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
