"""Encode benchmark: ``ec2codec.encode`` against botocore's validating serializer plus its urlencode.

Both sides run in this one process on the same params: the reference
ImportSnapshot request (every parameter of its request syntax, five tags with
non-ASCII values) and a large RunInstances request (40 block-device mappings,
60 tags, network interfaces). botocore's side is exactly what a client call
pays before signing: ``create_serializer("ec2", include_validation=True)``
(validation + serialisation) and the utf-8 + ``urlencode`` step
``AWSRequest.prepare()`` applies to a dict body. Each case is checked byte for
byte before it is timed, so the ratio always compares equal work.

    python benchmarks/bench_encode.py           # timeit-style repeats, median, table
    python benchmarks/bench_encode.py --quick   # everything once, tiny counts (CI)

Target: ec2codec at least 10x faster on both requests.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

TARGET_RATIO = 10.0

# The reference ImportSnapshot request: every parameter of the ImportSnapshot
# request syntax, spelled as a Python caller would (datetime objects, a float).
IMPORT_SNAPSHOT_PARAMS: dict[str, Any] = {
    "ClientData": {
        "Comment": "Nightly export of build-host root volume",
        "UploadEnd": datetime(2024, 5, 1, 12, 45, 30, 250000, tzinfo=timezone.utc),
        "UploadSize": 8.5,
        "UploadStart": datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc),
    },
    "ClientToken": "5f3c9a8e-1b2d-4e6f-9a7b-0c1d2e3f4a5b",
    "Description": "Root volume of build-host-01 (VMDK, exported 2024-05-01)",
    "DiskContainer": {
        "Description": "build-host-01 disk 0",
        "Format": "VMDK",
        "Url": "s3://ec2codec-import-bucket/exports/build-host-01/disk-0.vmdk",
        "UserBucket": {"S3Bucket": "ec2codec-import-bucket", "S3Key": "exports/build-host-01/disk-0.vmdk"},
    },
    "DryRun": False,
    "Encrypted": True,
    "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "RoleName": "vmimport",
    "TagSpecifications": [
        {
            "ResourceType": "import-snapshot-task",
            "Tags": [
                {"Key": "Name", "Value": "build-host-01 — racine"},
                {"Key": "Owner", "Value": "Zoë Ångström"},
                {"Key": "Team", "Value": "インフラ"},
                {"Key": "CostCenter", "Value": "Ω-42 / ε=0.1 & 50% off"},
                {"Key": "Note", "Value": "naïve café ☕ 🚀"},
            ],
        }
    ],
}


def _run_instances_params() -> dict[str, Any]:
    devices = [f"/dev/sd{a}{b}" for a in "bcdefghijklmnopqrstuvwxyz" for b in "abcdefghijklmnopqrstuvwxyz"]
    mappings: list[dict[str, Any]] = [
        {
            "DeviceName": devices[i],
            "Ebs": {
                "DeleteOnTermination": i % 2 == 0,
                "Encrypted": True,
                "Iops": 3000 + 100 * i,
                "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "SnapshotId": f"snap-{i:017x}",
                "Throughput": 125 + i,
                "VolumeSize": 8 * (i + 1),
                "VolumeType": "gp3",
            },
        }
        for i in range(38)
    ]
    mappings += [{"DeviceName": "/dev/sdy", "VirtualName": "ephemeral0"}, {"DeviceName": "/dev/sdz", "NoDevice": ""}]
    tags = [{"Key": f"tag-{i:02d}", "Value": f"value {i} / ünïcødé & more={i}"} for i in range(50)]
    return {
        "BlockDeviceMappings": mappings,
        "ImageId": "ami-0123456789abcdef0",
        "InstanceType": "m7i.4xlarge",
        "MaxCount": 4,
        "MinCount": 1,
        "KeyName": "deploy-key",
        "Monitoring": {"Enabled": True},
        "Placement": {"AvailabilityZone": "us-east-1a", "GroupName": "cluster-a", "Tenancy": "default"},
        "UserData": "IyEvYmluL2Jhc2gKZWNobyAiaGVsbG8gd29ybGQiCg==",
        "DisableApiTermination": False,
        "EbsOptimized": True,
        "IamInstanceProfile": {"Arn": "arn:aws:iam::123456789012:instance-profile/app-server"},
        "InstanceInitiatedShutdownBehavior": "stop",
        "NetworkInterfaces": [
            {
                "AssociatePublicIpAddress": i == 0,
                "DeleteOnTermination": True,
                "Description": f"eth{i} of the app server",
                "DeviceIndex": i,
                "Groups": [f"sg-{i:08x}{g:09x}" for g in range(3)],
                "Ipv6Addresses": [{"Ipv6Address": f"2001:db8::{i}:{a}"} for a in range(2)],
                "PrivateIpAddresses": [{"Primary": a == 0, "PrivateIpAddress": f"10.0.{i}.{10 + a}"} for a in range(3)],
                "SubnetId": f"subnet-{i:017x}",
            }
            for i in range(3)
        ],
        "TagSpecifications": [
            {"ResourceType": "instance", "Tags": tags},
            {"ResourceType": "volume", "Tags": tags[:10]},
        ],
        "MetadataOptions": {"HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 2, "HttpTokens": "required"},
        "CreditSpecification": {"CpuCredits": "unlimited"},
        "CpuOptions": {"CoreCount": 8, "ThreadsPerCore": 2},
        "HibernationOptions": {"Configured": False},
        "PrivateDnsNameOptions": {"EnableResourceNameDnsARecord": True, "HostnameType": "resource-name"},
        "ClientToken": "run-5f3c9a8e-1b2d-4e6f-9a7b-0c1d2e3f4a5b",
        "DryRun": False,
    }


RUN_INSTANCES_PARAMS = _run_instances_params()

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("ImportSnapshot (reference, 5 tags)", "ImportSnapshot", IMPORT_SNAPSHOT_PARAMS),
    ("RunInstances (40 BDMs, 60 tags, 3 ENIs)", "RunInstances", RUN_INSTANCES_PARAMS),
]


def _to_utf8(item: tuple[Any, Any]) -> tuple[Any, Any]:
    # botocore.awsrequest.AWSRequestPreparer._to_utf8, applied before urlencode.
    key, value = item
    if isinstance(key, str):
        key = key.encode("utf-8")
    if isinstance(value, str):
        value = value.encode("utf-8")
    return key, value


def botocore_encoder(operation: str) -> Callable[[dict[str, Any]], str]:
    """Validation + serialisation + the dict-body urlencode of ``AWSRequest.prepare()``."""
    import botocore.session
    from botocore.serialize import create_serializer

    model = botocore.session.get_session().get_service_model("ec2").operation_model(operation)
    serializer = create_serializer("ec2", include_validation=True)

    def encode(params: dict[str, Any]) -> str:
        body = serializer.serialize_to_request(params, model)["body"]
        return urlencode([_to_utf8(item) for item in body.items()], doseq=True)

    return encode


def ec2codec_encoder(operation: str) -> Callable[[dict[str, Any]], bytes]:
    import ec2codec

    def encode(params: dict[str, Any]) -> bytes:
        return ec2codec.encode(operation, params)

    return encode


def per_call(fns: list[Callable[[], object]], quick: bool, repeat: int = 7) -> list[float]:
    """Median seconds per call of each function (one call each when quick).

    Repeats are interleaved (a, b, a, b, ...) so that load from the rest of the
    machine hits both sides alike instead of skewing the ratio.
    """
    timers = [timeit.Timer(fn) for fn in fns]
    if quick:
        return [timer.timeit(number=1) for timer in timers]
    numbers = [timer.autorange()[0] for timer in timers]  # calls for >= 0.2 s per repeat
    samples: list[list[float]] = [[] for _ in timers]
    for _ in range(repeat):
        for timer, number, runs in zip(timers, numbers, samples, strict=True):
            runs.append(timer.timeit(number=number) / number)
    return [statistics.median(runs) for runs in samples]


def import_seconds(quick: bool) -> float:
    """Median wall time of ``import ec2codec`` in a fresh interpreter."""
    code = "import time; t = time.perf_counter(); import ec2codec; print(time.perf_counter() - t)"
    root = str(Path(__file__).resolve().parents[1])
    runs = [
        float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=root).stdout)
        for _ in range(1 if quick else 5)
    ]
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="run every case once (a smoke test, no real timing)")
    args = parser.parse_args(argv)

    rows = []
    for label, operation, params in CASES:
        theirs, ours = botocore_encoder(operation), ec2codec_encoder(operation)
        expected = theirs(params).encode("ascii")
        if ours(params) != expected:  # also compiles ec2codec's encoder before timing
            print(f"{label}: ec2codec and botocore disagree; not timing it", file=sys.stderr)
            return 1
        slow, fast = per_call(
            [lambda theirs=theirs, params=params: theirs(params), lambda ours=ours, params=params: ours(params)],
            args.quick,
        )
        rows.append((f"{label} [{len(expected)} B]", 1 / slow, 1 / fast, slow / fast))

    width = max(len(r[0]) for r in rows)
    print(f"{'request':<{width}}  {'botocore ops/s':>14}  {'ec2codec ops/s':>14}  {'speed-up':>8}")
    for label, slow_ops, fast_ops, ratio in rows:
        print(f"{label:<{width}}  {slow_ops:>14,.0f}  {fast_ops:>14,.0f}  {ratio:>7.1f}x")
    print(f"import ec2codec: {import_seconds(args.quick) * 1000:.1f} ms (fresh interpreter)")
    if args.quick:
        print("--quick: single calls, the numbers above are not measurements")
    else:
        verdict = "met" if min(r[3] for r in rows) >= TARGET_RATIO else "NOT met"
        print(f"target {TARGET_RATIO:.0f}x: {verdict} (median of 7 repeats)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
