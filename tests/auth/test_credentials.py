"""The credential and region chain: precedence, the shared files' failure modes, secrecy.

No test reads the real ``~/.aws`` or environment (see ``credential_fakes.isolated``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ec2codec.auth.credentials.chain import (
    CredentialProvider,
    CredentialsError,
    RegionError,
    resolve_credentials,
    resolve_provider,
    resolve_region,
)
from ec2codec.auth.sigv4 import Credentials
from tests import credential_fakes as fakes
from tests.credential_fakes import T0, assert_secret_absent, write_files

isolated = fakes.isolated


# -- precedence -----------------------------------------------------------------

CREDENTIALS_FILE = """\
[default]
aws_access_key_id = FILE_DEFAULT
aws_secret_access_key = file-default-secret

[dev]
aws_access_key_id = FILE_DEV
aws_secret_access_key = file-dev-secret
aws_session_token = file-dev-token
region = eu-west-1
"""
CONFIG_FILE = """\
[default]
aws_access_key_id = CONFIG_DEFAULT
aws_secret_access_key = config-default-secret
region = us-west-2

[profile dev]
region = ap-south-1

[profile ops]
aws_access_key_id = CONFIG_OPS
aws_secret_access_key = config-ops-secret
region = ca-central-1

[ops2]
aws_access_key_id = NOT_A_PROFILE
aws_secret_access_key = not-a-profile
"""


@pytest.mark.parametrize(
    ("env", "profile", "files", "expected"),
    [
        ({"AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "s"}, None, True, "ENV"),
        ({}, None, True, "FILE_DEFAULT"),
        ({"AWS_PROFILE": "dev"}, None, True, "FILE_DEV"),
        ({"AWS_PROFILE": "ops"}, None, True, "CONFIG_OPS"),
        ({"AWS_PROFILE": "ops", "AWS_DEFAULT_PROFILE": "dev"}, None, True, "FILE_DEV"),
        # AWS_PROFILE does not hide environment keys; an explicit profile does (botocore).
        ({"AWS_PROFILE": "dev", "AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "s"}, None, True, "ENV"),
        ({"AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "s"}, "dev", True, "FILE_DEV"),
        ({}, "ops", True, "CONFIG_OPS"),
        ({"AWS_PROFILE": "dev"}, "ops", True, "CONFIG_OPS"),
    ],
)
def test_chain_precedence(
    *,
    monkeypatch: pytest.MonkeyPatch,
    isolated: Path,
    env: dict[str, str],
    profile: str | None,
    files: bool,
    expected: str,
) -> None:
    write_files(isolated, CREDENTIALS_FILE, CONFIG_FILE)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert resolve_credentials(profile=profile).access_key == expected


def test_explicit_arguments_win(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    write_files(isolated, CREDENTIALS_FILE, CONFIG_FILE)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    provider = resolve_provider("ARG", "arg-secret", "arg-token")
    assert provider.get() == Credentials("ARG", "arg-secret", "arg-token")
    assert provider.source == "explicit arguments"
    assert not provider.refreshable


def test_config_file_is_used_when_credentials_file_lacks_profile(isolated: Path) -> None:
    write_files(isolated, "[other]\naws_access_key_id = X\naws_secret_access_key = y\n", CONFIG_FILE)
    provider = resolve_provider()
    assert provider.get().access_key == "CONFIG_DEFAULT"
    assert "config file" in provider.source


def test_environment_token_and_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session")
    assert resolve_credentials().token == "session"
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "legacy")  # botocore reads the older name first
    assert resolve_credentials().token == "legacy"


def test_file_paths_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "creds.ini").write_text("[default]\naws_access_key_id = ELSEWHERE\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "creds.ini"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "missing-config"))
    assert resolve_credentials().access_key == "ELSEWHERE"


def test_environ_argument_replaces_os_environ(tmp_path: Path) -> None:
    env = {"AWS_ACCESS_KEY_ID": "MAPPED", "AWS_SECRET_ACCESS_KEY": "s", "AWS_CONFIG_FILE": str(tmp_path / "none")}
    assert resolve_credentials(environ=env).access_key == "MAPPED"


@pytest.mark.parametrize(
    ("config", "profile", "expected"),
    [
        ("[default]\naws_access_key_id = A\naws_secret_access_key = s\n", None, "A"),
        ("[profile default]\naws_access_key_id = B\naws_secret_access_key = s\n", None, "B"),
        ('[profile "two words"]\naws_access_key_id = C\naws_secret_access_key = s\n', "two words", "C"),
    ],
)
def test_config_profile_sections(isolated: Path, config: str, profile: str | None, expected: str) -> None:
    write_files(isolated, config=config)
    assert resolve_credentials(profile=profile).access_key == expected


# -- failure modes ----------------------------------------------------------------


def test_nothing_found_lists_every_place(isolated: Path) -> None:
    with pytest.raises(CredentialsError) as info:
        resolve_credentials()
    message = str(info.value)
    assert len(info.value.searched) == 9
    for expected in (
        "AWS_ACCESS_KEY_ID",
        "role_arn",
        "web_identity_token_file",
        "sso_account_id",
        "credential_process",
        str(isolated / ".aws" / "credentials"),
        str(isolated / ".aws" / "config"),
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_EC2_METADATA_DISABLED",
    ):
        assert expected in message


@pytest.mark.parametrize(
    ("credentials", "config", "fragment"),
    [
        (None, None, "not found"),
        ("[other]\naws_access_key_id = X\naws_secret_access_key = y\n", None, "no profile 'default'"),
        ("[default]\nregion = us-east-1\n", None, "has no aws_access_key_id"),
    ],
)
def test_file_sources_say_why_they_were_passed_over(
    isolated: Path, credentials: str | None, config: str | None, fragment: str
) -> None:
    write_files(isolated, credentials, config)
    with pytest.raises(CredentialsError) as info:
        resolve_credentials()
    assert any(fragment in place for place in info.value.searched)


@pytest.mark.parametrize("how", ["argument", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"])
def test_unknown_profile_is_an_error(monkeypatch: pytest.MonkeyPatch, isolated: Path, how: str) -> None:
    write_files(isolated, CREDENTIALS_FILE, CONFIG_FILE)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ENV")  # botocore fails on the profile before reading these
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    if how != "argument":
        monkeypatch.setenv(how, "ops2")  # "[ops2]" in the config file is not a profile
    with pytest.raises(CredentialsError, match=r"'ops2'.*is not in") as info:
        resolve_credentials(profile="ops2" if how == "argument" else None)
    assert how.replace("argument", "profile argument") in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("aws_access_key_id = X\n[default]\n", "line 1 comes before any [section] header"),
        ("[default]\naws_access_key_id = X\nsecret-without-equals-sign\n", "cannot parse line(s) 3"),
        ("[default]\na = 1\na = 2\n", "a key appears twice in [default] (line 3)"),
        ("[default]\n[default]\n", "[default] appears twice (line 2)"),
        ("[default]\na = \udcff\n", "not UTF-8"),
    ],
)
@pytest.mark.parametrize("which", ["credentials", "config"])
def test_malformedwrite_files(isolated: Path, text: str, fragment: str, which: str) -> None:
    (isolated / ".aws").mkdir()
    (isolated / ".aws" / which).write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(CredentialsError) as info:
        resolve_credentials()
    assert fragment in str(info.value)
    assert str(isolated / ".aws" / which) in str(info.value)


@pytest.mark.parametrize(
    ("env", "files", "fragment"),
    [
        ({"AWS_ACCESS_KEY_ID": "A"}, None, "AWS_SECRET_ACCESS_KEY is not set"),
        ({}, "[default]\naws_access_key_id = A\n", "has no aws_secret_access_key"),
    ],
)
def test_partial_credentials(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, env: dict[str, str], files: str | None, fragment: str
) -> None:
    write_files(isolated, files)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(CredentialsError, match=fragment):
        resolve_credentials()


@pytest.mark.parametrize(
    ("access_key", "secret_key", "token"), [("A", None, None), (None, "s", None), (None, None, "t")]
)
def test_partial_explicit_arguments(access_key: str | None, secret_key: str | None, token: str | None) -> None:
    with pytest.raises(CredentialsError, match="both access_key and secret_key"):
        resolve_credentials(access_key, secret_key, token)


def test_login_session_profiles_stop_the_search(isolated: Path) -> None:
    # botocore would use `aws login` credentials at this point; ec2codec cannot, so it says so.
    write_files(isolated, config="[default]\nlogin_session = arn:aws:iam::1:user/u\n")
    with pytest.raises(CredentialsError, match=r"login_session.*not support"):
        resolve_credentials()


def test_static_keys_in_credentials_file_win_over_credential_process(isolated: Path) -> None:
    # botocore's order: shared credentials file, then credential_process.
    write_files(isolated, CREDENTIALS_FILE, "[default]\ncredential_process = /bin/false\n")
    assert resolve_credentials().access_key == "FILE_DEFAULT"


# -- region -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argument", "env", "profile", "expected"),
    [
        ("eu-north-1", {"AWS_REGION": "us-east-2"}, None, "eu-north-1"),
        (None, {"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "us-west-1"}, None, "us-east-2"),
        (None, {"AWS_DEFAULT_REGION": "us-west-1"}, None, "us-west-1"),
        (None, {}, None, "us-west-2"),
        (None, {"AWS_PROFILE": "ops"}, None, "ca-central-1"),
        (None, {}, "ops", "ca-central-1"),
        # The credentials file's value wins over the config file's (botocore's full_config).
        (None, {"AWS_PROFILE": "dev"}, None, "eu-west-1"),
    ],
)
def test_region_precedence(
    *,
    monkeypatch: pytest.MonkeyPatch,
    isolated: Path,
    argument: str | None,
    env: dict[str, str],
    profile: str | None,
    expected: str,
) -> None:
    write_files(isolated, CREDENTIALS_FILE, CONFIG_FILE)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert resolve_region(argument, profile=profile) == expected


def test_region_missing_lists_every_place(isolated: Path) -> None:
    with pytest.raises(RegionError) as info:
        resolve_region()
    for expected in ("region argument", "AWS_REGION", "AWS_DEFAULT_REGION", str(isolated / ".aws" / "config")):
        assert expected in str(info.value)


@pytest.mark.parametrize("region", ["us-east-1.evil.example", "-bad", "a" * 64, "us east"])
def test_invalid_region(region: str) -> None:
    with pytest.raises(RegionError, match="invalid region"):
        resolve_region(region)


# -- secrecy -------------------------------------------------------------------------------

# The "+" keeps a generated secret from matching words of the message around it by chance.
_secrets = st.text(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"), min_size=12, max_size=40
).map(lambda text: f"+{text}+")


@given(access_key=st.sampled_from(["AKIDEXAMPLE", "ASIAXXXXXXXXXXXXXXXX"]), secret=_secrets, token=_secrets)
def test_secrets_never_in_repr_or_str(access_key: str, secret: str, token: str) -> None:
    creds = Credentials(access_key, secret, token, T0)
    provider = CredentialProvider(creds, "test")
    for text in (repr(creds), str(creds), repr(provider), str(provider), repr([creds]), f"{creds}"):
        assert secret not in text
        assert token not in text
    assert access_key in repr(creds)


@given(secret=_secrets)
def test_secrets_never_in_error_messages(secret: str) -> None:
    # Files that quote the secret on a malformed line, an orphan line or a partial profile.
    texts = [
        f"aws_secret_access_key = {secret}\n[default]\n",
        f"[default]\naws_access_key_id = A\n{secret}\n",
        f"[default]\naws_secret_access_key = {secret}\naws_secret_access_key = {secret}\n",
        f"[default]\naws_access_key_id = A\naws_session_token = {secret}\n",
    ]
    # tmp_path is per test, not per example: each example gets its own directory.
    with tempfile.TemporaryDirectory() as home:
        env = {
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials"),
            "AWS_CONFIG_FILE": os.path.join(home, "config"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        for text in texts:
            Path(env["AWS_SHARED_CREDENTIALS_FILE"]).write_text(text)
            with pytest.raises(CredentialsError) as info:
                resolve_credentials(environ=env)
            assert_secret_absent(info.value, secret)
