"""credential_process: credentials printed by a command (aws-vault, 1Password, granted, ...).

botocore's ProcessProvider, with a timeout. The profile's
``credential_process`` is split into words as a POSIX shell would
(``shlex.split``, botocore's ``compat_shell_split`` outside Windows) and run
without a shell, with the caller's stdin and environment (so a tool may
prompt on the terminal), stdout and stderr captured. It must exit with 0
and print the JSON of the AWS CLI's "Sourcing credentials with an external
process": ``Version`` 1, ``AccessKeyId``, ``SecretAccessKey``, optionally
``SessionToken`` and ``Expiration``; credentials with an ``Expiration`` are
fetched again (the command re-run) 15 minutes before it.

A command that cannot start, exits with another status (its stderr is part of
the error, on one line), runs longer than ``timeout`` seconds (it is killed)
or prints anything else is a :class:`CredentialsError` naming the profile.
The process runs when the profile is resolved, as in botocore.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Mapping
from typing import Any

from ..sigv4 import Credentials
from .base import Clock, CredentialProvider, CredentialsError

__all__ = ["DEFAULT_TIMEOUT", "from_profile"]

DEFAULT_TIMEOUT = 60.0
_STDERR_SHOWN = 500  # characters of the process's stderr quoted in an error


def from_profile(
    profile: Mapping[str, str], name: str, clock: Clock, timeout: float = DEFAULT_TIMEOUT
) -> CredentialProvider | None:
    command = profile.get("credential_process")
    if command is None:
        return None
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise CredentialsError(f"profile {name!r}: credential_process cannot be split into words ({exc})") from None
    if not argv:
        raise CredentialsError(f"profile {name!r}: credential_process is empty")

    def fetch() -> Credentials:
        return _run(argv, name, timeout)

    credentials = fetch()
    refresh = None if credentials.expiration is None else fetch
    return CredentialProvider(credentials, f"credential_process of profile {name!r}", refresh, clock=clock)


def _one_line(data: bytes) -> str:
    text = " ".join(data.decode("utf-8", "replace").split())
    return text if len(text) <= _STDERR_SHOWN else "..." + text[-_STDERR_SHOWN:]


def _run(argv: list[str], name: str, timeout: float) -> Credentials:
    where = f"profile {name!r}: credential_process {argv[0]}"
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise CredentialsError(f"{where} did not finish within {timeout:g} s and was stopped") from None
    except OSError as exc:
        raise CredentialsError(f"{where} could not be started: {exc.strerror}") from None
    if done.returncode != 0:
        status = f"signal {-done.returncode}" if done.returncode < 0 else f"status {done.returncode}"
        stderr = _one_line(done.stderr)
        raise CredentialsError(f"{where} exited with {status}" + (f": {stderr}" if stderr else ""))
    return _parse(done.stdout, where)


def _parse(stdout: bytes, where: str) -> Credentials:
    from ...protocol._time import parse_timestamp

    try:
        document: Any = json.loads(stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        document = None
    if not isinstance(document, dict):
        # Never quote the output: it may be credentials in the wrong format.
        raise CredentialsError(f"{where} printed no JSON object on stdout ({len(stdout)} bytes)")
    version = document.get("Version", "<missing>")
    if version != 1 or isinstance(version, bool):
        shown = version if isinstance(version, (int, str)) else type(version).__name__
        raise CredentialsError(f"{where} printed Version {shown!r}; only Version 1 is supported")
    missing = [key for key in ("AccessKeyId", "SecretAccessKey") if not isinstance(document.get(key), str)]
    if missing:
        raise CredentialsError(f"{where} printed no {' or '.join(missing)}")
    token = document.get("SessionToken")
    expiration = document.get("Expiration")
    if token is not None and not isinstance(token, str):
        raise CredentialsError(f"{where} printed a SessionToken that is not a string")
    expires = None
    if expiration is not None:
        try:
            expires = parse_timestamp(expiration) if isinstance(expiration, str) else None
        except ValueError:
            expires = None
        if expires is None:
            raise CredentialsError(f"{where} printed an Expiration that is not an ISO 8601 time")
    return Credentials(document["AccessKeyId"], document["SecretAccessKey"], token, expires)
