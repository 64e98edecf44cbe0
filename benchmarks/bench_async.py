"""Async benchmark: ec2codec.AsyncClient vs aiobotocore (or boto3 in a thread pool), N concurrent calls to LocalEC2.

Usage::

    python benchmarks/bench_async.py                 # 64 concurrent, 5,000 calls, 3 runs each; writes results/async.*
    python benchmarks/bench_async.py --concurrency 128 --calls 20000
    python benchmarks/bench_async.py --quick         # 8 concurrent, 200 calls, one run, no warm-up (smoke test)
    python benchmarks/bench_async.py --aiobotocore-python VENV/bin/python  # ... and an aiobotocore block

LocalEC2 (``python -m ec2codec serve``) runs in a child process holding a
few import tasks; each client runs in a fresh interpreter of its own, which
times itself from its first line (after reading its arguments) to the first
parsed ``DescribeImportSnapshotTasks`` response ("cold start"), records its
RSS high-water mark (``VmHWM``) at that point and after the run, and then
keeps N calls in flight until all are answered ("throughput").

The other side is aiobotocore when an installed release accepts the
installed botocore (its ``botocore`` requirement is checked at run time, and
a client that still fails falls back); otherwise boto3 with a thread pool of
N workers, the usual way to get concurrency from it. Both get N pooled
connections. For the targets, the sync pair (``ec2codec.Client`` against a
boto3 client, first response only) is measured in the same way: the async
client's cold-start and RSS ratios should be at least the sync client's, and
its throughput at least the other side's.

The floor is what any aiohttp client pays before its first answer: a fresh
interpreter, measured as the clients are, that imports asyncio and aiohttp,
opens a ``ClientSession`` and sends the same ``DescribeImportSnapshotTasks``
once (signed beforehand by this script), reading the body without parsing it.
The other side's cost over that floor is the best ratio any client on aiohttp
could reach; the report shows it next to the target, and ec2codec's own cost
above the floor.

``--aiobotocore-python`` runs aiobotocore (and the floor again) with another
interpreter, e.g. a venv holding a release whose botocore is not the pinned
one; that is reported as an extra block and never replaces the comparison
above. Nothing is asserted: any failed call makes the exit status 1, timings
never do.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import async_children  # noqa: E402
import load_localec2  # noqa: E402

import ec2codec  # noqa: E402

REGION = "us-east-1"
TASKS = 5  # import tasks in LocalEC2: each answer lists them all (about 3 KB)

# Labels of the extra block: the same scripts run by the --aiobotocore-python interpreter.
ALT, ALT_FLOOR = "aiobotocore (--aiobotocore-python)", "floor (--aiobotocore-python)"


def aiobotocore_status() -> tuple[bool, str]:
    """Whether aiobotocore is installed and accepts the installed botocore, and why not."""
    from importlib.metadata import PackageNotFoundError, requires, version

    try:
        release = version("aiobotocore")
        botocore_version = version("botocore")
    except PackageNotFoundError as exc:
        return False, f"{exc.name} is not installed"
    wanted = [r for r in requires("aiobotocore") or [] if r.replace(" ", "").startswith("botocore")]
    try:
        from packaging.requirements import Requirement
    except ImportError:  # cannot tell: try it, and fall back if the child fails
        return True, f"aiobotocore {release}"
    for requirement in wanted:
        spec = Requirement(requirement)
        if spec.name == "botocore" and not spec.specifier.contains(botocore_version, prereleases=True):
            return (
                False,
                f"aiobotocore {release} needs botocore{spec.specifier}, botocore {botocore_version} is installed",
            )
    return True, f"aiobotocore {release}"


def _signed_request(url: str, credentials: ec2codec.Credentials) -> dict[str, Any]:
    """The floor's request: what the clients send, signed here, so the floor child neither encodes nor signs."""
    request = ec2codec.request("DescribeImportSnapshotTasks")
    target = request.url(url)
    headers = ec2codec.sign(request.method, target, request.headers, request.body, credentials, REGION)
    return {"method": request.method, "url": target, "headers": headers, "body": request.body.decode()}


