"""One benchmark run: ec2codec against botocore, side by side, for speed, cold start and memory.

Usage::

    python benchmarks/run.py                  # full run: prints the tables, writes nothing
    python benchmarks/run.py --update-readme  # ... and rewrites both tables in README.md
    python benchmarks/run.py --out DIR        # ... and writes DIR/latest.json and DIR/latest.md
    python benchmarks/run.py --quick          # everything once with small inputs (CI smoke test)

Every speed row times both libraries in this one process on the same input,
with repeats interleaved (a, b, a, b, ...) so load elsewhere on the machine hits
both alike, and reports the median seconds per call. Start-up and peak memory
are measured in fresh interpreters (``--child``), several runs, median. The
inputs and the per-area helpers come from the sibling scripts
(``bench_encode.py``, ``bench_parse.py``, ``bench_sign.py``), which remain
runnable on their own. Nothing here asserts a timing: targets are reported,
not enforced, so ``--quick`` in CI only proves the runner still works.
``--quick`` also runs the LocalEC2 load test (``load_localec2.py``, which has
no botocore side) for a second with 4 clients, and the async benchmark
(``bench_async.py``: AsyncClient against aiobotocore, or boto3 in a thread
pool) with 8 concurrent calls; each fails on any failed request.

Install footprint: this checkout is installed (``pip install --no-deps
--target``, byte-compiled as pip does) into a temporary folder, and each
distribution's size is the sum of the files its ``RECORD`` lists
(:mod:`importlib.metadata`); a run-time closure is the distribution plus its
requirements, transitively, for this interpreter and platform, extras left
out, as installed here. boto3's closure is measured the same way.
"""

from __future__ import annotations

import argparse
import compileall
import functools
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import bench_encode  # noqa: E402
import bench_parse  # noqa: E402
import bench_sign  # noqa: E402

import ec2codec  # noqa: E402
from ec2codec.auth.sigv4 import Credentials, sign  # noqa: E402

REFERENCE_PARAMS = json.loads((ROOT / "fixtures" / "requests" / "ImportSnapshot.params.json").read_text("utf-8"))
REFERENCE_RESPONSE = (ROOT / "fixtures" / "responses" / "ImportSnapshot.xml").read_bytes()
URL = "https://ec2.us-east-1.amazonaws.com/"
REGION = "us-east-1"
KEYS = (bench_sign.ACCESS_KEY, bench_sign.SECRET_KEY, bench_sign.TOKEN)
README_START, README_END = "<!-- benchmark-table:start -->", "<!-- benchmark-table:end -->"
FOOTPRINT_START, FOOTPRINT_END = "<!-- footprint-table:start -->", "<!-- footprint-table:end -->"

Row = dict[str, Any]


def _row(
    what: str, unit: str, botocore: float, ours: float, target: float | None, *, limit: float | None = None
) -> Row:
    """A table row; ``target`` is a least ratio, ``limit`` (instead) a most for the ec2codec column."""
    return {
        "what": what,
        "unit": unit,
        "botocore": botocore,
        "ec2codec": ours,
        "ratio": botocore / ours,
        "target": target,
        "limit": limit,
    }


def _cold(fns: list[Callable[[], object]], quick: bool, windows: int = 41) -> list[float]:
    """Median seconds of one call of each function with cold caches: a collection and 32 MiB of other
    memory touched before each window (one call), so neither the heap nor the CPU caches are warm."""
    import gc
    import time

    scratch = bytearray(32 << 20)
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(1 if quick else windows):
        for fn, runs in zip(fns, samples, strict=True):  # interleaved
            gc.collect()
            scratch[::64] = bytes(len(scratch) // 64)  # one write per cache line evicts the caches
            started = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - started)
    return [statistics.median(runs) for runs in samples]


def _speed(
    what: str, botocore_fn: Callable[[], object], ours_fn: Callable[[], object], target: float, quick: bool
) -> Row:
    boto, ours = bench_encode.per_call([botocore_fn, ours_fn], quick)
    return _row(what, "s/call", boto, ours, target)


