"""Settings besides credentials: environment over profile, validation, ``[services]`` sections, endpoint URLs.

No test reads the real ``~/.aws`` or environment (see ``credential_fakes.isolated``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ec2codec.auth.credentials.base import ConfigError
from ec2codec.auth.credentials.config import load_settings
from tests import credential_fakes as fakes
from tests.credential_fakes import write_files

isolated = fakes.isolated

CONFIG = """\
[default]
region = us-east-1
ca_bundle = /etc/ssl/corp.pem
max_attempts = 7
retry_mode = legacy
sts_regional_endpoints = legacy
use_fips_endpoint = TRUE
services = local

[profile plain]
region = eu-west-1

[profile broken]
services = nowhere

[services local]
ec2 =
  endpoint_url = http://127.0.0.1:4566
sts =
  endpoint_url = http://127.0.0.1:4577
sso_oidc =
  endpoint_url = http://127.0.0.1:4588
"""


def test_profile_values(isolated: Path) -> None:
    write_files(isolated, config=CONFIG)
    settings = load_settings()
    assert settings.profile_name == "default"
    assert settings.ca_bundle == "/etc/ssl/corp.pem"
    assert (settings.max_attempts, settings.retry_mode, settings.sts_regional_endpoints) == (7, "legacy", "legacy")
    assert settings.use_fips and not settings.use_dualstack
    assert settings.services["ec2"] == {"endpoint_url": "http://127.0.0.1:4566"}


def test_defaults(isolated: Path) -> None:
    write_files(isolated, config=CONFIG)
    settings = load_settings(profile="plain")
    assert settings.ca_bundle is None
    assert (settings.max_attempts, settings.retry_mode, settings.sts_regional_endpoints) == (None, None, "regional")
    assert settings.services == {}
    assert settings.configured_endpoint("ec2") is None


def test_a_present_variable_wins_even_when_empty(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    write_files(isolated, config=CONFIG)
    monkeypatch.setenv("AWS_CA_BUNDLE", "/tmp/other.pem")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "")
    settings = load_settings()
    assert (settings.ca_bundle, settings.max_attempts, settings.retry_mode) == ("/tmp/other.pem", 2, "standard")
    assert not settings.use_fips


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("AWS_MAX_ATTEMPTS", "0", "AWS_MAX_ATTEMPTS must be a whole number"),
        ("AWS_MAX_ATTEMPTS", "three", "AWS_MAX_ATTEMPTS must be a whole number"),
        ("AWS_RETRY_MODE", "aggressive", "AWS_RETRY_MODE must be one of standard, legacy, adaptive"),
        ("AWS_STS_REGIONAL_ENDPOINTS", "global", "AWS_STS_REGIONAL_ENDPOINTS must be regional or legacy"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(variable, value)
    settings = load_settings()
    with pytest.raises(ConfigError, match=fragment):
        _ = settings.max_attempts, settings.retry_mode, settings.sts_regional_endpoints


def test_a_bad_profile_value_names_the_profile(isolated: Path) -> None:
    write_files(isolated, config="[default]\nmax_attempts = many\n")
    with pytest.raises(ConfigError, match="max_attempts of profile 'default'"):
        _ = load_settings().max_attempts


def test_a_missing_services_section_is_an_error(isolated: Path) -> None:
    write_files(isolated, config=CONFIG)
    with pytest.raises(ConfigError, match=r"services section 'nowhere'.*no \[services nowhere\]"):
        load_settings(profile="broken").configured_endpoint("ec2")


def test_a_nested_line_without_equals_is_an_error(isolated: Path) -> None:
    write_files(isolated, config="[default]\nservices = s\n[services s]\nec2 =\n  endpoint_url\n")
    with pytest.raises(ConfigError, match="no '='"):
        _ = load_settings().services


@pytest.mark.parametrize(
    ("env", "service", "expected"),
    [
        ({}, "ec2", "http://127.0.0.1:4566"),
        ({}, "sts", "http://127.0.0.1:4577"),
        ({}, "sso_oidc", "http://127.0.0.1:4588"),
        ({}, "sso", "http://profile-wide:1"),
        ({"AWS_ENDPOINT_URL": "http://global:2"}, "ec2", "http://global:2"),
        ({"AWS_ENDPOINT_URL": "http://global:2", "AWS_ENDPOINT_URL_EC2": "http://ec2:3"}, "ec2", "http://ec2:3"),
        ({"AWS_ENDPOINT_URL_SSO_OIDC": "http://oidc:4"}, "sso_oidc", "http://oidc:4"),
        ({"AWS_ENDPOINT_URL_EC2": ""}, "ec2", "http://127.0.0.1:4566"),
        ({"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true", "AWS_ENDPOINT_URL": "http://g:2"}, "ec2", None),
    ],
)
def test_configured_endpoints_equal_botocore(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, env: dict[str, str], service: str, expected: str | None
) -> None:
    from botocore.configprovider import ConfiguredEndpointProvider
    from botocore.session import Session

    write_files(
        isolated,
        config=CONFIG.replace("services = local\n", "services = local\nendpoint_url = http://profile-wide:1\n"),
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.configured_endpoint(service) == expected
    if "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" in env:
        return  # botocore checks that flag outside the provider
    session = Session()
    client_name = service.replace("_", "-")
    theirs = ConfiguredEndpointProvider(session.full_config, session.get_scoped_config(), client_name).provide()
    assert theirs == expected
