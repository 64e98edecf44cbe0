"""The credential sources beyond the differential scenarios: caches, MFA, refresh, failure paths, secrecy.

STS, the SSO portal and OIDC are the stand-ins of :mod:`tests.aws_standins`
(STS via moto) on 127.0.0.1; no test reads the real ``~/.aws`` or environment.
Every failure must be one line naming the profile, and no secret, token or
MFA code may appear in a message, a repr or the debug log.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from hashlib import sha1
from pathlib import Path
from typing import Any

import pytest

import ec2codec
from ec2codec.auth.credentials.base import ConfigError, CredentialProvider, CredentialsError
from ec2codec.auth.credentials.cache import key_for
from ec2codec.auth.credentials.chain import resolve_provider
from ec2codec.auth.sigv4 import Credentials
from tests import aws_standins
from tests import credential_fakes as fakes
from tests.aws_standins import AwsStandIn
from tests.credential_fakes import assert_secret_absent, write_files

isolated = fakes.isolated
moto_standin = aws_standins.moto_standin

ROLE = "arn:aws:iam::123456789012:role/"
MFA = "arn:aws:iam::123456789012:mfa/alice"
BASE = "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret-value\n"
START_URL = "https://corp.awsapps.com/start"
SSO = (
    f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
    "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\n"
    f"[profile legacy]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
    "sso_account_id = 111122223333\nsso_role_name = ReadOnly\n"
)


@pytest.fixture
def standin(moto_standin: AwsStandIn, monkeypatch: pytest.MonkeyPatch) -> AwsStandIn:
    moto_standin.know(Credentials("AKIDBASE", "base-secret-value"))
    moto_standin.tokens.add("sso-access-good")
    moto_standin.refresh_tokens.add("sso-refresh-good")
    for name, value in moto_standin.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return moto_standin


class RealClock:
    """The real time plus an offset the test moves (moto dates its credentials by the real clock)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset


def _one_line_naming(error: BaseException, profile: str) -> str:
    message = str(error)
    assert "\n" not in message
    assert repr(profile) in message
    return message


def _cache_files(home: Path) -> list[Path]:
    folder = home / ".aws" / "cli" / "cache"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


# -- assume role ------------------------------------------------------------------------


def test_mfa_is_asked_once_then_the_cli_cache_answers(standin: AwsStandIn, isolated: Path) -> None:
    write_files(
        isolated, config=BASE + f"[profile dev]\nrole_arn = {ROLE}dev\nsource_profile = base\nmfa_serial = {MFA}\n"
    )
    prompts: list[str] = []

    def prompt(text: str) -> str:
        prompts.append(text)
        return " 123456\n"

    before = len(standin.requests)
    first = resolve_provider(profile="dev", mfa_prompt=prompt).get()
    assert prompts == [f"Enter MFA code for {MFA}: "]
    body = standin.requests[-1].body.decode()
    assert "SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Falice&" in body
    assert body.endswith("&TokenCode=123456")
    # A new process (a new provider) finds the credentials where the AWS CLI keeps them: no prompt, no call.
    (cached,) = _cache_files(isolated)
    key = {"RoleArn": f"{ROLE}dev", "SerialNumber": MFA}
    assert cached.name == key_for(key) + ".json"
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600
    assert json.loads(cached.read_text())["Credentials"]["Expiration"].endswith("UTC")
    second = resolve_provider(profile="dev", mfa_prompt=prompt).get()
    assert second == Credentials(first.access_key, first.secret_key, first.token, second.expiration)
    assert prompts == [f"Enter MFA code for {MFA}: "]
    assert len(standin.requests) == before + 1


def test_credentials_cached_by_the_aws_cli_are_used(standin: AwsStandIn, isolated: Path) -> None:
    write_files(isolated, config=BASE + f"[profile dev]\nrole_arn = {ROLE}cli\nsource_profile = base\n")
    # What botocore's JSONFileCache writes after `aws sts get-caller-identity --profile dev`.
    expires = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SUTC")
    document = {
        "Credentials": {
            "AccessKeyId": "ASIAFROMCLI",
            "SecretAccessKey": "cli-secret",
            "SessionToken": "cli-token",
            "Expiration": expires,
        },
        "AssumedRoleUser": {"AssumedRoleId": "AROA:s", "Arn": "arn:aws:sts::123456789012:assumed-role/cli/s"},
    }
    folder = isolated / ".aws" / "cli" / "cache"
    folder.mkdir(parents=True)
    (folder / (key_for({"RoleArn": f"{ROLE}cli"}) + ".json")).write_text(json.dumps(document))
    before = len(standin.requests)
    found = resolve_provider(profile="dev").get()
    assert (found.access_key, found.secret_key, found.token) == ("ASIAFROMCLI", "cli-secret", "cli-token")
    assert len(standin.requests) == before