def child(  # noqa: PLR0917
    kind: str,
    url: str,
    credentials: ec2codec.Credentials,
    concurrency: int,
    calls: int,
    python: str = sys.executable,
) -> dict[str, Any]:
    config = {"region": REGION, "url": url, "key": credentials.access_key, "secret": credentials.secret_key}
    config |= {"concurrency": concurrency, "calls": calls}
    if kind == "floor":
        config |= _signed_request(url, credentials)  # signed just before: well inside the allowed clock skew
    script = async_children.script(kind)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    if python != sys.executable:  # another interpreter brings its own packages: nothing of this checkout's
        del env["PYTHONPATH"]
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        env.pop(name, None)
    command = [python, "-c", script, json.dumps(config)]
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else '?'}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _median(samples: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(sample[key] for sample in samples))


def measure(
    concurrency: int, calls: int, runs: int, aiobotocore_python: str | None = None, *, warm: bool = True
) -> dict[str, Any]:
    """Every contender ``runs`` times (interleaved), against one LocalEC2 child process; ``warm``: once before."""
    # Installed packages are byte-compiled; a source checkout (PYTHONDONTWRITEBYTECODE) would time the compiler.
    compileall.compile_dir(ROOT / "ec2codec", quiet=1)
    usable, other_note = aiobotocore_status()
    other = "aiobotocore" if usable else "boto3-threads"
    with load_localec2.local_server(in_process=False, max_tasks=None) as (url, credentials):
        with ec2codec.Client(REGION, url, credentials, environ={}) as setup:
            for n in range(TASKS):
                disk = {"Format": "VHD", "UserBucket": {"S3Bucket": "bench", "S3Key": f"disks/{n}.vhd"}}
                setup.import_snapshot(DiskContainer=disk, Description=f"benchmark disk {n}")
        if other == "aiobotocore":
            try:
                child(other, url, credentials, 1, 0)
            except RuntimeError as exc:
                other, other_note = "boto3-threads", f"{other_note}, but its client failed ({exc})"
        # label: (script, interpreter); the first two, and ALT, keep ``concurrency`` calls in flight.
        plan = {k: (k, sys.executable) for k in ("ec2codec-async", other, "ec2codec-sync", "boto3-sync", "floor")}
        loaded = {"ec2codec-async", other, ALT}
        if aiobotocore_python is not None:
            plan |= {ALT: ("aiobotocore", aiobotocore_python), ALT_FLOOR: ("floor", aiobotocore_python)}

        def run(label: str, n: int, c: int) -> dict[str, Any]:
            kind, python = plan[label]
            try:
                return child(kind, url, credentials, n, c, python)
            except RuntimeError as exc:
                if python == sys.executable:
                    raise
                raise SystemExit(f"--aiobotocore-python {python}: {exc}") from exc

        for label in plan if warm else ():  # warm the page cache (a smoke test need not)
            run(label, 1, 0)
        samples: dict[str, list[dict[str, Any]]] = {label: [] for label in plan}
        for _ in range(runs):
            for label in plan:
                samples[label].append(run(label, *((concurrency, calls) if label in loaded else (1, 0))))
    if other == "boto3-threads" and "boto3" not in other_note:
        other_note += "; compared with boto3 in a thread pool instead"
    summary = {
        label: {
            "first_s": _median(runs_, "first_s"),
            "rss_first_mib": _median(runs_, "rss_first_kib") / 1024,
            "rss_peak_mib": _median(runs_, "rss_peak_kib") / 1024,
            "throughput": statistics.median(r["calls"] / r["seconds"] for r in runs_) if runs_[0]["calls"] else None,
            "errors": sum(r["errors"] for r in runs_),
            "version": runs_[0]["version"],
            "botocore": runs_[0]["botocore"],
            "python": runs_[0]["python"],
        }
        for label, runs_ in samples.items()
    }
    return {"other": other, "other_note": other_note, "summary": summary}


def _row(  # noqa: PLR0917
    what: str, unit: str, them: float, us: float, ratio: float, target: float | None
) -> dict[str, Any]:
    return {"what": what, "unit": unit, "other": them, "ec2codec": us, "ratio": ratio, "target": target}


def _targets(s: dict[str, Any]) -> tuple[float, float]:
    """The issue's cold-start and RSS targets: the sync Client's ratios against boto3, from the same run."""
    sync, boto = s["ec2codec-sync"], s["boto3-sync"]
    return boto["first_s"] / sync["first_s"], boto["rss_first_mib"] / sync["rss_first_mib"]


