"""ec2codec.AsyncClient: its surface, the optional extra, credentials off the event loop, the transport's errors.

Retries and clock skew are compared with the sync client in
``test_async_equivalence.py``; the end-to-end runs are ``test_async_local.py``
(LocalEC2) and ``test_async_moto.py``. Every test runs its own event loop with
``asyncio.run`` and talks only to 127.0.0.1 servers it starts.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import aiohttp
import pytest

import ec2codec
from ec2codec.auth.credentials.chain import CredentialProvider
from ec2codec.auth.sigv4 import Credentials
from ec2codec.client import _shared, aio
from ec2codec.client._client_methods import ClientMethods
from ec2codec.client.aio import AsyncClient
from ec2codec.client.sync import Client
from ec2codec.server.testing import LocalEC2
from tests.client.faults import FaultServer, Received, Reply
from tests.client.test_wirelog import CREDS as PRESIGNING_CREDS
from tests.client.test_wirelog import URL as PRESIGNED_URL
from tests.client.test_wirelog import _assert_redacted
from tests.client_support import CREDENTIALS, NOW, error_document, regions_document
from tests.conftest import ROOT

_OPERATIONS = ec2codec.operations()


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer(decide=lambda received, index: Reply(200, regions_document())) as running:
        yield running


def _client(server: FaultServer, **options: Any) -> AsyncClient:
    defaults: dict[str, Any] = {"region": "us-east-1", "endpoint_url": server.url, "environ": {}}
    defaults.setdefault("credentials", CREDENTIALS)
    return AsyncClient(**{**defaults, **options})


def _access_key(received: Received) -> str:
    return received.headers["authorization"].split("Credential=", 1)[1].split("/", 1)[0]


# -- the surface --------------------------------------------------------------------------------------------------


def test_every_operation_is_a_coroutine_that_calls_it() -> None:
    from botocore import xform_name

    seen: list[tuple[str, Any]] = []

    class Spy(AsyncClient):
        async def call(self, operation: str, params: Any = None) -> dict[str, Any]:
            seen.append((operation, params))
            return {"op": operation}

    spy = Spy("us-east-1", "http://127.0.0.1:9", CREDENTIALS, environ={})

    async def main() -> None:
        for op in _OPERATIONS:
            pending = getattr(spy, xform_name(op))(DryRun=True)
            assert inspect.iscoroutine(pending)
            assert await pending == {"op": op}

    asyncio.run(main())
    assert seen == [(op, {"DryRun": True}) for op in _OPERATIONS]
    own = {name for name in vars(AsyncClient) if not name.startswith("_")}
    assert own.isdisjoint({xform_name(op) for op in _OPERATIONS})
    assert issubclass(AsyncClient, ClientMethods) and issubclass(Client, ClientMethods)


def test_the_public_api_mirrors_the_sync_client() -> None:
    assert ec2codec.AsyncClient is AsyncClient
    for name in ("call", "wait", "wait_import_snapshot", "close", "__aenter__", "__aexit__"):
        assert inspect.iscoroutinefunction(getattr(AsyncClient, name)), name
    assert (
        inspect.signature(AsyncClient.__init__).parameters.keys()
        == inspect.signature(Client.__init__).parameters.keys()
    )
    client = AsyncClient("eu-west-1", credentials=CREDENTIALS, environ={})
    assert repr(client) == "<ec2codec.AsyncClient region='eu-west-1' endpoint='https://ec2.eu-west-1.amazonaws.com'>"


def _modules_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(out.stdout.split())


def test_only_the_async_client_loads_aiohttp() -> None:
    assert "aiohttp" not in _modules_after("import ec2codec")
    assert "aiohttp" not in _modules_after("import ec2codec\nec2codec.Client")
    loaded = _modules_after("import ec2codec\nec2codec.AsyncClient")
    assert "aiohttp" in loaded
    assert "requests" not in loaded  # and the async client does not need requests


def test_a_missing_aiohttp_names_the_extra() -> None:
    probe = (
        "import sys\n"
        "sys.modules['aiohttp'] = None  # as if not installed: importing it raises ImportError\n"
        "import ec2codec\n"
        "try:\n"
        "    ec2codec.AsyncClient\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, isinstance(exc, ec2codec.Error), exc.name, '|', exc)\n"
        "ec2codec.Client('us-east-1', credentials=ec2codec.Credentials('a', 'b'), environ={})  # still works\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == (
        "MissingExtraError True aiohttp | ec2codec.AsyncClient needs aiohttp, which is not installed: "
        "pip install 'ec2codec[async]'"
    )


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": (1, -1)}, "timeout"),
        ({"timeout": "10"}, "timeout"),
        ({"sleep": time.sleep}, "sleep"),
    ],
)
def test_bad_constructor_arguments(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ec2codec.ValidationError) as info:
        AsyncClient("us-east-1", credentials=CREDENTIALS, environ={}, **options)
    assert [path for path, _ in info.value.problems] == [problem]


def test_arguments_are_checked_as_the_sync_client_checks_them() -> None:
    import requests

    with pytest.raises(ec2codec.ValidationError) as info:
        AsyncClient("us-east-1", credentials=("a", "b"), environ={}, session=requests.Session())  # type: ignore[arg-type]
    assert info.value.operation == "AsyncClient"
    assert dict(info.value.problems)["session"] == "expected an aiohttp.ClientSession or None, got Session"
    assert "CredentialProvider" in dict(info.value.problems)["credentials"]
    client = AsyncClient("us-east-1", credentials=CREDENTIALS, environ={})
    with pytest.raises(ec2codec.ValidationError, match="unknown option"):
        client.paginate("DescribeInstances", PageSize=5)
    with pytest.raises(ec2codec.ValidationError, match="unknown option"):
        asyncio.run(client.wait("InstanceRunning", {}, timeout=3))
    with pytest.raises(ec2codec.ValidationError, match="unknown option"):
        asyncio.run(client.wait_import_snapshot("import-snap-1", bogus=1))


def test_a_refused_connection_reads_as_the_sync_client_says_it() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"  # closed again below: nothing listens there
    options: dict[str, Any] = {"credentials": CREDENTIALS, "environ": {}, "max_attempts": 1}

    async def main() -> str:
        async with AsyncClient("us-east-1", url, **options) as client:
            with pytest.raises(ec2codec.TransportError) as info:
                await client.describe_regions()
        return str(info.value)

    with Client("us-east-1", url, **options) as sync, pytest.raises(ec2codec.TransportError) as sync_info:
        sync.describe_regions()
    assert (
        asyncio.run(main())
        == str(sync_info.value)
        == f"could not connect to {url[7:].replace(':', ' port ')}: connection refused"
    )


def test_invalid_calls_send_nothing(server: FaultServer) -> None:
    server.load([])

    async def main() -> None:
        async with _client(server) as client:
            with pytest.raises(ec2codec.ValidationError, match="DiskContainer"):
                await client.import_snapshot(DiskContainer="not a structure")
            with pytest.raises(ec2codec.ValidationError, match="unknown operation"):
                await client.call("NoSuchOperation", {})
            with pytest.raises(ec2codec.ModelError, match="no paginator"):
                client.paginate("DescribeRegions")  # raised at the call, not at the first page
            with pytest.raises(ec2codec.PaginationError, match="page_size"):
                client.paginate("DescribeInstances", page_size=0)

    asyncio.run(main())
    assert server.received == []


# -- transport ----------------------------------------------------------------------------------------------------


class _SpyParser(aio.ResponseParser):
    chunks: ClassVar[list[int]] = []

    def feed(self, chunk: Any) -> None:
        type(self).chunks.append(len(chunk))
        super().feed(chunk)


def test_the_body_is_streamed_to_the_parser_in_chunks_of_at_most_64_kib(monkeypatch: pytest.MonkeyPatch) -> None:
    body = regions_document(3000).encode()
    assert len(body) > 3 * 65536
    monkeypatch.setattr(aio, "ResponseParser", _SpyParser)
    _SpyParser.chunks = []
    with FaultServer(decide=lambda received, index: Reply(200, body)) as server:

        async def main() -> dict[str, Any]:
            async with _client(server) as client:
                return await client.describe_regions()

        assert len(asyncio.run(main())["Regions"]) == 3000
    assert len(_SpyParser.chunks) >= 4
    assert max(_SpyParser.chunks) <= 65536
    assert sum(_SpyParser.chunks) == len(body)


def test_one_session_per_client_closed_with_it(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.load([])
    opened: list[aiohttp.ClientSession] = []
    real_open = AsyncClient._open_session

    def recording(self: AsyncClient) -> aiohttp.ClientSession:
        session = real_open(self)
        if session not in opened:
            opened.append(session)
        return session

    monkeypatch.setattr(AsyncClient, "_open_session", recording)

    async def main() -> None:
        async with _client(server) as client:
            await asyncio.gather(*(client.describe_regions() for _ in range(5)))
            await client.describe_regions()
        assert len(opened) == 1 and opened[0].closed

        async with aiohttp.ClientSession() as mine:
            async with _client(server, session=mine) as client:
                await client.describe_regions()
            assert opened[1] is mine
            assert not mine.closed  # a session passed in is the caller's to close

    asyncio.run(main())
    assert len(opened) == 2
    assert len(server.received) == 7


class _FailingSession:
    """Stands in for the client's aiohttp.ClientSession: every request raises ``error``."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.requests = 0

    async def close(self) -> None:
        return None

    def request(self, *args: Any, **kwargs: Any) -> Any:
        self.requests += 1
        session = self

        class _Pending:
            async def __aenter__(self) -> Any:
                raise session.error

            async def __aexit__(self, *exc: object) -> None:
                return None

        return _Pending()


