"""The command line: every command, its output format, and its exit codes (0 ok, 1 rejected, 2 usage)."""

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
from tests.conftest import tool
from tests.goldens import FIXTURES, loads

REQUESTS = FIXTURES / "requests"
RESPONSES = FIXTURES / "responses"
KEYS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No AWS configuration from the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_encode_prints_the_golden_body(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "encode", "ImportSnapshot", f"@{REQUESTS / 'ImportSnapshot.params.json'}")
    assert (code, err) == (0, "")
    assert out.encode() == (REQUESTS / "ImportSnapshot.body").read_bytes().rstrip(b"\n") + b"\n"


def test_encode_reads_params_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO('{"ImportTaskId": "import-snap-1"}'))
    code, out, _ = run(capsys, "encode", "CancelImportTask", "-")
    assert code == 0
    assert out == "Action=CancelImportTask&Version=2016-11-15&ImportTaskId=import-snap-1\n"


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["encode", "ImportSnapshot", "{not json"], 2, "PARAMS is not valid JSON"),
        (["encode", "ImportSnapshot", "[1, 2]"], 2, "PARAMS must be a JSON object"),
        (["encode", "ImportSnapshot", "@no/such/file.json"], 2, "cannot read PARAMS no/such/file.json"),
        (["encode", "NoSuchOperation", "{}"], 2, "unknown operation 'NoSuchOperation'"),
        (["encode", "import_snapshot", "{}"], 2, "unknown operation 'import_snapshot'"),
        (["decode", "ImportSnapshot", "no/such/file.xml"], 2, "cannot read FILE"),
        (
            ["encode", "CancelImportTask", '{"ImportTaskId": 5}'],
            1,
            "invalid parameters for CancelImportTask: ImportTaskId: expected str, got int",
        ),
        (["encode", "CancelImportTask", '{"Bogus": 1}'], 1, "Bogus"),
    ],
)
def test_bad_input_is_one_line_on_stderr(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    got, out, err = run(capsys, *argv)
    assert (got, out) == (code, "")
    assert message in err
    assert err.count("\n") == 1 and err.startswith("ec2codec: ")


SUCCESS_DOCUMENTS = sorted(p.stem for p in RESPONSES.glob("*.xml") if b"<Errors>" not in p.read_bytes())


@pytest.mark.parametrize("name", SUCCESS_DOCUMENTS)
def test_decode_prints_the_parsed_json(capsys: pytest.CaptureFixture[str], name: str) -> None:
    operation = name.split(".", maxsplit=1)[0]
    code, out, err = run(capsys, "decode", operation, str(RESPONSES / f"{name}.xml"))
    assert (code, err) == (0, "")
    printed = json.loads(out)
    expected = ec2codec.parse(operation, (RESPONSES / f"{name}.xml").read_bytes())
    assert printed == json.loads(json.dumps(expected, default=_as_cli_prints))
    assert expected == loads((RESPONSES / f"{name}.json").read_text("utf-8"))


def _as_cli_prints(value: Any) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value.isoformat())


def test_decode_prints_iso_timestamps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decode", "DescribeSnapshots", str(RESPONSES / "DescribeSnapshots.xml"))
    assert code == 0
    start = json.loads(out)["Snapshots"][0]["StartTime"]
    assert start.endswith("+00:00") and "T" in start


def test_decode_of_an_error_document_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "decode", "ImportSnapshot", str(RESPONSES / "ImportSnapshot.error.xml"))
    assert (code, out) == (1, "")
    assert err.startswith("ec2codec: EC2 error ") and "request id" in err


def test_decode_of_garbage_is_a_parse_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<ImportSnapshotResponse><unclosed>")
    code, _, err = run(capsys, "decode", "ImportSnapshot", str(bad))
    assert code == 1 and "ParseError" in err


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


COMMANDS = ["encode", "decode", "sign", "call", "serve", "import-snapshot"]


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ec2codec")
    if not command:
        assert all(c in out for c in COMMANDS)


