"""A long differential campaign: the parser's fast path against its lxml path, millions of cases.

Each case is a response document, EC2-shaped (generated from the model by
``ec2codec.encode_response`` for many operations, or a golden response), then
mutated a few times at the token or byte level with the edits that matter to
the fast path (attributes, prefixes, renamed/dropped/doubled tags, comments,
CDATA, processing instructions, entity and character references, CR, control
bytes, non-characters, stray ``>`` and ``]]>``). Both paths decode it, the
fast path with each of its tiers (table-driven and generated decoders), which
must agree with each other; where the fast path answers, the answer must
equal the lxml path's, and where the lxml path refuses, the fast path must
have fallen back.

Run (about 10,000 cases a second on one core; any disagreement stops the run
and is written to ``fuzz/fastpath-disagreement-<n>.xml``)::

    python3 fuzz/fastpath_campaign.py --cases 2000000 --seed 1

The same property runs in CI on a smaller scale: tests/protocol/test_parse_fastpath.py.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ec2codec  # noqa: E402
from ec2codec import ParseError, ServiceError  # noqa: E402
from ec2codec.model.service import bundled_model  # noqa: E402
from ec2codec.protocol._xmlfast import Fallback, FastDecoder, fast_decoder  # noqa: E402
from ec2codec.protocol._xmlsafety import DEFAULT_LIMITS  # noqa: E402
from ec2codec.protocol.xml import decoder_for  # noqa: E402

_TAG = re.compile(rb"<(/?)([A-Za-z_][A-Za-z0-9_.-]*)(/?)>")
_INSERTS = [
    b"<!-- c -->", b"<![CDATA[<x>&]]>", b"<?pi x?>", b"&bogus;", b"&#0;", b"&#x10FFFF;", b"&#65;", b"&lt;",
    b"&amp;lt;", b"&#60;", b"\r\n", b"\r", b"\x01", b"\xef\xbf\xbe", b"\xff", b"]]>", b" > ", b"<item/>",
    b"<unknown><deeper>t</deeper><e/></unknown>", b"<unknown><deeper>t</unknown></deeper>", b"<1bad/>",
    b"<x:y xmlns:x='u'/>", b"<", b">", b"&", b"/", b"\t", b" ", b"\n  ",
]  # fmt: skip


def _value(model: Any, shape_name: str, rng: random.Random, depth: int) -> Any:
    shape = model.shape(shape_name)
    kind = shape["type"]
    if kind == "structure":
        members = list(shape.get("members", {}).items())
        if depth > 5:
            return {}
        chosen = rng.sample(members, min(len(members), rng.randint(0, 5)))
        return {name: _value(model, ref["shape"], rng, depth + 1) for name, ref in chosen}
    if kind == "list":
        return [_value(model, shape["member"]["shape"], rng, depth + 1) for _ in range(rng.randint(0, 2))]
    if kind == "map":
        return {}
    if kind == "string":
        return rng.choice(["", " ", "a", "x & y <z>", "  lead", "naïve ☕", "line\nbreak", "'\"", "&amp;"])
    if kind in ("integer", "long"):
        return rng.randint(-(2**31), 2**31)
    if kind in ("float", "double"):
        return rng.choice([0.0, 1.5, -2.25e10, math.inf, math.nan])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "timestamp":
        from datetime import datetime, timezone

        return datetime(rng.randint(1971, 2099), 1, 1, rng.randint(0, 23), tzinfo=timezone.utc)
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, 6)))


def _documents(rng: random.Random, count: int) -> list[tuple[str, bytes]]:
    model = bundled_model()
    operations = [op for op in ec2codec.operations() if model.operation(op).output]
    out = []
    for _ in range(count):
        operation = rng.choice(operations)
        result = _value(model, model.operation(operation).output or "", rng, 0)
        out.append((operation, ec2codec.encode_response(operation, result, "r-1")))
    for path in sorted((ROOT / "fixtures" / "responses").glob("*.xml")):
        out.append((path.name.split(".")[0], path.read_bytes()))
    return out


def _mutate(body: bytes, rng: random.Random) -> bytes:
    for _ in range(rng.randint(0, 3)):
        if rng.random() < 0.6:
            tags = list(_TAG.finditer(body))
            if not tags:
                continue
            m = rng.choice(tags)
            slash, name, empty = m.group(1), m.group(2), m.group(3)
            edit = rng.randrange(7)
            new = [
                b"<" + slash + name + b' a="1"' + empty + b">",
                b"<" + slash + b"p:" + name + empty + b">",
                b"<" + slash + name + b"x" + empty + b">",
                b"",
                m.group(0) * 2,
                m.group(0) + rng.choice(_INSERTS),
                rng.choice(_INSERTS) + m.group(0),
            ][edit]
            body = body[: m.start()] + new + body[m.end() :]
        else:
            at = rng.randint(0, len(body))
            if rng.random() < 0.5:
                body = body[:at] + rng.choice(_INSERTS) + body[at:]
            else:
                body = body[:at] + body[at + rng.randint(1, 6) :]
    return body


def _lxml(operation: str, body: bytes) -> tuple[Any, ...]:
    try:
        return ("ok", _comparable(decoder_for(bundled_model(), operation).parse_tree(body, DEFAULT_LIMITS, None)))
    except ParseError:
        return ("ParseError",)
    except ServiceError as exc:
        return ("ServiceError", exc.code)


def _comparable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _outcome(fast: FastDecoder, body: bytes) -> tuple[Any, ...] | None:
    try:
        return ("ok", _comparable(fast.decode(body, DEFAULT_LIMITS)))
    except Fallback:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--documents", type=int, default=400, help="generated documents to mutate")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    documents = _documents(rng, args.documents)
    answered = fell_back = 0
    started = time.monotonic()
    tiers: dict[str, tuple[FastDecoder, FastDecoder] | None] = {}
    for n in range(args.cases):
        operation, body = rng.choice(documents)
        body = _mutate(body, rng)
        if operation not in tiers:  # both decoders of the operation: the table-driven and the generated one
            usable = fast_decoder(bundled_model(), operation, DEFAULT_LIMITS) is not None
            pair = [FastDecoder(bundled_model(), operation, DEFAULT_LIMITS, tier=t) for t in (1, 2)] if usable else []
            tiers[operation] = (pair[0], pair[1]) if pair else None
        outcomes = [_outcome(fast, body) for fast in tiers[operation] or ()]
        if outcomes and outcomes[0] != outcomes[1]:
            path = ROOT / "fuzz" / f"fastpath-tiers-{n}.xml"
            path.write_bytes(body)
            print(f"case {n}: the two fast decoders disagree on {operation}; written to {path.name}", file=sys.stderr)
            return 1
        got = outcomes[0] if outcomes else None
        if got is None:
            fell_back += 1
            continue
        answered += 1
        if got != _lxml(operation, body):
            path = ROOT / "fuzz" / f"fastpath-disagreement-{n}.xml"
            path.write_bytes(body)
            print(f"case {n}: the paths disagree on {operation}; written to {path.name}", file=sys.stderr)
            return 1
        if n and n % 100_000 == 0:
            print(f"{n:,} cases, {time.monotonic() - started:.0f} s", file=sys.stderr)
    seconds = time.monotonic() - started
    print(f"{args.cases:,} cases in {seconds:.0f} s: {answered:,} answered by the fast path, all equal to lxml's; "
          f"{fell_back:,} fell back")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
