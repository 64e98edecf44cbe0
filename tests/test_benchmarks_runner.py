"""benchmarks/run.py's bookkeeping: install footprint from RECORD files, and the README blocks it rewrites."""

from __future__ import annotations

import importlib.util
import sys
from importlib import metadata
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    pytest.importorskip("packaging")
    spec = importlib.util.spec_from_file_location("benchmarks_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_closure_follows_requirements_for_this_platform(runner: ModuleType) -> None:
    closure = runner._closure("requests", [])
    assert {"requests", "urllib3", "idna", "charset-normalizer", "certifi"} <= set(closure)
    version, size = closure["requests"]
    assert version == metadata.version("requests")
    # The size is what RECORD lists: every file of the distribution, nothing else.
    dist = metadata.distribution("requests")
    listed = [Path(str(dist.locate_file(f))) for f in dist.files or ()]
    assert size == sum(p.stat().st_size for p in listed if p.is_file()) > 0
    if sys.platform != "win32":
        assert "colorama" not in runner._closure("tqdm", [])  # tqdm needs it on Windows only


def test_footprint_tables(runner: ModuleType) -> None:
    sizes = {
        "ec2codec": {"ec2codec": ("0.2.0", 2_500_000), "lxml": ("6.0", 12_000_000)},
        "boto3": {"boto3": ("1.44.8", 1_000_000), "botocore": ("1.44.8", 24_000_000), "six": ("1.17", 80_000)},
    }
    package, closure = runner.footprint_rows(sizes)
    assert (package["botocore"], package["ec2codec"]) == (25.0, 2.5)
    assert (closure["botocore"], closure["ec2codec"]) == (25.08, 14.5)
    table = runner.footprint_markdown(sizes).splitlines()
    assert table[2] == "| ec2codec 0.2.0 | 14.5 MB | lxml 6.0 12.00 MB, ec2codec 0.2.0 2.50 MB |"
    assert table[3].startswith("| boto3 1.44.8 | 25.1 MB | botocore 1.44.8 24.00 MB, boto3 1.44.8 1.00 MB, six")


def test_readme_blocks_are_replaced_in_place(runner: ModuleType) -> None:
    text = "intro\n<!-- a -->\nold\n<!-- b -->\nafter\n"
    assert (
        runner._replace_between(text, "<!-- a -->", "<!-- b -->", "new\n")
        == "intro\n<!-- a -->\nnew\n<!-- b -->\nafter\n"
    )
    with pytest.raises(SystemExit, match="no <!-- c -->"):
        runner._replace_between(text, "<!-- c -->", "<!-- b -->", "x")
    readme = (ROOT / "README.md").read_text("utf-8")
    for start, end in [(runner.README_START, runner.README_END), (runner.FOOTPRINT_START, runner.FOOTPRINT_END)]:
        assert readme.index(start) < readme.index(end)