_TRANSPORT_FAILURES = [
    (aiohttp.ClientConnectionError("refused"), True),
    (aiohttp.ClientOSError(104, "reset"), True),
    (aiohttp.ServerDisconnectedError(), True),
    (aiohttp.ClientPayloadError("Response payload is not completed"), True),
    (aiohttp.SocketTimeoutError("read"), True),
    (asyncio.TimeoutError(), True),
    (ConnectionResetError(104, "reset"), True),
    (aiohttp.InvalidURL("nope://"), False),
    (aiohttp.ClientError("other"), False),
]


@pytest.mark.parametrize(("exc", "retryable"), _TRANSPORT_FAILURES, ids=lambda v: type(v).__name__)
def test_every_transport_exception_becomes_a_transport_error(
    exc: BaseException, retryable: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = _FailingSession(exc)
    monkeypatch.setattr(AsyncClient, "_open_session", lambda self: session)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def main() -> None:
        client = AsyncClient("us-east-1", "http://127.0.0.1:9", CREDENTIALS, max_attempts=2, environ={}, sleep=sleep)
        with pytest.raises(ec2codec.TransportError) as info:
            await client.describe_regions()
        await client.close()
        assert isinstance(info.value, ec2codec.Error)
        assert info.value.retryable is retryable
        assert info.value.__cause__ is exc

    asyncio.run(main())
    assert session.requests == (2 if retryable else 1)
    assert len(slept) == session.requests - 1


def test_an_error_document_is_a_service_error_with_its_status() -> None:
    answer = Reply(400, error_document("InvalidVolume.NotFound", "gone", "rid-1"))
    with FaultServer(decide=lambda received, index: answer) as server:

        async def main() -> None:
            async with _client(server) as client:
                with pytest.raises(ec2codec.ServiceError) as info:
                    await client.describe_volumes(VolumeIds=["vol-1"])
            error = info.value
            assert (error.code, error.message, error.request_id, error.status) == (
                "InvalidVolume.NotFound", "gone", "rid-1", 400,
            )  # fmt: skip

        asyncio.run(main())


# -- credentials never block the event loop -----------------------------------------------------------------------


class _Ticker:
    """Counts how often the event loop got to run it while other work was under way."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.ticks += 1
            await asyncio.sleep(0.005)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class _SlowRefresh:
    """A refresh that blocks its thread for ``seconds`` (as IMDS or STS would) and records where it ran."""

    def __init__(
        self, seconds: float, expires_in: timedelta, clock: Callable[[], datetime], ticker: _Ticker | None = None
    ) -> None:
        self.seconds = seconds
        self.expires_in = expires_in
        self.clock = clock
        self.ticker = ticker
        self.saw_the_loop_run = False
        self.calls = 0
        self.threads: list[threading.Thread] = []

    def __call__(self) -> Credentials:
        self.calls += 1
        self.threads.append(threading.current_thread())
        if self.ticker is None:
            time.sleep(self.seconds)
        else:
            # Block until the event loop has ticked 10 more times (10 s at most):
            # that can only happen if this refresh does not hold the loop's thread.
            # Event-driven, so a loaded machine cannot make it flaky.
            target = self.ticker.ticks + 10
            deadline = time.monotonic() + 10
            while self.ticker.ticks < target and time.monotonic() < deadline:
                time.sleep(0.005)
            self.saw_the_loop_run = self.ticker.ticks >= target
        return Credentials(f"AKIDFRESH{self.calls}", "secret", "token", self.clock() + self.expires_in)


def test_a_refresh_runs_once_in_a_worker_thread_while_the_loop_keeps_running(server: FaultServer) -> None:
    # Credentials 5 minutes from expiry (botocore's mandatory window): every task
    # must wait for fresh ones, and the 20 concurrent calls share one refresh.
    def clock() -> datetime:
        return datetime.now(timezone.utc)

    ticker = _Ticker()
    refresh = _SlowRefresh(0.3, timedelta(hours=1), clock, ticker)
    stale = Credentials("AKIDSTALE", "secret", "token", clock() + timedelta(minutes=5))
    provider = CredentialProvider(stale, "test", refresh, clock=clock)
    server.load([])

    async def main() -> None:
        async with _client(server, credentials=provider) as client:
            ticker.start()
            await asyncio.gather(*(client.describe_regions() for _ in range(20)))
            await ticker.stop()

    started = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - started
    assert refresh.calls == 1
    assert refresh.threads[0] is not threading.main_thread()
    assert [_access_key(r) for r in server.received] == ["AKIDFRESH1"] * 20
    assert refresh.saw_the_loop_run  # the loop ran on while the refresh blocked its thread
    assert elapsed < 15


def test_in_the_advisory_window_other_tasks_go_on_with_the_current_credentials(server: FaultServer) -> None:
    now = [NOW]
    refresh = _SlowRefresh(0.3, timedelta(hours=1), lambda: now[0])
    current = Credentials("AKIDCURRENT", "secret", "token", NOW + timedelta(minutes=20))
    provider = CredentialProvider(current, "test", refresh, clock=lambda: now[0])
    server.load([])

    async def main() -> None:
        async with _client(server, credentials=provider, now=lambda: now[0]) as client:
            await client.describe_regions()  # 20 minutes left: no refresh
            assert refresh.calls == 0
            now[0] += timedelta(minutes=8)  # 12 left: refresh, but nobody has to wait for it
            await asyncio.gather(*(client.describe_regions() for _ in range(10)))
            await client.describe_regions()  # fresh credentials from now on

    asyncio.run(main())
    keys = [_access_key(r) for r in server.received]
    assert refresh.calls == 1
    assert keys[0] == "AKIDCURRENT"
    assert sorted(keys[1:11]) == ["AKIDCURRENT"] * 9 + ["AKIDFRESH1"]  # only the refreshing task waited
    assert keys[11] == "AKIDFRESH1"


def test_the_default_chain_is_resolved_in_a_worker_thread_once(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolved: list[threading.Thread] = []

    def resolve_provider(**kwargs: Any) -> CredentialProvider:
        resolved.append(threading.current_thread())
        time.sleep(0.1)  # IMDS answering
        return CredentialProvider(Credentials("AKIDCHAIN", "secret"), "instance metadata")

    monkeypatch.setattr(_shared, "resolve_provider", resolve_provider)
    server.load([])

    async def main() -> None:
        client = _client(server, credentials=None)
        assert client.credentials is None and resolved == []  # not in the constructor
        await asyncio.gather(*(client.describe_regions() for _ in range(10)))
        assert client.credentials is not None and client.credentials.source == "instance metadata"
        await client.close()

    asyncio.run(main())
    assert len(resolved) == 1 and resolved[0] is not threading.main_thread()
    assert [_access_key(r) for r in server.received] == ["AKIDCHAIN"] * 10


def test_missing_credentials_fail_at_async_with(server: FaultServer, tmp_path: Any) -> None:
    environ = {
        "AWS_CONFIG_FILE": str(tmp_path / "c"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "s"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    server.load([])

    async def main() -> None:
        client = AsyncClient("us-east-1", server.url, environ=environ)
        with pytest.raises(ec2codec.CredentialsError, match="no AWS credentials found"):
            async with client:
                pass

    asyncio.run(main())
    assert server.received == []


# -- the wire log -------------------------------------------------------------------------------------------------


def test_the_debug_log_shows_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    # The sync client's test (test_wirelog.py), through the async client: the same lines, redacted alike.
    with LocalEC2(time_scale=100) as ec2:

        async def main() -> dict[str, Any]:
            async with AsyncClient(ec2.region, ec2.endpoint_url, ec2.credentials, environ={}) as client:
                with caplog.at_level(logging.DEBUG, logger="ec2codec.wire"):
                    task = await client.import_snapshot(DiskContainer={"Format": "VHD", "Url": PRESIGNED_URL})
                    await client.describe_import_snapshot_tasks(ImportTaskIds=[task["ImportTaskId"]])
            return task

        task = asyncio.run(main())
    assert task["SnapshotTaskDetail"]["Url"] == PRESIGNED_URL
    assert caplog.text.count("request POST") == 2 and caplog.text.count("response 200") == 2
    assert caplog.text.count("X-Amz-Signature%3D***") == 1
    assert caplog.text.count("X-Amz-Signature=***</url>") == 2
    _assert_redacted(caplog.text)
    assert ec2.credentials.secret_key not in caplog.text
    assert PRESIGNING_CREDS.secret_key not in caplog.text


@pytest.mark.parametrize(
    ("verify", "problem"),
    [(True, None), (False, None), ("/nonexistent/ca.pem", "cannot read the CA bundle"), (3, "expected True, False")],
)
def test_verify_as_the_sync_client_takes_it(verify: Any, problem: str | None) -> None:
    creds = ec2codec.Credentials("AKIDEXAMPLE", "secret")
    if problem is None:
        client = ec2codec.AsyncClient("us-east-1", "http://127.0.0.1:9", creds, verify=verify)
        assert client.verify is verify
        return
    with pytest.raises(ec2codec.ValidationError, match=problem):
        ec2codec.AsyncClient("us-east-1", "http://127.0.0.1:9", creds, verify=verify)
