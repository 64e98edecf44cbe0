"""Package-level promises: every public name resolves, imports stay lazy, values stay immutable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import ec2codec

from .conftest import tool

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ec2codec.__all__)
def test_public_name_resolves(name: str) -> None:
    assert getattr(ec2codec, name) is not None
    assert name in dir(ec2codec)


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ec2codec.nope  # noqa: B018


def test_every_error_derives_from_the_root() -> None:
    errors = ("ValidationError", "ParseError", "ServiceError", "ModelError", "CredentialsError", "EndpointError")
    errors += ("TransportError", "SignatureError", "PaginationError", "WaiterError", "ImportTaskFailed")
    for name in (*errors, "ImportTaskNotFound"):
        assert issubclass(getattr(ec2codec, name), ec2codec.Error)
    assert issubclass(ec2codec.ValidationError, ValueError)
    assert issubclass(ec2codec.ParseError, ValueError)


def _modules_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(out.stdout.split())


def test_import_loads_only_the_errors() -> None:
    loaded = _modules_after("import ec2codec")
    assert {m for m in loaded if m.startswith("ec2codec")} == {"ec2codec", "ec2codec.errors"}
    assert not loaded & {"requests", "botocore", "lxml", "lxml.etree", "urllib3", "dataclasses"}


def test_import_reads_no_model_data() -> None:
    code = "import ec2codec, ec2codec.model as m\nprint(m._BUNDLED is None)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "True"


def test_encoding_does_not_load_lxml_or_the_signer() -> None:
    loaded = _modules_after("import ec2codec\nec2codec.encode('CancelImportTask', {'ImportTaskId': 'x'})")
    assert "lxml.etree" not in loaded
    assert "ec2codec.sigv4" not in loaded
    assert "requests" not in loaded


def test_credentials_are_immutable_and_redacted() -> None:
    creds = ec2codec.Credentials("AKIDEXAMPLE", "s3cr3t", "t0k3n")
    with pytest.raises(AttributeError, match="immutable"):
        creds.secret_key = "x"  # type: ignore[misc]
    assert creds == ec2codec.Credentials("AKIDEXAMPLE", "s3cr3t", "t0k3n")
    assert hash(creds) == hash(ec2codec.Credentials("AKIDEXAMPLE", "s3cr3t", "t0k3n"))
    assert "s3cr3t" not in repr(creds) and "t0k3n" not in str(creds)


def test_one_command_regenerates_every_fixture_folder() -> None:
    # tools/build_fixtures.py runs each fixture generator; a new one must be added there.
    generators = {path.stem for path in (ROOT / "tools").glob("build_*_fixtures.py")}
    assert set(tool("build_fixtures").STEPS) == generators