def _botocore_client() -> Any:
    """A real botocore EC2 client whose HTTP layer answers from memory (the ``before-send`` stub)."""
    import botocore.session
    from botocore.awsrequest import AWSResponse

    class _Raw:
        def __init__(self, body: bytes) -> None:
            self.body = body

        def stream(self, **_: Any) -> Any:
            yield self.body

    client = botocore.session.get_session().create_client(
        "ec2", region_name=REGION, aws_access_key_id=KEYS[0], aws_secret_access_key=KEYS[1], aws_session_token=KEYS[2]
    )

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {}, _Raw(REFERENCE_RESPONSE))

    client.meta.events.register("before-send.ec2.ImportSnapshot", answer)
    return client


def _ec2codec_call() -> dict[str, Any]:
    req = ec2codec.request("ImportSnapshot", REFERENCE_PARAMS)
    creds = Credentials(*KEYS)
    sign(req.method, URL, req.headers, req.body, creds, REGION)
    return ec2codec.parse("ImportSnapshot", REFERENCE_RESPONSE)


def speed_rows(quick: bool) -> list[Row]:
    import botocore.auth
    import lxml.etree
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials
    from botocore.parsers import create_parser
    from botocore.session import get_session

    rows = []
    # The golden reference (fixtures/requests, timestamps as ISO strings, as
    # JSON carries them), the same kind of request built with datetime objects
    # (bench_encode.py), and a large RunInstances request.
    cases = [
        ("reference ImportSnapshot (golden params, ISO-string timestamps)", "ImportSnapshot", REFERENCE_PARAMS),
        ("reference ImportSnapshot built with datetime objects", *bench_encode.CASES[0][1:]),
        ("large RunInstances", *bench_encode.CASES[1][1:]),
    ]
    for short, operation, params in cases:
        boto_enc, ours_enc = bench_encode.botocore_encoder(operation), bench_encode.ec2codec_encoder(operation)
        assert boto_enc(params).encode() == ours_enc(params), short
        boto_fn = functools.partial(boto_enc, params)
        ours_fn = functools.partial(ours_enc, params)
        rows.append(_speed(f"encode: {short}", boto_fn, ours_fn, 10, quick))

    service = get_session().get_service_model("ec2")
    boto_parser = create_parser("ec2")
    tasks = bench_parse.import_snapshot_tasks(100 if quick else 1000, indent=True)
    documents = [
        ("parse: reference ImportSnapshotResponse", "ImportSnapshot", REFERENCE_RESPONSE, 5),
        ("parse: DescribeImportSnapshotTasks, 1,000 tasks", "DescribeImportSnapshotTasks", tasks, 5),
    ]
    for what, op, body, target in documents:
        shape = service.operation_model(op).output_shape
        response = {"body": body, "headers": {}, "status_code": 200}
        boto_fn = functools.partial(boto_parser.parse, response, shape)
        ours_fn = functools.partial(ec2codec.parse, op, body)
        rows.append(_speed(what, boto_fn, ours_fn, target, quick))
        boto_cold, ours_cold = _cold([boto_fn, ours_fn], quick)
        rows.append(_row(f"{what}, cold caches", "s/call", boto_cold, ours_cold, target))
    floor, ours = bench_encode.per_call(
        [functools.partial(lxml.etree.fromstring, tasks), functools.partial(ec2codec.parse, documents[1][1], tasks)],
        quick,
    )
    floor_row = "parse 1,000 tasks: bare lxml.etree.fromstring floor (botocore column; ratio >= 0.667 is within 1.5x)"
    rows.append(_row(floor_row, "s/call", floor, ours, 0.667))
    # What the fast path's screening costs a document it hands to lxml (here: one comment).
    from ec2codec.model.service import bundled_model
    from ec2codec.protocol._xmlsafety import DEFAULT_LIMITS
    from ec2codec.protocol.xml import decoder_for

    refused = REFERENCE_RESPONSE.replace(b"<requestId>", b"<!-- c --><requestId>", 1)
    decoder = decoder_for(bundled_model(), "ImportSnapshot")
    # Both through the same entry (the decoder's own methods), so the difference is what the fast path's
    # screening and the hand-over cost a document it refuses; parse()'s entry costs both alike.
    alone, whole = bench_encode.per_call(
        [
            functools.partial(decoder.parse_tree, refused, DEFAULT_LIMITS, None),
            functools.partial(decoder.parse_bytes, refused, DEFAULT_LIMITS, None),
        ],
        quick,
    )
    fallback_row = (
        "parse a document the fast path refuses (a comment): the lxml path alone (botocore column) "
        "vs screened first, then the lxml path"
    )
    rows.append(_row(fallback_row, "s/call", alone, whole, None))

    creds, boto_creds = Credentials(*KEYS), BotoCredentials(*KEYS)
    signer = botocore.auth.SigV4Auth(boto_creds, "ec2", REGION)

    def boto_sign() -> None:
        signer.add_auth(AWSRequest(method="POST", url=URL, headers=bench_sign.HEADERS, data=bench_sign.BODY))

    def ours_sign() -> None:
        sign("POST", URL, bench_sign.HEADERS, bench_sign.BODY, creds, REGION)

    rows.append(_speed("sign: reference request", boto_sign, ours_sign, 5, quick))
    client = _botocore_client()
    assert client.import_snapshot(**REFERENCE_PARAMS)["ImportTaskId"] == _ec2codec_call()["ImportTaskId"]
    boto_call = functools.partial(client.import_snapshot, **REFERENCE_PARAMS)
    rows.append(_speed("full call, no network: encode + sign + parse", boto_call, _ec2codec_call, 5, quick))
    return rows


