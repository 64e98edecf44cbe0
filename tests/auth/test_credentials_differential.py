"""ec2codec and the pinned botocore resolve the same credentials and configuration, scenario by scenario.

Each scenario is a set of shared files and an environment in a fresh home.
ec2codec (a :class:`Client`, as a user makes one) and botocore (a session
with the AWS CLI's credential cache injected, as ``aws`` does, then an EC2
client) run one after the other against the same stand-ins on 127.0.0.1
(:mod:`tests.aws_standins`: STS via moto, the SSO portal and OIDC, container
and IMDS endpoints), each in its own copy of the home. Either both fail, or
they resolve equal credentials (access key, secret, token, expiry), region,
EC2 endpoint URL and CA bundle; send STS byte-identical requests apart from
the signature time (same method, path, body, content type, credential scope
and session token; both signatures valid); write the same cache files under
the same names; and ask for MFA codes with the same prompt.
"""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import datetime, timedelta, timezone
from hashlib import sha1
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import ec2codec
from ec2codec.client.sync import Client
from tests import aws_standins
from tests import credential_fakes as fakes
from tests.aws_standins import SESSION_NAME, AwsStandIn, Recorded

botocore_session = pytest.importorskip("botocore.session")
import botocore.credentials  # noqa: E402
import botocore.loaders  # noqa: E402
import botocore.tokens  # noqa: E402
from botocore.utils import JSONFileCache  # noqa: E402

isolated = fakes.isolated
moto_standin = aws_standins.moto_standin

MFA_CODE = "123456"
START_URL = "https://corp.awsapps.com/start"
ROLE = "arn:aws:iam::123456789012:role/"


@pytest.fixture(scope="module")
def standin(moto_standin: AwsStandIn) -> AwsStandIn:
    standin = moto_standin
    standin.tokens |= {"sso-access-session", "sso-access-legacy"}
    standin.refresh_tokens.add("sso-refresh-1")
    # The static keys the scenarios sign AssumeRole with.
    for access_key, secret in (("AKIDBASE", "base-secret"), ("AKIDENV", "env-secret"), ("AKIDSELF", "s")):
        standin.know(ec2codec.Credentials(access_key, secret))
    standin.know(ec2codec.Credentials("AKIDPROCESS", "process-secret"))
    return standin


@pytest.fixture(scope="module")
def loader() -> Any:
    return botocore.loaders.create_loader()  # parsing the EC2 model once, not once per session


class Scenario(NamedTuple):
    name: str
    config: str = ""
    credentials: str | None = None
    env: dict[str, str] = {}  # noqa: RUF012 (a NamedTuple default, never mutated)
    profile: str | None = None
    files: dict[str, str] = {}  # noqa: RUF012
    fails: bool = False


def _sso_file(key: str, token: str, expires: str, refresh: bool = False) -> tuple[str, str]:
    document = {"startUrl": START_URL, "region": "us-east-1", "accessToken": token, "expiresAt": expires}
    if refresh:
        document.update(
            refreshToken="sso-refresh-1",
            clientId="client-1",
            clientSecret="client-secret-1",
            registrationExpiresAt="{future}",
        )
    return f".aws/sso/cache/{sha1(key.encode()).hexdigest()}.json", json.dumps(document)


PROCESS = """\
import json, sys
kind = sys.argv[1]
if len(sys.argv) > 2 and sys.argv[2] != "two words":
    sys.exit(3)
if kind == "static":
    print(json.dumps({"Version": 1, "AccessKeyId": "AKIDPROCESS", "SecretAccessKey": "process-secret"}))
elif kind == "temporary":
    print(json.dumps({"Version": 1, "AccessKeyId": "ASIAPROCESS", "SecretAccessKey": "process-secret",
                      "SessionToken": "process-token", "Expiration": "2099-01-01T00:00:00Z"}))
elif kind == "exit":
    print("cannot reach the vault", file=sys.stderr)
    sys.exit(1)
elif kind == "junk":
    print("AccessKeyId=AKID")
elif kind == "version2":
    print(json.dumps({"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "s"}))
"""
PROCESS_FILE = {"bin/creds.py": PROCESS}
STATIC = "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n"
SSO_SESSION = f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
SSO_PROFILE = "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\n"
LEGACY_SSO = (
    f"[profile legacy]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
    "sso_account_id = 111122223333\nsso_role_name = ReadOnly\n"
)
TOKEN = {"token": "web-identity-token\n"}


