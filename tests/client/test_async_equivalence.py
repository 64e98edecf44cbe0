"""The same faults, the same decisions: Client and AsyncClient against one fault-injecting server on 127.0.0.1.

Each row is a sequence of faults (connection reset, 503, throttling, a body
cut short, a truncated document, a skewed Date, a stalled answer, ...) served
in order by :class:`tests.client.faults.FaultServer`. Both clients run the
same call against the same script, with the same injected clock, jitter and
token factory, and must agree on everything observable: how many attempts
reached the server, the bytes of each (body and signed headers), the backoff
delays they asked to sleep, the clock offset they learnt, and the outcome
(the result dict, or the error's type, code, status and retryability). Each
row also states the expected attempts, delays and outcome, so the two cannot
agree on a wrong answer.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import pytest

import ec2codec
from ec2codec.client.aio import AsyncClient
from ec2codec.client.sync import Client
from tests.client.faults import Fault, FaultServer, Received, Reply, Reset, Stall, Truncate
from tests.client_support import CREDENTIALS, NOW, error_document, import_snapshot_document, regions_document

_SKEWED = (NOW + timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
_NEARLY = (NOW + timedelta(minutes=3)).strftime("%a, %d %b %Y %H:%M:%S GMT")
_REGIONS = regions_document(3)
_FAULTS: dict[str, Fault] = {
    "ok": Reply(200, _REGIONS),
    "import-ok": Reply(200, import_snapshot_document()),
    "reset": Reset(),
    "503": Reply(503, error_document("Unavailable")),
    "503-html": Reply(503, "<html>Service Unavailable</html>"),
    "throttled": Reply(400, error_document("Throttling")),
    "limit": Reply(503, error_document("RequestLimitExceeded")),
    "500": Reply(500, error_document("InternalError")),
    "cut-short": Truncate(200, _REGIONS, cut=90),  # Content-Length promises more than arrives
    "truncated": Reply(200, _REGIONS[:120]),  # a whole answer whose document stops mid-way
    "skewed": Reply(400, error_document("RequestExpired"), (("Date", _SKEWED),)),
    "auth-near": Reply(401, error_document("AuthFailure"), (("Date", _NEARLY),)),
    "invalid": Reply(400, error_document("InvalidParameterValue")),
    "403-html": Reply(403, "<html>Forbidden</html>"),
    "stall": Stall(5.0),
    "run-ok": Reply(200, "<RunInstancesResponse><requestId>r</requestId><reservationId>r-1</reservationId>"
                         "</RunInstancesResponse>"),
    "copy-ok": Reply(200, "<CopySnapshotResponse><requestId>r</requestId><snapshotId>snap-2</snapshotId>"
                          "</CopySnapshotResponse>"),
    "console-ok": Reply(200, "<GetConsoleOutputResponse><requestId>r</requestId><instanceId>i-1</instanceId>"
                             "<output>Ym9vdGVkIG9r</output></GetConsoleOutputResponse>"),
}  # fmt: skip
_JITTER = random.Random(7)
_J = [_JITTER.random() for _ in range(8)]  # the jitter both clients draw, in order
# botocore 1.44's backoff scale: 1 s after a throttling error ("throttled", "limit"), 50 ms after any other.
_O = [0.05 * j for j in _J]

# (operation, faults, attempts that reach the server, delays slept, outcome): outcome "ok" or the error code.
CASES: list[Any] = [
    pytest.param("DescribeRegions", ["ok"], 1, [], "ok", id="ok"),
    pytest.param("DescribeRegions", ["reset", "ok"], 2, [_O[0]], "ok", id="reset"),
    pytest.param("DescribeRegions", ["503", "503", "ok"], 3, [_O[0], 2 * _O[1]], "ok", id="503-twice"),
    pytest.param("DescribeRegions", ["503-html", "ok"], 2, [_O[0]], "ok", id="503-not-a-document"),
    pytest.param("DescribeRegions", ["throttled", "limit", "throttled"], 3, [_J[0], 2 * _J[1]], "Throttling",
                 id="throttled-out"),
    pytest.param("DescribeRegions", ["cut-short", "ok"], 2, [_O[0]], "ok", id="body-cut-short"),
    pytest.param("DescribeRegions", ["truncated", "ok"], 2, [_O[0]], "ok", id="truncated-document"),
    pytest.param("DescribeRegions", ["truncated"] * 3, 3, [_O[0], 2 * _O[1]], "ParseError", id="truncated-out"),
    pytest.param("DescribeRegions", ["reset"] * 3, 3, [_O[0], 2 * _O[1]], "TransportError", id="reset-out"),
    pytest.param("DescribeRegions", ["skewed", "ok"], 2, [], "ok", id="skewed-date"),
    pytest.param("DescribeRegions", ["skewed", "skewed"], 2, [], "RequestExpired", id="skewed-twice"),
    pytest.param("DescribeRegions", ["auth-near"], 1, [], "AuthFailure", id="skew-within-tolerance"),
    pytest.param("DescribeRegions", ["skewed", "500", "reset", "ok"], 4, [_O[0], 2 * _O[1]], "ok",
                 id="skew-then-faults"),
    pytest.param("DescribeRegions", ["invalid"], 1, [], "InvalidParameterValue", id="client-error"),
    pytest.param("DescribeRegions", ["403-html"], 1, [], "403", id="403-not-a-document"),
    pytest.param("DescribeRegions", ["stall", "ok"], 2, [_O[0]], "ok", id="read-timeout"),
    pytest.param("ImportSnapshot", ["reset", "503", "import-ok"], 3, [_O[0], 2 * _O[1]], "ok", id="import-token"),
    # boto3's EC2 customizations, applied alike: UserData base64-encoded, CopySnapshot's
    # PresignedUrl (presigned once per call, as the body), GetConsoleOutput decoded.
    pytest.param("RunInstances", ["limit", "run-ok"], 2, [_J[0]], "ok", id="run-instances-user-data"),
    pytest.param("CopySnapshot", ["skewed", "copy-ok"], 2, [], "ok", id="copy-snapshot-presigned"),
    pytest.param("GetConsoleOutput", ["console-ok"], 1, [], "ok", id="console-output-decoded"),
]  # fmt: skip

_PARAMS: dict[str, dict[str, Any]] = {
    "DescribeRegions": {"AllRegions": True},
    "ImportSnapshot": {"DiskContainer": {"Format": "VHD", "Url": "s3://bucket/disk.vhd"}, "Description": "d"},
    "RunInstances": {"ImageId": "ami-1", "MinCount": 1, "MaxCount": 1, "UserData": "#!/bin/sh\necho hi\n"},
    "CopySnapshot": {"SourceRegion": "eu-west-1", "SourceSnapshotId": "snap-1", "Encrypted": True},
    "GetConsoleOutput": {"InstanceId": "i-1"},
}
_SENT = ("authorization", "x-amz-date", "x-amz-security-token", "content-type", "host", "content-length")
_SENT += ("x-amzn-trace-id",)
# Inside AWS Lambda both clients pass the trace id on (botocore's recursion detection header).
_LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "f", "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793"}


def _options(server: FaultServer, sleep: Any) -> dict[str, Any]:
    issued = iter(f"token-{n}" for n in range(1, 100))
    return {
        "region": "us-east-1",
        "endpoint_url": server.url,
        "credentials": CREDENTIALS,
        "environ": _LAMBDA,
        "max_attempts": 3,
        "timeout": (2.0, 0.4),
        "sleep": sleep,
        "rng": random.Random(7).random,
        "now": lambda: NOW,
        "token_factory": lambda: next(issued),
    }


def _outcome(result: dict[str, Any] | ec2codec.Error) -> tuple[Any, ...]:
    if isinstance(result, ec2codec.Error):
        code = getattr(result, "code", type(result).__name__)
        # The message too: transport failures read as the same sentence, whichever library saw them.
        details = (getattr(result, "status", None), getattr(result, "retryable", None), str(result))
        return (code, type(result).__name__, *details, getattr(result, "operation_name", None))
    return ("ok", result)


def _wire(received: list[Received]) -> list[tuple[str, str, dict[str, str], bytes]]:
    return [(r.method, r.path, {k: r.headers[k] for k in _SENT if k in r.headers}, r.body) for r in received]


def _run_sync(server: FaultServer, operation: str) -> dict[str, Any]:
    delays: list[float] = []
    with Client(**_options(server, delays.append)) as client:
        try:
            outcome = _outcome(client.call(operation, _PARAMS[operation]))
        except ec2codec.Error as exc:
            outcome = _outcome(exc)
        offset = client.clock_offset
    return {"outcome": outcome, "delays": delays, "offset": offset, "wire": _wire(server.received)}


def _run_async(server: FaultServer, operation: str) -> dict[str, Any]:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async def main() -> tuple[Any, timedelta]:
        async with AsyncClient(**_options(server, sleep)) as client:
            try:
                outcome = _outcome(await client.call(operation, _PARAMS[operation]))
            except ec2codec.Error as exc:
                outcome = _outcome(exc)
            return outcome, client.clock_offset

    outcome, offset = asyncio.run(main())
    return {"outcome": outcome, "delays": delays, "offset": offset, "wire": _wire(server.received)}


@pytest.fixture(scope="module")
def server() -> Any:
    with FaultServer() as running:
        yield running


@pytest.mark.parametrize(("operation", "faults", "attempts", "delays", "outcome"), CASES)
def test_both_clients_make_the_same_decisions(  # noqa: PLR0917
    server: FaultServer, operation: str, faults: list[str], attempts: int, delays: list[float], outcome: str
) -> None:
    script = [_FAULTS[name] for name in faults]
    server.load(script)
    ours_sync = _run_sync(server, operation)
    assert server.unexpected == 0
    server.load(script)
    ours_async = _run_async(server, operation)
    assert server.unexpected == 0

    assert ours_async == ours_sync  # attempts, bytes, delays, clock offset, outcome: all equal
    # ... and right, not merely equal:
    assert len(ours_sync["wire"]) == attempts
    assert ours_sync["delays"] == pytest.approx(delays)
    assert ours_sync["outcome"][0] == outcome
    bodies = {body for *_, body in ours_sync["wire"]}
    assert len(bodies) == 1  # every attempt sends the same bytes, the idempotency token included
    body = bodies.pop()
    if operation == "ImportSnapshot":
        assert b"ClientToken=token-1" in body
    if operation == "RunInstances":
        assert b"UserData=IyEvYmluL3NoCmVjaG8gaGkK" in body
    if operation == "CopySnapshot":
        assert b"PresignedUrl=" in body and b"DestinationRegion=us-east-1" in body
        assert b"X-Amz-Date%3D20260102T030405Z" in body  # presigned once, when the call began
    if operation == "GetConsoleOutput":
        assert ours_sync["outcome"][1]["Output"] == "booted ok"
    assert all(headers["x-amzn-trace-id"] == _LAMBDA["_X_AMZN_TRACE_ID"] for _, _, headers, _ in ours_sync["wire"])
    if outcome not in {"ok", "ParseError", "TransportError"}:
        assert ours_sync["outcome"][-1] == operation  # ServiceError.operation_name
    skewed = "skewed" in faults
    assert ours_sync["offset"] == (timedelta(hours=1) if skewed else timedelta(0))
    dates = [headers["x-amz-date"] for _, _, headers, _ in ours_sync["wire"]]
    assert dates[-1] == ("20260102T040405Z" if skewed else "20260102T030405Z")