# --- fresh-interpreter measurements -----------------------------------------------------------

_CHILD_CODE = {
    "ec2codec": (
        "import ec2codec\n"
        "from ec2codec.auth.sigv4 import Credentials, sign\n"
        "req = ec2codec.request('ImportSnapshot', PARAMS)\n"
        "sign(req.method, URL, req.headers, req.body, Credentials(*KEYS), REGION)\n"
        "result = ec2codec.parse('ImportSnapshot', RESPONSE)\n"
    ),
    # The process floor: the interpreter with lxml and OpenSSL (hashlib) loaded, nothing of ours.
    "floor": "import lxml.etree\nimport hashlib\nhashlib.sha256(b'x')\n",
    "botocore": (
        "import botocore.session\n"
        "from botocore.awsrequest import AWSResponse\n"
        "class Raw:\n"
        "    def stream(self, **kw):\n"
        "        yield RESPONSE\n"
        "client = botocore.session.get_session().create_client('ec2', region_name=REGION,\n"
        "    aws_access_key_id=KEYS[0], aws_secret_access_key=KEYS[1], aws_session_token=KEYS[2])\n"
        "client.meta.events.register('before-send.ec2.ImportSnapshot',\n"
        "    lambda request, **kw: AWSResponse(request.url, 200, {}, Raw()))\n"
        "result = client.import_snapshot(**PARAMS)\n"
    ),
}


def _fresh(which: str) -> dict[str, float]:
    # The child measures from its first line, so both sides exclude the same
    # interpreter start-up; only the inputs are read before the clock starts.
    script = (
        "import json, sys, time\n"
        f"scope = json.loads(sys.argv[1])\n"
        "scope['RESPONSE'] = scope['RESPONSE'].encode()\n"
        "scope['KEYS'] = tuple(scope['KEYS'])\n"
        "t0 = time.perf_counter()\n"
        f"exec({_CHILD_CODE[which]!r}, scope)\n"
        "elapsed = time.perf_counter() - t0\n"
        "rss = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
        "print(json.dumps({'seconds': elapsed, 'rss_kib': rss[0] if rss else 0}))\n"
    )
    scope = {"PARAMS": REFERENCE_PARAMS, "RESPONSE": REFERENCE_RESPONSE.decode(), "URL": URL, "REGION": REGION}
    scope["KEYS"] = list(KEYS)
    command = [sys.executable, "-c", script, json.dumps(scope)]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def fresh_rows(quick: bool) -> list[Row]:
    # An installed package is byte-compiled (pip does it, as it did for
    # botocore); a source checkout under PYTHONDONTWRITEBYTECODE is not, and
    # would time the compiler instead of the import.
    compileall.compile_dir(ROOT / "ec2codec", quiet=1)
    runs = 1 if quick else 7
    samples: dict[str, list[dict[str, float]]] = {"botocore": [], "ec2codec": [], "floor": []}
    for _ in range(runs):
        for which, runs_so_far in samples.items():  # interleaved, like the speed rows
            runs_so_far.append(_fresh(which))
    med = {
        which: {key: statistics.median(sample[key] for sample in runs_) for key in ("seconds", "rss_kib")}
        for which, runs_ in samples.items()
    }
    boto, ours, floor = med["botocore"], med["ec2codec"], med["floor"]
    cold = "cold start: import + first encode, sign, parse (fresh interpreter)"
    above = (
        f"peak RSS above the process floor (python + lxml + OpenSSL: {floor['rss_kib'] / 1024:.1f} MiB; "
        "ec2codec loads no lxml when the fast path answers)"
    )
    return [
        _row(cold, "s", boto["seconds"], ours["seconds"], 10),
        _row("peak RSS of that process", "MiB", boto["rss_kib"] / 1024, ours["rss_kib"] / 1024, 3),
        _row(
            above,
            "MiB",
            max(boto["rss_kib"] - floor["rss_kib"], 1) / 1024,
            max(ours["rss_kib"] - floor["rss_kib"], 1) / 1024,
            None,
            limit=3,
        ),
    ]


