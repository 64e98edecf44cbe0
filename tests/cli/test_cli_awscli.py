"""``ec2codec call`` against ``aws ec2`` (AWS CLI v1, the twin of the pinned botocore), same moto state: same bytes.

One moto server on 127.0.0.1 holds volumes and five reservations of tagged
instances (moto pages DescribeInstances by reservation). Each case runs
``python -m awscli ec2 ...`` and ``python -m ec2codec call ...`` with the same
options and compares stdout byte for byte: ``--output json|text|table``,
``--query``, ``--max-items``, ``--page-size``, ``--starting-token``,
``--no-paginate``. The AWS CLI runs with ``cli_timestamp_format = iso8601``
(the v2 default; v1 prints the wire's text otherwise).

Exit codes differ by design and are compared by class: the AWS CLI v1 exits
255 for anything that is not an argparse error, ec2codec 1 when the service or
the network refused and 2 when the command line or configuration is wrong.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import pytest

pytest.importorskip("awscli")
boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

REGION = "us-east-1"
MISSING_VOLUME = "vol-1234567890abcdef0"


class Ran(NamedTuple):
    code: int
    out: bytes
    err: bytes


class Case(NamedTuple):
    aws: list[str]  # after `aws ec2`
    ours: list[str]  # after `ec2codec`
    aws_code: int = 0
    our_code: int = 0


def _call(*argv: str) -> Case:
    return Case(list(argv), ["call", *argv])


INSTANCES_BY_ID = "Reservations[].Instances[].{id:InstanceId,az:Placement.AvailabilityZone,tags:Tags}"
SAME: dict[str, Case] = {
    "json": _call("describe-volumes"),
    "text": _call("describe-volumes", "--output", "text"),
    "table": _call("describe-instances", "--output", "table"),
    "text nested": _call("describe-instances", "--output", "text"),
    "query json": _call("describe-volumes", "--query", "Volumes[?Size > `10`].[VolumeId, Size, Tags[0].Value]"),
    "query table": _call("describe-instances", "--output", "table", "--query", INSTANCES_BY_ID),
    "query text": _call("describe-instances", "--output", "text", "--query", "Reservations[].Instances[].InstanceId"),
    "paged json": _call("describe-instances", "--page-size", "2", "--max-items", "3"),
    "paged text": _call("describe-instances", "--page-size", "2", "--max-items", "3", "--output", "text"),
    "paged table": _call("describe-instances", "--page-size", "2", "--max-items", "3", "--output", "table"),
    # --query applies to each page of paged text output, NextToken included: both print the same Nones.
    "paged text query": _call(
        "describe-instances", "--page-size", "1", "--max-items", "3", "--output", "text", "--query", "NextToken"
    ),
    "no paginate": _call("describe-instances", "--no-paginate", "--output", "text"),
    "one page by hand": Case(
        ["describe-instances", "--max-results", "2"], ["call", "describe-instances", '{"MaxResults": 2}']
    ),
    "regions table": _call("describe-regions", "--output", "table"),
    "wait": Case(
        ["wait", "volume-available", "--filters", "Name=tag:Name,Values=disk-8,disk-12"],
        ["wait", "volume-available", '{"Filters": [{"Name": "tag:Name", "Values": ["disk-8", "disk-12"]}]}'],
    ),
}
FAILING: dict[str, Case] = {
    "service error": Case(
        ["describe-volumes", "--volume-ids", MISSING_VOLUME],
        ["call", "describe-volumes", f'{{"VolumeIds": ["{MISSING_VOLUME}"]}}'],
        255,
        1,
    ),
    "waiter failure": Case(
        ["wait", "volume-available", "--volume-ids", MISSING_VOLUME],
        ["wait", "volume-available", f'{{"VolumeIds": ["{MISSING_VOLUME}"]}}'],
        255,
        1,
    ),
    "unknown operation": Case(["describe-volumez"], ["call", "describe-volumez"], 2, 2),
    "unknown output": Case(
        ["describe-volumes", "--output", "yaml"], ["call", "describe-volumes", "--output", "yaml"], 2, 2
    ),
    "bad query": Case(
        ["describe-volumes", "--query", "Volumes["], ["call", "describe-volumes", "--query", "Volumes["], 255, 2
    ),
    "no-paginate and max-items": Case(
        ["describe-volumes", "--no-paginate", "--max-items", "2"],
        ["call", "describe-volumes", "--no-paginate", "--max-items", "2"],
        255,
        2,
    ),
    "ftp endpoint": Case(
        ["describe-volumes", "--endpoint-url", "ftp://127.0.0.1:1"],
        ["call", "describe-volumes", "--endpoint-url", "ftp://127.0.0.1:1"],
        255,
        2,
    ),
    "port out of range": Case(
        ["describe-volumes", "--endpoint-url", "http://127.0.0.1:99999"],
        ["call", "describe-volumes", "--endpoint-url", "http://127.0.0.1:99999"],
        255,
        2,
    ),
}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    ec2 = boto3.client(
        "ec2", endpoint_url=url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    for size, zone in ((8, "us-east-1a"), (12, "us-east-1b"), (30, "us-east-1b")):
        tags = [{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": f"disk-{size}"}]}]
        ec2.create_volume(AvailabilityZone=zone, Size=size, TagSpecifications=tags)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    for count in (1, 2, 1, 3, 1):
        tags = [{"Key": "Name", "Value": f"web-{count}"}, {"Key": "Team", "Value": "Zürich 日本"}]
        ec2.run_instances(
            ImageId=image,
            MinCount=count,
            MaxCount=count,
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def environment(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    config = tmp_path_factory.mktemp("aws") / "config"
    config.write_text("[default]\ncli_timestamp_format = iso8601\n")
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_MAX_ATTEMPTS="1",
    )
    return env


def _run(argv: list[str], env: dict[str, str]) -> Ran:
    done = subprocess.run(argv, capture_output=True, env=env, check=False, timeout=60)
    return Ran(done.returncode, done.stdout, done.stderr)


def _run_aws(commands: list[list[str]], env: dict[str, str]) -> list[Ran]:
    """Every command through the AWS CLI's entry point, in one process (see awscli_batch.py)."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("awscli_batch.py"))],
        input=json.dumps(commands),
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    return [Ran(code, base64.b64decode(out), base64.b64decode(err)) for code, out, err in json.loads(done.stdout)]


