"""The HTTP credential providers (container endpoint, EC2 IMDS) and refreshing temporary credentials.

Both providers run against real HTTP servers on 127.0.0.1 started by the tests
(``credential_fakes.MetadataServer``); nothing else is reached on the network.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import ec2codec.auth.credentials.metadata
from ec2codec.auth.credentials.chain import CredentialProvider, CredentialsError, resolve_credentials, resolve_provider
from ec2codec.auth.sigv4 import Credentials
from tests import credential_fakes as fakes
from tests.credential_fakes import (
    T0,
    Clock,
    MetadataServer,
    Response,
    assert_secret_absent,
    closed_port,
    creds_doc,
    serve_imds,
    write_files,
)

isolated = fakes.isolated
server = fakes.server


# -- container provider -------------------------------------------------------------


def test_container_full_uri_with_token(monkeypatch: pytest.MonkeyPatch, server: MetadataServer) -> None:
    server.routes[("GET", "/creds")] = (200, creds_doc("CONTAINER", T0 + timedelta(hours=6)))
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{server.url}/creds")
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer abc")
    provider = resolve_provider(clock=Clock())
    creds = provider.get()
    assert (creds.access_key, creds.secret_key, creds.token) == ("CONTAINER", "SECRET", "TOKEN")
    assert creds.expiration == T0 + timedelta(hours=6)
    assert provider.refreshable and "container endpoint" in provider.source
    ((_, _, headers),) = server.requests
    assert headers["Authorization"] == "Bearer abc"
    assert headers["Accept"] == "application/json"


def test_container_relative_uri(monkeypatch: pytest.MonkeyPatch, server: MetadataServer) -> None:
    # The relative URI is resolved against 169.254.170.2; point that at the test server.
    monkeypatch.setattr(ec2codec.auth.credentials.metadata, "CONTAINER_HOST", server.url.removeprefix("http://"))
    server.routes[("GET", "/v2/credentials/abc")] = (200, creds_doc("RELATIVE", T0 + timedelta(hours=6)))
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://ignored.example/")  # relative wins
    assert resolve_credentials(clock=Clock()).access_key == "RELATIVE"


def test_container_token_file_wins_and_is_reread(
    monkeypatch: pytest.MonkeyPatch, server: MetadataServer, tmp_path: Path
) -> None:
    clock = Clock()
    server.routes[("GET", "/creds")] = (200, creds_doc("C1", T0 + timedelta(hours=1)))
    token_file = tmp_path / "token"
    token_file.write_text("from-file-1")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{server.url}/creds")
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "from-env")
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(token_file))
    provider = resolve_provider(clock=clock)
    token_file.write_text("from-file-2")  # EKS Pod Identity rotates the file
    server.routes[("GET", "/creds")] = (200, creds_doc("C2", T0 + timedelta(hours=2)))
    clock.advance(50)
    assert provider.get().access_key == "C2"
    assert [headers["Authorization"] for _, _, headers in server.requests] == ["from-file-1", "from-file-2"]


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        ({"AWS_CONTAINER_AUTHORIZATION_TOKEN": "bad\ntoken"}, "not a legal header value"),
        ({"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/nonexistent/token"}, "cannot read"),
        ({"route": (500, "boom")}, "HTTP 500 (after 3 attempts)"),
        ({"route": (200, "not json")}, "not JSON"),
        ({"route": (200, '{"Code": "AccessDenied"}')}, "no credentials (error code AccessDenied)"),
    ],
)
def test_container_failures_stop_the_chain(
    monkeypatch: pytest.MonkeyPatch, server: MetadataServer, setup: dict[str, Any], fragment: str
) -> None:
    server.routes[("GET", "/creds")] = setup.pop("route", (200, creds_doc("C", T0 + timedelta(hours=1))))
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{server.url}/creds")
    for name, value in setup.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(CredentialsError, match="container credentials failed") as info:
        resolve_credentials()
    assert fragment in str(info.value)


def test_container_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"http://127.0.0.1:{closed_port()}/creds")
    with pytest.raises(CredentialsError, match="cannot connect"):
        resolve_credentials()


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:9000/creds", True),
        ("http://127.0.0.2/creds", True),
        ("http://[::1]:9000/creds", True),
        ("http://localhost/creds", True),
        ("http://169.254.170.2/v2/credentials", True),
        ("http://169.254.170.23/v1/credentials", True),
        ("http://[fd00:ec2::23]/v1/credentials", True),
        ("https://creds.example.com/anything", True),
        ("http://creds.example.com/creds", False),
        ("http://10.0.0.1/creds", False),
        ("http://169.254.169.254/latest", False),
        ("ftp://127.0.0.1/creds", False),
    ],
)
def test_container_full_uri_hosts(url: str, allowed: bool) -> None:
    if allowed:
        ec2codec.auth.credentials.metadata.check_container_url(url)
    else:
        with pytest.raises(ec2codec.auth.credentials.metadata.MetadataError):
            ec2codec.auth.credentials.metadata.check_container_url(url)


def test_container_full_uri_host_rejected_by_the_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://creds.example.com/creds")
    with pytest.raises(CredentialsError, match=re.escape("unsupported host 'creds.example.com'")):
        resolve_credentials()


# -- instance metadata (IMDS) ----------------------------------------------------------


def test_imds_v2(monkeypatch: pytest.MonkeyPatch, server: MetadataServer) -> None:
    serve_imds(server, monkeypatch, (200, creds_doc("IMDS", T0 + timedelta(hours=6))))
    provider = resolve_provider(clock=Clock())
    assert provider.get().access_key == "IMDS"
    assert provider.source.startswith("EC2 instance metadata")
    (put, _, put_headers), (_, role_path, role_headers), (_, creds_path, creds_headers) = server.requests
    assert put == "PUT" and put_headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600"
    assert role_path == "/latest/meta-data/iam/security-credentials/"
    assert creds_path == "/latest/meta-data/iam/security-credentials/web-role"
    assert role_headers["x-aws-ec2-metadata-token"] == creds_headers["x-aws-ec2-metadata-token"] == "imds-session-token"


@pytest.mark.parametrize("status", [403, 404, 405])
def test_imds_v1_fallback(monkeypatch: pytest.MonkeyPatch, server: MetadataServer, status: int) -> None:
    serve_imds(server, monkeypatch, (200, creds_doc("IMDSV1", T0 + timedelta(hours=6))))
    server.routes[("PUT", "/latest/api/token")] = (status, "")
    assert resolve_credentials().access_key == "IMDSV1"
    assert all("x-aws-ec2-metadata-token" not in headers for method, _, headers in server.requests if method == "GET")


def test_imds_v1_disabled(monkeypatch: pytest.MonkeyPatch, server: MetadataServer) -> None:
    serve_imds(server, monkeypatch, (200, creds_doc("IMDSV1", T0 + timedelta(hours=6))))
    server.routes[("PUT", "/latest/api/token")] = (404, "")
    monkeypatch.setenv("AWS_EC2_METADATA_V1_DISABLED", "true")
    with pytest.raises(CredentialsError, match="IMDSv1 is disabled"):
        resolve_credentials()


def test_imds_timeout_is_short(monkeypatch: pytest.MonkeyPatch, server: MetadataServer) -> None:
    serve_imds(server, monkeypatch, (200, creds_doc("SLOW", T0 + timedelta(hours=6))))
    monkeypatch.setenv("AWS_METADATA_SERVICE_TIMEOUT", "0.2")
    for key in server.routes:
        server.delays[key] = 1.0
    started = time.monotonic()
    with pytest.raises(CredentialsError, match="EC2 instance metadata") as info:
        resolve_credentials()
    # Token PUT times out (falls back to IMDSv1 as botocore), role GET times out: two waits.
    assert time.monotonic() - started < 0.9
    assert "TimeoutError" in str(info.value)


def test_imds_unreachable_gives_up_after_one_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(CredentialsError, match="cannot connect"):
        resolve_credentials()


@pytest.mark.parametrize(
    ("routes", "fragment"),
    [
        ({("GET", "/latest/meta-data/iam/security-credentials/"): (404, "")}, "HTTP 404"),
        ({("GET", "/latest/meta-data/iam/security-credentials/web-role"): (404, "")}, "web-role: HTTP 404"),
        ({("GET", "/latest/meta-data/iam/security-credentials/web-role"): (200, "{oops")}, "unreadable body"),
        (
            {
                ("GET", "/latest/meta-data/iam/security-credentials/web-role"): (
                    200,
                    '{"Code": "AssumeRoleUnauthorizedAccess", "Message": "m"}',
                )
            },
            "error code AssumeRoleUnauthorizedAccess",
        ),
        ({("PUT", "/latest/api/token"): (400, "")}, "HTTP 400"),
    ],
)
def test_imds_failures_fall_through(
    monkeypatch: pytest.MonkeyPatch, server: MetadataServer, routes: dict[tuple[str, str], Response], fragment: str
) -> None:
    serve_imds(server, monkeypatch, (200, creds_doc("IMDS", T0 + timedelta(hours=6))))
    server.routes.update(routes)
    with pytest.raises(CredentialsError, match="no AWS credentials found") as info:
        resolve_credentials()
    assert fragment in info.value.searched[-1]


def test_imds_settings_from_config_file(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, server: MetadataServer
) -> None:
    serve_imds(server, monkeypatch, (200, creds_doc("FROMCONFIG", T0 + timedelta(hours=6))))
    monkeypatch.delenv("AWS_EC2_METADATA_SERVICE_ENDPOINT")
    write_files(
        isolated,
        config=f"[default]\nec2_metadata_service_endpoint = {server.url}/\nmetadata_service_num_attempts = 2\n",
    )
    assert resolve_credentials().access_key == "FROMCONFIG"


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("AWS_METADATA_SERVICE_TIMEOUT", "soon", "must be numbers"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5", "IPv4 or IPv6"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "169.254.169.254", "not an http(s) URL"),
    ],
)
def test_imds_bad_settings(monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str) -> None:
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED")
    monkeypatch.setenv(name, value)
    with pytest.raises(CredentialsError, match=re.escape(fragment)):
        resolve_credentials()


# -- refresh -----------------------------------------------------------------------------


def test_imds_credentials_refresh_before_they_expire(monkeypatch: pytest.MonkeyPatch, server: MetadataServer) -> None:
    clock = Clock()
    documents = {"doc": creds_doc("FIRST", T0 + timedelta(hours=1))}
    serve_imds(server, monkeypatch, lambda: (200, documents["doc"]))
    provider = resolve_provider(clock=clock)
    assert provider.get().access_key == "FIRST"
    documents["doc"] = creds_doc("SECOND", T0 + timedelta(hours=2))
    clock.advance(44)  # 16 minutes left: still fresh, no request
    calls = len(server.requests)
    assert provider.get().access_key == "FIRST"
    assert len(server.requests) == calls
    clock.advance(2)  # 14 minutes left: advisory refresh
    assert provider.get().access_key == "SECOND"


def test_advisory_refresh_failure_keeps_credentials_mandatory_raises(
    monkeypatch: pytest.MonkeyPatch, server: MetadataServer
) -> None:
    clock = Clock()
    serve_imds(server, monkeypatch, (200, creds_doc("FIRST", T0 + timedelta(hours=1))))
    provider = resolve_provider(clock=clock)
    server.routes[("GET", "/latest/meta-data/iam/security-credentials/web-role")] = (500, "")
    clock.advance(47)  # 13 minutes left: a failed refresh is tolerated
    assert provider.get().access_key == "FIRST"
    clock.advance(5)  # 8 minutes left: it must succeed
    with pytest.raises(CredentialsError, match="refreshing credentials from EC2 instance metadata"):
        provider.get()


def test_imds_expired_credentials_are_extended(monkeypatch: pytest.MonkeyPatch, server: MetadataServer) -> None:
    # botocore's static stability: IMDS serving stale credentials is not an outage.
    clock = Clock()
    serve_imds(server, monkeypatch, (200, creds_doc("STALE", T0 - timedelta(minutes=5))))
    creds = resolve_provider(clock=clock).get()
    assert creds.access_key == "STALE"
    assert creds.expiration is not None
    assert T0 + timedelta(minutes=17) <= creds.expiration <= T0 + timedelta(minutes=25)


def test_expired_environment_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "2024-05-01T11:00:00Z")
    provider = resolve_provider(clock=Clock())
    assert provider.refreshable
    with pytest.raises(CredentialsError, match="already expired"):
        provider.get()
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "2024-05-01T18:00:00Z")  # the environment was updated
    assert provider.get().expiration == datetime(2024, 5, 1, 18, tzinfo=timezone.utc)


def test_refresh_happens_once_across_threads() -> None:
    clock = Clock()
    calls: list[int] = []
    gate = threading.Event()

    def refresh() -> Credentials:
        calls.append(1)
        gate.wait(1)
        return Credentials("NEW", "s", "t", T0 + timedelta(hours=1))

    provider = CredentialProvider(Credentials("OLD", "s", "t", T0 + timedelta(minutes=5)), "test", refresh, clock=clock)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(provider.get().access_key)) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    gate.set()
    for thread in threads:
        thread.join()
    assert calls == [1]
    assert results == ["NEW"] * 8


def test_static_credentials_never_refresh() -> None:
    provider = CredentialProvider(Credentials("A", "s"), "test", lambda: pytest.fail("no refresh"), clock=Clock())
    assert provider.get().access_key == "A"


def test_secrets_never_in_endpoint_errors(monkeypatch: pytest.MonkeyPatch, server: MetadataServer) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    server.routes[("GET", "/creds")] = (500, f"oops {secret}")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{server.url}/creds")
    with pytest.raises(CredentialsError) as info:
        resolve_credentials()
    assert_secret_absent(info.value, secret)
    serve_imds(server, monkeypatch, (200, json.dumps({"Code": "Failure", "Message": secret})))
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    with pytest.raises(CredentialsError) as info:
        resolve_credentials()
    assert_secret_absent(info.value, secret)