def streaming_rows(quick: bool) -> list[Row]:
    size = 2_000_000 if quick else 50_000_000
    traced = bench_parse._measure_memory(size, traced=True)
    rss = bench_parse._measure_memory(size, traced=False)
    doc, result = traced["document_bytes"], traced["result_bytes"]
    what = f"streaming DescribeInstances ({doc / 1e6:.0f} MB in 64 KiB chunks): tracemalloc peak vs result size"
    return [
        _row(what, "MB", result / 1e6, traced["tracemalloc_peak"] / 1e6, None),
        _row(
            "the same: growth of the RSS high-water mark vs result size",
            "MB",
            result / 1e6,
            max(rss["rss_growth"], 1) / 1e6,
            None,
        ),
    ]


# --- install footprint -------------------------------------------------------------------------

Sizes = dict[str, tuple[str, int]]  # distribution name -> (version, installed bytes)


def _installed_bytes(dist: Any) -> int:
    # RECORD lists every installed file, byte-compiled ones included; a file
    # removed since is not counted.
    total = 0
    for file in dist.files or ():
        path = Path(dist.locate_file(file))
        if path.is_file():
            total += path.stat().st_size
    return total


def _closure(name: str, places: list[str]) -> Sizes:
    """``name`` and its run-time requirements, transitively, found on ``places`` first, then the environment."""
    from importlib import metadata

    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    environment = {**default_environment(), "extra": ""}
    found: Sizes = {}
    todo = [name]
    while todo:
        wanted = canonicalize_name(todo.pop())
        if wanted in found:
            continue
        dists = list(metadata.distributions(name=wanted, path=places)) or [metadata.distribution(wanted)]
        dist = dists[0]
        found[wanted] = (dist.version, _installed_bytes(dist))
        for spec in dist.requires or ():
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                todo.append(requirement.name)
    return found


def footprint() -> dict[str, Sizes]:
    """Installed sizes of ec2codec's run-time closure (this checkout) and of boto3's."""
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp, "src"), Path(tmp, "site")
        # A copy, so the build leaves nothing in the checkout (pip builds in the tree it is given).
        shutil.copytree(ROOT / "ec2codec", source / "ec2codec", ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, source / name)
        command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(source)]
        subprocess.run(command, check=True, capture_output=True)
        ours = _closure("ec2codec", [str(target)])
    return {"ec2codec": ours, "boto3": _closure("boto3", [])}


def footprint_rows(sizes: dict[str, Sizes]) -> list[Row]:
    ours, theirs = sizes["ec2codec"], sizes["boto3"]
    package = ours["ec2codec"][1]
    sdk = theirs["boto3"][1] + theirs["botocore"][1]
    closure = "installed size: run-time closure (botocore column: boto3's)"
    return [
        _row("installed size: the package (botocore column: boto3 + botocore)", "MB", sdk / 1e6, package / 1e6, None),
        _row(closure, "MB", sum(s for _, s in theirs.values()) / 1e6, sum(s for _, s in ours.values()) / 1e6, None),
    ]


