"""The request side of the public API: golden bodies, validation messages, model loading, import cost."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ec2codec
from ec2codec.model.service import bundled_model
from tests.conftest import ROOT, tool
from tests.goldens import FIXTURES

REQUESTS = sorted((FIXTURES / "requests").glob("*.params.json"))


def _operation(params_file: Path) -> str:
    return params_file.name.removesuffix(".params.json").split("-")[0]


def test_request_fixtures_exist() -> None:
    ops = {_operation(p) for p in REQUESTS}
    assert {"ImportSnapshot", "DescribeImportSnapshotTasks", "CancelImportTask"} <= ops


@pytest.mark.parametrize("params_file", REQUESTS, ids=lambda p: p.name.removesuffix(".params.json"))
def test_golden_body(params_file: Path) -> None:
    expected = params_file.with_name(params_file.name.removesuffix(".params.json") + ".body").read_bytes()
    params = json.loads(params_file.read_text("utf-8"))
    assert ec2codec.encode(_operation(params_file), params) == expected


def test_reference_import_snapshot_uses_every_parameter() -> None:
    params = json.loads((FIXTURES / "requests" / "ImportSnapshot.params.json").read_text("utf-8"))
    model = bundled_model()
    members = model.shape(model.operation("ImportSnapshot").input or "").get("members", {})
    assert set(params) == set(members)
    assert set(params["ClientData"]) == {"Comment", "UploadEnd", "UploadSize", "UploadStart"}
    assert len(params["TagSpecifications"][0]["Tags"]) == 5


def test_serialize_order_and_head() -> None:
    pairs = ec2codec.serialize("CreateTags", {"Tags": [{"Value": "v", "Key": "k"}], "Resources": ["r-1"]})
    assert pairs == [
        ("Action", "CreateTags"),
        ("Version", "2016-11-15"),
        ("Tag.1.Value", "v"),
        ("Tag.1.Key", "k"),
        ("ResourceId.1", "r-1"),
    ]


@pytest.mark.parametrize(
    ("operation", "params", "problems"),
    [
        (
            "ImportSnapshot",
            {"TagSpecifications": [{"Tags": [{"Key": "a"}, {"Key": "b"}, {"Key": 5}]}]},
            [("TagSpecifications[0].Tags[2].Key", "expected str, got int")],
        ),
        ("ImportSnapshot", {"DryRun": "yes"}, [("DryRun", "expected bool, got str")]),
        (
            "ImportSnapshot",
            {"Bogus": 1},
            [
                (
                    "Bogus",
                    "unknown member (valid: ClientData, ClientToken, Description, "
                    "DiskContainer, DryRun, Encrypted, KmsKeyId, RoleName, TagSpecifications)",
                )
            ],
        ),
        ("CancelImportTask", {}, []),  # valid: no required members
        ("CreateTags", {"Resources": ["r"]}, [("Tags", "missing required member")]),
        ("CreateTags", {"Resources": "r", "Tags": []}, [("Resources", "expected list or tuple, got str")]),
        ("DescribeImportSnapshotTasks", {"MaxResults": True}, [("MaxResults", "expected int, got bool")]),
        ("DescribeImportSnapshotTasks", {"MaxResults": 1.0}, [("MaxResults", "expected int, got float")]),
        ("DescribeImportSnapshotTasks", {"MaxResults": None}, [("MaxResults", "expected int, got NoneType")]),
        (
            "ImportSnapshot",
            {"Description": "bad \ud800 surrogate"},
            [("Description", "cannot be encoded as UTF-8 (surrogates not allowed at index 4)")],
        ),
        (
            "ImportSnapshot",
            {"ClientData": {"UploadSize": True}},
            [("ClientData.UploadSize", "expected float, int or Decimal, got bool")],
        ),
        (
            "ImportSnapshot",
            {"ClientData": {"UploadStart": "next tuesday"}},
            [("ClientData.UploadStart", "not a timestamp: not a timestamp: 'next tuesday'")],
        ),
        ("ImportSnapshot", "not a dict", [("(parameters)", "expected dict, got str")]),
    ],
)
def test_validation_problems(operation: str, params: Any, problems: list[tuple[str, str]]) -> None:
    if not problems:
        ec2codec.encode(operation, params)
        return
    with pytest.raises(ec2codec.ValidationError) as info:
        ec2codec.encode(operation, params)
    assert info.value.problems == problems
    assert isinstance(info.value, ValueError)
    for path, message in problems:
        assert f"{path}: {message}" in str(info.value)


def test_every_problem_is_reported_and_nothing_emitted() -> None:
    params = {"Resources": [1, "ok", None], "Tags": [{"Key": "k", "Value": 2}], "Extra": True}
    with pytest.raises(ec2codec.ValidationError) as info:
        ec2codec.serialize("CreateTags", params)
    assert [p for p, _ in info.value.problems] == ["Resources[0]", "Resources[2]", "Tags[0].Value", "Extra"]


def test_min_constraints() -> None:
    model = ec2codec.load_model(
        {
            "metadata": {"protocol": "ec2", "apiVersion": "2020-01-01"},
            "operations": {"Op": {"name": "Op", "input": {"shape": "In"}}},
            "shapes": {
                "In": {"type": "structure", "members": {"S": {"shape": "S"}, "L": {"shape": "L"}, "N": {"shape": "N"}}},
                "S": {"type": "string", "min": 2},
                "L": {"type": "list", "member": {"shape": "S"}, "min": 1},
                "N": {"type": "integer", "min": 0},
            },
        }
    )
    assert model.encode("Op", {"S": "ab", "L": ["cd"], "N": 0}) == b"Action=Op&Version=2020-01-01&S=ab&L.1=cd&N=0"
    with pytest.raises(ec2codec.ValidationError) as info:
        model.encode("Op", {"S": "a", "L": [], "N": -1})
    assert info.value.problems == [
        ("S", "length 1 is below the minimum 2"),
        ("L", "length 0 is below the minimum 1"),
        ("N", "-1 is below the minimum 0"),
    ]


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (1.5, "1.5"),
        (10**20, "100000000000000000000"),
        (Decimal("1.10"), "1.10"),
        (float("nan"), "NaN"),
        (float("-inf"), "-Infinity"),
        (1e16, "1e%2B16"),
    ],
)
def test_float_wire_forms(value: object, wire: str) -> None:
    body = ec2codec.encode("ImportSnapshot", {"ClientData": {"UploadSize": value}})
    assert body.endswith(b"ClientData.UploadSize=" + wire.encode())


def test_unknown_operation_and_params_for_no_input() -> None:
    with pytest.raises(ec2codec.ValidationError, match="unknown operation 'NoSuchThing'"):
        ec2codec.encode("NoSuchThing", {})
    assert "ImportSnapshot" in ec2codec.operations()
    assert len(ec2codec.operations()) == 830


def test_load_model_sources(tmp_path: Path) -> None:
    raw = {
        "metadata": {"protocol": "ec2", "apiVersion": "2020-01-01"},
        "operations": {"Ping": {"name": "Ping"}},
        "shapes": {},
    }
    path = tmp_path / "service-2.json"
    path.write_text(json.dumps(raw))
    for source in (raw, path, str(path)):
        model = ec2codec.load_model(source)
        assert model.operations() == ["Ping"]
        assert model.encode("Ping") == b"Action=Ping&Version=2020-01-01"
        with pytest.raises(ec2codec.ValidationError, match="takes no parameters"):
            model.encode("Ping", {"X": 1})
    with pytest.raises(ec2codec.ModelError, match="ec2 protocol"):
        ec2codec.load_model({**raw, "metadata": {"protocol": "json"}})
    with pytest.raises(ec2codec.ModelError, match="cannot read"):
        ec2codec.load_model(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ec2codec.ModelError, match="not JSON"):
        ec2codec.load_model(tmp_path / "bad.json")


def test_bundle_round_trips_through_load_model() -> None:
    bundle = ROOT / "ec2codec" / "model" / "_data" / "ec2.model"
    model = ec2codec.load_model(bundle)
    params = json.loads((FIXTURES / "requests" / "CreateTags.params.json").read_text("utf-8"))
    assert model.encode("CreateTags", params) == ec2codec.encode("CreateTags", params)


def test_bundled_model_is_current() -> None:
    botocore = pytest.importorskip("botocore")
    recorded = bundled_model().provenance["botocore_version"]
    if botocore.__version__ != recorded:
        pytest.skip(f"bundle generated from botocore {recorded}, installed {botocore.__version__}")
    assert tool("build_model").main(["--check"]) == 0, "run python tools/build_model.py"


def test_request_fixture_bodies_are_current() -> None:
    pytest.importorskip("botocore")
    assert tool("build_request_fixtures").main(["--check"]) == 0


def test_cli_encode(tmp_path: Path) -> None:
    params = FIXTURES / "requests" / "ImportSnapshot.params.json"
    run = [sys.executable, "-m", "ec2codec", "encode", "ImportSnapshot"]
    ok = subprocess.run([*run, f"@{params}"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert ok.returncode == 0
    assert ok.stdout.encode() == (FIXTURES / "requests" / "ImportSnapshot.body").read_bytes()  # exactly, no newline
    bad_json = subprocess.run([*run, "{nope"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert bad_json.returncode == 2
    assert bad_json.stderr.startswith("ec2codec: error: PARAMS is not valid JSON")
    invalid = subprocess.run([*run, '{"DryRun": 1}'], capture_output=True, text=True, cwd=ROOT, check=False)
    assert invalid.returncode == 1
    assert (
        invalid.stderr
        == "ec2codec: invalid parameters for ImportSnapshot: DryRun: expected true or false, got an integer\n"
    )