def role(name: str, arn: str, **settings: str) -> str:
    lines = [f"[profile {name}]", f"role_arn = {ROLE}{arn}"] + [f"{k} = {v}" for k, v in settings.items()]
    return "\n".join(lines) + "\n"


SCENARIOS = [
    # -- static keys and profile selection
    Scenario("env-keys", env={"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret"}),
    Scenario(
        "env-keys-with-token",
        env={"AWS_ACCESS_KEY_ID": "ASIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "env-token"},
    ),
    Scenario("credentials-file", credentials="[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n"),
    Scenario("config-file", config="[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = s\n"),
    Scenario("aws-profile", config=STATIC, env={"AWS_PROFILE": "base"}),
    Scenario(
        "aws-default-profile-wins",
        config=STATIC + "[profile other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = s\n",
        env={"AWS_PROFILE": "other", "AWS_DEFAULT_PROFILE": "base"},
    ),
    Scenario("unknown-profile", config=STATIC, env={"AWS_PROFILE": "missing"}, fails=True),
    Scenario(
        "explicit-profile-hides-env",
        config=STATIC,
        env={"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s"},
        profile="base",
    ),
    Scenario(
        "files-from-variables",
        env={"AWS_SHARED_CREDENTIALS_FILE": "{home}/elsewhere/creds", "AWS_CONFIG_FILE": "{home}/elsewhere/conf"},
        files={"elsewhere/creds": "[default]\naws_access_key_id = AKIDMOVED\naws_secret_access_key = s\n"},
    ),
    Scenario("nothing", fails=True),
    # -- assume role
    Scenario("role-from-static", config=STATIC + role("dev", "dev", source_profile="base"), profile="dev"),
    Scenario(
        "role-with-settings",
        config=STATIC
        + role(
            "dev", "dev", source_profile="base", role_session_name="alice", external_id="ext-1", duration_seconds="900"
        ),
        env={"AWS_PROFILE": "dev"},
    ),
    Scenario(
        "role-with-mfa",
        config=STATIC + role("dev", "mfa", source_profile="base", mfa_serial="arn:aws:iam::123456789012:mfa/alice"),
        profile="dev",
    ),
    Scenario(
        "role-chain-three",
        config=STATIC
        + role("a", "a", source_profile="base")
        + role("b", "b", source_profile="a", mfa_serial="arn:aws:iam::123456789012:mfa/alice")
        + role("c", "c", source_profile="b", role_session_name="deep"),
        profile="c",
    ),
    Scenario(
        "role-cycle",
        config=role("a", "a", source_profile="b") + role("b", "b", source_profile="a"),
        profile="a",
        fails=True,
    ),
    Scenario(
        "role-self-with-keys",
        config=role("self", "self", source_profile="self")
        + "aws_access_key_id = AKIDSELF\naws_secret_access_key = s\n",
        profile="self",
    ),
    Scenario("role-self-without-keys", config=role("self", "self", source_profile="self"), profile="self", fails=True),
    Scenario("role-missing-source", config=role("dev", "dev", source_profile="ghost"), profile="dev", fails=True),
    Scenario("role-no-source", config=role("dev", "dev"), profile="dev", fails=True),
    Scenario(
        "role-two-sources",
        config=STATIC + role("dev", "dev", source_profile="base", credential_source="Environment"),
        profile="dev",
        fails=True,
    ),
    Scenario(
        "role-source-environment",
        config=role("dev", "env", credential_source="Environment"),
        env={"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_PROFILE": "dev"},
    ),
    Scenario(
        "role-source-container",
        config=role("dev", "ecs", credential_source="EcsContainer"),
        env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "{url}/container"},
        profile="dev",
    ),
    Scenario(
        "role-source-imds",
        config=role("dev", "ec2", credential_source="Ec2InstanceMetadata"),
        env={"AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "{url}"},
        profile="dev",
    ),
    Scenario(
        "role-source-wrong-case",
        config=role("dev", "dev", credential_source="environment"),
        env={"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s"},
        profile="dev",
        fails=True,
    ),
    Scenario(
        "role-source-environment-empty",
        config=role("dev", "dev", credential_source="Environment"),
        profile="dev",
        fails=True,
    ),
    Scenario(
        "role-in-credentials-file",
        config=STATIC,
        credentials=f"[dev]\nrole_arn = {ROLE}creds-file\nsource_profile = base\n",
        profile="dev",
    ),
    Scenario(
        "role-duration-too-short",
        config=STATIC + role("dev", "dev", source_profile="base", duration_seconds="300"),
        profile="dev",
        fails=True,
    ),
    Scenario(
        "role-access-denied", config=STATIC + role("dev", "denied", source_profile="base"), profile="dev", fails=True
    ),
    Scenario(
        "role-region-eu",
        config=STATIC + role("dev", "dev", source_profile="base", region="eu-west-1"),
        env={"AWS_DEFAULT_REGION": ""},
        profile="dev",
    ),
    # -- web identity
    Scenario(
        "web-identity-env",
        env={
            "AWS_WEB_IDENTITY_TOKEN_FILE": "{home}/token",
            "AWS_ROLE_ARN": f"{ROLE}irsa",
            "AWS_ROLE_SESSION_NAME": "pod-1",
        },
        files=TOKEN,
    ),
    Scenario(
        "web-identity-profile",
        config=f"[default]\nweb_identity_token_file = {{home}}/token\nrole_arn = {ROLE}gha\n",
        files=TOKEN,
    ),
    Scenario(
        "web-identity-env-hidden-by-profile",
        config=STATIC,
        env={"AWS_WEB_IDENTITY_TOKEN_FILE": "{home}/token", "AWS_ROLE_ARN": f"{ROLE}irsa"},
        profile="base",
        files=TOKEN,
    ),
    Scenario("web-identity-no-role", env={"AWS_WEB_IDENTITY_TOKEN_FILE": "{home}/token"}, files=TOKEN, fails=True),
    Scenario(
        "web-identity-as-source",
        config=f"[profile wi]\nweb_identity_token_file = {{home}}/token\nrole_arn = {ROLE}gha\n"
        + role("dev", "after-wi", source_profile="wi"),
        profile="dev",
        files=TOKEN,
    ),
    # -- IAM Identity Center
    Scenario(
        "sso-session",
        config=SSO_SESSION + SSO_PROFILE,
        profile="sso",
        files=dict([_sso_file("corp", "sso-access-session", "{future}")]),
    ),
    Scenario(
        "sso-legacy",
        config=LEGACY_SSO,
        env={"AWS_PROFILE": "legacy"},
        files=dict([_sso_file(START_URL, "sso-access-legacy", "{future}")]),
    ),
    Scenario(
        "sso-session-refreshed",
        config=SSO_SESSION + SSO_PROFILE,
        profile="sso",
        files=dict([_sso_file("corp", "sso-access-old", "{past}", refresh=True)]),
    ),
    Scenario(
        "sso-session-expired",
        config=SSO_SESSION + SSO_PROFILE,
        profile="sso",
        files=dict([_sso_file("corp", "sso-access-session", "{past}")]),
        fails=True,
    ),
    Scenario(
        "sso-legacy-expired",
        config=LEGACY_SSO,
        profile="legacy",
        files=dict([_sso_file(START_URL, "sso-access-legacy", "{past}")]),
        fails=True,
    ),
    Scenario("sso-no-token", config=SSO_SESSION + SSO_PROFILE, profile="sso", fails=True),
    Scenario(
        "sso-revoked-token",
        config=SSO_SESSION + SSO_PROFILE,
        profile="sso",
        files=dict([_sso_file("corp", "sso-access-revoked", "{future}")]),
        fails=True,
    ),
    Scenario("sso-missing-region", config=LEGACY_SSO.replace("sso_region", "x_region"), profile="legacy", fails=True),
    Scenario("sso-missing-session", config=SSO_PROFILE, profile="sso", fails=True),
    Scenario(
        "sso-as-source",
        config=SSO_SESSION + SSO_PROFILE + role("dev", "after-sso", source_profile="sso"),
        profile="dev",
        files=dict([_sso_file("corp", "sso-access-session", "{future}")]),
    ),
    # -- credential_process
    Scenario(
        "process-static",
        config="[default]\ncredential_process = {python} {home}/bin/creds.py static\n",
        files=PROCESS_FILE,
    ),
    Scenario(
        "process-temporary-quoted",
        config='[default]\ncredential_process = "{python}" {home}/bin/creds.py temporary "two words"\n',
        files=PROCESS_FILE,
    ),
    Scenario(
        "process-exit-1",
        config="[default]\ncredential_process = {python} {home}/bin/creds.py exit\n",
        files=PROCESS_FILE,
        fails=True,
    ),
    Scenario(
        "process-junk",
        config="[default]\ncredential_process = {python} {home}/bin/creds.py junk\n",
        files=PROCESS_FILE,
        fails=True,
    ),
    Scenario(
        "process-version-2",
        config="[default]\ncredential_process = {python} {home}/bin/creds.py version2\n",
        files=PROCESS_FILE,
        fails=True,
    ),
    Scenario(
        "credentials-file-before-process",
        config="[default]\ncredential_process = {python} {home}/bin/creds.py exit\n",
        credentials="[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n",
        files=PROCESS_FILE,
    ),
    Scenario(
        "process-as-source",
        config="[profile proc]\ncredential_process = {python} {home}/bin/creds.py static\n"
        + role("dev", "after-process", source_profile="proc"),
        profile="dev",
        files=PROCESS_FILE,
    ),
    # -- region, endpoint and transport settings
    Scenario(
        "region-from-profile", config=STATIC + "region = ap-south-1\n", env={"AWS_DEFAULT_REGION": ""}, profile="base"
    ),
    Scenario("no-region", config=STATIC, env={"AWS_DEFAULT_REGION": ""}, profile="base", fails=True),
    Scenario(
        "services-section",
        config=STATIC + "services = local\n[services local]\nec2 =\n  endpoint_url = http://127.0.0.1:4566\n",
        profile="base",
    ),
    Scenario("profile-endpoint-url", config=STATIC + "endpoint_url = http://127.0.0.1:4567\n", profile="base"),
    Scenario(
        "env-endpoint-over-services",
        config=STATIC + "services = local\n[services local]\nec2 =\n  endpoint_url = http://127.0.0.1:4566\n",
        env={"AWS_ENDPOINT_URL_EC2": "http://127.0.0.1:4568"},
        profile="base",
    ),
    Scenario(
        "ignore-configured-endpoints",
        config=STATIC + "endpoint_url = http://127.0.0.1:4567\n",
        env={"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
        profile="base",
    ),
    Scenario("missing-services-section", config=STATIC + "services = nowhere\n", profile="base", fails=True),
    Scenario("ca-bundle-profile", config=STATIC + "ca_bundle = /etc/corp/ca.pem\n", profile="base"),
    Scenario(
        "ca-bundle-env-wins",
        config=STATIC + "ca_bundle = /etc/corp/ca.pem\n",
        env={"AWS_CA_BUNDLE": "/opt/other-ca.pem"},
        profile="base",
    ),
    Scenario("fips-endpoint", config=STATIC + "use_fips_endpoint = true\n", profile="base"),
    Scenario(
        "dualstack-endpoint",
        config=STATIC,
        env={"AWS_USE_DUALSTACK_ENDPOINT": "true", "AWS_DEFAULT_REGION": "eu-central-1"},
        profile="base",
    ),
]


class Outcome(NamedTuple):
    ok: bool
    error: str = ""
    credentials: tuple[str, str, str | None, datetime | None] | None = None
    region: str | None = None
    endpoint: str | None = None
    ca_bundle: str | None = None


def _prepare(scenario: Scenario, home: Path, standin: AwsStandIn) -> dict[str, str]:
    now = datetime.now(timezone.utc)
    values = {
        "home": str(home),
        "python": sys.executable,
        "url": standin.url,
        "future": (now + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "past": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        return text

    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(fill(scenario.config))
    if scenario.credentials is not None:
        (home / ".aws" / "credentials").write_text(fill(scenario.credentials))
    for relative, text in scenario.files.items():
        path = home / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fill(text))
    env = {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
        **standin.env(),
    }
    env.update({name: fill(value) for name, value in scenario.env.items()})
    return {name: value for name, value in env.items() if value != ""}


def _use_environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def _run_ours(scenario: Scenario, env: dict[str, str], prompts: list[str]) -> Outcome:
    def mfa(prompt: str) -> str:
        prompts.append(prompt)
        return MFA_CODE

    try:
        with Client(profile=scenario.profile, environ=env, mfa_prompt=mfa) as client:
            found = client.credentials.get()
            return Outcome(
                True,
                credentials=(found.access_key, found.secret_key, found.token, found.expiration),
                region=client.region,
                endpoint=client.endpoint.url,
                ca_bundle=client.ca_bundle,
            )
    except ec2codec.Error as exc:
        return Outcome(False, str(exc))


def _run_botocore(
    scenario: Scenario, env: dict[str, str], prompts: list[str], loader: Any, monkeypatch: pytest.MonkeyPatch
) -> Outcome:
    home = env["HOME"]
    sso_cache = os.path.join(home, ".aws", "sso", "cache")
    monkeypatch.setattr(botocore.tokens.SSOTokenProvider, "_SSO_TOKEN_CACHE_DIR", sso_cache)
    monkeypatch.setattr(botocore.credentials.SSOProvider, "_SSO_TOKEN_CACHE_DIR", sso_cache)

    def mfa(prompt: str) -> str:
        prompts.append(prompt)
        return MFA_CODE

    try:
        session = botocore_session.Session(profile=scenario.profile)
        session.register_component("data_loader", loader)
        # What the AWS CLI does at session-initialized (awscli.customizations.assumerole and .sso).
        resolver = session.get_component("credential_provider")
        cache = JSONFileCache(os.path.join(home, ".aws", "cli", "cache"))
        for name in ("assume-role", "assume-role-with-web-identity", "sso"):
            resolver.get_provider(name).cache = cache
        resolver.get_provider("assume-role")._prompter = mfa
        client = session.create_client("ec2")
        credentials = session.get_credentials()
        if credentials is None:
            return Outcome(False, "no credentials")
        frozen = credentials.get_frozen_credentials()
        expiry = getattr(credentials, "_expiry_time", None)
        return Outcome(
            True,
            credentials=(frozen.access_key, frozen.secret_key, frozen.token, expiry),
            region=client.meta.region_name,
            endpoint=client.meta.endpoint_url,
            ca_bundle=session.get_config_variable("ca_bundle"),
        )
    except Exception as exc:
        return Outcome(False, f"{type(exc).__name__}: {exc}")


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.suffix == ".json"} if folder.is_dir() else set()


def _scope(headers: dict[str, str]) -> tuple[str, ...]:
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    match = re.search(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request", authorization)
    return match.groups() if match else ()


def _same_request(ours: Recorded, theirs: Recorded) -> None:
    def header(recorded: Recorded, name: str) -> str | None:
        return next((v for k, v in recorded.headers.items() if k.lower() == name), None)

    assert (ours.method, ours.path) == (theirs.method, theirs.path)
    assert SESSION_NAME.sub(b"N", ours.body) == SESSION_NAME.sub(b"N", theirs.body)
    for name in ("content-type", "host", "x-amz-security-token"):
        assert header(ours, name) == header(theirs, name), name
    assert _scope(ours.headers) == _scope(theirs.headers)
    assert ours.signature == theirs.signature
    assert ours.signature in ("valid", "unsigned")


def _clean_error(error: str, scenario: Scenario, secrets: list[str]) -> None:
    if "looked at:" not in error:  # only the list of every place looked at has a line per place
        assert "\n" not in error
        if scenario.profile is not None:
            assert repr(scenario.profile) in error
    for secret in secrets:
        assert secret not in error


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_resolves_as_botocore(
    scenario: Scenario, standin: AwsStandIn, loader: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes: list[Outcome] = []
    requests: list[list[Recorded]] = []
    prompts: list[list[str]] = [[], []]
    homes = [tmp_path / "ours", tmp_path / "botocore"]
    for side, home in enumerate(homes):
        env = _prepare(scenario, home, standin)
        _use_environment(monkeypatch, env)
        before = len(standin.requests)
        if side == 0:
            outcomes.append(_run_ours(scenario, env, prompts[0]))
        else:
            outcomes.append(_run_botocore(scenario, env, prompts[1], loader, monkeypatch))
        requests.append(standin.requests[before:])
    ours, theirs = outcomes
    if scenario.fails:
        assert not ours.ok and not theirs.ok, (ours, theirs)
        _clean_error(ours.error, scenario, ["base-secret", "sso-access", "web-identity-token", "process-secret"])
        return
    assert ours.ok and theirs.ok, (ours.error, theirs.error)
    assert ours.credentials == theirs.credentials
    assert (ours.region, ours.endpoint, ours.ca_bundle) == (theirs.region, theirs.endpoint, theirs.ca_bundle)
    assert len(requests[0]) == len(requests[1])
    for mine, botos in zip(*requests, strict=True):
        _same_request(mine, botos)
    assert prompts[0] == prompts[1]
    cache = Path(".aws", "cli", "cache")
    assert _listing(homes[0] / cache) == _listing(homes[1] / cache)
    sso = Path(".aws", "sso", "cache")
    assert _listing(homes[0] / sso) == _listing(homes[1] / sso)


def test_there_are_enough_scenarios() -> None:
    assert len(SCENARIOS) >= 40
    assert len({s.name for s in SCENARIOS}) == len(SCENARIOS)
