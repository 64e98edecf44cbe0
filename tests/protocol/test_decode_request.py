"""The server side of the request codec: form body -> (operation, params), strict and round-tripping."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

import ec2codec
from tests.goldens import FIXTURES

REQUESTS = sorted((FIXTURES / "requests").glob("*.params.json"))
HEAD = "Action=ImportSnapshot&Version=2016-11-15"


@pytest.mark.parametrize("params_file", REQUESTS, ids=lambda p: p.name.removesuffix(".params.json"))
def test_golden_bodies_decode_to_their_params(params_file: Path) -> None:
    body = params_file.with_name(params_file.name.removesuffix(".params.json") + ".body").read_bytes()
    operation, params = ec2codec.decode_request(body)
    assert operation == params_file.name.split("-")[0].split(".")[0]
    # The decoded form re-encodes to the very same bytes.
    assert ec2codec.encode(operation, params) == body


def test_normalised_values() -> None:
    params = json.loads((FIXTURES / "requests" / "ImportSnapshot.params.json").read_text("utf-8"))
    _, decoded = ec2codec.decode_request(ec2codec.encode("ImportSnapshot", params))
    assert decoded["ClientData"]["UploadStart"] == datetime(2026, 11, 27, 21, 2, 11, 250000, tzinfo=timezone.utc)
    assert decoded["ClientData"]["UploadSize"] == 21474836480.0
    assert decoded["DryRun"] is False
    assert decoded["TagSpecifications"][0]["Tags"][4] == {"Key": "説明", "Value": "ディスクのインポート ✓"}
    _, empty = ec2codec.decode_request(ec2codec.encode("DescribeImportSnapshotTasks", {"Filters": []}))
    assert empty == {}


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        (b"", "(body)", "empty field"),
        (b"Version=2016-11-15", "Action", "missing"),
        (b"Action=Nope&Version=2016-11-15", "Action", "unknown operation 'Nope'"),
        (b"Action=ImportSnapshot&Version=2014-01-01", "Version", "expected '2016-11-15'"),
        (b"Action=ImportSnapshot&Action=ImportSnapshot&Version=2016-11-15", "Action", "more than once"),
        (f"{HEAD}&RoleName=a&RoleName=b".encode(), "RoleName", "more than once"),
        (f"{HEAD}&Bogus=1".encode(), "Bogus", "unknown parameter"),
        (f"{HEAD}&DiskContainer.Nope=1".encode(), "DiskContainer.Nope", "unknown parameter"),
        (f"{HEAD}&TagSpecification.0.ResourceType=x".encode(), "TagSpecification.0", "positive integer"),
        (f"{HEAD}&TagSpecification.x.ResourceType=x".encode(), "TagSpecification.x", "positive integer"),
        (
            b"Action=DescribeImportSnapshotTasks&Version=2016-11-15&ImportTaskId.2=import-snap-1",
            "ImportTaskId.1",
            "without gaps",
        ),
        (f"{HEAD}&TagSpecification.01.ResourceType=x".encode(), "TagSpecification.01", "positive integer"),
        (f"{HEAD}&DryRun=yes".encode(), "DryRun", "not a boolean"),
        (f"{HEAD}&ClientData.UploadSize=1_0".encode(), "ClientData.UploadSize", "not a number"),
        (f"{HEAD}&ClientData.UploadStart=soon".encode(), "ClientData.UploadStart", "not a timestamp"),
        (f"{HEAD}&DiskContainer=VHD".encode(), "DiskContainer", "expected nested keys"),
        (f"{HEAD}&RoleName.1=x".encode(), "RoleName", "expected a single string"),
        (f"{HEAD}&DryRun".encode(), "DryRun", "malformed field"),
        (f"{HEAD}&&DryRun=true".encode(), "(body)", "empty field"),
        (f"{HEAD}&Description=%FF".encode(), "Description", "not valid UTF-8"),
        (HEAD.encode() + "&Description=é".encode(), "(body)", "must be ASCII"),
        (b"Action=DescribeImportSnapshotTasks&Version=2016-11-15&MaxResults=1.5", "MaxResults", "not an integer"),
    ],
)
def test_malformed_requests(body: bytes, key: str, message: str) -> None:
    with pytest.raises(ec2codec.ValidationError) as info:
        ec2codec.decode_request(body)
    [(got_key, got_message)] = info.value.problems
    assert got_key == key
    assert message in got_message


DESCRIBE = b"Action=DescribeImportSnapshotTasks&Version=2016-11-15"
LONG = [
    # Past Python's int-string conversion limit (4300 digits), where int() raises a bare ValueError.
    ("value", DESCRIBE + b"&MaxResults=" + b"9" * 5000, "MaxResults", "5000 digits is out of range"),
    ("negative", DESCRIBE + b"&MaxResults=-" + b"9" * 4301, "MaxResults", "4301 digits is out of range"),
    ("index", DESCRIBE + b"&ImportTaskId." + b"9" * 5000 + b"=x", "ImportTaskId.", "out of range"),
    ("nested-index", f"{HEAD}&TagSpecification.{'1' * 4400}.ResourceType=x".encode(), "TagSpecification.", "range"),
    # str.isdigit() is also True for "²" (int() refuses it) and "٣" (int() reads 3): neither is a list index.
    ("superscript-index", DESCRIBE + b"&ImportTaskId.%C2%B2=x", "ImportTaskId.\u00b2", "positive integer"),
    ("arabic-index", DESCRIBE + b"&ImportTaskId.%D9%A3=x", "ImportTaskId.\u0663", "positive integer"),
]


@pytest.mark.parametrize(("body", "key", "message"), [c[1:] for c in LONG], ids=[c[0] for c in LONG])
def test_numbers_int_cannot_read_are_validation_errors(body: bytes, key: str, message: str) -> None:
    with pytest.raises(ec2codec.ValidationError) as info:
        ec2codec.decode_request(body)
    [(got_key, got_message)] = info.value.problems
    assert got_key.startswith(key) and len(got_key) < 50  # the key is named, not echoed in full
    assert message in got_message


def test_a_list_of_structures_may_skip_the_indexes_of_empty_items() -> None:
    # botocore sends nothing for an empty structure, so [{}, {...}] leaves a hole at 1;
    # the hole decodes as nothing, which is the normalised form of what was encoded.
    params = {"TagSpecifications": [{}, {"ResourceType": "snapshot"}], "DiskContainer": {}}
    body = ec2codec.encode("ImportSnapshot", params)
    assert b"TagSpecification.2.ResourceType=snapshot" in body
    _, decoded = ec2codec.decode_request(body)
    assert decoded == {"TagSpecifications": [{"ResourceType": "snapshot"}]}


def test_blob_and_float_words() -> None:
    model = ec2codec.load_model(
        {
            "metadata": {"protocol": "ec2", "apiVersion": "2020-01-01"},
            "operations": {"Op": {"name": "Op", "input": {"shape": "In"}}},
            "shapes": {
                "In": {"type": "structure", "members": {"B": {"shape": "B"}, "F": {"shape": "F"}}},
                "B": {"type": "blob"},
                "F": {"type": "double"},
            },
        }
    )
    assert model.decode_request(model.encode("Op", {"B": b"\x00\xff", "F": float("-inf")})) == (
        "Op",
        {"B": b"\x00\xff", "F": float("-inf")},
    )
    with pytest.raises(ec2codec.ValidationError, match="not valid base64"):
        model.decode_request(b"Action=Op&Version=2020-01-01&B=%%%")
