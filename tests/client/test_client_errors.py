"""Nothing but ec2codec's errors escapes the client: arguments checked up front, transport failures in one sentence.

Constructor arguments are checked when the client is made (a table of the
mistakes found by trying, and a property over junk values); transport
failures are provoked for real on 127.0.0.1 (refused, closed, TLS to a
plain-HTTP port, a silent server) or by failing the resolver and the
connect step, and each must read as one sentence naming the host and port,
with the requests exception chained as the cause.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st

import ec2codec
from ec2codec.auth.sigv4 import Credentials
from ec2codec.client.attempts import TransportError
from ec2codec.client.sync import Client
from ec2codec.errors import ServiceError
from tests.client_support import CREDENTIALS, ENDPOINT, error_document, make_client, regions_document

# No test may read the machine's AWS configuration.
_NO_FILES = {"AWS_CONFIG_FILE": "/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials"}


# -- constructor arguments ------------------------------------------------------------


@pytest.mark.parametrize(
    ("argument", "value", "problem"),
    [
        ("timeout", -1, "timeout: expected seconds > 0"),
        ("timeout", 0, "timeout: expected seconds > 0"),
        ("timeout", math.nan, "timeout: expected seconds > 0"),
        ("timeout", "10", "timeout: expected seconds > 0"),
        ("timeout", True, "timeout: expected seconds > 0"),
        ("timeout", (1, -1), "timeout: expected seconds > 0"),
        ("timeout", (1, 2, 3), "timeout: expected seconds > 0"),
        ("timeout", [1, 2], "timeout: expected seconds > 0"),
        ("credentials", ("a", "b"), r"credentials: expected ec2codec.Credentials\(access_key, secret_key"),
        ("credentials", {"access_key": "a"}, "credentials: expected ec2codec.Credentials"),
        ("region", 5, "region: expected a region name"),
        ("endpoint_url", 5, "endpoint_url: expected str or None, got int"),
        ("endpoint_url", "ftp://example.com", "endpoint_url: expected an http:// or https:// URL"),
        ("endpoint_url", "http://", "endpoint_url: expected an http:// or https:// URL"),
        ("endpoint_url", "example.com", "endpoint_url: expected an http:// or https:// URL"),
        ("endpoint_url", "http://[::1", "endpoint_url: expected an http:// or https:// URL"),
        ("profile", 5, "profile: expected a profile name"),
        ("max_attempts", 0, "max_attempts: must be an integer of at least 1"),
        ("max_attempts", 2.0, "max_attempts: must be an integer of at least 1"),
        ("use_fips", "yes", "use_fips: expected True, False or None"),
        ("use_dualstack", 1, "use_dualstack: expected True, False or None"),
        ("environ", [("A", "b")], "environ: expected a mapping or None"),
        ("session", object(), "session: expected a requests.Session or None"),
        ("sleep", 5, "sleep: expected a callable"),
        ("now", "2026-01-01", "now: expected a callable"),
        ("model", "service-2.json", "model: expected an ec2codec.Model"),
    ],
)
def test_bad_constructor_arguments_are_validation_errors(argument: str, value: Any, problem: str) -> None:
    with pytest.raises(ec2codec.ValidationError, match=problem) as info:
        make_client(**{argument: value})
    assert info.value.operation == "Client"


def test_every_bad_argument_is_named_at_once() -> None:
    with pytest.raises(ec2codec.ValidationError) as info:
        make_client(timeout=-1, credentials=("a", "b"), max_attempts=0)
    assert [path for path, _ in info.value.problems] == ["credentials", "max_attempts", "timeout"]


@pytest.mark.parametrize("timeout", [5, 0.5, (1, 2), (0.1, 30.0)])
def test_good_timeouts_are_accepted(timeout: Any) -> None:
    client, _ = make_client(timeout=timeout)
    assert client.timeout == timeout


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.tuples(st.integers(-1, 2), st.integers(-1, 2)),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)


@given(
    arguments=st.dictionaries(
        st.sampled_from(["region", "endpoint_url", "credentials", "profile", "max_attempts", "timeout", "use_fips"]),
        _JUNK,
        max_size=3,
    )
)
def test_junk_arguments_give_our_errors_only(arguments: dict[str, Any]) -> None:
    options: dict[str, Any] = {
        "region": "us-east-1",
        "endpoint_url": ENDPOINT,
        "credentials": CREDENTIALS,
        "environ": _NO_FILES,
        "max_attempts": 1,
        "sleep": lambda seconds: None,
        **arguments,
    }
    try:
        client = Client(**options)
    except ec2codec.Error:
        return
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.add(responses.POST, client.endpoint.url, body=regions_document())
        with contextlib.suppress(ec2codec.Error):
            client.describe_regions()


# -- transport failures --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: connecting is refused


@pytest.fixture
def server() -> Iterator[Any]:
    """Starts a one-trick TCP server on 127.0.0.1: ``server(handler)`` returns its port."""
    sockets: list[socket.socket] = []

    def start(handle: Any) -> int:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        sockets.append(listener)

        def serve() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                sockets.append(connection)
                handle(connection)

        if handle is not None:
            threading.Thread(target=serve, daemon=True).start()
        port: int = listener.getsockname()[1]
        return port

    yield start
    for item in sockets:
        item.close()


def _close_after_reading(connection: socket.socket) -> None:
    connection.recv(65536)
    connection.close()


def _answer_plain_http(connection: socket.socket) -> None:
    connection.recv(65536)
    connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    connection.close()


def _failure(endpoint: str, **options: Any) -> TransportError:
    client, _ = make_client(endpoint_url=endpoint, max_attempts=1, **options)
    with pytest.raises(TransportError) as info:
        client.describe_regions()
    error = info.value
    message = str(error)
    assert "\n" not in message and "Pool" not in message and "Max retries" not in message
    assert isinstance(error.__cause__, requests.RequestException)
    return error


def test_refused(server: Any) -> None:
    port = _free_port()
    error = _failure(f"http://127.0.0.1:{port}")
    assert str(error) == f"could not connect to 127.0.0.1 port {port}: connection refused"
    assert error.retryable


def test_closed_without_an_answer(server: Any) -> None:
    port = server(_close_after_reading)
    assert str(_failure(f"http://127.0.0.1:{port}")) == f"127.0.0.1 port {port} closed the connection without answering"


def test_tls_to_a_plain_http_port(server: Any) -> None:
    port = server(_answer_plain_http)
    message = str(_failure(f"https://127.0.0.1:{port}"))
    assert message.startswith(f"TLS handshake with 127.0.0.1 port {port} failed: ")
    assert "version" in message or "record" in message


def test_no_answer_within_the_read_timeout(server: Any) -> None:
    port = server(None)  # listens (the kernel completes the handshake) but never answers
    error = _failure(f"http://127.0.0.1:{port}", timeout=(2, 0.2))
    assert str(error) == f"no data from 127.0.0.1 port {port} within the read timeout of 0.2 s"


def test_dns_lookup_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "ec2.nowhere.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    error = _failure("https://ec2.nowhere.invalid")
    assert str(error) == "could not resolve host ec2.nowhere.invalid: DNS lookup failed"


def test_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib3.util.connection

    def never(*args: Any, **kwargs: Any) -> socket.socket:
        raise TimeoutError("timed out")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", never)
    error = _failure("https://ec2.us-east-1.amazonaws.com", timeout=(1.5, 60))
    assert str(error) == "timed out after 1.5 s connecting to ec2.us-east-1.amazonaws.com port 443"


def test_unrecognised_failures_keep_their_own_words() -> None:
    with responses.RequestsMock() as mocked:
        mocked.add(responses.POST, ENDPOINT, body=requests.ConnectionError("the cable is out"))
        error = _failure(ENDPOINT)
    assert str(error) == "the request to ec2.us-east-1.amazonaws.com port 443 failed: ConnectionError: the cable is out"


def test_a_real_client_error_chain_is_described_in_one_sentence() -> None:
    # The message of issue 15, as requests raised it before it was rewritten.
    client = Client("us-east-1", "http://127.0.0.1:9", Credentials("a", "b"), environ={}, max_attempts=1)
    with pytest.raises(TransportError, match=r"^could not connect to 127.0.0.1 port 9: connection refused$"):
        client.describe_regions()


# -- options of our own methods ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "args", "options", "listed"),
    [
        ("wait", ("InstanceRunning", {}), {"timeout": 3}, "delay, max_attempts, sleep"),
        ("paginate", ("DescribeInstances", {}), {"PageSize": 3}, "page_size"),
        ("wait_import_snapshot", ("import-snap-1",), {"delay": 3}, "timeout, poll, on_progress, clock, sleep"),
    ],
)
def test_unknown_options_of_our_own_methods_name_those_that_exist(
    method: str, args: tuple[Any, ...], options: dict[str, Any], listed: str
) -> None:
    client, _ = make_client()
    with pytest.raises(ec2codec.ValidationError, match=f"unknown option \\(options: {listed}\\)"):
        getattr(client, method)(*args, **options)


# -- ServiceError as botocore's ClientError ----------------------------------------------


@responses.activate
@pytest.mark.parametrize(
    ("document", "error"),
    [
        (
            error_document("InvalidVolume.NotFound", "no such volume", "req-9"),
            ("InvalidVolume.NotFound", "no such volume"),
        ),
        (error_document("Blank", "", "req-9"), ("Blank", None)),  # botocore reads <Message/> as None
    ],
)
def test_service_error_response_is_shaped_like_client_error(document: str, error: tuple[str, str | None]) -> None:
    responses.add(responses.POST, ENDPOINT, body=document, status=400)
    client, _ = make_client(max_attempts=1)
    with pytest.raises(ServiceError) as info:
        client.describe_volumes(VolumeIds=["vol-1"])
    assert info.value.operation_name == "DescribeVolumes"
    assert info.value.response == {
        "Error": {"Code": error[0], "Message": error[1]},
        "ResponseMetadata": {"RequestId": "req-9", "HTTPStatusCode": 400},
    }


def test_service_error_response_equals_botocores_parse_of_the_same_document() -> None:
    from botocore import session as botocore_session
    from botocore.parsers import EC2QueryParser

    model = botocore_session.get_session().get_service_model("ec2").operation_model("DescribeVolumes")
    for document in (error_document("X.Y", "m", "r-1"), error_document("X.Y", "", "r-1")):
        expected = EC2QueryParser().parse(
            {"body": document.encode(), "headers": {}, "status_code": 400}, model.output_shape
        )
        with pytest.raises(ServiceError) as info:
            ec2codec.parse("DescribeVolumes", document, status=400)
        expected["ResponseMetadata"].pop("HTTPHeaders")
        assert info.value.response == expected
