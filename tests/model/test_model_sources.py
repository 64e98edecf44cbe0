"""Models from disk: botocore's ``service-2.json.gz``, its ``data/ec2`` folder and companions, ``EC2CODEC_MODEL``."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ec2codec
from ec2codec.client.pagination import load_paginator, paginate, paginator_names
from ec2codec.client.waiters import load_waiter, wait, waiter_names
from ec2codec.model import service
from ec2codec.model.service import MODEL_ENV, bundled_model, model_from_environment
from tests.conftest import ROOT


def _model(version: str, *operations: str) -> dict[str, Any]:
    return {
        "metadata": {"protocol": "ec2", "apiVersion": version, "serviceId": "EC2"},
        "operations": {name: {"name": name, "http": {"method": "POST", "requestUri": "/"}} for name in operations},
        "shapes": {},
    }


PAGINATORS = {"pagination": {"ListThings": {"input_token": "NextToken", "output_token": "NextToken"}}}
EXTRAS = {"version": 1.0, "merge": {"pagination": {"ListThings": {"result_key": "Things", "limit_key": "Max"}}}}
WAITERS = {
    "version": 2,
    "waiters": {
        "ThingReady": {
            "operation": "ListThings",
            "delay": 1,
            "maxAttempts": 3,
            "acceptors": [{"state": "success", "matcher": "path", "argument": "Ready", "expected": True}],
        }
    },
}


def _write(path: Path, value: Any, *, compress: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(value).encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.fixture
def service_folder(tmp_path: Path) -> Path:
    """A botocore-style ``data/ec2``: two API versions (the newer with paginators, extras, waiters) and clutter."""
    root = tmp_path / "ec2"
    _write(root / "2015-01-01" / "service-2.json", _model("2015-01-01", "Old"))
    newest = root / "2020-06-30"
    _write(newest / "service-2.json.gz", _model("2020-06-30", "ListThings", "Ping"), compress=True)
    _write(newest / "paginators-1.json", PAGINATORS)
    _write(newest / "paginators-1.sdk-extras.json", EXTRAS)
    _write(newest / "waiters-2.json", WAITERS)
    (root / "README").write_text("not a version")
    (root / "9999-notes").mkdir()  # the greatest name, but it holds no model
    return root


def test_gzip_file_reads_like_json(tmp_path: Path) -> None:
    raw = _model("2020-01-01", "Ping")
    for name, compress in [("service-2.json.gz", True), ("model.json", True), ("plain.json.gz", False)]:
        # The content decides, not the name: botocore's .gz, a gzip under any name, plain JSON named .gz.
        model = ec2codec.load_model(_write(tmp_path / name, raw, compress=compress))
        assert model.operations() == ["Ping"]
        assert model.encode("Ping") == b"Action=Ping&Version=2020-01-01"


def test_folder_picks_the_newest_api_version_with_its_companions(service_folder: Path) -> None:
    for source in (service_folder, str(service_folder), service_folder / "2020-06-30"):
        model = ec2codec.load_model(source)
        assert model.api_version == "2020-06-30"
        assert model.operations() == ["ListThings", "Ping"]
        # paginators-1.sdk-extras.json is deep-merged into paginators-1.json, as botocore's loader does.
        assert model.service.paginators == {
            "ListThings": {
                "input_token": "NextToken",
                "output_token": "NextToken",
                "result_key": "Things",
                "limit_key": "Max",
            }
        }
        assert model.service.waiters == WAITERS
        assert model.service.provenance == {"source": str(service_folder / "2020-06-30" / "service-2.json.gz")}
    old = ec2codec.load_model(service_folder / "2015-01-01")
    assert (old.operations(), old.service.paginators, old.service.waiters) == (["Old"], None, None)


def test_companions_follow_a_service_2_file_only(service_folder: Path, tmp_path: Path) -> None:
    named = ec2codec.load_model(service_folder / "2020-06-30" / "service-2.json.gz")
    assert named.service.paginators is not None and named.service.waiters is not None
    other = tmp_path / "elsewhere" / "my-ec2.json"
    _write(other, _model("2020-06-30", "Ping"))
    _write(other.parent / "paginators-1.json", PAGINATORS)
    alone = ec2codec.load_model(other)
    assert (alone.service.paginators, alone.service.waiters) == (None, None)


def test_botocore_data_folder_is_botocore_model() -> None:
    botocore = pytest.importorskip("botocore")
    from botocore.loaders import Loader

    folder = Path(botocore.__file__).parent / "data" / "ec2"
    loader = Loader()
    model = ec2codec.load_model(folder)
    assert model.api_version == loader.determine_latest_version("ec2", "service-2") == "2016-11-15"
    assert model.operations() == sorted(loader.load_service_model("ec2", "service-2")["operations"])
    assert model.service.paginators == loader.load_service_model("ec2", "paginators-1")["pagination"]
    assert model.service.waiters == loader.load_service_model("ec2", "waiters-2")
    # An operation that is in every recent botocore encodes as the bundle encodes it.
    params = {"DiskContainer": {"Format": "VHD", "UserBucket": {"S3Bucket": "b", "S3Key": "k"}}}
    assert model.encode("ImportSnapshot", params) == ec2codec.encode("ImportSnapshot", params)
    assert paginator_names(model) == sorted(model.service.paginators)


def test_own_paginators_and_waiters_drive_paging_and_waiting(service_folder: Path) -> None:
    model = ec2codec.load_model(service_folder)
    assert paginator_names(model) == ["ListThings"]
    assert load_paginator("ListThings", model).limit_key == "Max"
    with pytest.raises(ec2codec.ModelError, match="Ping has no paginator"):
        load_paginator("Ping", model)
    pages = iter([{"Things": [1], "NextToken": "t"}, {"Things": [2]}])
    requests: list[tuple[str, dict[str, Any]]] = []

    def call(operation: str, params: Any) -> dict[str, Any]:
        requests.append((operation, dict(params)))
        return next(pages)

    assert list(ec2codec.paginate_items(call, "ListThings", page_size=5, model=model)) == [1, 2]
    assert requests == [("ListThings", {"Max": 5}), ("ListThings", {"Max": 5, "NextToken": "t"})]
    assert waiter_names(model) == ["ThingReady"]
    assert wait(lambda op, params: {"Ready": True}, "ThingReady", model=model) == {"Ready": True}
    with pytest.raises(ec2codec.ModelError, match="unknown waiter 'InstanceRunning'; waiters: ThingReady"):
        load_waiter("InstanceRunning", model)
    # The bundled configs stay what they were.
    assert "ListThings" not in paginator_names() and "ThingReady" not in waiter_names()


def test_a_model_without_companions_uses_the_bundled_configs() -> None:
    model = ec2codec.load_model(_model("2016-11-15", "DescribeInstances"))
    assert paginator_names(model) == paginator_names()
    assert load_paginator("DescribeInstances", model) == load_paginator("DescribeInstances")
    assert list(paginate(lambda op, params: {"Reservations": []}, "DescribeInstances", model=model)) == [
        {"Reservations": []}
    ]


BAD_WAITER = {"version": 2, "waiters": {"W": {"operation": "Op", "delay": -1, "maxAttempts": 1, "acceptors": []}}}


@pytest.mark.parametrize(
    ("files", "source", "message"),
    [
        ({}, "missing.json", "cannot read model .*missing.json"),
        ({}, ".", "model folder .* holds no service-2.json or service-2.json.gz"),
        ({"service-2.json.gz": b"\x1f\x8b\x08\x00broken"}, ".", "service-2.json.gz is not a readable gzip file"),
        ({"m.json": b"{"}, "m.json", "model .*m.json is not JSON"),
        ({"m.json": b"[1]"}, "m.json", "m.json is not a JSON object"),
        ({"m.json": b"{}"}, "m.json", "m.json: not a botocore service model"),
        (
            {"service-2.json": json.dumps(_model("1", "A")).encode(), "paginators-1.json": b'{"pagination": []}'},
            ".",
            "paginators-1.json has no 'pagination' object",
        ),
        (
            {"service-2.json": json.dumps(_model("1", "A")).encode(), "waiters-2.json": b"{"},
            ".",
            "waiters-2.json is not JSON",
        ),
    ],
    ids=[
        "missing",
        "empty-folder",
        "bad-gzip",
        "not-json",
        "not-object",
        "not-a-model",
        "bad-paginators",
        "bad-waiters",
    ],
)
def test_bad_sources_are_model_errors_naming_the_path(
    tmp_path: Path, files: dict[str, bytes], source: str, message: str
) -> None:
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(ec2codec.ModelError, match=message) as caught:
        ec2codec.load_model(tmp_path / source)
    assert str(tmp_path) in str(caught.value)


def test_bad_configs_fail_when_used_as_model_errors(tmp_path: Path) -> None:
    _write(tmp_path / "service-2.json", _model("1", "Op"))
    _write(tmp_path / "waiters-2.json", BAD_WAITER)
    _write(tmp_path / "paginators-1.json", {"pagination": {"Op": {"input_token": "A", "output_token": 3}}})
    model = ec2codec.load_model(tmp_path)
    with pytest.raises(ec2codec.ModelError, match="waiter W: delay must be a finite number >= 0"):
        load_waiter("W", model)
    with pytest.raises(ec2codec.ModelError, match="paginator of Op has a token or key that is not a string"):
        load_paginator("Op", model)
    with pytest.raises(ec2codec.ModelError, match="a model is a path or a botocore-format dict, got int"):
        ec2codec.load_model(3)  # type: ignore[arg-type]


def test_environment_names_the_model(service_folder: Path, tmp_path: Path) -> None:
    assert model_from_environment({}) is bundled_model()
    assert model_from_environment({MODEL_ENV: ""}) is bundled_model()
    loaded = model_from_environment({MODEL_ENV: str(service_folder)})
    assert loaded.operation_names() == ["ListThings", "Ping"]
    assert model_from_environment({MODEL_ENV: str(service_folder)}) is loaded  # loaded once per path
    missing = tmp_path / "nowhere"
    with pytest.raises(ec2codec.ModelError, match=f"^EC2CODEC_MODEL={missing}: cannot read model {missing}"):
        model_from_environment({MODEL_ENV: str(missing)})


def test_environment_model_serves_the_module_level_functions(
    service_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MODEL_ENV, str(service_folder))
    monkeypatch.setattr(service, "_DEFAULT", None)  # the default is read once per process
    assert ec2codec.operations() == ["ListThings", "Ping"]
    assert ec2codec.encode("Ping") == b"Action=Ping&Version=2020-06-30"
    assert ec2codec.paginator_names() == ["ListThings"]
    assert ec2codec.waiter_names() == ["ThingReady"]
    monkeypatch.setattr(service, "_DEFAULT", None)
    monkeypatch.delenv(MODEL_ENV)
    assert len(ec2codec.operations()) == len(bundled_model().operation_names())


def test_environment_model_in_a_fresh_process(service_folder: Path) -> None:
    code = "import ec2codec; print(ec2codec.operations(), ec2codec.encode('Ping').decode())"
    env = {**os.environ, MODEL_ENV: str(service_folder)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    assert out.stdout.split("] ") == ["['ListThings', 'Ping'", "Action=Ping&Version=2020-06-30\n"]
