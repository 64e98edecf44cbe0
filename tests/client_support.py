"""Shared fixtures for the client tests: a hermetic client factory, canned EC2 documents, failing bodies.

Every client made here has explicit credentials, region and endpoint and an
empty environment, so no test reads the machine's AWS configuration; sleeping
and jitter are recorded instead of performed.
"""

from __future__ import annotations

import io
import os
from datetime import datetime, timezone
from typing import Any

from ec2codec.auth.sigv4 import Credentials
from ec2codec.client.sync import Client

ENDPOINT = "https://ec2.us-east-1.amazonaws.com/"
CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "SESSIONTOKENVALUE")
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
JITTER = 0.5


class Recorder:
    """Stands in for ``time.sleep``: remembers each delay, never sleeps."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def make_client(**overrides: Any) -> tuple[Client, Recorder]:
    """A hermetic client (fixed credentials, clock and jitter) and its sleep recorder."""
    sleep = Recorder()
    options: dict[str, Any] = {
        "region": "us-east-1",
        "endpoint_url": ENDPOINT,
        "credentials": CREDENTIALS,
        # The shared files point at the null device: the client reads its settings from them.
        "environ": {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull},
        "sleep": sleep,
        "rng": lambda: JITTER,
        "now": lambda: NOW,
    }
    options.update(overrides)
    return Client(**options), sleep


def error_document(code: str, message: str = "problem", request_id: str = "req-err") -> str:
    return (
        f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
        f"<RequestID>{request_id}</RequestID></Response>"
    )


def regions_document(count: int = 2, request_id: str = "req-ok") -> str:
    items = "".join(
        f"<item><regionName>r-{i}</regionName><regionEndpoint>ec2.r-{i}.amazonaws.com</regionEndpoint>"
        "<optInStatus>opt-in-not-required</optInStatus></item>"
        for i in range(count)
    )
    return (
        '<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        f"<requestId>{request_id}</requestId><regionInfo>{items}</regionInfo></DescribeRegionsResponse>"
    )


def import_snapshot_document(task_id: str = "import-snap-1") -> str:
    return (
        '<ImportSnapshotResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        f"<requestId>req-import</requestId><importTaskId>{task_id}</importTaskId></ImportSnapshotResponse>"
    )


class _BreakingRaw(io.RawIOBase):
    """A socket stand-in: ``data`` arrives, then the connection is reset."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._data:
            raise ConnectionResetError(104, "Connection reset by peer")
        size = min(len(buffer), len(self._data))
        buffer[:size] = self._data[:size]
        self._data = self._data[size:]
        return size


def resetting_body(data: bytes) -> io.BufferedReader:
    """A response body (for ``responses``) that yields ``data`` and then raises ConnectionResetError."""
    return io.BufferedReader(_BreakingRaw(data))
