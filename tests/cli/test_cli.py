"""The command line: every command, its output, and its exit codes (0 ok, 1 rejected, 2 usage).

Bad input of every kind is in test_cli_errors.py, output formats and paging against the AWS CLI's own
code in test_cli_output.py, against ``aws ec2`` itself in test_cli_awscli.py, import-snapshot in
test_cli_import.py.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ec2codec
from ec2codec.cli.app import main
from tests.cli.conftest import Run
from tests.conftest import tool
from tests.goldens import FIXTURES, loads

REQUESTS = FIXTURES / "requests"
RESPONSES = FIXTURES / "responses"
KEYS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("params", sorted(REQUESTS.glob("*.params.json")), ids=lambda p: p.name)
def test_encode_prints_exactly_the_golden_body(capsys: pytest.CaptureFixture[str], params: Path) -> None:
    operation = json.loads(params.read_text("utf-8")).get("Action") or params.name.split(".")[0].split("-")[0]
    code, out, err = run(capsys, "encode", operation, f"@{params}")
    assert (code, err) == (0, "")
    assert out.encode() == params.with_name(params.name.replace(".params.json", ".body")).read_bytes()


def test_encode_reads_params_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO('{"ImportTaskId": "import-snap-1"}'))
    code, out, _ = run(capsys, "encode", "CancelImportTask", "-")
    assert code == 0
    assert out == "Action=CancelImportTask&Version=2016-11-15&ImportTaskId=import-snap-1"


@pytest.mark.parametrize("name", ["cancel-import-task", "CancelImportTask"])
def test_operations_go_by_kebab_or_api_name(capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, out, _ = run(capsys, "encode", name, '{"ImportTaskId": "import-snap-1"}')
    assert (code, out) == (0, "Action=CancelImportTask&Version=2016-11-15&ImportTaskId=import-snap-1")


def test_ops_lists_every_operation_and_waiter(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ops")
    names = out.splitlines()
    assert code == 0 and len(names) == len(ec2codec.operations()) == 830
    assert {"describe-instances", "import-snapshot", "describe-vpc-endpoint-connection-notifications"} <= set(names)
    assert run(capsys, "ops", "--api-names", "importsnap")[1] == "DescribeImportSnapshotTasks\nImportSnapshot\n"
    code, out, _ = run(capsys, "ops", "--waiters")
    assert len(out.splitlines()) == 43 and "instance-running" in out.splitlines()


def test_skeleton_prints_the_params_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "call", "cancel-import-task", "--skeleton")
    assert (code, err) == (0, "")
    assert out == '{\n    "CancelReason": "",\n    "DryRun": true,\n    "ImportTaskId": ""\n}\n'
    assert json.loads(run(capsys, "call", "describe-regions", "--generate-cli-skeleton")[1]) == {
        "RegionNames": [""],
        "Filters": [{"Name": "", "Values": [""]}],
        "DryRun": True,
        "AllRegions": True,
    }


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("ec2codec/") and " Python/" in out


SUCCESS_DOCUMENTS = sorted(p.stem for p in RESPONSES.glob("*.xml") if b"<Errors>" not in p.read_bytes())


@pytest.mark.parametrize("name", SUCCESS_DOCUMENTS)
def test_decode_prints_what_the_aws_cli_prints(capsys: pytest.CaptureFixture[str], name: str) -> None:
    # The golden .json is botocore's parse; the AWS CLI prints it without ResponseMetadata, four-space
    # indented, timestamps in ISO 8601 (v2, or v1 with cli_timestamp_format = iso8601), blobs in base64.
    # Members come in document order (botocore's are in model order), so the comparison is as JSON.
    operation = name.split(".", maxsplit=1)[0]
    code, out, err = run(capsys, "decode", operation, str(RESPONSES / f"{name}.xml"))
    assert (code, err) == (0, "")
    expected = loads((RESPONSES / f"{name}.json").read_text("utf-8"))
    expected.pop("ResponseMetadata", None)
    if expected == {}:
        assert out == ""
        return
    assert json.loads(out) == json.loads(json.dumps(expected, default=_as_cli_prints))
    assert out == json.dumps(json.loads(out), indent=4, ensure_ascii=False) + "\n"


def _as_cli_prints(value: Any) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value.isoformat())


def test_decode_prints_iso_timestamps_and_queries(capsys: pytest.CaptureFixture[str]) -> None:
    document = str(RESPONSES / "DescribeSnapshots.xml")
    code, out, _ = run(capsys, "decode", "DescribeSnapshots", document, "--query", "Snapshots[0].StartTime")
    assert (code, out) == (0, '"2024-05-01T12:00:00.123000+00:00"\n')
    query = "Snapshots[].[SnapshotId,VolumeSize]"
    code, out, _ = run(capsys, "decode", "describe-snapshots", document, "--output", "text", "--query", query)
    assert (code, out) == (0, "snap-0f1e2d3c4b5a69788\t30\n")


def test_decode_of_an_error_document_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "decode", "ImportSnapshot", str(RESPONSES / "ImportSnapshot.error.xml"))
    assert (code, out) == (1, "")
    assert err.startswith("ec2codec: EC2 error ") and "request id" in err


def test_decode_of_garbage_is_a_parse_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<ImportSnapshotResponse><unclosed>")
    code, _, err = run(capsys, "decode", "ImportSnapshot", str(bad))
    assert code == 1 and err.startswith("ec2codec: unreadable response: ")


SIGNED = FIXTURES / "signed"


@pytest.mark.parametrize("signed", sorted(SIGNED.glob("*.http")), ids=lambda p: p.name)
def test_sign_reproduces_the_signed_golden_files(
    capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch, signed: Path
) -> None:
    # The files are botocore's signatures at a fixed time (tools/build_signed_fixtures.py).
    fixed = tool("build_signed_fixtures")
    clean_env.setenv("AWS_ACCESS_KEY_ID", fixed.ACCESS_KEY)
    clean_env.setenv("AWS_SECRET_ACCESS_KEY", fixed.SECRET_KEY)
    if signed.name.endswith(".token.http"):
        clean_env.setenv("AWS_SESSION_TOKEN", fixed.TOKEN)
    params = fixed.params_of(signed)
    operation = fixed.operation_of(params)
    code, out, err = run(capsys, "sign", operation, f"@{params}", "--region", "us-east-1", "--date", "20260101T000000Z")
    assert (code, err) == (0, "")
    assert out.encode() == signed.read_bytes()


def test_sign_resolves_the_endpoint_like_call(
    capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A profile's endpoint_url and region apply to sign as they do to call (one resolution, in the client).
    (tmp_path / "config").write_text("[default]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:9\n")
    for name, value in KEYS.items():
        clean_env.setenv(name, value)
    code, out, err = run(capsys, "sign", "DescribeRegions")
    assert (code, err) == (0, "")
    assert "\nHost: 127.0.0.1:9\n" in out and "/eu-west-3/ec2/aws4_request" in out


def test_sign_without_credentials_exits_2(capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch) -> None:
    code, out, err = run(capsys, "sign", "DescribeRegions", "--region", "us-east-1")
    assert (code, out) == (2, "")
    assert "no AWS credentials found" in err


def test_sign_without_region_exits_2(capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch) -> None:
    for name, value in KEYS.items():
        clean_env.setenv(name, value)
    code, _, err = run(capsys, "sign", "DescribeRegions")
    assert code == 2 and "no AWS region configured" in err


def test_sign_rejects_a_bad_date(capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch) -> None:
    for name, value in KEYS.items():
        clean_env.setenv(name, value)
    code, _, err = run(capsys, "sign", "DescribeRegions", "--region", "us-east-1", "--date", "yesterday")
    assert code == 2 and "--date must look like" in err


COMMANDS = ["encode", "decode", "sign", "call", "wait", "ops", "serve", "import-snapshot"]


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ec2codec")
    if not command:
        assert all(c in out for c in COMMANDS)


def test_console_entry_point_runs_as_a_module() -> None:
    body = REQUESTS / "CancelImportTask.params.json"
    done = subprocess.run(
        [sys.executable, "-m", "ec2codec", "encode", "CancelImportTask", f"@{body}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (REQUESTS / "CancelImportTask.body").read_text()


# --- commands that talk to an endpoint: LocalEC2, started by the tests on 127.0.0.1 ---------------


def test_call_prints_the_decoded_result(capsys: pytest.CaptureFixture[str], local: Any) -> None:
    params = json.dumps({"DiskContainer": {"Format": "RAW", "Url": "s3://bucket/disk.raw"}})
    code, out, err = run(capsys, "call", "ImportSnapshot", params)
    assert (code, err) == (0, "")
    task_id = json.loads(out)["ImportTaskId"]
    code, out, _ = run(capsys, "call", "DescribeImportSnapshotTasks", json.dumps({"ImportTaskIds": [task_id]}))
    assert code == 0
    [task] = json.loads(out)["ImportSnapshotTasks"]
    assert task["SnapshotTaskDetail"]["Status"] == "active"


def test_call_reports_a_service_error_in_one_line(capsys: pytest.CaptureFixture[str], local: Any) -> None:
    params = json.dumps({"ImportTaskId": "import-snap-0123456789abcdef0"})
    code, out, err = run(capsys, "call", "CancelImportTask", params)
    assert (code, out) == (1, "")
    assert err.startswith("ec2codec: EC2 error InvalidConversionTaskId") and err.count("\n") == 1


def test_call_with_bad_credentials_is_refused(capsys: pytest.CaptureFixture[str], local: Any) -> None:
    os.environ["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"  # the fixture's monkeypatch restores it
    code, _, err = run(capsys, "call", "DescribeImportSnapshotTasks")
    assert code == 1 and "AuthFailure" in err


def test_call_without_credentials_exits_2(capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch) -> None:
    code, _, err = run(
        capsys, "call", "DescribeRegions", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9"
    )
    assert code == 2 and "no AWS credentials found" in err


def test_debug_logs_the_wire_without_secrets(capsys: pytest.CaptureFixture[str], local: Any) -> None:
    code, _, err = run(capsys, "--debug", "call", "DescribeImportSnapshotTasks")
    assert code == 0
    assert "Action=DescribeImportSnapshotTasks" in err and "<DescribeImportSnapshotTasksResponse" in err
    assert local.credentials.secret_key not in err
    assert "Signature=***" in err


def test_serve_answers_signed_requests_until_interrupted() -> None:
    import signal

    server = subprocess.Popen(
        [sys.executable, "-m", "ec2codec", "serve", "--time-scale", "1"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        first = server.stderr.readline()
        assert "listening on http://127.0.0.1:" in first, first
        url = first.split("listening on ")[1].split()[0]
        keys = dict(server.stderr.readline().strip().split("=", 1) for _ in range(2))
        env = {**keys, "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
        env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        done = subprocess.run(
            [*(sys.executable, "-m", "ec2codec", "call"), "DescribeImportSnapshotTasks", "--endpoint-url", url],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["ImportSnapshotTasks"] == []
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0


# --- global options: anywhere on the line, and into the client ----------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--region", "us-east-1", "--output", "text", "call", "describe-import-snapshot-tasks"],
        ["call", "describe-import-snapshot-tasks", "--region", "us-east-1", "--output", "text"],
        ["--output", "text", "call", "--region", "us-east-1", "describe-import-snapshot-tasks", "{}"],
        ["call", "describe-import-snapshot-tasks", "--debug", "{}", "--output", "text"],
    ],
)
def test_global_options_go_before_or_after_the_command(
    capsys: pytest.CaptureFixture[str], local: Any, argv: list[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (0, "")  # text of {"ImportSnapshotTasks": []} is nothing at all
    assert ("Action=DescribeImportSnapshotTasks" in err) == ("--debug" in argv)


@pytest.mark.parametrize(
    "case",
    [
        ([], True, (60.0, 60.0)),
        (["--no-verify-ssl"], False, (60.0, 60.0)),
        (["--ca-bundle", "CA"], "CA", (60.0, 60.0)),
        (["--cli-connect-timeout", "5", "--cli-read-timeout", "0"], True, (5.0, 86400.0)),  # 0: none (a day)
        (["AWS_CA_BUNDLE"], "CA", (60.0, 60.0)),  # the variable, as the AWS CLI reads it
    ],
)
def test_transport_options_reach_the_http_request(
    cli: Run, clean_env: pytest.MonkeyPatch, tmp_path: Path, case: tuple[list[str], Any, Any]
) -> None:
    import responses

    from tests.client_support import regions_document

    flags, verify, timeout = case
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not read by the mock\n")
    flags = [str(bundle) if flag == "CA" else flag for flag in flags]
    if flags == ["AWS_CA_BUNDLE"]:
        clean_env.setenv("AWS_CA_BUNDLE", str(bundle))
        flags = []
    for name, value in KEYS.items():
        clean_env.setenv(name, value)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # requests' own bundle variables stand in for True
        clean_env.delenv(name, raising=False)
    endpoint = "https://ec2.example.test/"
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, endpoint, body=regions_document())
        code, _, err = cli("call", "describe-regions", "--region", "us-east-1", "--endpoint-url", endpoint, *flags)
        assert code == 0, err
        sent = mock.calls[0].request.req_kwargs
    assert sent["verify"] == (str(bundle) if verify == "CA" else verify)
    assert sent["timeout"] == timeout
    assert "Unverified HTTPS" not in err


def test_wait_returns_once_the_waiter_succeeds_and_prints_nothing(cli: Run, local: Any) -> None:
    params = json.dumps({"DiskContainer": {"Format": "RAW", "Url": "s3://b/d.raw"}})
    code, task_id, _ = cli("call", "import-snapshot", params, "--query", "ImportTaskId", "--output", "text")
    assert code == 0
    waiting = json.dumps({"ImportTaskIds": [task_id.strip()]})
    assert cli("wait", "snapshot-imported", waiting, "--delay", "0.05") == (0, "", "")
    code, out, _ = cli(
        "call",
        "describe-import-snapshot-tasks",
        waiting,
        "--output",
        "text",
        "--query",
        "ImportSnapshotTasks[0].SnapshotTaskDetail.Status",
    )
    assert (code, out) == (0, "completed\n")


def test_the_client_checks_verify_with_its_other_arguments() -> None:
    from ec2codec.auth.sigv4 import Credentials
    from ec2codec.client.sync import Client
    from ec2codec.errors import ValidationError

    keys = Credentials("AKIDEXAMPLE", "secret")
    with pytest.raises(ValidationError, match="verify: expected True, False or a CA bundle path"):
        Client("us-east-1", credentials=keys, environ={}, verify=1)  # type: ignore[arg-type]
    assert Client("us-east-1", credentials=keys, environ={}, verify="/ca.pem").verify == "/ca.pem"