def test_unknown_command_and_missing_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["frobnicate"], ["encode"], ["import-snapshot", "--url", "s3://b/k"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
    assert "error" in capsys.readouterr().err


def test_console_entry_point_runs_as_a_module() -> None:
    body = REQUESTS / "CancelImportTask.params.json"
    done = subprocess.run(
        [sys.executable, "-m", "ec2codec", "encode", "CancelImportTask", f"@{body}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Action=CancelImportTask&Version=2016-11-15&")


# --- commands that talk to an endpoint: LocalEC2, started by the tests on 127.0.0.1 ---------------


@pytest.fixture
def local(clean_env: pytest.MonkeyPatch) -> Any:
    from ec2codec.server.testing import LocalEC2

    with LocalEC2(time_scale=0.4) as ec2:
        for name, value in ec2.env().items():
            clean_env.setenv(name, value)
        yield ec2


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


def test_import_snapshot_waits_and_prints_the_snapshot(capsys: pytest.CaptureFixture[str], local: Any) -> None:
    argv = ["import-snapshot", "--bucket", "b", "--key", "disk.vmdk", "--format", "vmdk", "--tag", "Name=x"]
    code, out, err = run(capsys, *argv, "--description", "d", "--wait", "--poll", "0.05")
    assert code == 0, err
    task = json.loads(out)
    detail = task["SnapshotTaskDetail"]
    assert (detail["Status"], detail["Format"]) == ("completed", "VMDK")
    assert detail["UserBucket"] == {"S3Bucket": "b", "S3Key": "disk.vmdk"}
    assert task["Tags"] == [{"Key": "Name", "Value": "x"}]
    assert f"snapshot {detail['SnapshotId']} is ready" in err
    # The bar saw the task active, then finished (how many steps in between depends on machine load).
    assert "100%" in err and "active: " in err and "completed" in err


def test_import_snapshot_without_wait_prints_the_task(capsys: pytest.CaptureFixture[str], local: Any) -> None:
    code, out, _ = run(capsys, "import-snapshot", "--url", "s3://b/disk.vhd", "--format", "VHD")
    assert code == 0
    assert json.loads(out)["ImportTaskId"].startswith("import-snap-")


def test_import_snapshot_no_progress_prints_each_change(capsys: pytest.CaptureFixture[str], local: Any) -> None:
    argv = ["import-snapshot", "--url", "s3://b/d.raw", "--format", "raw", "--wait", "--no-progress", "--poll", "0.05"]
    code, _, err = run(capsys, *argv)
    assert code == 0
    assert ": active " in err and ": completed" in err and "|" not in err  # one line per change, no bar


def test_import_snapshot_dry_run(capsys: pytest.CaptureFixture[str], local: Any) -> None:
    code, out, err = run(capsys, "import-snapshot", "--url", "s3://b/d.raw", "--format", "RAW", "--dry-run")
    assert (code, out) == (0, "")
    assert "would have succeeded" in err


def test_import_snapshot_refused_by_ec2_exits_1(capsys: pytest.CaptureFixture[str], local: Any) -> None:
    code, _, err = run(capsys, "import-snapshot", "--url", "ftp://b/d.raw", "--format", "RAW")
    assert code == 1 and err.startswith("ec2codec: EC2 error ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--format", "VHD"], "either as --url or as --bucket and --key"),
        (["--format", "VHD", "--url", "s3://b/k", "--bucket", "b"], "either as --url or as --bucket and --key"),
        (["--format", "VHD", "--bucket", "b"], "--bucket and --key go together"),
        (["--format", "VHD", "--url", "s3://b/k", "--tag", "novalue"], "--tag wants KEY=VALUE"),
        (["--format", "VHD", "--url", "s3://b/k", "--local", "--endpoint-url", "http://x"], "--local replaces"),
    ],
)
def test_import_snapshot_flag_errors_exit_2(
    capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch, argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "import-snapshot", *argv)
    assert code == 2 and message in err


def test_import_snapshot_local_runs_the_whole_flow(capsys: pytest.CaptureFixture[str], clean_env: Any) -> None:
    argv = ["import-snapshot", "--local", "--time-scale", "0.3", "--url", "s3://b/d.vhd", "--format", "VHD", "--wait"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert json.loads(out)["SnapshotTaskDetail"]["SnapshotId"].startswith("snap-")
    assert "started the local EC2 endpoint at http://127.0.0.1:" in err


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