def test_cached_credentials_close_to_expiry_are_replaced(standin: AwsStandIn, isolated: Path) -> None:
    write_files(isolated, config=BASE + f"[profile dev]\nrole_arn = {ROLE}stale\nsource_profile = base\n")
    expires = (datetime.now(timezone.utc) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SUTC")
    document = {
        "Credentials": {"AccessKeyId": "OLD", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": expires}
    }
    folder = isolated / ".aws" / "cli" / "cache"
    folder.mkdir(parents=True)
    path = folder / (key_for({"RoleArn": f"{ROLE}stale"}) + ".json")
    path.write_text(json.dumps(document))
    found = resolve_provider(profile="dev").get()
    assert found.access_key != "OLD"
    assert json.loads(path.read_text())["Credentials"]["AccessKeyId"] == found.access_key


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'{"Credentials": {"AccessKeyId": "A"}}', None])
def test_an_unreadable_cache_file_is_one_line_naming_the_profile(
    standin: AwsStandIn, isolated: Path, content: bytes | None
) -> None:
    write_files(isolated, config=BASE + f"[profile dev]\nrole_arn = {ROLE}corrupt\nsource_profile = base\n")
    folder = isolated / ".aws" / "cli" / "cache"
    folder.mkdir(parents=True)
    path = folder / (key_for({"RoleArn": f"{ROLE}corrupt"}) + ".json")
    if content is None:
        path.mkdir()  # a directory where the file should be: reading fails with an OS error
    else:
        path.write_bytes(content)
    with pytest.raises(CredentialsError) as info:
        resolve_provider(profile="dev").get()
    message = _one_line_naming(info.value, "dev")
    assert str(path) in message
    assert_secret_absent(info.value, "base-secret-value")


def test_no_mfa_prompt_is_a_clear_error(standin: AwsStandIn, isolated: Path) -> None:
    write_files(
        isolated, config=BASE + f"[profile dev]\nrole_arn = {ROLE}dev2\nsource_profile = base\nmfa_serial = {MFA}\n"
    )
    with pytest.raises(CredentialsError, match=f"needs an MFA code for {MFA}") as info:
        resolve_provider(profile="dev").get()
    _one_line_naming(info.value, "dev")


def test_a_role_chain_cycle_names_the_chain(isolated: Path) -> None:
    config = "".join(f"[profile {a}]\nrole_arn = {ROLE}{a}\nsource_profile = {b}\n" for a, b in ("ab", "bc", "ca"))
    write_files(isolated, config=config)
    with pytest.raises(ConfigError) as info:
        resolve_provider(profile="a")
    assert _one_line_naming(info.value, "a").endswith("a -> b -> c -> a")


def test_sts_access_denied_is_one_line_naming_the_profile(standin: AwsStandIn, isolated: Path) -> None:
    write_files(isolated, config=BASE + f"[profile dev]\nrole_arn = {ROLE}denied\nsource_profile = base\n")
    provider = resolve_provider(profile="dev")  # deferred: nothing is called yet
    with pytest.raises(CredentialsError) as info:
        provider.get()
    message = _one_line_naming(info.value, "dev")
    assert "AssumeRole failed: AccessDenied: User: arn:aws:iam::123456789012:user/dev is not authorized" in message
    assert_secret_absent(info.value, "base-secret-value")
    assert not _cache_files(isolated)


