"""Load test: N concurrent clients against a LocalEC2 this script starts, for a bounded time.

Each client is a thread with its own keep-alive connection (``http.client``;
it reconnects only when the server closes), sending SigV4-signed POSTs: one
``ImportSnapshot`` to start with, then ``DescribeImportSnapshotTasks`` for its
own task, with another ``ImportSnapshot`` every ``--import-every`` requests.
Raw signed requests rather than ``ec2codec.Client``, because the client
retries resets and timeouts, which would hide exactly what this counts.

By default the server runs in a child process (``python -m ec2codec serve``),
so clients and server do not share one GIL; ``--in-process`` uses
``ec2codec.testing.LocalEC2`` in this process instead.

Prints throughput, latency percentiles (request sent to answer read, connect
included), new connections, and every failure by kind: connection resets,
timeouts, other exceptions, and answers other than 200. Exits 1 when anything
failed. Usage::

    python benchmarks/load_localec2.py --clients 64 --seconds 10
    python benchmarks/load_localec2.py --quick     # 4 clients for 1 s (the runner's smoke test)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ec2codec  # noqa: E402
from ec2codec.auth.sigv4 import Credentials  # noqa: E402

REGION = "us-east-1"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
DISK = {"Format": "VHD", "UserBucket": {"S3Bucket": "load-bucket", "S3Key": "disks/load.vhd"}}
_URL_LINE = re.compile(r"listening on (http://\S+)")


@dataclass
class Tally:
    """One client's counts; merged at the end (no locking on the hot path)."""

    latencies: list[float] = field(default_factory=list)
    connects: int = 0
    resets: int = 0
    timeouts: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)

    def merge(self, other: Tally) -> None:
        self.latencies += other.latencies
        self.connects += other.connects
        self.resets += other.resets
        self.timeouts += other.timeouts
        self.statuses.update(other.statuses)
        self.exceptions.update(other.exceptions)


