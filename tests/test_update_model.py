"""tools/update_model.py: the one command that refreshes every generated file and the pins, and says what changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ec2codec.model.service import compact_model, dump_bundle
from tests.conftest import ROOT, tool

DATA = ROOT / "ec2codec" / "model" / "_data"


def _recorded_versions() -> dict[str, str]:
    versions = {name: json.loads((DATA / name).read_text())["botocore_version"] for name in DATA.glob("*.json")}
    head = (DATA / "ec2.model").read_bytes().split(b"\n", 2)[1]
    versions["ec2.model"] = json.loads(head)["botocore_version"]
    return {str(k): v for k, v in versions.items()}


def test_the_pin_is_the_botocore_every_bundle_came_from() -> None:
    # Runs without botocore: the committed data and pyproject.toml cannot drift apart unnoticed.
    pins = tool("update_model").pins((ROOT / "pyproject.toml").read_text("utf-8"))
    assert set(_recorded_versions().values()) == {pins["botocore"]}
    assert pins["boto3"].split(".")[:2] == pins["botocore"].split(".")[:2]


def test_check_reports_no_change_against_the_committed_data(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    botocore = pytest.importorskip("botocore")
    recorded = set(_recorded_versions().values())
    if recorded != {botocore.__version__}:
        pytest.skip(f"data generated from botocore {recorded}, installed {botocore.__version__}")
    update = tool("update_model")
    # Each step's own --check has a test (bundles, client methods, every fixture folder); running
    # them again here would double the suite's longest checks, so the steps are only seen to be asked.
    asked: list[bool] = []
    monkeypatch.setattr(update, "_run_steps", lambda check: asked.append(check) or 0)
    assert update.main(["--check", botocore.__version__]) == 0
    assert asked == [True]
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("operations: ") and out[0].endswith(", no change")
    for what in ("shapes", "paginators", "waiters"):
        assert any(line.startswith(f"{what}: ") and line.endswith(", no change") for line in out), what
    assert "endpoint rule set: no change" in out
    assert out[-2].startswith("pins: no change (")
    assert out[-1] == "committed data is current"


def test_a_version_other_than_the_installed_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("botocore")
    assert tool("update_model").main(["--check", "0.0.1"]) == 2
    assert "is installed, not 0.0.1: pip install botocore==0.0.1" in capsys.readouterr().err


def test_pins_are_found_and_rewritten_in_place() -> None:
    update = tool("update_model")
    text = '    "botocore==1.43.11",\n    "boto3==1.43.11",  # same\n    "moto[server]==5.2.1",\n    "pytest>=8",\n'
    assert update.pins(text) == {"botocore": "1.43.11", "boto3": "1.43.11", "moto": "5.2.1"}
    rewritten = update.rewrite_pins(text, {"botocore": "1.44.8", "boto3": "1.44.8", "moto": "5.2.1"})
    assert rewritten == text.replace("1.43.11", "1.44.8")


def test_pins_must_agree_with_each_other(monkeypatch: pytest.MonkeyPatch) -> None:
    update = tool("update_model")
    requires = {"boto3": ["botocore<1.45.0,>=1.44.8", "s3transfer<0.20"], "botocore": ["urllib3"]}
    monkeypatch.setattr(update.metadata, "requires", lambda name: requires.get(name, []))
    update.check_consistent({"boto3": "1.44.8", "botocore": "1.44.8"})
    refused = r"boto3 1\.44\.8 requires botocore<1\.45\.0,>=1\.44\.8, but botocore 1\.43\.11 is installed"
    with pytest.raises(update.Unfit, match=refused):
        update.check_consistent({"boto3": "1.44.8", "botocore": "1.43.11"})
    with pytest.raises(update.Unfit, match=r"nosuchpackage is pinned in pyproject\.toml but not installed"):
        update.installed_versions(["nosuchpackage"])


def _bundle(version: str, operations: dict[str, Any], shapes: dict[str, Any]) -> bytes:
    raw = {"metadata": {"protocol": "ec2"}, "operations": operations, "shapes": shapes}
    return dump_bundle(compact_model(raw), botocore_version=version)


def _extras(key: str, table: dict[str, Any]) -> bytes:
    return json.dumps({"botocore_version": "x", key: table}).encode()


def test_report_names_what_was_added_removed_and_changed() -> None:
    update = tool("update_model")
    endpoints = {
        "ruleset": {"rules": []},
        "partitions": {"partitions": [{"id": "aws", "regions": ["us-east-1"], "outputs": {}}]},
    }
    moved = {**endpoints, "partitions": {"partitions": [{"id": "aws", "regions": ["me-west-1"], "outputs": {}}]}}
    old = {
        "model": _bundle("1.0", {"Keep": {"input": {"shape": "In"}}, "Gone": {}}, {"In": {"type": "string"}}),
        "paginators": _extras("pagination", {"Keep": {"input_token": "T"}}),
        "waiters": _extras("waiters", {"W": {"delay": 1}}),
        "endpoints": json.dumps(endpoints).encode(),
    }
    new = {
        "model": _bundle("2.0", {"Keep": {"input": {"shape": "In"}}, "New": {}}, {"In": {"type": "integer"}}),
        "paginators": _extras("pagination", {"Keep": {"input_token": "T"}, "New": {"input_token": "T"}}),
        "waiters": _extras("waiters", {"W": {"delay": 2}}),
        "endpoints": json.dumps(moved).encode(),
    }
    assert update.report(old, new) == [
        "EC2 model: botocore 1.0 -> 2.0",
        "operations: 2 -> 2 (1 added, 1 removed, 0 changed)",
        "  added (1): New",
        "  removed (1): Gone",
        "shapes: 1 -> 1 (0 added, 0 removed, 1 changed)",
        "  changed (1): In",
        "paginators: 1 -> 2 (1 added, 0 removed, 0 changed)",
        "  added (1): New",
        "waiters: 1 -> 1 (0 added, 0 removed, 1 changed)",
        "  changed (1): W",
        "endpoint rule set: no change",
        "partitions: 1 -> 1 (0 added, 0 removed, 1 changed)",
        "  aws: regions added me-west-1; removed us-east-1",
    ]


def test_every_generator_is_a_step() -> None:
    # A new tools/build_*.py that is neither a step nor run by build_fixtures would go stale silently.
    steps = set(tool("update_model").STEPS) | set(tool("build_fixtures").STEPS)
    assert steps == {p.stem for p in Path(ROOT / "tools").glob("build_*.py")}