def footprint_markdown(sizes: dict[str, Sizes]) -> str:
    lines = ["| run-time closure | installed | distributions, largest first |", "| --- | ---: | --- |"]
    for root, closure in sizes.items():
        parts = sorted(closure.items(), key=lambda item: -item[1][1])
        listed = ", ".join(f"{name} {version} {size / 1e6:.2f} MB" for name, (version, size) in parts)
        total = sum(size for _, size in closure.values())
        lines.append(f"| {root} {closure[root][0]} | {total / 1e6:.1f} MB | {listed} |")
    lines.append("")
    lines.append(
        "Sizes are the files each distribution's RECORD lists (byte-compiled files included), "
        "ec2codec installed from this checkout with pip; closures follow Requires-Dist for this platform, no extras."
    )
    return "\n".join(lines) + "\n"


# --- output ------------------------------------------------------------------------------------


def _fmt(value: float, unit: str) -> str:
    if unit in {"s/call", "s"}:
        for scale, name in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
            if value >= scale:
                return f"{value / scale:.3g} {name}"
        return f"{value / 1e-9:.3g} ns"
    return f"{value:.1f} {unit}"


def markdown(rows: list[Row], meta: dict[str, str]) -> str:
    lines = [
        "| what | botocore | ec2codec | ratio | target | met |",
        "| --- | ---: | ---: | ---: | ---: | :---: |",
    ]
    for r in rows:
        target = "" if r["target"] is None else f"≥ {r['target']}x"
        # Three significant digits and an explicit verdict: a rounded 0.5x must not pass for 0.47x.
        met = "" if r["target"] is None else ("yes" if r["ratio"] >= r["target"] else "no")
        if r.get("limit") is not None:  # an absolute bound on the ec2codec column
            target = f"≤ {r['limit']} {r['unit']}"
            met = "yes" if r["ec2codec"] <= r["limit"] else "no"
        lines.append(
            f"| {r['what'].strip()} | {_fmt(r['botocore'], r['unit'])} | {_fmt(r['ec2codec'], r['unit'])} "
            f"| {r['ratio']:.3g}x | {target} | {met} |"
        )
    lines.append("")
    lines.append(
        f"Measured {meta['date']} with {meta['python']}, botocore {meta['botocore']}, {meta['machine']}. "
        "Ratio is botocore / ec2codec (higher is better for ec2codec); the floor row compares with bare "
        "lxml parsing and the streaming rows with the size of the resulting dict."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="run everything once with small inputs (CI)")
    out_help = "also write latest.json and latest.md into this folder (default: write no file)"
    parser.add_argument("--out", type=Path, help=out_help)
    parser.add_argument("--update-readme", action="store_true", help="rewrite both tables in README.md")
    args = parser.parse_args(argv)

    import botocore

    sizes = footprint()
    rows = speed_rows(args.quick) + fresh_rows(args.quick) + footprint_rows(sizes) + streaming_rows(args.quick)
    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "python": f"Python {platform.python_version()}",
        "botocore": botocore.__version__,
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
        "quick": str(args.quick),
    }
    table, footprint_table = markdown(rows, meta), footprint_markdown(sizes)
    print(table)
    print(footprint_table)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        document = {"meta": meta, "rows": rows, "footprint": sizes}
        (args.out / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
        (args.out / "latest.md").write_text(f"{table}\n{footprint_table}")
    if args.update_readme:
        readme = ROOT / "README.md"
        text = _replace_between(readme.read_text("utf-8"), README_START, README_END, table)
        readme.write_text(_replace_between(text, FOOTPRINT_START, FOOTPRINT_END, footprint_table), "utf-8")
    if args.quick:
        import bench_async
        import load_localec2

        async_args = ["--quick"] if args.out is None else ["--quick", "--out", str(args.out)]
        return load_localec2.main(["--quick"]) or bench_async.main(async_args)
    return 0


def _replace_between(text: str, start: str, end: str, body: str) -> str:
    head, found, rest = text.partition(start)
    if not found or end not in rest:
        raise SystemExit(f"README.md has no {start} ... {end} block to rewrite")
    return f"{head}{start}\n{body}{end}{rest.partition(end)[2]}"


if __name__ == "__main__":
    raise SystemExit(main())
