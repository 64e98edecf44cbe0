"""Bad input for every command: one line on stderr, nothing on stdout, the right exit code, never a traceback.

Exit codes: 2 for the command line and the configuration (usage, names, files,
JSON, endpoints, credentials, region), 1 for what the service or the network
refused. The tables run main() in-process; a sample runs as real processes,
where a traceback would show.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ec2codec.cli import _messages, commands
from ec2codec.errors import ServiceError, ValidationError
from tests.cli.conftest import Run
from tests.goldens import FIXTURES

RESPONSES = FIXTURES / "responses"
KEYS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
DEEP = '{"a":' * 100_000 + "1" + "}" * 100_000
GOOD_XML = str(RESPONSES / "DescribeRegions.xml")
ERROR_XML = str(RESPONSES / "ImportSnapshot.error.xml")
# Tokens as --max-items prints them (base64 JSON), one with a negative item count, one naming no input
# token of the operation (botocore, and so the client, passes such a key on as a parameter).
NEGATIVE_TOKEN = "eyJOZXh0VG9rZW4iOiAieCIsICJib3RvX3RydW5jYXRlX2Ftb3VudCI6IC0xfQ=="
ALIEN_TOKEN = "eyJ4IjogMX0="

# (argv, exit code, a fragment of the one stderr line). Run with keys in the environment and no region.
OFFLINE: list[tuple[list[str], int, str]] = [
    ([], 2, "the following arguments are required: COMMAND"),
    (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
    (["--output"], 2, "expected one argument"),
    # encode
    (["encode"], 2, "the following arguments are required: operation"),
    (["encode", "NoSuchOperation", "{}"], 2, "unknown operation 'NoSuchOperation'"),
    (["encode", "describe-volumez"], 2, "unknown operation 'describe-volumez'; did you mean describe-volumes?"),
    (["encode", "import_snapshot", "{}"], 2, "did you mean import-snapshot?"),
    (["encode", "ImportSnapshot", "{not json"], 2, "PARAMS is not valid JSON"),
    (["encode", "ImportSnapshot", "[1, 2]"], 2, "PARAMS must be a JSON object, got an array"),
    (["encode", "ImportSnapshot", "null"], 2, "PARAMS must be a JSON object, got null"),
    (["encode", "ImportSnapshot", "@no/such/file.json"], 2, "cannot read PARAMS no/such/file.json"),
    (["encode", "ImportSnapshot", DEEP], 2, "PARAMS nests too deeply"),
    (["encode", "CancelImportTask", '{"ImportTaskId": 5}'], 1, "ImportTaskId: expected a string, got an integer"),
    (["encode", "CancelImportTask", '{"Bogus": 1}'], 1, "Bogus: unknown member"),
    (["encode", "ImportSnapshot", '{"DiskContainer": null}'], 1, "DiskContainer: expected an object, got null"),
    (["encode", "ImportSnapshot", '{"DiskContainer": []}'], 1, "DiskContainer: expected an object, got an array"),
    (["encode", "DescribeVolumes", '{"DryRun": "yes"}'], 1, "DryRun: expected true or false, got a string"),
    (["encode", "DescribeVolumes", '{"MaxResults": 1.5}'], 1, "MaxResults: expected an integer, got a number"),
    (["encode", "DescribeVolumes", '{"MaxResults": true}'], 1, "MaxResults: expected an integer, got a boolean"),
    (
        ["encode", "DescribeSpotPriceHistory", '{"StartTime": "yesterday"}'],
        1,
        "StartTime: not a timestamp: 'yesterday'",
    ),
    (["encode", "DescribeSpotPriceHistory", '{"StartTime": true}'], 1, "StartTime: a boolean is not a timestamp"),
    (["encode", "DescribeSpotPriceHistory", '{"StartTime": null}'], 1, "expected a timestamp string or epoch"),
    (["encode", "CancelImportTask", "--region", "us-east-1"], 2, "--region does not apply to encode"),
    (["--output", "text", "encode", "CancelImportTask"], 2, "--output does not apply to encode"),
    (["encode", "CancelImportTask", "--query", "x"], 2, "--query does not apply to encode"),
    # decode
    (["decode", "ImportSnapshot"], 2, "the following arguments are required: file"),
    (["decode", "ImportSnapshot", "no/such/file.xml"], 2, "cannot read FILE"),
    (["decode", "ImportSnapshot", ERROR_XML], 1, "EC2 error "),
    (["decode", "DescribeRegions", GOOD_XML, "--query", "Regions["], 2, "--query expression 'Regions[' is not valid"),
    (["decode", "DescribeRegions", GOOD_XML, "--output", "yaml"], 2, "invalid choice: 'yaml'"),
    (["decode", "DescribeRegions", GOOD_XML, "--endpoint-url", "http://x"], 2, "--endpoint-url does not apply"),
    # sign
    (["sign", "DescribeRegions"], 2, "no AWS region configured"),
    (["sign", "DescribeRegions", "--region", "us-east-1", "--date", "yesterday"], 2, "--date must look like"),
    (["sign", "DescribeRegions", "--region", "not a region!"], 2, "invalid region 'not a region!'"),
    (["sign", "DescribeRegions", "--region", "us-east-1", "--endpoint-url", "ftp://h"], 2, "http:// or https://"),
    (["sign", "DescribeRegions", "--region", "us-east-1", "--endpoint-url", "http://h:99999"], 2, "Port out of range"),
    (["sign", "DescribeRegions", "--region", "us-east-1", "--endpoint-url", "http://[::1"], 2, "not a valid URL"),
    (["sign", "DescribeRegions", "--region", "us-east-1", "--endpoint-url", "h:1"], 2, "http:// or https://"),
    (["sign", "DescribeRegions", "--region", "us-east-1", "--endpoint-url", "http://"], 2, "has no host"),
    (["sign", "DescribeRegions", "--region", "us-east-1", "--no-verify-ssl"], 2, "--no-verify-ssl does not apply"),
    (["sign", "DescribeRegions", "--region", "us-east-1", "--output", "json"], 2, "--output does not apply to sign"),
    # call
    (["call"], 2, "the following arguments are required: operation"),
    (["call", "DescribeRegions", "--max-items", "3"], 2, "DescribeRegions returns everything in one response"),
    (["call", "DescribeRegions", "--no-paginate"], 2, "--no-paginate does not apply"),
    (["call", "describe-instances", "--max-items", "0"], 2, "--max-items: must be 1 or more"),
    (["call", "describe-instances", "--page-size", "x"], 2, "--page-size: not a whole number"),
    (["call", "describe-instances", "--no-paginate", "--max-items", "2"], 2, "--no-paginate cannot go with"),
    (["call", "describe-instances", '{"NextToken": "t"}', "--starting-token", "u"], 2, "PARAMS sets NextToken"),
    (["call", "describe-instances", '{"MaxResults": 5}', "--max-items", "3"], 2, "PARAMS sets MaxResults"),
    (["call", "describe-instances", "--starting-token", NEGATIVE_TOKEN], 2, "not a token this command printed"),
    (["call", "describe-instances", "--starting-token", "a___b___1"], 2, "not a token this command printed"),
    (["call", "describe-reserved-instances-modifications", "--page-size", "5"], 2, "has no page size"),
    (["call", "describe-instances", "--output", "yaml"], 2, "invalid choice: 'yaml'"),
    (["call", "describe-instances", "--query", "Reservations[", "--region", "us-east-1"], 2, "not valid JMESPath"),
    (["call", "describe-instances", "--query", "(" * 5000 + "a" + ")" * 5000], 2, "--query expression nests too"),
    (["call", "describe-instances", "--cli-read-timeout", "-1"], 2, "--cli-read-timeout: must be 0 or more"),
    (["call", "describe-instances", "--cli-connect-timeout", "inf"], 2, "must be a finite number"),
    (["call", "describe-instances", "--ca-bundle", "/no/such/ca.pem"], 2, "--ca-bundle /no/such/ca.pem: no such file"),
    (["call", "describe-instances", "--ca-bundle", "x", "--no-verify-ssl"], 2, "contradict each other"),
    (["call", "describe-instances", "--skeleton", "{}"], 2, "--skeleton prints the input of DescribeInstances"),
    (["call", "describe-instances", "--skeleton", "--max-items", "2"], 2, "drop PARAMS and options"),
    (["call", "describe-instances", "--endpoint-url", "ftp://127.0.0.1:1"], 2, "must start with http:// or https://"),
    (["call", "describe-instances", "--region", "us-east-1", "--profile", "nope"], 2, "profile"),
    # wait
    (["wait"], 2, "the following arguments are required: waiter"),
    (["wait", "instance-runing"], 2, "unknown waiter 'instance-runing'; did you mean instance-running?"),
    (["wait", "instance-running", "--delay", "0"], 2, "--delay: must be more than 0"),
    (["wait", "instance-running", "--max-attempts", "0"], 2, "--max-attempts: must be 1 or more"),
    (["wait", "instance-running", "--output", "json"], 2, "--output does not apply to wait"),
    (["wait", "instance-running", "[]"], 2, "PARAMS must be a JSON object, got an array"),
    # ops
    (["ops", "--region", "us-east-1"], 2, "--region does not apply to ops"),
    (["ops", "--bogus"], 2, "unrecognized arguments: --bogus"),
    # serve (never reaches listening)
    (["serve", "--port", "-1"], 2, "--port: must be 0 to 65535, got -1"),
    (["serve", "--port", "70000"], 2, "--port: must be 0 to 65535, got 70000"),
    (["serve", "--port", "http"], 2, "--port: not a port number"),
    (["serve", "--time-scale", "0"], 2, "--time-scale: must be more than 0"),
    (["serve", "--time-scale", "nan"], 2, "--time-scale: must be a finite number"),
    (["serve", "--host", "256.1.1.1"], 2, "cannot listen on 256.1.1.1:0"),
    (["serve", "--max-tasks", "0"], 2, "--max-tasks: must be a whole number of at least 1"),
    (["serve", "--region", "us-east-1"], 2, "--region does not apply to serve"),
    # import-snapshot (the full table of its flags is in test_cli_import.py)
    (["import-snapshot", "--url", "s3://b/k"], 2, "--format is required"),
    (["import-snapshot", "--url", "s3://b/k", "--format", "VHD", "--wait", "--timeout", "-5"], 2, "--timeout: must"),
    (["import-snapshot", "--url", "s3://b/k", "--format", "VHD", "--wait", "--poll", "0"], 2, "--poll: must"),
    (["import-snapshot", "--url", "s3://b/k", "--format", "VHD", "--time-scale", "2"], 2, "only applies with --local"),
]


def _id(value: object) -> str | None:
    return " ".join(value)[:60] if isinstance(value, list) else (str(value)[:20] if isinstance(value, str) else None)


def _one_line(code: int, out: str, err: str, expected: int, fragment: str) -> None:
    assert (code, out) == (expected, ""), err
    assert err.count("\n") == 1 and err.startswith("ec2codec: "), err
    assert fragment in err, err
    assert "Traceback" not in err and "NoneType" not in err and "  " not in err


@pytest.mark.parametrize(("argv", "code", "fragment"), OFFLINE, ids=_id)
def test_bad_input_is_one_line_with_the_right_exit_code(
    cli: Run, clean_env: pytest.MonkeyPatch, argv: list[str], code: int, fragment: str
) -> None:
    for name, value in KEYS.items():
        clean_env.setenv(name, value)
    _one_line(*cli(*argv), code, fragment)


def test_no_credentials_is_a_configuration_error(cli: Run, clean_env: pytest.MonkeyPatch) -> None:
    _one_line(*cli("call", "describe-regions", "--region", "us-east-1"), 2, "no AWS credentials found")
    _one_line(*cli("sign", "describe-regions", "--region", "us-east-1"), 2, "no AWS credentials found")


def test_a_configured_output_is_checked_like_the_option(
    cli: Run, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("AWS_DEFAULT_OUTPUT", "yaml")
    _one_line(*cli("decode", "DescribeRegions", GOOD_XML), 2, "AWS_DEFAULT_OUTPUT must be json, text or table")
    clean_env.delenv("AWS_DEFAULT_OUTPUT")
    (tmp_path / "config").write_text("[default]\noutput = yaml\n")
    _one_line(*cli("decode", "DescribeRegions", GOOD_XML), 2, "the 'output' setting of the AWS profile")
    (tmp_path / "config").write_text("[default]\noutput = text\n")
    code, out, _ = cli("decode", "DescribeRegions", GOOD_XML, "--query", "Regions[0].RegionName")
    assert (code, out) == (0, "us-east-1\n")


def test_an_endpoint_from_the_environment_is_checked_too(cli: Run, clean_env: pytest.MonkeyPatch) -> None:
    for name, value in KEYS.items():
        clean_env.setenv(name, value)
    clean_env.setenv("AWS_ENDPOINT_URL", "ftp://127.0.0.1:1")
    _one_line(*cli("call", "describe-regions", "--region", "us-east-1"), 2, "the endpoint URL 'ftp://127.0.0.1:1'")


def test_a_network_failure_exits_1(cli: Run, clean_env: pytest.MonkeyPatch) -> None:
    for name, value in KEYS.items():
        clean_env.setenv(name, value)
    argv = ["call", "describe-regions", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9"]
    code, out, err = cli(*argv)
    assert (code, out) == (1, "") and err.startswith("ec2codec: network error: ") and err.count("\n") == 1


# Against LocalEC2: what the service refuses is exit 1.
LOCAL: list[tuple[list[str], int, str]] = [
    (["call", "cancel-import-task", '{"ImportTaskId": "import-snap-0123456789abcdef0"}'], 1, "EC2 error Invalid"),
    (["call", "describe-instances"], 1, "EC2 error UnsupportedOperation"),
    (["call", "describe-import-snapshot-tasks", '{"ImportTaskIds": ["x"]}'], 1, "EC2 error InvalidConversionTaskId"),
    (
        ["wait", "snapshot-imported", '{"ImportTaskIds": ["import-snap-0123456789abcdef0"]}'],
        1,
        "Waiter SnapshotImported failed: An error occurred (InvalidConversionTaskId)",
    ),
    (["call", "describe-import-snapshot-tasks", "--starting-token", "no-such-token"], 1, "EC2 error "),
    (["call", "describe-import-snapshot-tasks", "--starting-token", ALIEN_TOKEN], 1, "x: unknown member"),
    (["call", "cancel-import-task", '{"ImportTaskId": 1}'], 1, "expected a string, got an integer"),
]


@pytest.mark.parametrize(("argv", "code", "fragment"), LOCAL, ids=_id)
def test_service_refusals_exit_1(cli: Run, local: Any, argv: list[str], code: int, fragment: str) -> None:
    _one_line(*cli(*argv), code, fragment)


def test_bad_credentials_exit_1(cli: Run, local: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    _one_line(*cli("call", "describe-import-snapshot-tasks"), 1, "EC2 error AuthFailure")


def test_dry_run_is_success_for_call_and_import_snapshot_alike(cli: Run, local: Any) -> None:
    container = {"Format": "RAW", "Url": "s3://b/d.raw"}
    called = cli("call", "import-snapshot", json.dumps({"DiskContainer": container, "DryRun": True}))
    flagged = cli("import-snapshot", "--url", "s3://b/d.raw", "--format", "RAW", "--dry-run")
    assert called == flagged == (0, "", "dry run: the request would have succeeded (DryRunOperation)\n")


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (ServiceError("Throttling", "", "rid"), "EC2 error Throttling (request id rid)"),
        (ServiceError("Bad", "two\n  lines", None), "EC2 error Bad: two lines"),
        (
            ValidationError("Foo", [("A", "expected dict, got NoneType")]),
            "invalid value: A: expected an object, got null",
        ),
        (
            ValidationError("DescribeVolumes", [("T", "not a timestamp: not a timestamp: 'x'")]),
            "invalid parameters for DescribeVolumes: T: not a timestamp: 'x'",
        ),
        (
            ValidationError("DescribeVolumes", [("L", "expected list or tuple, got str")]),
            "invalid parameters for DescribeVolumes: L: expected an array, got a string",
        ),
    ],
)
def test_messages_have_no_double_spaces_repeats_or_python_types(error: Exception, line: str) -> None:
    assert _messages.describe(error) == line  # type: ignore[arg-type]


def test_an_unexpected_error_is_one_line_and_debug_shows_where(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(args: Any) -> int:
        raise TypeError("boom")

    monkeypatch.setattr(commands, "run_ops", broken)
    code, out, err = cli("ops")
    assert (code, out) == (1, "") and err == "ec2codec: unexpected error TypeError: boom (--debug shows where)\n"
    code, _, err = cli("ops", "--debug")
    assert (
        code == 1
        and "Traceback" in err
        and err.endswith("ec2codec: unexpected error TypeError: boom (--debug shows where)\n")
    )


@pytest.mark.parametrize(
    ("argv", "stdin", "code", "fragment"),
    [
        (["serve", "--port", "-1"], "", 2, "--port: must be 0 to 65535"),
        (["serve", "--port", "70000"], "", 2, "--port: must be 0 to 65535"),
        (["encode", "ImportSnapshot", "-"], DEEP, 2, "PARAMS nests too deeply"),
        (["encode", "ImportSnapshot", "-"], "{", 2, "PARAMS is not valid JSON"),
        (["frobnicate"], "", 2, "invalid choice"),
        (["call", "describe-instances", "--region", "us-east-1", "--query", "["], "", 2, "not valid JMESPath"),
        (["decode", "ImportSnapshot", ERROR_XML], "", 1, "EC2 error "),
    ],
    ids=_id,
)
def test_as_a_process_too(argv: list[str], stdin: str, code: int, fragment: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ec2codec", *argv], input=stdin, capture_output=True, text=True, check=False, timeout=60
    )
    _one_line(done.returncode, done.stdout, done.stderr, code, fragment)


def test_a_closed_pipe_ends_quietly() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "ec2codec", "ops"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.read(10)
        process.stdout.close()  # as `| head -1` does
        err = process.stderr.read()
    assert process.returncode == 0 and err == b""