def _contest(
    ours: dict[str, Any], theirs: dict[str, Any], s: dict[str, Any], concurrency: int, calls: int
) -> list[dict[str, Any]]:
    sync_cold, sync_rss = _targets(s)
    return [
        _row(
            f"throughput: {concurrency} concurrent DescribeImportSnapshotTasks, {calls:,} calls",
            "calls/s", theirs["throughput"], ours["throughput"], ours["throughput"] / theirs["throughput"], 1.0,
        ),
        _row(
            "cold start: fresh interpreter to the first parsed response",
            "s", theirs["first_s"], ours["first_s"], theirs["first_s"] / ours["first_s"], sync_cold,
        ),
        _row(
            "peak RSS at the first response",
            "MiB", theirs["rss_first_mib"], ours["rss_first_mib"], theirs["rss_first_mib"] / ours["rss_first_mib"],
            sync_rss,
        ),
        _row(
            "peak RSS after the run",
            "MiB", theirs["rss_peak_mib"], ours["rss_peak_mib"], theirs["rss_peak_mib"] / ours["rss_peak_mib"], None,
        ),
    ]  # fmt: skip


def rows(measured: dict[str, Any], concurrency: int, calls: int) -> list[dict[str, Any]]:
    """The issue's comparison: AsyncClient against the other side, and the sync pair that sets the targets."""
    s = measured["summary"]
    sync, boto = s["ec2codec-sync"], s["boto3-sync"]
    sync_cold, sync_rss = _targets(s)
    return [
        *_contest(s["ec2codec-async"], s[measured["other"]], s, concurrency, calls),
        _row("sync reference, boto3 vs Client: cold start", "s", boto["first_s"], sync["first_s"], sync_cold, None),
        _row("sync reference: peak RSS at the first response", "MiB", boto["rss_first_mib"], sync["rss_first_mib"],
             sync_rss, None),
    ]  # fmt: skip


def floor_rows(measured: dict[str, Any]) -> list[dict[str, Any]]:
    """Cold start and RSS at the first response: the floor, ec2codec above it, the best ratio on aiohttp."""
    s = measured["summary"]
    floor, ours, theirs = s["floor"], s["ec2codec-async"], s[measured["other"]]
    return [
        {
            "what": what,
            "unit": unit,
            "floor": floor[key],
            "ec2codec": ours[key],
            "above_floor": ours[key] - floor[key],
            "other": theirs[key],
            "best_ratio": theirs[key] / floor[key],
            "target": target,
        }
        for what, unit, key, target in zip(
            ("cold start", "peak RSS at the first response"),
            ("s", "MiB"),
            ("first_s", "rss_first_mib"),
            _targets(s),
            strict=True,
        )
    ]


def aiobotocore_rows(measured: dict[str, Any], concurrency: int, calls: int) -> list[dict[str, Any]]:
    """The extra block: AsyncClient (the same runs) against aiobotocore in the other interpreter, and its floor."""
    s = measured["summary"]
    if ALT not in s:
        return []
    theirs, floor = s[ALT], s[ALT_FLOOR]
    sync_cold, sync_rss = _targets(s)
    label = f"floor: asyncio + aiohttp {floor['version']} + one raw request in that interpreter"
    best = "ec2codec column: the floor; ratio: the best any aiohttp client could reach"
    return [
        *_contest(s["ec2codec-async"], theirs, s, concurrency, calls),
        _row(f"{label}, cold start ({best})", "s", theirs["first_s"], floor["first_s"],
             theirs["first_s"] / floor["first_s"], sync_cold),
        _row("the same floor: peak RSS at the first response (ec2codec column: the floor)", "MiB",
             theirs["rss_first_mib"], floor["rss_first_mib"], theirs["rss_first_mib"] / floor["rss_first_mib"],
             sync_rss),
    ]  # fmt: skip


def _fmt(value: float, unit: str, sign: str = "") -> str:
    if unit == "s":
        return f"{value * 1000:{sign}.0f} ms"
    if unit == "calls/s":
        return f"{value:,.0f}/s"
    return f"{value:{sign}.1f} {unit}"


def _table(name: str, table: list[dict[str, Any]]) -> list[str]:
    lines = [f"| what | {name} | ec2codec | ratio | target | met |", "| --- | ---: | ---: | ---: | ---: | :---: |"]
    for r in table:
        target = "" if r["target"] is None else f"≥ {r['target']:.3g}x"
        met = "" if r["target"] is None else ("yes" if r["ratio"] >= r["target"] else "no")
        lines.append(
            f"| {r['what']} | {_fmt(r['other'], r['unit'])} | {_fmt(r['ec2codec'], r['unit'])} "
            f"| {r['ratio']:.3g}x | {target} | {met} |"
        )
    return lines