class LoadClient:
    """One client: a keep-alive connection and its signed requests."""

    def __init__(self, url: str, credentials: Credentials, timeout: float) -> None:
        parts = urlsplit(url)
        self.url = url.rstrip("/") + "/"
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.credentials = credentials
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.tally = Tally()

    def request(self, operation: str, params: dict[str, Any]) -> bytes | None:
        """The answer body of a 200, or None after counting what went wrong instead."""
        body = ec2codec.encode(operation, params)
        headers = ec2codec.sign("POST", self.url, {"Content-Type": CONTENT_TYPE}, body, self.credentials, REGION)
        started = time.perf_counter()
        try:
            if self.conn is None or self.conn.sock is None:
                self.tally.connects += 1
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.request("POST", "/", body, headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
            self.tally.resets += 1
            self._drop()
            return None
        except TimeoutError:
            self.tally.timeouts += 1
            self._drop()
            return None
        except (OSError, http.client.HTTPException) as exc:
            self.tally.exceptions[type(exc).__name__] += 1
            self._drop()
            return None
        self.tally.latencies.append(time.perf_counter() - started)
        if response.status != 200:
            code = re.search(rb"<Code>([^<]*)</Code>", payload)
            self.tally.statuses[f"{response.status} {code.group(1).decode() if code else '-'}"] += 1
            return None
        return payload

    def import_snapshot(self) -> str | None:
        payload = self.request("ImportSnapshot", {"DiskContainer": DISK, "ClientToken": str(uuid.uuid4())})
        return None if payload is None else str(ec2codec.parse("ImportSnapshot", payload)["ImportTaskId"])

    def _drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def close(self) -> None:
        self._drop()


def _run_client(client: LoadClient, start: threading.Barrier, stop_at: list[float], import_every: int) -> None:
    start.wait()
    task_id: str | None = None
    sent = 0
    while time.perf_counter() < stop_at[0]:
        sent += 1
        if task_id is None or sent % import_every == 0:
            task_id = client.import_snapshot() or task_id
        else:
            client.request("DescribeImportSnapshotTasks", {"ImportTaskIds": [task_id]})
    client.close()


@contextmanager
def local_server(in_process: bool, max_tasks: int | None) -> Iterator[tuple[str, Credentials]]:
    """``(url, credentials)`` of a LocalEC2 running for the ``with`` block."""
    if in_process:
        from ec2codec.server.testing import LocalEC2

        options: dict[str, Any] = {"time_scale": 60.0, "region": REGION}
        if max_tasks is not None:
            options["max_tasks"] = max_tasks
        with LocalEC2(**options) as ec2:
            yield ec2.endpoint_url, ec2.credentials
        return
    from ec2codec.server.httpd import DEFAULT_CREDENTIALS

    command = [sys.executable, "-m", "ec2codec", "serve", "--time-scale", "60"]
    if max_tasks is not None:
        command += ["--max-tasks", str(max_tasks)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None
        found = _URL_LINE.search(proc.stderr.readline())
        if found is None:
            raise SystemExit(f"ec2codec serve did not start: {proc.stderr.read()}")
        yield found.group(1), DEFAULT_CREDENTIALS
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(
    clients: int,
    seconds: float,
    *,
    import_every: int = 10,
    in_process: bool = False,
    timeout: float = 10.0,
    max_tasks: int | None = None,
) -> dict[str, Any]:
    """Run the load and return the summary (see :func:`report`)."""
    with local_server(in_process, max_tasks) as (url, credentials):
        workers = [LoadClient(url, credentials, timeout) for _ in range(clients)]
        start = threading.Barrier(clients + 1)
        stop_at = [float("inf")]
        threads = [threading.Thread(target=_run_client, args=(w, start, stop_at, import_every)) for w in workers]
        for thread in threads:
            thread.start()
        stop_at[0] = time.perf_counter() + seconds
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
    total = Tally()
    for worker in workers:
        total.merge(worker.tally)
    return summarise(total, clients, elapsed)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


def summarise(total: Tally, clients: int, elapsed: float) -> dict[str, Any]:
    answered = len(total.latencies)
    ok = answered - sum(total.statuses.values())
    failed = total.resets + total.timeouts + sum(total.exceptions.values()) + sum(total.statuses.values())
    return {
        "clients": clients,
        "seconds": elapsed,
        "requests": answered + total.resets + total.timeouts + sum(total.exceptions.values()),
        "ok": ok,
        "throughput": ok / elapsed if elapsed else 0.0,
        "p50_ms": _percentile(total.latencies, 0.50) * 1000,
        "p99_ms": _percentile(total.latencies, 0.99) * 1000,
        "max_ms": max(total.latencies, default=float("nan")) * 1000,
        "connections": total.connects,
        "resets": total.resets,
        "timeouts": total.timeouts,
        "exceptions": dict(total.exceptions),
        "unexpected_statuses": dict(total.statuses),
        "failed": failed,
    }


def report(summary: dict[str, Any]) -> str:
    s = summary
    return "\n".join(
        [
            f"{s['clients']} clients, {s['seconds']:.1f} s: {s['requests']} requests, {s['ok']} ok, "
            f"{s['throughput']:.0f} req/s",
            f"latency: p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms, max {s['max_ms']:.1f} ms",
            f"connections opened: {s['connections']}",
            f"errors: {s['resets']} resets, {s['timeouts']} timeouts, other exceptions {s['exceptions'] or 0}, "
            f"unexpected statuses {s['unexpected_statuses'] or 0}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (default: 64)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send (default: 10)")
    parser.add_argument("--import-every", type=int, default=10, help="every Nth request is an ImportSnapshot")
    parser.add_argument("--in-process", action="store_true", help="serve from this process, not a child")
    parser.add_argument("--timeout", type=float, default=10.0, help="client socket timeout in seconds")
    parser.add_argument("--max-tasks", type=int, help="the server's task cap (default: the server's)")
    parser.add_argument("--quick", action="store_true", help="4 clients for 1 s (smoke test)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    clients, seconds = (4, 1.0) if args.quick else (args.clients, args.seconds)
    summary = run(
        clients,
        seconds,
        import_every=max(1, args.import_every),
        in_process=args.in_process,
        timeout=args.timeout,
        max_tasks=args.max_tasks,
    )
    print(json.dumps(summary, indent=2) if args.json else report(summary))
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
