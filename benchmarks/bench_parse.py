"""Response decoding, ec2codec against botocore in one process, printed as ratios.

Usage: ``python benchmarks/bench_parse.py [--quick]`` (needs the test extras: botocore).

1. The reference ImportSnapshotResponse (``fixtures/responses/ImportSnapshot.xml``:
   every field of the response syntax, 5 tags). Target: at least 5x botocore.
2. DescribeImportSnapshotTasks with 1,000 tasks (about 350 KB). Targets: at
   least 3x botocore, and within 2x of a bare ``lxml.etree.fromstring`` of the
   same bytes (the floor: parsing alone, no decoding).
3. Streaming memory: a DescribeInstances response of about 50 MB, generated
   on the fly and fed to ``ResponseParser`` in 64 KiB chunks (the document is
   never whole in memory), run in a fresh process. Reports the tracemalloc
   peak and the growth of the RSS high-water mark (libxml2 allocates outside
   tracemalloc's view) against the size of the resulting dict.

Timings are the best of many interleaved rounds of wall-clock time with the
garbage collector paused, which filters out noise from other processes.
``--quick`` runs everything once on small inputs (a smoke test, not a measurement).
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ec2codec  # noqa: E402

NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"
CHUNK = 64 * 1024


def best_of(candidates: dict[str, Callable[[], object]], number: int, rounds: int) -> dict[str, float]:
    """Seconds per call of each candidate: the minimum over interleaved rounds."""
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(rounds):
        for name, func in candidates.items():
            gc.collect()
            gc.disable()
            start = time.perf_counter()
            for _ in range(number):
                func()
            elapsed = time.perf_counter() - start
            gc.enable()
            best[name] = min(best[name], elapsed / number)
    return best


def import_snapshot_tasks(count: int, *, indent: bool) -> bytes:
    """A DescribeImportSnapshotTasks response: tasks cycle through active, completed, deleted, failed.

    EC2 sends its responses indented; ``indent=False`` packs each task on one
    line, the hardest case for ec2codec relative to the floor (no blank text
    for libxml2 to skip, so the per-element decoding cost dominates).
    """
    items = []
    for i in range(count):
        fields = [("diskImageSize", f"{8589934592.0 + i}"), ("format", "VMDK")]
        kind = i % 4
        if kind == 0:
            fields += [("progress", str(i % 100)), ("status", "active"), ("statusMessage", "converting")]
        elif kind == 1:
            fields += [("snapshotId", f"snap-{i:017x}"), ("status", "completed")]
        elif kind == 2:
            fields += [("status", "deleted")]
        else:
            fields += [("status", "deleted"), ("statusMessage", "ClientError: Disk validation failed")]
        items.append(
            [
                (0, "<item>"),
                (1, f"<description>disk-{i:04d}</description>"),
                (1, f"<importTaskId>import-snap-{i:017x}</importTaskId>"),
                (1, "<snapshotTaskDetail>"),
                *[(2, f"<{tag}>{value}</{tag}>") for tag, value in fields],
                (2, "<userBucket>"),
                (3, "<s3Bucket>amzn-s3-demo-bucket</s3Bucket>"),
                (3, f"<s3Key>disks/disk-{i:04d}.vmdk</s3Key>"),
                (2, "</userBucket>"),
                (1, "</snapshotTaskDetail>"),
                (1, "<tagSet/>"),
                (0, "</item>"),
            ]
        )
    if indent:
        body = "\n".join("\n".join("  " * (depth + 2) + text for depth, text in item) for item in items)
    else:
        body = "\n".join("".join(text for _, text in item) for item in items)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<DescribeImportSnapshotTasksResponse xmlns="{NAMESPACE}">\n'
        "  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>\n  <importSnapshotTaskSet>\n"
        + body
        + "\n  </importSnapshotTaskSet>\n</DescribeImportSnapshotTasksResponse>\n"
    ).encode()


def _instance(i: int) -> str:
    return (
        f"<item><instanceId>i-{i:017x}</instanceId><imageId>ami-0abcdef1234567890</imageId>"
        "<instanceState><code>16</code><name>running</name></instanceState>"
        f"<privateDnsName>ip-10-0-{i // 250 % 256}-{i % 250}.ec2.internal</privateDnsName><dnsName/><reason/>"
        f"<keyName>deploy-key</keyName><amiLaunchIndex>{i % 4}</amiLaunchIndex><productCodes/>"
        f"<instanceType>m5.large</instanceType><launchTime>2024-05-01T12:{i % 60:02d}:00.000Z</launchTime>"
        "<placement><availabilityZone>us-east-1a</availabilityZone><groupName/><tenancy>default</tenancy></placement>"
        "<monitoring><state>disabled</state></monitoring><subnetId>subnet-0123456789abcdef0</subnetId>"
        f"<vpcId>vpc-0123456789abcdef0</vpcId><privateIpAddress>10.0.{i // 250 % 256}.{i % 250}</privateIpAddress>"
        "<sourceDestCheck>true</sourceDestCheck><groupSet><item><groupId>sg-0123456789abcdef0</groupId>"
        "<groupName>web</groupName></item></groupSet><architecture>x86_64</architecture>"
        "<rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName>"
        f"<blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-{i:017x}</volumeId>"
        "<status>attached</status><attachTime>2024-05-01T12:00:01.000Z</attachTime>"
        "<deleteOnTermination>true</deleteOnTermination></ebs></item></blockDeviceMapping>"
        "<virtualizationType>hvm</virtualizationType><clientToken/>"
        f"<tagSet><item><key>Name</key><value>web-{i}</value></item><item><key>team</key><value>platform</value>"
        "</item></tagSet><hypervisor>xen</hypervisor><networkInterfaceSet><item>"
        f"<networkInterfaceId>eni-{i:017x}</networkInterfaceId><subnetId>subnet-0123456789abcdef0</subnetId>"
        "<vpcId>vpc-0123456789abcdef0</vpcId><ownerId>123456789012</ownerId><status>in-use</status>"
        f"<macAddress>02:00:00:00:{i // 256 % 256:02x}:{i % 256:02x}</macAddress>"
        f"<privateIpAddress>10.0.{i // 250 % 256}.{i % 250}</privateIpAddress><sourceDestCheck>true</sourceDestCheck>"
        f"<attachment><attachmentId>eni-attach-{i:017x}</attachmentId><deviceIndex>0</deviceIndex>"
        "<status>attached</status><attachTime>2024-05-01T12:00:00.000Z</attachTime>"
        "<deleteOnTermination>true</deleteOnTermination></attachment></item></networkInterfaceSet>"
        "<ebsOptimized>false</ebsOptimized><cpuOptions><coreCount>1</coreCount><threadsPerCore>2</threadsPerCore>"
        "</cpuOptions></item>\n"
    )


def describe_instances_chunks(target_bytes: int) -> Iterator[bytes]:
    """A DescribeInstances response of about ``target_bytes``, produced in 64 KiB chunks."""
    pending = bytearray(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="{NAMESPACE}">'
        "<requestId>8f7e6d5c-4b3a-2918-0706-f5e4d3c2b1a0</requestId><reservationSet>\n".encode()
    )
    produced = n = reservation = 0
    while produced + len(pending) < target_bytes:
        pending += (
            f"<item><reservationId>r-{reservation:017x}</reservationId><ownerId>123456789012</ownerId>"
            "<groupSet/><instancesSet>\n"
        ).encode()
        for _ in range(20):
            pending += _instance(n).encode()
            n += 1
        pending += b"</instancesSet></item>\n"
        reservation += 1
        while len(pending) >= CHUNK:
            yield bytes(pending[:CHUNK])
            del pending[:CHUNK]
            produced += CHUNK
    pending += b"</reservationSet></DescribeInstancesResponse>\n"
    for start in range(0, len(pending), CHUNK):
        yield bytes(pending[start : start + CHUNK])


def deep_size(value: Any) -> int:
    """Bytes held by ``value`` and everything it references (each object counted once)."""
    seen: set[int] = set()
    stack = [value]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple)):
            stack.extend(obj)
    return total


def _rss_high_water_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource  # not Linux: ru_maxrss (KiB on most Unixes)

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def memory_child(target_bytes: int, traced: bool) -> None:
    """Run in a fresh process: stream the document, print the measurements as JSON.

    tracemalloc keeps a record per live allocation, which itself costs memory,
    so the RSS figure comes from a run without it (``traced`` false).
    """
    parser = ec2codec.ResponseParser("DescribeInstances")
    ec2codec.parse("DescribeInstances", b"<DescribeInstancesResponse/>")  # compile and import lxml first
    gc.collect()
    rss_before = _rss_high_water_kib()
    if traced:
        tracemalloc.start()
    fed = 0
    start = time.perf_counter()
    for chunk in describe_instances_chunks(target_bytes):
        parser.feed(chunk)
        fed += len(chunk)
    result = parser.close()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    tracemalloc.stop()
    rss_growth = (_rss_high_water_kib() - rss_before) * 1024  # before deep_size() allocates its own
    report = {
        "document_bytes": fed,
        "instances": sum(len(r["Instances"]) for r in result["Reservations"]),
        "seconds": elapsed,
        "result_bytes": deep_size(result),
        "tracemalloc_peak": peak,
        "rss_growth": rss_growth,
    }
    print(json.dumps(report))


def _measure_memory(target_bytes: int, traced: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--memory-child", str(target_bytes)] + (["--traced"] if traced else [])
    report: dict[str, Any] = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    return report


def _mb(n: float) -> str:
    return f"{n / 1e6:8.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="run everything once on small inputs")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child, args.traced)
        return 0

    import botocore
    import botocore.session
    from botocore.parsers import create_parser
    from lxml import etree

    service = botocore.session.get_session().get_service_model("ec2")
    reference = create_parser("ec2")
    tasks = 100 if args.quick else 1000
    cases = [
        (
            "ImportSnapshot",
            "reference response",
            (ROOT / "fixtures" / "responses" / "ImportSnapshot.xml").read_bytes(),
            400,
        ),
        ("DescribeImportSnapshotTasks", f"{tasks} tasks, indented", import_snapshot_tasks(tasks, indent=True), 2),
        ("DescribeImportSnapshotTasks", f"{tasks} tasks, one line each", import_snapshot_tasks(tasks, indent=False), 2),
    ]
    print(f"ec2codec {ec2codec.__version__}, botocore {botocore.__version__}, lxml {etree.__version__}")
    print(f"python {sys.version.split()[0]}, {datetime.now().isoformat(timespec='seconds')}\n")
    for operation, label, body, calls in cases:
        shape = service.operation_model(operation).output_shape
        response = {"body": body, "headers": {}, "status_code": 200}

        def botocore_parse(shape: Any = shape, response: Any = response) -> object:
            return reference.parse(response, shape)

        def ours(operation: str = operation, body: bytes = body) -> object:
            return ec2codec.parse(operation, body)

        def floor(body: bytes = body) -> object:
            return etree.fromstring(body)

        mine = ec2codec.parse(operation, body)
        theirs = botocore_parse()
        assert mine["ResponseMetadata"]["RequestId"] == theirs["ResponseMetadata"]["RequestId"]
        rounds, number = (1, 1) if args.quick else (30, calls)
        best = best_of({"botocore": botocore_parse, "ec2codec": ours, "fromstring": floor}, number, rounds)
        print(f"{operation}: {label} ({len(body) / 1000:.1f} KB)")
        for name, seconds in best.items():
            print(f"  {name:11s} {seconds * 1e6:10.1f} us")
        print(f"  ec2codec is {best['botocore'] / best['ec2codec']:.2f}x faster than botocore")
        print(f"  ec2codec takes {best['ec2codec'] / best['fromstring']:.2f}x a bare lxml.etree.fromstring\n")

    target = 5_000_000 if args.quick else 50_000_000
    report = _measure_memory(target, traced=False)
    traced = _measure_memory(target, traced=True)
    print(f"Streaming DescribeInstances in 64 KiB chunks ({report['instances']} instances)")
    print(f"  document          {_mb(report['document_bytes'])}  ({report['seconds']:.2f} s)")
    print(f"  resulting dict    {_mb(report['result_bytes'])}")
    print(f"  tracemalloc peak  {_mb(traced['tracemalloc_peak'])}  (Python objects, separate traced run)")
    print(f"  RSS growth        {_mb(report['rss_growth'])}  (everything, libxml2 included; untraced run)")
    print(f"  tracemalloc peak - result: {_mb(traced['tracemalloc_peak'] - report['result_bytes'])}")
    print(f"  RSS growth - result:       {_mb(report['rss_growth'] - report['result_bytes'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
