"""``import-snapshot``: start, wait with progress, resume a wait, Ctrl-C, and no import before every flag is checked.

Everything runs against LocalEC2 on 127.0.0.1 (the ``local`` fixture puts its
URL and keys in the environment), in-process through main() and, for Ctrl-C,
as a real process that gets SIGINT.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from typing import Any

import pytest

from ec2codec.client.sync import Client
from tests.cli.conftest import Run

START = ["import-snapshot", "--url", "s3://b/d.raw", "--format", "raw"]


def _tasks(local: Any) -> list[dict[str, Any]]:
    with Client(local.region, local.endpoint_url, local.credentials, environ={}) as client:
        return list(client.describe_import_snapshot_tasks()["ImportSnapshotTasks"])


def test_waits_and_prints_the_snapshot(cli: Run, local: Any) -> None:
    argv = ["import-snapshot", "--bucket", "b", "--key", "disk.vmdk", "--format", "vmdk", "--tag", "Name=x"]
    code, out, err = cli(*argv, "--description", "d", "--wait", "--poll", "0.05")
    assert code == 0, err
    task = json.loads(out)
    detail = task["SnapshotTaskDetail"]
    assert (detail["Status"], detail["Format"]) == ("completed", "VMDK")
    assert detail["UserBucket"] == {"S3Bucket": "b", "S3Key": "disk.vmdk"}
    assert task["Tags"] == [{"Key": "Name", "Value": "x"}]
    assert f"snapshot {detail['SnapshotId']} is ready" in err


def test_progress_is_a_bar_on_a_terminal(cli: Run, local: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, err = cli(*START, "--wait", "--poll", "0.05")
    assert code == 0, err
    # The bar saw the task active, then finished (how many steps in between depends on machine load).
    assert "100%|" in err and "active: " in err and "\r" in err


@pytest.mark.parametrize("flags", [[], ["--no-progress"]])
def test_progress_off_a_terminal_is_one_plain_line_per_change(cli: Run, local: Any, flags: list[str]) -> None:
    code, _, err = cli(*START, "--wait", "--poll", "0.05", *flags)
    assert code == 0, err
    assert "\r" not in err and "|" not in err
    lines = err.splitlines()
    assert any(line.endswith(": active 0% (pending)") or ": active" in line for line in lines)
    assert any(": completed" in line for line in lines)
    changes = [line for line in lines if line.startswith("import-snap-")]
    assert len(changes) == len(set(changes))  # a line per change, never the same twice


def test_without_wait_prints_the_started_task(cli: Run, local: Any) -> None:
    code, out, _ = cli(*START)
    assert code == 0
    assert json.loads(out)["ImportTaskId"].startswith("import-snap-")
    code, out, _ = cli(*START, "--output", "text", "--query", "ImportTaskId")
    assert code == 0 and out.startswith("import-snap-") and out.count("\n") == 1


def test_task_id_resumes_waiting_on_an_existing_task(cli: Run, local: Any) -> None:
    code, out, _ = cli(*START)
    task_id = json.loads(out)["ImportTaskId"]
    code, out, err = cli("import-snapshot", "--task-id", task_id, "--poll", "0.05", "--query", "ImportTaskId")
    assert (code, out) == (0, f'"{task_id}"\n'), err
    assert len(_tasks(local)) == 1


def test_a_task_id_ec2_does_not_know_exits_1(cli: Run, local: Any) -> None:
    code, out, err = cli("import-snapshot", "--task-id", "snap-0123456789abcdef0", "--poll", "0.05")
    assert (code, out) == (1, "")
    assert err.startswith("ec2codec: import snapshot task snap-0123456789abcdef0 not found")
    # A well-formed id may be a task EC2 does not list yet: waited for, up to --timeout.
    code, out, err = cli(
        "import-snapshot", "--task-id", "import-snap-0123456789abcdef0", "--poll", "0.1", "--timeout", "0.3"
    )
    assert (code, out) == (1, "")
    assert err.startswith("ec2codec: import snapshot task import-snap-0123456789abcdef0 not completed after 0.3s")


def test_dry_run_exits_0_as_call_does(cli: Run, local: Any) -> None:
    code, out, err = cli(*START, "--dry-run")
    assert (code, out) == (0, "")
    assert "would have succeeded" in err
    params = json.dumps({"DiskContainer": {"Format": "RAW", "Url": "s3://b/d.raw"}, "DryRun": True})
    assert cli("call", "import-snapshot", params)[:2] == (0, "")
    assert _tasks(local) == []


def test_refused_by_ec2_exits_1(cli: Run, local: Any) -> None:
    code, _, err = cli("import-snapshot", "--url", "ftp://b/d.raw", "--format", "RAW")
    assert code == 1 and err.startswith("ec2codec: EC2 error ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--format", "VHD"], "either as --url or as --bucket and --key"),
        (["--url", "s3://b/k"], "--format is required"),
        (["--format", "VHD", "--url", "s3://b/k", "--bucket", "b"], "either as --url or as --bucket and --key"),
        (["--format", "VHD", "--bucket", "b"], "--bucket and --key go together"),
        (["--format", "VHD", "--url", "s3://b/k", "--tag", "novalue"], "--tag wants KEY=VALUE"),
        (["--format", "VHD", "--url", "s3://b/k", "--tag", "=v"], "--tag wants KEY=VALUE"),
        (["--format", "VHD", "--url", "s3://b/k", "--wait", "--timeout", "-5"], "--timeout: must be more than 0"),
        (["--format", "VHD", "--url", "s3://b/k", "--wait", "--timeout", "inf"], "--timeout: must be a finite"),
        (["--format", "VHD", "--url", "s3://b/k", "--wait", "--poll", "0"], "--poll: must be more than 0"),
        (["--format", "VHD", "--url", "s3://b/k", "--wait", "--poll", "nan"], "--poll: must be a finite"),
        (["--format", "VHD", "--url", "s3://b/k", "--timeout", "5"], "--timeout only apply with --wait"),
        (["--format", "VHD", "--url", "s3://b/k", "--no-progress"], "--no-progress only apply with --wait"),
        (["--format", "VHD", "--url", "s3://b/k", "--time-scale", "2"], "--time-scale only applies with --local"),
        (["--format", "VHD", "--url", "s3://b/k", "--dry-run", "--wait"], "nothing to --wait for"),
        (["--format", "VHD", "--url", "s3://b/k", "--format", "ISO"], "invalid choice: 'ISO'"),
        (["--task-id", "import-snap-1", "--format", "VHD"], "--task-id waits for an existing import: --format"),
        (["--task-id", "import-snap-1", "--url", "s3://b/k"], "cannot apply"),
        (["--task-id", "import-snap-1", "--local"], "--local cannot apply"),
        (["--task-id", " "], "--task-id is empty"),
        (["--format", "VHD", "--url", "s3://b/k", "--endpoint-url", "ftp://127.0.0.1"], "must start with http://"),
        (["--format", "VHD", "--url", "s3://b/k", "--endpoint-url", "http://127.0.0.1:99999"], "Port out of range"),
        (["--format", "VHD", "--url", "s3://b/k", "--ca-bundle", "/no/such/ca.pem"], "no such file"),
        (["--format", "VHD", "--url", "s3://b/k", "--output", "yaml"], "invalid choice: 'yaml'"),
        (["--format", "VHD", "--url", "s3://b/k", "--query", "["], "is not valid JMESPath"),
    ],
)
def test_every_flag_is_checked_before_an_import_starts(cli: Run, local: Any, argv: list[str], message: str) -> None:
    code, out, err = cli("import-snapshot", *argv)
    assert (code, out) == (2, ""), err
    assert message in err and err.count("\n") == 1 and err.startswith("ec2codec: error: ")
    assert _tasks(local) == []  # nothing was started, so nothing is billed


@pytest.mark.parametrize(
    "argv", [["--endpoint-url", "http://127.0.0.1:9"], ["--profile", "p"], ["--no-verify-ssl"], ["--ca-bundle", "x"]]
)
def test_local_refuses_connection_options_it_replaces(cli: Run, clean_env: Any, argv: list[str]) -> None:
    code, _, err = cli(*START, "--local", *argv)
    assert code == 2 and f"--local starts its own endpoint: {argv[0]} cannot apply" in err


def test_local_runs_the_whole_flow(cli: Run, clean_env: Any) -> None:
    code, out, err = cli(*START, "--local", "--time-scale", "0.3", "--wait")
    assert code == 0, err
    assert json.loads(out)["SnapshotTaskDetail"]["SnapshotId"].startswith("snap-")
    assert "started the local EC2 endpoint at http://127.0.0.1:" in err


def test_ctrl_c_while_waiting_prints_how_to_resume_or_cancel(
    cli: Run, local: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: Client, task_id: str, **options: Any) -> dict[str, Any]:
        raise KeyboardInterrupt

    monkeypatch.setattr(Client, "wait_import_snapshot", interrupted)
    code, out, err = cli(*START, "--wait", "--region", "us-east-1")
    assert (code, out) == (130, "")
    [task] = _tasks(local)
    task_id = task["ImportTaskId"]
    assert f"import task {task_id} keeps running on EC2" in err
    resume = next(line for line in err.splitlines() if "resume waiting:" in line).split(": ", 1)[1]
    cancel = next(line for line in err.splitlines() if "cancel it:" in line).split(": ", 1)[1].strip()
    assert resume == f"ec2codec import-snapshot --task-id {task_id} --region us-east-1"
    # Both printed commands work as printed.
    monkeypatch.undo()
    for name, value in local.env().items():
        monkeypatch.setenv(name, value)
    assert cli(*shlex.split(cancel)[1:])[0] == 0
    code, _, err = cli(*shlex.split(resume)[1:], "--poll", "0.05")
    assert code == 1 and ("ended deleting" in err or "ended deleted" in err)


def test_ctrl_c_while_starting_prints_the_client_token(cli: Run, local: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The request reaches EC2 but the answer is lost to Ctrl-C: the printed token finds the task again.
    original = Client.import_snapshot

    def lost(self: Client, **params: Any) -> dict[str, Any]:
        original(self, **params)
        raise KeyboardInterrupt

    monkeypatch.setattr(Client, "import_snapshot", lost)
    code, out, err = cli(*START)
    assert (code, out) == (130, "")
    token = err.split("--client-token ")[1].split(":")[0]
    monkeypatch.setattr(Client, "import_snapshot", original)
    code, out, _ = cli(*START, "--client-token", token)
    assert code == 0
    [task] = _tasks(local)
    assert json.loads(out)["ImportTaskId"] == task["ImportTaskId"]


def test_sigint_while_waiting_leaves_no_traceback(local: Any) -> None:
    env = {**os.environ, **local.env()}
    with subprocess.Popen(
        [sys.executable, "-m", "ec2codec", *START, "--wait", "--poll", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert first.startswith("import task import-snap-") and first.endswith(" started\n"), first
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert (process.returncode, out) == (130, "")
    assert "keeps running on EC2" in err and "Traceback" not in err
