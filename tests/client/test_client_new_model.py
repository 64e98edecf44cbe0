"""A model newer than the bundle, end to end: operations, a paginator and a waiter the bundle lacks, over real HTTP.

The newer model is botocore's own ``data/ec2`` folder copied and given what a
future EC2 release might add: ``StartDiskImport`` (new input and output
shapes, the members of ImportSnapshot's), ``ListDiskImports`` with a
paginator, and a ``DiskImportCompleted`` waiter. LocalEC2 serves the two new
actions with its import handlers; it decodes and answers with the default
model, which the test points at the copy through ``EC2CODEC_MODEL``. The
client and the CLI get the model from ``EC2CODEC_MODEL`` alone.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ec2codec
from ec2codec.client.sync import Client
from ec2codec.model import service
from ec2codec.model.service import MODEL_ENV
from ec2codec.server.testing import LocalEC2
from tests.conftest import ROOT

DISK = {"Format": "VHD", "UserBucket": {"S3Bucket": "amzn-s3-demo-bucket", "S3Key": "disks/new.vhd"}}
# The new actions and the LocalEC2 handler that serves each.
ALIASES = {"StartDiskImport": "ImportSnapshot", "ListDiskImports": "DescribeImportSnapshotTasks"}


def _newer_model(folder: Path) -> Path:
    botocore = pytest.importorskip("botocore")
    source = Path(botocore.__file__).parent / "data" / "ec2" / "2016-11-15"
    target = folder / "ec2" / "2016-11-15"
    target.mkdir(parents=True)
    for name in ("paginators-1.sdk-extras.json", "endpoint-rule-set-1.json.gz"):
        shutil.copy(source / name, target / name)
    raw = json.loads(gzip.decompress((source / "service-2.json.gz").read_bytes()))
    assert not set(ALIASES) & set(raw["operations"]), "botocore has these now: pick other names"
    shapes = raw["shapes"]
    shapes["StartDiskImportRequest"] = {**shapes["ImportSnapshotRequest"]}
    shapes["StartDiskImportResult"] = {**shapes["ImportSnapshotResult"]}
    for name, (inp, out) in {
        "StartDiskImport": ("StartDiskImportRequest", "StartDiskImportResult"),
        "ListDiskImports": ("DescribeImportSnapshotTasksRequest", "DescribeImportSnapshotTasksResult"),
    }.items():
        http = {"method": "POST", "requestUri": "/"}
        raw["operations"][name] = {"name": name, "http": http, "input": {"shape": inp}, "output": {"shape": out}}
    (target / "service-2.json.gz").write_bytes(gzip.compress(json.dumps(raw).encode()))
    paginators = json.loads((source / "paginators-1.json").read_text())
    paginators["pagination"]["ListDiskImports"] = {
        "input_token": "NextToken",
        "output_token": "NextToken",
        "limit_key": "MaxResults",
        "result_key": "ImportSnapshotTasks",
    }
    (target / "paginators-1.json").write_text(json.dumps(paginators))
    waiters = json.loads((source / "waiters-2.json").read_text())
    completed = {"argument": "ImportSnapshotTasks[].SnapshotTaskDetail.Status", "expected": "completed"}
    waiters["waiters"]["DiskImportCompleted"] = {
        "operation": "ListDiskImports",
        "delay": 15,
        "maxAttempts": 40,
        "acceptors": [{"state": "success", "matcher": "pathAll", **completed}],
    }
    (target / "waiters-2.json").write_text(json.dumps(waiters))
    return folder / "ec2"


@pytest.fixture(scope="module")
def newer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _newer_model(tmp_path_factory.mktemp("botocore-data"))


@pytest.fixture
def ec2(newer: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalEC2]:
    """LocalEC2 answering the new actions; its default model (read once per process) is the newer one."""
    monkeypatch.setenv(MODEL_ENV, str(newer))
    monkeypatch.setattr(service, "_DEFAULT", None)
    with LocalEC2(time_scale=0.6) as local:
        serve: Callable[[str], Any] = local.tasks.dispatch
        monkeypatch.setattr(local.tasks, "dispatch", lambda operation: serve(ALIASES.get(operation, operation)))
        yield local


def test_bundle_lacks_what_the_newer_model_has() -> None:
    assert not set(ALIASES) & set(ec2codec.operations())
    assert "ListDiskImports" not in ec2codec.paginator_names()
    assert "DiskImportCompleted" not in ec2codec.waiter_names()


def test_client_calls_pages_and_waits_with_the_model_environment_names(ec2: LocalEC2, newer: Path) -> None:
    client = Client(ec2.region, ec2.endpoint_url, ec2.credentials, environ={MODEL_ENV: str(newer)})
    started = [client.call("StartDiskImport", {"DiskContainer": DISK})["ImportTaskId"] for _ in range(2)]
    assert all(task.startswith("import-snap-") for task in started)
    pages = list(client.paginate("ListDiskImports", page_size=1))
    assert [[t["ImportTaskId"] for t in page["ImportSnapshotTasks"]] for page in pages] == [[started[0]], [started[1]]]
    done = client.wait("DiskImportCompleted", {"ImportTaskIds": started}, delay=0.1)
    assert {t["SnapshotTaskDetail"]["Status"] for t in done["ImportSnapshotTasks"]} == {"completed"}
    # The same call with the bundled model never leaves the process.
    bundled = Client(ec2.region, ec2.endpoint_url, ec2.credentials, environ={})
    with pytest.raises(ec2codec.ValidationError, match="unknown operation 'StartDiskImport'"):
        bundled.call("StartDiskImport", {"DiskContainer": DISK})


def test_module_level_functions_use_the_newer_model(ec2: LocalEC2) -> None:
    body = ec2codec.encode("StartDiskImport", {"DiskContainer": DISK})
    assert body == ec2codec.load_model(ROOT / "ec2codec" / "model" / "_data" / "ec2.model").encode(
        "ImportSnapshot", {"DiskContainer": DISK}
    ).replace(b"Action=ImportSnapshot", b"Action=StartDiskImport")


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ec2codec", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False, timeout=60)


def test_cli_calls_the_new_operation(ec2: LocalEC2, newer: Path, tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != MODEL_ENV}
    env = {**base, **ec2.env()}
    params = json.dumps({"DiskContainer": DISK})
    done = _cli({**env, MODEL_ENV: str(newer)}, "call", "StartDiskImport", params)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ImportTaskId"].startswith("import-snap-")
    unknown = _cli(env, "call", "StartDiskImport", params)
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert "unknown operation 'StartDiskImport'" in unknown.stderr
    missing = tmp_path / "no-such-model"
    broken = _cli({**env, MODEL_ENV: str(missing)}, "encode", "DescribeRegions")
    assert (broken.returncode, broken.stdout) == (2, "")
    assert f"EC2CODEC_MODEL={missing}: cannot read model {missing}" in broken.stderr
