"""LocalEC2 over raw HTTP/1.1: many clients at once, keep-alive, deadlines, refusals in EC2's format, the task cap."""

from __future__ import annotations

import http.client
import select
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any, NamedTuple

import pytest

import ec2codec
from ec2codec.auth.sigv4 import Credentials
from ec2codec.server.httpd import LocalEC2Server

KEY = Credentials("AKIDLOADTEST", "load-secret")
REGION = "us-east-1"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
DISK = {"Format": "VHD", "UserBucket": {"S3Bucket": "b", "S3Key": "disk.vhd"}}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalEC2Server]:
    with LocalEC2Server(credentials=KEY, region=REGION, time_scale=60, request_timeout=5) as srv:
        yield srv


def _address(server: LocalEC2Server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def _signed(
    server: LocalEC2Server, operation: str, params: dict[str, Any], path: str = "/"
) -> tuple[bytes, dict[str, str]]:
    body = ec2codec.encode(operation, params)
    headers = ec2codec.sign("POST", server.url + path, {"Content-Type": FORM}, body, KEY, REGION)
    return body, headers


def _raw_request(server: LocalEC2Server, operation: str, params: dict[str, Any], *, extra: str = "") -> bytes:
    """A signed POST as bytes, with ``extra`` header lines."""
    body, headers = _signed(server, operation, params)
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"POST / HTTP/1.1\r\n{lines}Content-Length: {len(body)}\r\n{extra}\r\n".encode() + body


class Answer(NamedTuple):
    status: int
    headers: Message
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class Wire:
    """A raw connection: bytes out, answers framed by their Content-Length in (one reader, so pipelining works)."""

    def __init__(self, server: LocalEC2Server) -> None:
        self.sock = socket.create_connection(_address(server), timeout=10)
        self._file = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self, method: str = "POST") -> Answer:
        line = self._file.readline(65537)
        if not line:
            raise ConnectionError("closed without an answer")
        version, status, _ = line.decode("latin-1").split(" ", 2)
        assert version == "HTTP/1.1", line
        headers = http.client.parse_headers(self._file)
        length = headers.get("Content-Length")
        assert length is not None and length.isdigit(), "every answer carries Content-Length"
        body = b"" if method == "HEAD" else self._file.read(int(length))
        assert len(body) == (0 if method == "HEAD" else int(length))
        return Answer(int(status), headers, body)

    def closed(self, wait: float = 1.0) -> bool:
        """The server closed its side (EOF, or a reset after unread bytes) within ``wait`` seconds."""
        self.sock.settimeout(wait)
        try:
            return self._file.read(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self._file.close()
        self.sock.close()


@contextmanager
def wire(server: LocalEC2Server) -> Iterator[Wire]:
    connection = Wire(server)
    try:
        yield connection
    finally:
        connection.close()


def _error_code(answer: Answer) -> str:
    """The EC2 error code of an answer, checking it is an XML error document, never HTML."""
    assert (answer.header("Content-Type") or "").startswith("text/xml"), answer.headers.items()
    assert b"<html" not in answer.body.lower()
    with pytest.raises(ec2codec.ServiceError) as info:
        ec2codec.parse("DescribeImportSnapshotTasks", answer.body, status=answer.status)
    assert info.value.request_id == answer.header("x-amzn-RequestId")
    return info.value.code


# ---------------------------------------------------------------- many clients at once

CLIENTS = 64
REQUESTS_EACH = 6


def test_64_clients_at_once_get_every_answer_over_one_connection_each() -> None:
    """A burst of 64 connections overflowed the old backlog of 5 (resets); keep-alive then reuses each one."""
    with LocalEC2Server(credentials=KEY, region=REGION, time_scale=60) as srv:
        host, port = _address(srv)
        barrier = threading.Barrier(CLIENTS)
        outcomes: Counter[str] = Counter()
        connections: Counter[str] = Counter()
        lock = threading.Lock()

        def client() -> None:
            conn = http.client.HTTPConnection(host, port, timeout=30)
            seen: list[str] = []
            opened = 0
            barrier.wait()
            task_id = ""
            for i in range(REQUESTS_EACH):
                if i == 0:
                    operation, params = "ImportSnapshot", {"DiskContainer": DISK}
                else:
                    operation, params = "DescribeImportSnapshotTasks", {"ImportTaskIds": [task_id]}
                try:
                    opened += conn.sock is None
                    body, headers = _signed(srv, operation, params)
                    conn.request("POST", "/", body, headers)
                    answer = conn.getresponse()
                    payload = answer.read()
                    if answer.status != 200:
                        seen.append(f"status {answer.status}")
                        continue
                    result = ec2codec.parse(operation, payload)
                    task_id = result.get("ImportTaskId", task_id)
                    seen.append("ok")
                except Exception as exc:  # every kind is counted: resets, timeouts, anything else
                    seen.append(type(exc).__name__)
                    conn.close()
            conn.close()
            with lock:
                outcomes.update(seen)
                connections[str(opened)] += 1

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
    assert outcomes == {"ok": CLIENTS * REQUESTS_EACH}
    assert connections == {"1": CLIENTS}  # each client's requests all went over its first connection
    assert len(srv.tasks.describe_import_snapshot_tasks({}, time.time())["ImportSnapshotTasks"]) == CLIENTS


# ---------------------------------------------------------------- keep-alive


def test_keep_alive_pipelining_and_connection_close(server: LocalEC2Server) -> None:
    describe = _raw_request(server, "DescribeImportSnapshotTasks", {})
    with wire(server) as conn:
        conn.send(describe + describe)  # two requests in one write: answered in order
        for _ in range(2):
            answer = conn.answer()
            assert answer.status == 200 and answer.header("Connection") is None
            assert b"<DescribeImportSnapshotTasksResponse" in answer.body
        conn.send(_raw_request(server, "DescribeImportSnapshotTasks", {}, extra="Connection: close\r\n"))
        answer = conn.answer()
        assert answer.status == 200 and answer.header("Connection") == "close"
        assert conn.closed()


@pytest.mark.parametrize(
    ("connection", "stays_open"),
    [("", False), ("Connection: keep-alive\r\n", True)],
    ids=["http1.0", "http1.0-keep-alive"],
)
def test_http_1_0_persists_only_when_asked(server: LocalEC2Server, connection: str, stays_open: bool) -> None:
    request = _raw_request(server, "DescribeImportSnapshotTasks", {}, extra=connection)
    with wire(server) as conn:
        conn.send(request.replace(b" HTTP/1.1\r\n", b" HTTP/1.0\r\n", 1))
        answer = conn.answer()
        assert answer.status == 200
        assert answer.header("Connection") == ("keep-alive" if stays_open else "close")
        assert conn.closed(wait=1.0 if not stays_open else 0.3) is not stays_open


def test_stop_ends_idle_keep_alive_connections_at_once() -> None:
    before = set(threading.enumerate())
    srv = LocalEC2Server(credentials=KEY, region=REGION, request_timeout=30).start()
    with wire(srv) as conn:
        conn.send(_raw_request(srv, "DescribeImportSnapshotTasks", {}))
        assert conn.answer().status == 200  # the connection is now idle, kept alive
        started = time.monotonic()
        srv.stop()
        assert time.monotonic() - started < 5  # not the 30 s idle limit
        assert conn.closed()
    assert set(threading.enumerate()) <= before


# ---------------------------------------------------------------- refusals, as EC2 error documents


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 405, "UnsupportedHttpVerb"),
        (b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", 405, "UnsupportedHttpVerb"),
        (b"PATCH / HTTP/1.1\r\nHost: x\r\n\r\n", 405, "UnsupportedHttpVerb"),
        (b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 405, "UnsupportedHttpVerb"),
        (b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 405, "UnsupportedHttpVerb"),
        (b"garbage\r\n\r\n", 400, "InvalidHttpRequest"),
        (b"GET / HTTP/1.1 extra\r\n\r\n", 400, "InvalidHttpRequest"),
        (b"GET / HTTX/1.1\r\n\r\n", 400, "InvalidHttpRequest"),
        (b"GET / HTTP/1.1.1\r\n\r\n", 400, "InvalidHttpRequest"),
        (b"GET / HTTP/\x01\r\n\r\n", 400, "InvalidHttpRequest"),
        (b"POST /\r\n\r\n", 400, "InvalidHttpRequest"),
        (b"GET /\r\n\r\n", 400, "InvalidHttpRequest"),
        (b"GET / HTTP/2.0\r\n\r\n", 505, "HttpVersionNotSupported"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "RequestUriTooLong"),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", 431, "RequestHeaderSectionTooLarge"),
        (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 101 + b"\r\n", 431, "RequestHeaderSectionTooLarge"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 411, "MissingContentLength"),
        (b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, "InvalidParameterValue"),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "InvalidParameterValue"),
        (b"POST / HTTP/1.1\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n", 400, "InvalidParameterValue"),
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400, "InvalidParameterValue"),
    ],
    ids=lambda value: value.decode("latin-1")[:20] if isinstance(value, bytes) else str(value),
)
def test_http_level_refusals_are_ec2_documents_and_close(
    server: LocalEC2Server, raw: bytes, status: int, code: str
) -> None:
    with wire(server) as conn:
        conn.send(raw)
        answer = conn.answer()
        assert (answer.status, _error_code(answer)) == (status, code)
        assert answer.header("Connection") == "close"
        if status == 405:
            assert answer.header("Allow") == "GET, POST"
        assert conn.closed()


