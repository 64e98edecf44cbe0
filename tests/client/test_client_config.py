"""The client applies the configuration the AWS CLI reads: services sections, CA bundle, attempts, retry mode.

HTTP is mocked by ``responses``; every client reads a config file written to
``tmp_path`` through ``environ``, never the machine's.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
import responses

import ec2codec
from ec2codec.client.sync import Client
from tests.client_support import CREDENTIALS, error_document, make_client, regions_document


def _environ(tmp_path: Path, config: str, **variables: str) -> dict[str, str]:
    (tmp_path / "config").write_text(config)
    return {
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        **variables,
    }


def _client(environ: dict[str, str], **options: Any) -> Client:
    return Client(credentials=CREDENTIALS, environ=environ, sleep=lambda s: None, rng=lambda: 0.5, **options)


# -- endpoints ------------------------------------------------------------------


def test_a_services_section_selects_the_endpoint(tmp_path: Path) -> None:
    config = (
        "[profile dev]\nregion = eu-west-1\nservices = local\n"
        "[services local]\nec2 =\n  endpoint_url = http://127.0.0.1:4566\nsts =\n  endpoint_url = http://x:1\n"
    )
    with _client(_environ(tmp_path, config), profile="dev") as client:
        assert client.endpoint.url == "http://127.0.0.1:4566"
        assert client.endpoint.signing_region == "eu-west-1"
    # An explicit endpoint_url still wins, and an environment variable over the section.
    with _client(_environ(tmp_path, config), profile="dev", endpoint_url="http://arg:1") as client:
        assert client.endpoint.url == "http://arg:1"
    with _client(_environ(tmp_path, config, AWS_ENDPOINT_URL_EC2="http://env:2"), profile="dev") as client:
        assert client.endpoint.url == "http://env:2"


def test_a_missing_services_section_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ec2codec.ConfigError, match=r"\[services gone\]"):
        _client(_environ(tmp_path, "[default]\nregion = us-east-1\nservices = gone\n"))


# -- CA bundle -------------------------------------------------------------------------


@responses.activate
@pytest.mark.parametrize(
    ("config", "variables", "expected"),
    [
        ("ca_bundle = /etc/corp/ca.pem\n", {}, "/etc/corp/ca.pem"),
        ("ca_bundle = /etc/corp/ca.pem\n", {"AWS_CA_BUNDLE": "/opt/ca.pem"}, "/opt/ca.pem"),
        ("", {}, None),
    ],
)
def test_the_ca_bundle_verifies_tls(
    tmp_path: Path, config: str, variables: dict[str, str], expected: str | None
) -> None:
    responses.add(responses.POST, "https://ec2.us-east-1.amazonaws.com/", body=regions_document())
    environ = _environ(tmp_path, "[default]\nregion = us-east-1\n" + config, **variables)
    with _client(environ) as client:
        assert client.ca_bundle == expected
        client.describe_regions()
    verify = responses.calls[0].request.req_kwargs["verify"]
    if expected is not None:
        assert verify == expected
    else:  # requests' own default (True, or REQUESTS_CA_BUNDLE from the environment)
        assert verify not in ("/etc/corp/ca.pem", "/opt/ca.pem")


# -- attempts and retry mode --------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "variables", "options", "expected"),
    [
        ("", {}, {}, ("standard", 3)),
        ("max_attempts = 6\n", {}, {}, ("standard", 6)),
        ("max_attempts = 6\n", {"AWS_MAX_ATTEMPTS": "2"}, {}, ("standard", 2)),
        ("retry_mode = legacy\n", {}, {}, ("legacy", 5)),
        ("retry_mode = legacy\nmax_attempts = 2\n", {}, {}, ("legacy", 2)),
        ("", {"AWS_RETRY_MODE": "adaptive"}, {}, ("standard", 3)),
        ("retry_mode = legacy\nmax_attempts = 6\n", {}, {"retry_mode": "standard", "max_attempts": 4}, ("standard", 4)),
    ],
)
def test_attempts_and_mode_come_from_the_configuration(
    tmp_path: Path, config: str, variables: dict[str, str], options: dict[str, Any], expected: tuple[str, int]
) -> None:
    environ = _environ(tmp_path, "[default]\nregion = us-east-1\n" + config, **variables)
    with _client(environ, **options) as client:
        assert (client.retry_mode, client.max_attempts) == expected


@pytest.mark.parametrize(("name", "value"), [("AWS_MAX_ATTEMPTS", "0"), ("AWS_RETRY_MODE", "fast")])
def test_bad_settings_are_configuration_errors(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ec2codec.ConfigError, match=name):
        _client(_environ(tmp_path, "[default]\nregion = us-east-1\n", **{name: value}))


def test_a_bad_retry_mode_argument_is_a_validation_error() -> None:
    with pytest.raises(ec2codec.ValidationError, match="retry_mode"):
        make_client(retry_mode="adaptive")


@responses.activate
def test_legacy_mode_retries_five_times_with_uncapped_backoff(tmp_path: Path) -> None:
    for _ in range(5):
        responses.add(responses.POST, "https://ec2.us-east-1.amazonaws.com/", body=error_document("Boom"), status=500)
    delays: list[float] = []
    environ = _environ(tmp_path, "[default]\nregion = us-east-1\nretry_mode = legacy\n")
    client = Client(credentials=CREDENTIALS, environ=environ, sleep=delays.append, rng=lambda: 0.5)
    with client, pytest.raises(ec2codec.ServiceError, match="Boom"):
        client.describe_regions()
    assert delays == [0.5, 1.0, 2.0, 4.0]
    assert len(responses.calls) == 5


@pytest.mark.parametrize(
    ("config", "variables", "expected"),
    [
        ("retry_mode = legacy\n", {}, ("legacy", 5)),
        ("max_attempts = 6\n", {"AWS_RETRY_MODE": "standard"}, ("standard", 6)),
    ],
)
def test_the_async_client_reads_the_same_configuration(
    tmp_path: Path, config: str, variables: dict[str, str], expected: tuple[str, int]
) -> None:
    aio = pytest.importorskip("ec2codec.client.aio")
    config = "[default]\nregion = eu-west-1\nservices = local\n" + config
    config += "[services local]\nec2 =\n  endpoint_url = http://127.0.0.1:4566\n"
    import certifi

    bundle = str(tmp_path / "corp-ca.pem")
    Path(bundle).write_bytes(Path(certifi.where()).read_bytes())
    environ = _environ(tmp_path, config, AWS_CA_BUNDLE=bundle, **variables)
    client = aio.AsyncClient(credentials=CREDENTIALS, environ=environ)
    assert (client.retry_mode, client.max_attempts) == expected
    assert client.endpoint.url == "http://127.0.0.1:4566"
    assert client.ca_bundle == bundle and client.verify is True
    assert isinstance(client._ssl, ssl.SSLContext)  # the bundle, loaded for aiohttp's ssl=


@responses.activate
@pytest.mark.parametrize(("verify", "expected"), [(True, "/etc/corp/ca.pem"), (False, False), ("/opt/mine.pem", None)])
def test_an_explicit_verify_wins_over_the_configured_bundle(tmp_path: Path, verify: Any, expected: Any) -> None:
    responses.add(responses.POST, "https://ec2.us-east-1.amazonaws.com/", body=regions_document())
    environ = _environ(tmp_path, "[default]\nregion = us-east-1\nca_bundle = /etc/corp/ca.pem\n")
    with _client(environ, verify=verify) as client:
        client.describe_regions()
    expected = verify if expected is None else expected
    assert responses.calls[0].request.req_kwargs["verify"] == expected
