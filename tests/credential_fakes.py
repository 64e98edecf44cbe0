"""Test doubles for the credential chain: an isolated environment, a clock and a metadata HTTP server.

The ``isolated`` fixture removes every ``AWS_*`` variable, points HOME at a
temporary directory and disables IMDS, so no test reads the developer's real
``~/.aws`` or reaches 169.254.169.254. :class:`MetadataServer` is a real HTTP
server on 127.0.0.1 (``http.server`` in a thread, free port) that the
container and IMDS providers are pointed at.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import ec2codec.auth.credentials.metadata

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
Response = tuple[int, str] | Callable[[], tuple[int, str]]


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


class MetadataServer:
    """A tiny HTTP server on 127.0.0.1 answering from ``routes``; it records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Response] = {}
        self.delays: dict[tuple[str, str], float] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                key = (self.command, self.path)
                server.requests.append((self.command, self.path, dict(self.headers.items())))
                time.sleep(server.delays.get(key, 0.0))
                found = server.routes.get(key, (404, "not found"))
                status, body = found() if callable(found) else found
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout tests)
                    pass

            do_GET = do_PUT = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(ec2codec.auth.credentials.metadata, "CONTAINER_RETRY_DELAY", 0.0)
    return home


@pytest.fixture
def server() -> Iterator[MetadataServer]:
    srv = MetadataServer()
    yield srv
    srv.close()


def write_files(home: Path, credentials: str | None = None, config: str | None = None) -> None:
    (home / ".aws").mkdir(exist_ok=True)
    if credentials is not None:
        (home / ".aws" / "credentials").write_text(credentials)
    if config is not None:
        (home / ".aws" / "config").write_text(config)


def creds_doc(key: str, expires: datetime, secret: str = "SECRET", token: str = "TOKEN") -> str:
    stamp = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(
        {"Code": "Success", "AccessKeyId": key, "SecretAccessKey": secret, "Token": token, "Expiration": stamp}
    )


def serve_imds(server: MetadataServer, monkeypatch: pytest.MonkeyPatch, doc: Response, role: str = "web-role") -> None:
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url)
    monkeypatch.setenv("AWS_METADATA_SERVICE_TIMEOUT", "0.5")
    server.routes[("PUT", "/latest/api/token")] = (200, "imds-session-token")
    server.routes[("GET", "/latest/meta-data/iam/security-credentials/")] = (200, role)
    server.routes[("GET", f"/latest/meta-data/iam/security-credentials/{role}")] = doc


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_secret_absent(error: BaseException, secret: str) -> None:
    """Not in the message, nor anywhere down the exception chain a traceback or logger could show."""
    seen: BaseException | None = error
    while seen is not None:
        assert secret not in str(seen)
        assert secret not in repr(seen)
        assert secret not in repr(vars(seen))
        seen = seen.__cause__ or seen.__context__
