"""Write the seed corpora of the fuzz targets: the golden fixtures plus large generated documents.

``python3 fuzz/make_corpus.py [--out fuzz/corpus]`` writes one folder per
target (``parse``, ``stream``, ``decode_request``, ``verify``), replacing
the files it wrote before and leaving any others (libFuzzer's own finds) alone.

The response seeds are the golden responses and documents written by
``ec2codec.encode_response`` from those responses' results with their lists
repeated to 20-230 KB, so the fuzzer starts past the sizes where the decoder
changes behaviour (the prescan's 16 KiB window, the 64 KiB pruning step)
instead of growing inputs towards them. Variants put the root start tag's
end on either side of the 16 KiB window, escape the default namespace, and
hold one text node of about 100 KB. The ``stream`` seeds are the golden and
the DescribeImportSnapshotTasks documents, uncut, cut in thirds, and cut next
to each of those offsets after a head fed byte by byte (see ``fuzz_stream.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import fuzz_stream  # noqa: E402
import fuzz_verify  # noqa: E402

import ec2codec  # noqa: E402
from ec2codec.protocol._xmlsafety import MAX_HEAD  # noqa: E402

FIXTURES = HERE.parent / "fixtures"
TARGETS = ("parse", "stream", "decode_request", "verify")
SIZES = (20_000, 70_000, 140_000, 230_000)  # all under fuzz_parse.MAX_LEN
_PREFIX = "seed-"  # the files this script owns in each folder


def _grown(result: dict[str, Any], size: int, operation: str) -> bytes:
    """``result`` encoded with each top-level list repeated until the document is about ``size`` bytes."""
    lists = {k: v for k, v in result.items() if isinstance(v, list) and v}
    bare = len(ec2codec.encode_response(operation, {**result, **{key: [] for key in lists}}, "r-seed"))
    per_copy = len(ec2codec.encode_response(operation, result, "r-seed")) - bare
    times = max(1, -(-(size - bare) // max(per_copy, 1)))
    return ec2codec.encode_response(operation, {**result, **{k: v * times for k, v in lists.items()}}, "r-seed")


def _root_end(doc: bytes) -> int:
    return doc.index(b">", doc.index(b"Response")) + 1


def _variants(operation: str, doc: bytes) -> dict[str, bytes]:
    """Head variants of one document: root tag ending around MAX_HEAD, escaped namespace, no namespace."""
    end = _root_end(doc)
    out = {}
    for name, target in (("head-in", MAX_HEAD - 2), ("head-out", MAX_HEAD + 2)):
        pad = b' pad="' + b"p" * max(0, target - end - 7) + b'"'
        out[name] = doc[: end - 1] + pad + doc[end - 1 :]
    out["ns-escaped"] = doc.replace(b'xmlns="http://', b'xmlns="urn:a&amp;b:http://', 1)
    out["ns-none"] = doc.replace(b' xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"', b"", 1)
    out["prolog"] = doc.replace(b"?>\n", b"?>\n<!-- seed -->\n<?pi seed?>\n", 1)
    return out


def responses() -> dict[str, bytes]:
    """Name -> response document: the golden ones and the generated ones."""
    out = {path.name: path.read_bytes() for path in sorted((FIXTURES / "responses").glob("*.xml"))}
    for path in sorted((FIXTURES / "responses").glob("*.xml")):
        operation = path.name.split(".")[0]
        if b"<Errors>" in out[path.name]:
            continue
        result = ec2codec.parse(operation, out[path.name])
        result.pop("ResponseMetadata", None)
        if not any(isinstance(v, list) and v for v in result.values()):
            continue
        for size in SIZES:
            out[f"{operation}-{size // 1000}k.xml"] = _grown(result, size, operation)
        for name, doc in _variants(operation, _grown(result, SIZES[1], operation)).items():
            out[f"{operation}-{name}.xml"] = doc
    text = "caf\u00e9 & <b> \U0001d11e\r\n" * 5000  # one ~100 KB text node, escaped, multi-byte, CR
    out["ImportSnapshot-big-text.xml"] = ec2codec.encode_response("ImportSnapshot", {"Description": text}, "r-seed")
    out["error-long.xml"] = ec2codec.encode_error("InvalidParameter", "x" * 70_000, "r-seed")
    return out


def _cuts(doc: bytes) -> dict[str, list[int]]:
    end = _root_end(doc)
    size = len(doc)
    marks = [end - 1, end, end + 1, MAX_HEAD - 1, MAX_HEAD, MAX_HEAD + 1, 65535, 65536, 65537, 131072]
    return {
        "marks": sorted({m for m in marks if 0 < m < size})[:15],
        "thirds": [size // 3, 2 * size // 3],
        "none": [],
    }


def seeds(target: str) -> dict[str, bytes]:
    """File name -> seed input for one target."""
    if target == "parse":
        return responses()
    if target == "stream":
        out = {}
        for name, doc in responses().items():
            if "-" in name and not name.startswith(("DescribeImportSnapshotTasks-", "ImportSnapshot-big", "error")):
                continue  # generated documents of one list-heavy operation are enough here
            for kind, cuts in _cuts(doc).items():
                # bytewise: one byte at a time up to the first cut, the root tag's end
                out[f"{name}.{kind}"] = fuzz_stream.encode_input(doc, cuts, bytewise=kind == "marks")
        return out
    if target == "decode_request":
        return {path.name: path.read_bytes() for path in sorted((FIXTURES / "requests").glob("*.body"))}
    if target == "verify":
        return {path.name: path.read_bytes() for path in fuzz_verify.seeds()}
    raise ValueError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")


def write(out: Path, targets: tuple[str, ...] = TARGETS) -> dict[str, int]:
    """Write the seeds under ``out/<target>/``; the number written per target."""
    counts = {}
    for target in targets:
        folder = out / target
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(_PREFIX + "*"):
            old.unlink()
        found = seeds(target)
        for name, data in found.items():
            (folder / f"{_PREFIX}{name}").write_bytes(data)
        counts[target] = len(found)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "corpus", help="corpus root (default: fuzz/corpus)")
    parser.add_argument("targets", nargs="*", metavar="TARGET", help=f"of {', '.join(TARGETS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; expected some of {', '.join(TARGETS)}")
    for target, count in write(args.out, tuple(args.targets) or TARGETS).items():
        print(f"{args.out / target}: {count} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