def _floor_table(name: str, floor: list[dict[str, Any]]) -> list[str]:
    cells = [
        ("floor: asyncio + aiohttp + one raw request", [_fmt(f["floor"], f["unit"]) for f in floor]),
        ("ec2codec above the floor", [_fmt(f["above_floor"], f["unit"], "+") for f in floor]),
        (f"best ratio any aiohttp client could reach: {name} / floor", [f"{f['best_ratio']:.3g}x" for f in floor]),
        ("target (the sync Client's ratio against boto3)", [f"≥ {f['target']:.3g}x" for f in floor]),
        ("reachable on aiohttp", ["yes" if f["best_ratio"] >= f["target"] else "no" for f in floor]),
    ]
    lines = ["| " + " | ".join(["what any aiohttp client pays", *(f["what"] for f in floor)]) + " |"]
    lines.append("| --- |" + " ---: |" * len(floor))
    lines += ["| " + " | ".join([what, *values]) + " |" for what, values in cells]
    return lines


def markdown(tables: dict[str, list[dict[str, Any]]], measured: dict[str, Any], meta: dict[str, str]) -> str:
    s, other = measured["summary"], measured["other"]
    name = f"aiobotocore {s[other]['version']}" if other == "aiobotocore" else "boto3 threads"
    lines = [*_table(name, tables["rows"]), "", *_floor_table(name, tables["floor"]), ""]
    if tables["aiobotocore"]:
        alt = s[ALT]
        lines += [
            f"Extra, like for like (not the comparison the targets are defined on): aiobotocore {alt['version']} "
            f"with botocore {alt['botocore']}, not the pinned botocore {s['boto3-sync']['botocore']}, run by "
            f"another interpreter (Python {alt['python']}); the ec2codec column holds the same runs as above.",
            "",
            *_table(f"aiobotocore {alt['version']}", tables["aiobotocore"]),
            "",
        ]
    lines.append(
        f"Measured {meta['date']} with {meta['python']}, {meta['machine']}; LocalEC2 in its own process; "
        f"median of {meta['runs']} run(s) each. Ratios are ec2codec's advantage (higher is better); the "
        "cold-start and RSS targets are the sync client's ratios against boto3 from the same run. "
        f"Other side: {measured['other_note']}. The floor (aiohttp {s['floor']['version']}) is a fresh "
        "interpreter, measured as the clients are, that imports asyncio and aiohttp, opens a ClientSession and "
        "sends the same signed request once, reading the body unparsed: no client on aiohttp starts faster or "
        "smaller, so the other side over the floor bounds the ratio any of them could reach."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=64, help="calls in flight (default: 64)")
    parser.add_argument("--calls", type=int, default=5000, help="calls per run (default: 5,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per contender, median reported (default: 3)")
    parser.add_argument(
        "--quick", action="store_true", help="8 concurrent, 200 calls, one run, no warm-up (smoke test)"
    )
    parser.add_argument("--out", type=Path, help="folder for async.json / async.md (default: benchmarks/results)")
    parser.add_argument(
        "--aiobotocore-python",
        metavar="PATH",
        help="also run aiobotocore with this interpreter (e.g. a venv's python), reported as an extra block",
    )
    args = parser.parse_args(argv)
    if args.aiobotocore_python is not None and shutil.which(args.aiobotocore_python) is None:
        parser.error(f"--aiobotocore-python: {args.aiobotocore_python} is not an executable")
    concurrency, calls, runs = (8, 200, 1) if args.quick else (args.concurrency, args.calls, args.runs)
    started = time.perf_counter()
    measured = measure(concurrency, calls, runs, args.aiobotocore_python, warm=not args.quick)
    tables = {
        "rows": rows(measured, concurrency, calls),
        "floor": floor_rows(measured),
        "aiobotocore": aiobotocore_rows(measured, concurrency, calls),
    }
    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "python": f"Python {platform.python_version()}",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "runs": str(runs),
        "quick": str(args.quick),
        "seconds": f"{time.perf_counter() - started:.0f}",
    }
    text = markdown(tables, measured, meta)
    print(text)
    out = args.out or (Path(tempfile.mkdtemp()) if args.quick else HERE / "results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "async.json").write_text(json.dumps({"meta": meta, "measured": measured, **tables}, indent=2) + "\n")
    (out / "async.md").write_text(text)
    errors = {kind: s["errors"] for kind, s in measured["summary"].items() if s["errors"]}
    if errors:
        print(f"failed calls: {errors}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
