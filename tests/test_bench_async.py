"""benchmarks/bench_async.py's report: the floor rows, the optional aiobotocore block, and their markdown."""

from __future__ import annotations

import copy
import importlib.util
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmarks_bench_async", ROOT / "benchmarks" / "bench_async.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _side(first_s: float, rss: float, throughput: float | None = None, **versions: str) -> dict[str, Any]:
    return {"first_s": first_s, "rss_first_mib": rss, "rss_peak_mib": rss + 1, "throughput": throughput} | versions


_MEASURED = {
    "other": "boto3-threads",
    "other_note": "aiobotocore is not installed; compared with boto3 in a thread pool instead",
    "summary": {
        "ec2codec-async": _side(0.160, 37.5, 1800.0, version="0.2.0"),
        "boto3-threads": _side(0.264, 65.0, 720.0, version="1.44.8", botocore="1.44.8"),
        "ec2codec-sync": _side(0.096, 32.5, version="0.2.0"),
        "boto3-sync": _side(0.288, 65.0, version="1.44.8", botocore="1.44.8"),
        "floor": _side(0.132, 34.5, version="3.14.5"),
    },
}
_META = {"date": "2026-01-01", "python": "Python 3.11.7", "machine": "x86_64, 2 cores", "runs": "3"}


def _report(bench: ModuleType, measured: dict[str, Any]) -> tuple[dict[str, Any], str]:
    tables = {
        "rows": bench.rows(measured, 64, 5000),
        "floor": bench.floor_rows(measured),
        "aiobotocore": bench.aiobotocore_rows(measured, 64, 5000),
    }
    return tables, bench.markdown(tables, measured, _META)


def test_floor_rows_bound_the_ratio_any_aiohttp_client_could_reach(bench: ModuleType) -> None:
    tables, text = _report(bench, _MEASURED)
    cold, rss = tables["floor"]
    assert (cold["what"], cold["unit"], rss["what"], rss["unit"]) == (
        "cold start",
        "s",
        "peak RSS at the first response",
        "MiB",
    )
    assert cold["above_floor"] == pytest.approx(0.028) and rss["above_floor"] == pytest.approx(3.0)
    assert cold["best_ratio"] == pytest.approx(2.0) and cold["target"] == pytest.approx(3.0)
    assert rss["best_ratio"] == pytest.approx(65 / 34.5) and rss["target"] == pytest.approx(2.0)
    assert tables["aiobotocore"] == [] and "Extra" not in text
    lines = text.splitlines()
    assert "| floor: asyncio + aiohttp + one raw request | 132 ms | 34.5 MiB |" in lines
    assert "| ec2codec above the floor | +28 ms | +3.0 MiB |" in lines
    assert "| best ratio any aiohttp client could reach: boto3 threads / floor | 2x | 1.88x |" in lines
    assert "| target (the sync Client's ratio against boto3) | ≥ 3x | ≥ 2x |" in lines
    assert "| reachable on aiohttp | no | no |" in lines
    # The comparison is unchanged: six rows against boto3 threads.
    assert [r["what"].split(":")[0] for r in tables["rows"]] == [
        "throughput",
        "cold start",
        "peak RSS at the first response",
        "peak RSS after the run",
        "sync reference, boto3 vs Client",
        "sync reference",
    ]


@pytest.mark.parametrize(
    ("floor_s", "above", "reachable"),
    [(0.050, "+110 ms", "yes"), (0.110, "+50 ms", "no"), (0.200, "-40 ms", "no")],
)
def test_reachable_and_signed_increment(bench: ModuleType, floor_s: float, above: str, reachable: str) -> None:
    measured = copy.deepcopy(_MEASURED)
    measured["summary"]["floor"]["first_s"] = floor_s
    measured["summary"]["boto3-threads"]["first_s"] = 0.300  # target 3x: reachable only below 100 ms
    _, text = _report(bench, measured)
    rows = {line.split(" | ")[0]: line.split(" | ")[1] for line in text.splitlines() if line.startswith("| ")}
    assert rows["| ec2codec above the floor"] == above
    assert rows["| reachable on aiohttp"] == reachable


def test_aiobotocore_block_is_extra_and_labelled(bench: ModuleType) -> None:
    measured = copy.deepcopy(_MEASURED)
    measured["summary"][bench.ALT] = _side(0.450, 75.0, 800.0, version="3.10.0", botocore="1.43.117", python="3.11.7")
    measured["summary"][bench.ALT_FLOOR] = _side(0.150, 34.0, version="3.14.5")
    tables, text = _report(bench, measured)
    assert tables["rows"] == _report(bench, _MEASURED)[0]["rows"]  # the comparison is not replaced
    alt = tables["aiobotocore"]
    assert [r["other"] for r in alt[:3]] == [800.0, 0.450, 75.0]
    assert alt[4]["ec2codec"] == 0.150 and alt[4]["ratio"] == pytest.approx(3.0)
    assert alt[5]["ec2codec"] == 34.0 and alt[5]["ratio"] == pytest.approx(75 / 34)
    assert "aiobotocore 3.10.0 with botocore 1.43.117, not the pinned botocore 1.44.8" in text
    assert "| what | aiobotocore 3.10.0 | ec2codec | ratio | target | met |" in text.splitlines()
    assert text.index("| what | boto3 threads |") < text.index("Extra, like for like")
