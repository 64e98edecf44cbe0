"""The response goldens in ``fixtures/responses``: each ``.xml`` decodes to its ``.json``.

The ``.json`` files are botocore's parse of the same bytes, written by
``tools/build_response_fixtures.py``; an EC2 error document's is botocore's
``{"Error": {"Code", "Message"}, "ResponseMetadata": ...}``, which must match
the raised ServiceError. Every golden is also decoded from a file object and
one byte at a time.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

import ec2codec
from ec2codec.model.service import bundled_model
from tests.conftest import tool
from tests.goldens import FIXTURES, loads, walk

GOLDENS = list(walk("responses", ".xml"))
FOLDER = FIXTURES / "responses"


def _operation(path: Path) -> str:
    return path.name.split(".")[0]


def _decode_all_ways(operation: str, body: bytes) -> list[Any]:
    """What each input form gives: the result dict, or the ServiceError raised."""
    outcomes = []
    for form in (body, body.decode("utf-8"), io.BytesIO(body), [body[i : i + 1] for i in range(len(body))]):
        try:
            outcomes.append(ec2codec.parse(operation, form))
        except ec2codec.ServiceError as exc:
            outcomes.append(exc)
    return outcomes


def test_required_goldens_exist() -> None:
    names = {path.name for path in GOLDENS}
    assert {"ImportSnapshot.xml", "DescribeImportSnapshotTasks.xml", "CancelImportTask.xml"} <= names
    assert any(path.read_bytes().find(b"<Errors>") >= 0 for path in GOLDENS)


@pytest.mark.parametrize("path", GOLDENS, ids=lambda p: p.stem)
def test_golden(path: Path) -> None:
    expected = loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    outcomes = _decode_all_ways(_operation(path), path.read_bytes())
    for outcome in outcomes:
        if "Error" in expected:
            assert isinstance(outcome, ec2codec.ServiceError)
            assert (outcome.code, outcome.message) == (expected["Error"]["Code"], expected["Error"]["Message"])
            assert outcome.request_id == expected["ResponseMetadata"]["RequestId"]
            assert outcome.is_dry_run_success == (outcome.code == "DryRunOperation")
        else:
            assert outcome == expected


def test_describe_import_snapshot_tasks_covers_every_status() -> None:
    result = ec2codec.parse("DescribeImportSnapshotTasks", (FOLDER / "DescribeImportSnapshotTasks.xml").read_bytes())
    details = [task["SnapshotTaskDetail"] for task in result["ImportSnapshotTasks"]]
    assert {d["Status"] for d in details} >= {"active", "completed", "deleted"}
    assert any(d.get("StatusMessage", "").startswith("ClientError") for d in details)


def test_import_snapshot_has_every_field_and_five_tags() -> None:
    # The bundled model's output shapes list every field of the response syntax.
    result = ec2codec.parse("ImportSnapshot", (FOLDER / "ImportSnapshot.xml").read_bytes())
    assert set(result) - {"ResponseMetadata"} == set(bundled_model().shape("ImportSnapshotResult")["members"])
    assert set(result["SnapshotTaskDetail"]) == set(bundled_model().shape("SnapshotTaskDetail")["members"])
    assert len(result["Tags"]) == 5


def test_build_tool_is_current() -> None:
    pytest.importorskip("botocore")
    assert tool("build_response_fixtures").main(["--check"]) == 0
