"""Fixtures of the command-line tests: a clean AWS environment, LocalEC2, and running main() in-process."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ec2codec.cli.app import main

Run = Callable[..., tuple[int, str, str]]


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


@pytest.fixture
def local(clean_env: pytest.MonkeyPatch) -> Iterator[Any]:
    """A LocalEC2 on 127.0.0.1 whose URL, keys and region are in the environment."""
    from ec2codec.server.testing import LocalEC2

    with LocalEC2(time_scale=0.4) as ec2:
        for name, value in ec2.env().items():
            clean_env.setenv(name, value)
        yield ec2


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Run:
    """``cli(*argv)`` runs main() in this process and returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run