def test_sts_unreachable_is_retried_then_one_line(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{fakes.closed_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    write_files(isolated, config=BASE + f"[profile dev]\nrole_arn = {ROLE}dev\nsource_profile = base\n")
    with pytest.raises(CredentialsError, match=r"ConnectionRefusedError while calling http://127\.0\.0\.1") as info:
        resolve_provider(profile="dev").get()
    _one_line_naming(info.value, "dev")


def test_credential_source_environment_ignores_an_explicit_profile(
    standin: AwsStandIn, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.know(Credentials("AKIDENVSOURCE", "env-source-secret"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENVSOURCE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-source-secret")
    write_files(isolated, config=f"[profile dev]\nrole_arn = {ROLE}from-env\ncredential_source = Environment\n")
    provider = resolve_provider(profile="dev")
    assert provider.get().access_key.startswith("ASIA")
    assert standin.requests[-1].signature == "valid"
    assert "Credential=AKIDENVSOURCE/" in standin.requests[-1].headers["Authorization"]


# -- web identity ------------------------------------------------------------------------


def test_web_identity_rereads_its_token_and_is_unsigned(
    standin: AwsStandIn, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = isolated / "token"
    token.write_text("first-token")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
    monkeypatch.setenv("AWS_ROLE_ARN", f"{ROLE}irsa-rotating")
    clock = RealClock()
    provider = resolve_provider(clock=clock, cache_dir=None)
    first = provider.get()
    assert standin.requests[-1].signature == "unsigned"
    assert b"WebIdentityToken=first-token" in standin.requests[-1].body
    token.write_text("second-token")
    clock.offset = timedelta(minutes=50)  # moto's credentials last an hour: within the refresh window
    second = provider.get()
    assert second != first
    assert b"WebIdentityToken=second-token" in standin.requests[-1].body
    assert not _cache_files(isolated)  # cache_dir=None keeps them in memory


def test_web_identity_token_file_missing(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(isolated / "absent"))
    monkeypatch.setenv("AWS_ROLE_ARN", f"{ROLE}irsa")
    with pytest.raises(CredentialsError, match=r"cannot read the web identity token file .*absent: No such file"):
        resolve_provider().get()


# -- IAM Identity Center ---------------------------------------------------------------------


def _token_path(home: Path, key: str) -> Path:
    return home / ".aws" / "sso" / "cache" / (sha1(key.encode()).hexdigest() + ".json")


def _write_token(home: Path, key: str, **document: Any) -> Path:
    path = _token_path(home, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"startUrl": START_URL, "region": "us-east-1", **document}))
    return path


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_sso_renews_its_token_and_writes_it_back_as_the_cli(standin: AwsStandIn, isolated: Path) -> None:
    write_files(isolated, config=SSO)
    now = datetime.now(timezone.utc)
    path = _write_token(
        isolated,
        "corp",
        accessToken="sso-access-stale",
        expiresAt=_iso(now + timedelta(minutes=5)),
        refreshToken="sso-refresh-good",
        clientId="client-1",
        clientSecret="client-secret-1",
        registrationExpiresAt=_iso(now + timedelta(days=30)),
    )
    found = resolve_provider(profile="sso").get()
    assert found == standin.sso_credentials("Admin", "111122223333")
    written = json.loads(path.read_text())
    assert list(written) == [
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "refreshToken",
    ]
    assert written["accessToken"] == "renewed-sso-refresh-good"
    assert written["refreshToken"] == "sso-refresh-good-next"
    assert datetime.strptime(written["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")
    # The role credentials went to the AWS CLI's cache under the CLI's key.
    key = key_for({"accountId": "111122223333", "roleName": "Admin", "sessionName": "corp"}, compact=True)
    assert [p.name for p in _cache_files(isolated)] == [key + ".json"]


@pytest.mark.parametrize(
    ("profile", "key", "extra", "command"),
    [
        ("sso", "corp", {}, "aws sso login --sso-session corp"),
        ("legacy", START_URL, {}, "aws sso login --profile legacy"),
        (
            "sso",
            "corp",
            {
                "refreshToken": "r",
                "clientId": "c",
                "clientSecret": "cs",
                "registrationExpiresAt": "2020-01-01T00:00:00Z",
            },
            "aws sso login --sso-session corp",
        ),
    ],
)
def test_an_expired_sso_session_says_which_command_renews_it(
    *, standin: AwsStandIn, isolated: Path, profile: str, key: str, extra: dict[str, str], command: str
) -> None:
    write_files(isolated, config=SSO)
    _write_token(isolated, key, accessToken="sso-access-good", expiresAt="2020-01-01T00:00:00Z", **extra)
    with pytest.raises(CredentialsError) as info:
        resolve_provider(profile=profile).get()
    message = _one_line_naming(info.value, profile)
    assert "expired at 2020-01-01T00:00:00Z" in message and message.endswith(f"run `{command}`")
    assert_secret_absent(info.value, "sso-access-good")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "no SSO token is cached for corp"),
        ("{broken", "cannot read the cache file"),
        ('{"accessToken": "x"}', "is not valid"),
        ('{"accessToken": "sso-access-revoked", "expiresAt": "2099-01-01T00:00:00Z"}', "has expired or is not valid"),
    ],
)
def test_sso_token_problems_say_to_log_in(
    standin: AwsStandIn, isolated: Path, content: str | None, fragment: str
) -> None:
    write_files(isolated, config=SSO)
    if content is not None:
        path = _token_path(isolated, "corp")
        path.parent.mkdir(parents=True)
        path.write_text(content)
    with pytest.raises(CredentialsError, match=fragment) as info:
        resolve_provider(profile="sso").get()
    assert _one_line_naming(info.value, "sso").endswith("run `aws sso login --sso-session corp`")
    assert_secret_absent(info.value, "sso-access-revoked")


def test_sso_configuration_errors(isolated: Path) -> None:
    write_files(isolated, config=SSO + "[profile half]\nsso_session = corp\nsso_account_id = 1\n")
    with pytest.raises(ConfigError, match="'half' is set up for SSO but lacks sso_role_name"):
        resolve_provider(profile="half")


# -- credential_process ----------------------------------------------------------------------

SCRIPT = """\
import json, os, sys, time
counter = os.path.join(os.path.dirname(__file__), "runs")
runs = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
open(counter, "w").write(str(runs))
mode = sys.argv[1]
if mode == "hang":
    time.sleep(30)
if mode == "fail":
    sys.stderr.write("vault is locked\\n  run `vault unlock` first\\n")
    sys.exit(7)
if mode == "secret-junk":
    print("AccessKeyId=AKID SecretAccessKey=leaked-process-secret")
    sys.exit(0)
print(json.dumps({"Version": 1, "AccessKeyId": f"AKIDRUN{runs}", "SecretAccessKey": "process-secret-value",
                  "SessionToken": "t", "Expiration": sys.argv[2]}))
"""


def _process(home: Path, *args: str) -> str:
    script = home / "creds.py"
    script.write_text(SCRIPT)
    return "[default]\ncredential_process = " + " ".join([sys.executable, str(script), *args]) + "\n"


def test_process_credentials_refresh_by_running_again(isolated: Path) -> None:
    clock = RealClock()
    expires = _iso(datetime.now(timezone.utc) + timedelta(hours=1))
    write_files(isolated, config=_process(isolated, "ok", expires))
    provider = resolve_provider(clock=clock)
    assert provider.get().access_key == "AKIDRUN1"
    assert provider.get().access_key == "AKIDRUN1"
    clock.offset = timedelta(minutes=50)
    assert provider.get().access_key == "AKIDRUN2"


def test_a_hung_process_is_stopped(isolated: Path) -> None:
    write_files(isolated, config=_process(isolated, "hang"))
    started = time.monotonic()
    with pytest.raises(CredentialsError, match=r"did not finish within 0\.5 s and was stopped") as info:
        resolve_provider(process_timeout=0.5)
    assert time.monotonic() - started < 10
    _one_line_naming(info.value, "default")


def test_a_failing_process_shows_its_status_and_stderr(isolated: Path) -> None:
    write_files(isolated, config=_process(isolated, "fail"))
    with pytest.raises(CredentialsError) as info:
        resolve_provider()
    message = _one_line_naming(info.value, "default")
    assert message.endswith("exited with status 7: vault is locked run `vault unlock` first")


def test_process_output_is_never_quoted(isolated: Path) -> None:
    write_files(isolated, config=_process(isolated, "secret-junk"))
    with pytest.raises(CredentialsError, match="printed no JSON object on stdout") as info:
        resolve_provider()
    assert_secret_absent(info.value, "leaked-process-secret")


@pytest.mark.parametrize(
    ("command", "fragment"),
    [("/nonexistent/credential-helper", "could not be started"), ('"unterminated', "cannot be split into words")],
)
def test_process_command_problems(isolated: Path, command: str, fragment: str) -> None:
    write_files(isolated, config=f"[default]\ncredential_process = {command}\n")
    with pytest.raises(CredentialsError, match=fragment) as info:
        resolve_provider()
    _one_line_naming(info.value, "default")


# -- the provider: deferral, threads, secrecy ---------------------------------------------------


def test_a_deferred_provider_fetches_once_across_threads() -> None:
    calls: list[int] = []

    def refresh() -> Credentials:
        calls.append(1)
        time.sleep(0.2)
        return Credentials("DEFERRED", "s", "t", datetime.now(timezone.utc) + timedelta(hours=1))

    provider = CredentialProvider(None, "test", refresh)
    assert "not fetched yet" in repr(provider)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(provider.get().access_key)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["DEFERRED"] * 8
    assert calls == [1]


def test_a_failed_first_fetch_is_raised_and_tried_again() -> None:
    answers: list[Any] = [CredentialsError("down"), Credentials("LATER", "s")]

    def refresh() -> Credentials:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, Credentials)
        return answer

    provider = CredentialProvider(None, "test", refresh)
    with pytest.raises(CredentialsError, match="down"):
        provider.get()
    assert provider.get().access_key == "LATER"


def test_no_secret_in_reprs_or_the_debug_log(
    standin: AwsStandIn, isolated: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_files(isolated, config=SSO + f"[profile dev]\nrole_arn = {ROLE}after-sso\nsource_profile = sso\n")
    now = datetime.now(timezone.utc)
    _write_token(
        isolated,
        "corp",
        accessToken="sso-access-stale",
        expiresAt=_iso(now - timedelta(minutes=5)),
        refreshToken="sso-refresh-good",
        clientId="client-1",
        clientSecret="client-secret-1",
        registrationExpiresAt=_iso(now + timedelta(days=30)),
    )
    caplog.set_level(logging.DEBUG)
    with ec2codec.Client(profile="dev", mfa_prompt=lambda _: "000000") as client:
        found = client.credentials.get()
        texts = [repr(client), repr(client.credentials), str(found), repr(found)]
    sso = standin.sso_credentials("Admin", "111122223333")
    secrets = [found.secret_key, found.token or "", sso.secret_key, sso.token or "", "renewed-sso-refresh-good"]
    secrets += ["sso-refresh-good", "client-secret-1", "sso-access-stale"]
    for text in [*texts, caplog.text]:
        for secret in secrets:
            assert secret not in text


def test_client_passes_its_region_to_sts(standin: AwsStandIn, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_files(isolated, config=BASE + f"[profile dev]\nrole_arn = {ROLE}regional\nsource_profile = base\n")
    with ec2codec.Client("ap-southeast-2", profile="dev") as client:
        client.credentials.get()
    assert "/ap-southeast-2/sts/aws4_request" in standin.requests[-1].headers["Authorization"]
    assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"


def test_a_source_profile_failure_names_the_chain(standin: AwsStandIn, isolated: Path) -> None:
    config = SSO + f"[profile dev]\nrole_arn = {ROLE}after-sso\nsource_profile = sso\n"
    config += f"[profile top]\nrole_arn = {ROLE}top\nsource_profile = dev\n"
    write_files(isolated, config=config)
    _write_token(isolated, "corp", accessToken="sso-access-good", expiresAt="2020-01-01T00:00:00Z")
    with pytest.raises(CredentialsError) as info:
        resolve_provider(profile="top").get()
    message = _one_line_naming(info.value, "top")
    assert message.startswith("profile 'top' -> 'dev' -> 'sso': the SSO session corp expired at 2020-01-01T00:00:00Z")


def test_an_sso_token_that_is_not_a_header_value(standin: AwsStandIn, isolated: Path) -> None:
    write_files(isolated, config=SSO)
    _write_token(isolated, "corp", accessToken="line\r\nX-Injected: 1", expiresAt="2099-01-01T00:00:00Z")
    with pytest.raises(CredentialsError, match="not a legal HTTP header value") as info:
        resolve_provider(profile="sso").get()
    _one_line_naming(info.value, "sso")
