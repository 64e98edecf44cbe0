"""Package-level promises: every public name resolves, imports stay lazy, values stay immutable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import ec2codec
from tests.conftest import ROOT, tool


@pytest.mark.parametrize("name", ec2codec.__all__)
def test_public_name_resolves(name: str) -> None:
    assert getattr(ec2codec, name) is not None
    assert name in dir(ec2codec)


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ec2codec.nope  # noqa: B018


def test_every_error_derives_from_the_root() -> None:
    errors = ("ValidationError", "ParseError", "ServiceError", "ModelError", "CredentialsError", "EndpointError")
    errors += ("ConfigError", "RegionError")
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
    code = "import ec2codec, ec2codec.model.service as m\nprint(m._BUNDLED == {})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "True"


def test_encoding_does_not_load_lxml_or_the_signer() -> None:
    loaded = _modules_after("import ec2codec\nec2codec.encode('CancelImportTask', {'ImportTaskId': 'x'})")
    assert "lxml.etree" not in loaded
    assert "ec2codec.auth.sigv4" not in loaded
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


def test_no_public_name_is_shadowed_by_a_submodule() -> None:
    # Importing a submodule binds its name on the parent package; a public
    # function of the same name (``ec2codec.verify`` was one) would then be
    # replaced by the module. Import every module, then check every name.
    probe = """
import importlib, pkgutil, sys, types
import ec2codec
for info in pkgutil.walk_packages(ec2codec.__path__, "ec2codec."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
bad = []
for package in [m for m in list(sys.modules.values()) if getattr(m, "__name__", "").startswith("ec2codec")]:
    for name in getattr(package, "__all__", ()):
        if isinstance(getattr(package, name), types.ModuleType):
            bad.append(f"{package.__name__}.{name}")
print(" ".join(bad) or "ok")
ec2codec.verify  # the function, callable
assert callable(ec2codec.verify) and callable(ec2codec.paginate)
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "ok"


def _package_modules() -> list[Path]:
    return sorted((ROOT / "ec2codec").rglob("*.py"))


@pytest.mark.parametrize("path", _package_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_says_what_it_owns(path: Path) -> None:
    import ast

    docstring = ast.get_docstring(ast.parse(path.read_text()))
    if path.name == "__main__.py":
        return
    assert docstring, f"{path.relative_to(ROOT)} has no module docstring"
    if path.name == "__init__.py" and path.parent.name != "ec2codec":
        # A layer's docstring names what the layer may import.
        assert "import" in docstring


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("ec2codec.sigv4", "ec2codec.auth.sigv4", "canonicalize_request"),
        ("ec2codec.credentials", "ec2codec.auth.credentials.chain", "resolve_provider"),
        ("ec2codec.testing", "ec2codec.server.testing", "LocalEC2"),
    ],
)
def test_documented_import_paths_of_0_1_keep_working(old: str, new: str, name: str) -> None:
    import importlib

    assert getattr(importlib.import_module(old), name) is getattr(importlib.import_module(new), name)


def test_layer_contract_holds() -> None:
    # The same check .ci/run makes, so a plain `pytest` run catches a layer violation too.
    lint = pytest.importorskip("importlinter")
    del lint
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout + out.stderr
