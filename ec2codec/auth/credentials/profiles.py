"""The shared credentials and config files (``~/.aws/credentials``, ``~/.aws/config``) for one profile.

Private to :mod:`ec2codec.auth.credentials.chain`, which imports it on first use (so
``configparser`` and ``shlex`` load only when a file is read). Parsing follows
botocore's ``configloader``: ``RawConfigParser`` sections, ``[profile name]``
and ``[default]`` in the config file, plain ``[name]`` in the credentials file,
the credentials file winning where both set a value. Errors name the file and
line but never quote it: the line may hold a secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from ..sigv4 import Credentials
from .base import Clock, CredentialProvider, CredentialsError

__all__ = ["SharedFiles"]

Sections = dict[str, dict[str, str]]


class SharedFiles:
    """The shared credentials and config files, as they stand for one profile."""

    def __init__(self, env: Mapping[str, str], profile: str | None) -> None:
        self.env = env
        chosen = next(((v, o) for o, v in _profile_sources(env, profile) if v), None)
        self.name, origin = chosen or ("default", None)
        self.paths = {
            "credentials": _path(env, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
            "config": _path(env, "AWS_CONFIG_FILE", "~/.aws/config"),
        }
        credentials_file = _read_ini(self.paths["credentials"])
        config_file = _read_ini(self.paths["config"])
        self.sections: dict[str, Sections | None] = {
            "credentials": credentials_file,
            "config": None if config_file is None else _config_profiles(config_file),
        }
        if origin is not None and self.name not in {**(self.sections["config"] or {}), **(credentials_file or {})}:
            raise CredentialsError(
                f"the AWS profile {self.name!r} (from {origin}) is not in {self.paths['config']} "
                f"or {self.paths['credentials']}"
            )

    def settings(self) -> dict[str, str]:
        """The profile's settings, credentials file over config file (botocore's full_config)."""
        return {
            **(self.sections["config"] or {}).get(self.name, {}),
            **(self.sections["credentials"] or {}).get(self.name, {}),
        }

    def refuse(self, keys: Sequence[str], env: Mapping[str, str]) -> None:
        settings = self.settings()
        used = [key for key in keys if key in settings]
        if "web_identity_token_file" in keys and env.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
            used.append("AWS_WEB_IDENTITY_TOKEN_FILE")
        if used:
            raise CredentialsError(
                f"the AWS profile {self.name!r} gets its credentials through {', '.join(used)}, which ec2codec does "
                "not support (it needs STS, SSO or a subprocess); provide keys instead, e.g. the output of "
                "`aws configure export-credentials --format env`"
            )

    def from_file(self, kind: str, clock: Clock, searched: list[str]) -> CredentialProvider | None:
        path, sections = self.paths[kind], self.sections[kind]
        where = f"{kind} file {path}"
        section = None if sections is None else sections.get(self.name)
        if sections is None:
            searched.append(f"{where}: not found")
        elif section is None:
            searched.append(f"{where}: no profile {self.name!r}")
        elif "aws_access_key_id" not in section:
            searched.append(f"{where}: profile {self.name!r} has no aws_access_key_id")
        elif "aws_secret_access_key" not in section:
            raise CredentialsError(
                f"partial credentials in {where}: profile {self.name!r} has no aws_secret_access_key"
            )
        else:
            token = section.get("aws_security_token", section.get("aws_session_token"))
            credentials = Credentials(section["aws_access_key_id"], section["aws_secret_access_key"], token)
            return CredentialProvider(credentials, f"{where} (profile {self.name!r})", clock=clock)
        return None


def _profile_sources(env: Mapping[str, str], profile: str | None) -> list[tuple[str, str | None]]:
    return [("profile argument", profile), *((name, env.get(name)) for name in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"))]


def _path(env: Mapping[str, str], variable: str, default: str) -> str:
    return os.path.expanduser(os.path.expandvars(env.get(variable) or default))


def _read_ini(path: str) -> Sections | None:
    """The sections of an INI file, None when there is no such file; errors never quote a line."""
    if not os.path.isfile(path):
        return None
    import configparser

    parser = configparser.RawConfigParser()
    problem: str | None = None
    try:
        with open(path, encoding="utf-8") as file:
            parser.read_file(file)
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        problem = _describe_ini_error(exc)
    if problem is not None:
        # Raised outside the handler so the original exception, whose text and
        # attributes quote the file, is not even kept as __context__.
        raise CredentialsError(f"cannot read {path}: {problem}")
    return {section: dict(parser.items(section)) for section in parser.sections()}


def _config_profiles(sections: Sections) -> Sections:
    # botocore's build_profile_map: "[profile name]" (two shell words) and
    # "[default]"; other sections (sso-session, services, ...) are not profiles.
    import shlex

    profiles: Sections = {}
    for key, values in sections.items():
        if key.startswith("profile"):
            try:
                words = shlex.split(key)
            except ValueError:
                continue
            if len(words) == 2:
                profiles[words[1]] = values
        elif key == "default":
            profiles[key] = values
    return profiles


def _describe_ini_error(exc: Exception) -> str:
    import configparser

    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start})"
    if isinstance(exc, OSError):
        return str(exc.strerror)
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return f"not a valid INI file: line {exc.lineno} comes before any [section] header"
    if isinstance(exc, configparser.ParsingError):
        return f"not a valid INI file: cannot parse line(s) {', '.join(str(n) for n, _ in exc.errors)}"
    if isinstance(exc, configparser.DuplicateOptionError):
        return f"not a valid INI file: a key appears twice in [{exc.section}] (line {exc.lineno})"
    if isinstance(exc, configparser.DuplicateSectionError):
        return f"not a valid INI file: [{exc.section}] appears twice (line {exc.lineno})"
    return f"not a valid INI file ({exc.__class__.__name__})"