@pytest.fixture(scope="module")
def results(endpoint: str, environment: dict[str, str]) -> dict[str, tuple[Ran, Ran]]:
    """Every case run by both CLIs: the AWS CLI's in one batch process, ours as a process each."""
    where = ["--endpoint-url", endpoint]
    cases = {**SAME, **FAILING}
    # The endpoint goes first, as a global option; one in the case comes later and wins in both.
    with ThreadPoolExecutor(max_workers=3) as pool:
        theirs = pool.submit(_run_aws, [[*where, "ec2", *case.aws] for case in cases.values()], environment)
        ours = list(
            pool.map(
                lambda case: _run([sys.executable, "-m", "ec2codec", *where, *case.ours], environment), cases.values()
            )
        )
        return dict(zip(cases, zip(theirs.result(), ours, strict=True), strict=True))


@pytest.mark.parametrize("name", list(SAME))
def test_stdout_is_byte_for_byte_the_aws_clis(results: dict[str, tuple[Ran, Ran]], name: str) -> None:
    theirs, ours = results[name]
    assert theirs.code == 0, theirs.err.decode()
    assert ours.code == 0, ours.err.decode()
    assert ours.out == theirs.out
    if name != "wait":
        assert theirs.out  # the comparison compared something


@pytest.mark.parametrize("name", list(FAILING))
def test_failures_exit_as_documented(results: dict[str, tuple[Ran, Ran]], name: str) -> None:
    theirs, ours = results[name]
    case = FAILING[name]
    assert (theirs.code, theirs.out) == (case.aws_code, b""), theirs.err.decode()
    assert (ours.code, ours.out) == (case.our_code, b""), ours.err.decode()
    assert ours.err.count(b"\n") == 1 and b"Traceback" not in ours.err


def test_a_printed_next_token_resumes_in_either_cli(
    results: dict[str, tuple[Ran, Ran]], endpoint: str, environment: Any
) -> None:
    # The NextToken ec2codec printed is botocore's token format: the AWS CLI resumes from it, and the other way round.
    # Here the AWS CLI runs as the `aws` command itself (`python -m awscli`), as a user runs it.
    token = json.loads(results["paged json"][1].out)["NextToken"]
    assert token == json.loads(results["paged json"][0].out)["NextToken"]
    resume = ["describe-instances", "--endpoint-url", endpoint, "--starting-token", token, "--max-items", "2"]
    theirs = _run([sys.executable, "-m", "awscli", "ec2", *resume, "--output", "text"], environment)
    ours = _run([sys.executable, "-m", "ec2codec", "call", *resume, "--output", "text"], environment)
    assert (theirs.code, ours.code) == (0, 0)
    assert ours.out == theirs.out and b"RESERVATIONS" in ours.out


def test_cli_version_is_the_pinned_one() -> None:
    # AWS CLI v1 is in maintenance mode and, since 1.46, runs on a botocore of its
    # own (awscli.botocore), so there is no twin of the pinned botocore: the
    # comparisons run the newest awscli the index has, the one pyproject.toml pins.
    import re

    import awscli

    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    pinned = re.search(r'"awscli==([^"]+)"', pyproject)
    assert pinned is not None and awscli.__version__ == pinned.group(1)
    assert Path(awscli.__file__).exists()
