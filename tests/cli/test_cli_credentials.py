"""End to end: the CLI imports a snapshot into LocalEC2 with an SSO profile, an MFA role chain, a credential_process.

``python -m ec2codec import-snapshot`` runs as a subprocess with its own
home (config file, SSO token cache) against LocalEC2 on 127.0.0.1, whose
verifier accepts every key the STS, SSO and process stand-ins hand out
(:mod:`tests.aws_standins`; STS is moto). The MFA code is typed on stdin.
The failure paths end with exit status 2 and one line naming the profile.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from hashlib import sha1
from pathlib import Path

import pytest

from ec2codec.auth.sigv4 import Credentials
from ec2codec.server.testing import LocalEC2
from tests import aws_standins
from tests.aws_standins import AwsStandIn

moto_standin = aws_standins.moto_standin

ROLE = "arn:aws:iam::123456789012:role/"
MFA = "arn:aws:iam::123456789012:mfa/operator"
PROCESS = Credentials("AKIDCLIPROCESS", "cli-process-secret")
DOCUMENT = {"Version": 1, "AccessKeyId": PROCESS.access_key, "SecretAccessKey": PROCESS.secret_key}
SCRIPT = f"print({json.dumps(json.dumps(DOCUMENT))})\n"


@pytest.fixture(scope="module")
def local(moto_standin: AwsStandIn) -> Iterator[LocalEC2]:
    moto_standin.tokens.add("cli-sso-token")
    moto_standin.know(Credentials("AKIDCLIBASE", "cli-base-secret"))
    moto_standin.know(PROCESS)
    with LocalEC2(time_scale=0.3) as ec2:
        accepted = ec2._server._lookup

        def lookup(access_key: str) -> Credentials | str | None:
            # LocalEC2 knows its own key; every key the stand-ins issued is accepted too.
            return moto_standin.lookup(access_key) or accepted(access_key)

        ec2._server._lookup = lookup  # type: ignore[assignment]
        yield ec2


def _home(tmp_path: Path, standin: AwsStandIn) -> dict[str, str]:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / "creds.py").write_text(SCRIPT)
    config = f"""\
[default]
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile sso]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = ImportOperator
region = us-east-1

[profile base]
aws_access_key_id = AKIDCLIBASE
aws_secret_access_key = cli-base-secret

[profile admin]
role_arn = {ROLE}admin
source_profile = base
mfa_serial = {MFA}

[profile importer]
role_arn = {ROLE}importer
source_profile = admin
role_session_name = nightly-import
region = us-east-1

[profile proc]
credential_process = {sys.executable} {home / "creds.py"}

[profile loop-a]
role_arn = {ROLE}a
source_profile = loop-b

[profile loop-b]
role_arn = {ROLE}b
source_profile = loop-a
"""
    (home / ".aws" / "config").write_text(config)
    expires = (datetime.now(timezone.utc) + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
    token = {"startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1", "accessToken": "cli-sso-token"}
    cache = home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    (cache / (sha1(b"corp").hexdigest() + ".json")).write_text(json.dumps({**token, "expiresAt": expires}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_DEFAULT_REGION="us-east-1",
        **standin.env(),
    )
    return env


def _import(local: LocalEC2, env: dict[str, str], profile: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ec2codec", "import-snapshot", "--profile", profile]
    command += ["--endpoint-url", local.endpoint_url, "--bucket", "disks", "--key", "root.vhd", "--format", "VHD"]
    command += ["--wait", "--no-progress", "--poll", "0.1"]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.mark.parametrize("profile", ["sso", "importer", "proc"])
def test_import_snapshot_with_each_kind_of_profile(
    local: LocalEC2, moto_standin: AwsStandIn, tmp_path: Path, profile: str
) -> None:
    env = _home(tmp_path, moto_standin)
    stdin = "123456\n" if profile == "importer" else ""
    before = len(moto_standin.requests)
    done = _import(local, env, profile, stdin)
    assert done.returncode == 0, done.stderr
    task = json.loads(done.stdout)
    assert task["SnapshotTaskDetail"]["Status"] == "completed"
    assert task["SnapshotTaskDetail"]["SnapshotId"].startswith("snap-")
    sent = moto_standin.requests[before:]
    if profile == "importer":
        assert f"Enter MFA code for {MFA}: " in done.stderr
        # base -> admin (with the code) -> importer, both signed and valid.
        assert [r.signature for r in sent if r.method == "POST"] == ["valid", "valid"]
        assert b"TokenCode=123456" in sent[0].body and b"RoleSessionName=nightly-import" in sent[1].body
        # A second run finds the role credentials in the AWS CLI's cache: no prompt, no STS call.
        again = _import(local, env, profile, "")
        assert again.returncode == 0, again.stderr
        assert "Enter MFA code" not in again.stderr
        assert len(moto_standin.requests) == before + len(sent)


@pytest.mark.parametrize(
    ("profile", "token_expires", "fragment"),
    [
        ("sso", "2020-01-01T00:00:00Z", "run `aws sso login --sso-session corp`"),
        ("loop-a", None, "loop-a -> loop-b -> loop-a"),
        ("importer", None, "no MFA code was entered"),
    ],
)
def test_failures_are_one_line_naming_the_profile(
    *, local: LocalEC2, moto_standin: AwsStandIn, tmp_path: Path, profile: str, token_expires: str | None, fragment: str
) -> None:
    env = _home(tmp_path, moto_standin)
    if token_expires is not None:
        cache = Path(env["HOME"]) / ".aws" / "sso" / "cache" / (sha1(b"corp").hexdigest() + ".json")
        document = json.loads(cache.read_text())
        cache.write_text(json.dumps({**document, "expiresAt": token_expires}))
    done = _import(local, env, profile)
    assert done.returncode == 2, done.stderr
    (line,) = [text for text in done.stderr.splitlines() if text.startswith("ec2codec:")]
    assert f"'{profile}'" in line and fragment in line
    for secret in ("cli-sso-token", "cli-base-secret"):
        assert secret not in done.stderr