def test_a_client_still_sending_an_oversized_body_reads_the_refusal(server: LocalEC2Server) -> None:
    # Closing with the body unread would reset the connection under the client's feet (a broken pipe).
    for _ in range(3):
        conn = http.client.HTTPConnection(*_address(server), timeout=10)
        try:
            conn.request("POST", "/", b"x" * (3 << 20), {"Content-Type": FORM})
            answer = conn.getresponse()
            assert answer.status == 400 and b"<Code>InvalidParameterValue</Code>" in answer.read()
        finally:
            conn.close()


def test_head_is_refused_without_a_body(server: LocalEC2Server) -> None:
    with wire(server) as conn:
        conn.send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = conn.answer("HEAD")
        assert answer.status == 405 and answer.header("Allow") == "GET, POST"
        assert int(answer.header("Content-Length") or 0) > 0  # the length a GET would get, but no body
        assert conn.closed()


def test_a_body_cut_short_is_incomplete(server: LocalEC2Server) -> None:
    with wire(server) as conn:
        conn.send(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
        conn.sock.shutdown(socket.SHUT_WR)
        answer = conn.answer()
        assert (answer.status, _error_code(answer)) == (400, "IncompleteBody")


@pytest.mark.parametrize(
    "path", ["/foo", "/ec2/", "//x", "/%2F", "/foo?Action=DescribeImportSnapshotTasks", "http://h/"]
)
def test_a_path_other_than_root_is_invalid_action_and_the_connection_stays(server: LocalEC2Server, path: str) -> None:
    body, headers = _signed(server, "DescribeImportSnapshotTasks", {})
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    with wire(server) as conn:
        conn.send(f"POST {path} HTTP/1.1\r\n{lines}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        answer = conn.answer()
        assert (answer.status, _error_code(answer)) == (400, "InvalidAction")
        assert b"request path" in answer.body and answer.header("Connection") is None
        conn.send(_raw_request(server, "DescribeImportSnapshotTasks", {}))  # the same connection still serves
        assert conn.answer().status == 200


def test_get_on_root_with_a_query_still_works(server: LocalEC2Server) -> None:
    query = ec2codec.encode("DescribeImportSnapshotTasks", {}).decode()
    headers = ec2codec.sign("GET", f"{server.url}/?{query}", {}, b"", KEY, REGION)
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    with wire(server) as conn:
        conn.send(f"GET /?{query} HTTP/1.1\r\n{lines}\r\n".encode())
        answer = conn.answer()
        assert answer.status == 200 and b"ImportSnapshotTasks" in answer.body


# ---------------------------------------------------------------- the request deadline


@pytest.fixture(scope="module")
def quick_server() -> Iterator[LocalEC2Server]:
    with LocalEC2Server(credentials=KEY, region=REGION, request_timeout=1.0) as srv:
        yield srv


def test_slowloris_is_cut_off_at_the_deadline(quick_server: LocalEC2Server) -> None:
    request = _raw_request(quick_server, "DescribeImportSnapshotTasks", {})
    with wire(quick_server) as conn:
        started = time.monotonic()
        for byte in request[:15]:  # one byte every 0.2 s: a per-read timeout of 1 s would never fire
            conn.send(bytes([byte]))
            if select.select([conn.sock], [], [], 0.2)[0]:
                break  # the server has answered
        answer = conn.answer()
        elapsed = time.monotonic() - started
        assert (answer.status, _error_code(answer)) == (408, "RequestTimeout")
        assert answer.header("Connection") == "close"
    assert 0.8 <= elapsed <= 2.5, elapsed


def test_idle_connection_is_closed_without_an_answer(quick_server: LocalEC2Server) -> None:
    with wire(quick_server) as conn:
        started = time.monotonic()
        assert conn.sock.recv(100) == b""  # no 408 for a request that never began
        assert 0.8 <= time.monotonic() - started <= 2.5


def test_a_slow_request_within_the_deadline_is_answered(quick_server: LocalEC2Server) -> None:
    request = _raw_request(quick_server, "DescribeImportSnapshotTasks", {})
    third = len(request) // 3 + 1
    with wire(quick_server) as conn:
        time.sleep(0.5)  # idle first: the deadline runs from the request's first byte
        for start in range(0, len(request), third):
            conn.send(request[start : start + third])
            time.sleep(0.2)
        assert conn.answer().status == 200


# ---------------------------------------------------------------- the task cap


def test_over_the_task_cap_import_snapshot_is_resource_limit_exceeded() -> None:
    with LocalEC2Server(credentials=KEY, region=REGION, max_tasks=2) as srv:
        conn = http.client.HTTPConnection(*_address(srv), timeout=10)

        def post(params: dict[str, Any]) -> tuple[int, bytes]:
            body, headers = _signed(srv, "ImportSnapshot", params)
            conn.request("POST", "/", body, headers)
            answer = conn.getresponse()
            return answer.status, answer.read()

        try:
            assert post({"DiskContainer": DISK, "ClientToken": "t1"})[0] == 200
            assert post({"DiskContainer": DISK})[0] == 200
            status, body = post({"DiskContainer": DISK})
            assert status == 400 and b"<Code>ResourceLimitExceeded</Code>" in body
            assert post({"DiskContainer": DISK, "DryRun": True})[0] == 400  # it would not have succeeded
            assert post({"DiskContainer": DISK, "ClientToken": "t1"})[0] == 200  # a retry still finds its task
        finally:
            conn.close()
        assert len(srv.tasks.describe_import_snapshot_tasks({}, time.time())["ImportSnapshotTasks"]) == 2


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"request_timeout": 0}, "request_timeout"),
        ({"request_timeout": float("nan")}, "request_timeout"),
        ({"request_timeout": float("inf")}, "request_timeout"),
        ({"max_tasks": 0}, "max_tasks"),
        ({"max_tasks": 2.5}, "max_tasks"),
    ],
)
def test_limits_are_validated(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ec2codec.ValidationError, match=problem):
        LocalEC2Server(credentials=KEY, **options)


def test_serve_command_passes_its_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    from ec2codec.cli import app as cli
    from ec2codec.server import httpd as server

    seen: dict[str, Any] = {}
    monkeypatch.setattr(server, "serve", lambda *args, **kwargs: seen.update(kwargs))
    assert cli.main(["serve", "--request-timeout", "2.5", "--max-tasks", "7"]) == 0
    assert (seen["request_timeout"], seen["max_tasks"]) == (2.5, 7)
    assert cli.main(["serve"]) == 0
    assert (seen["request_timeout"], seen["max_tasks"]) == (30.0, 10_000)
