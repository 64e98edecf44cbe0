"""The shared credentials and config files (``~/.aws/credentials``, ``~/.aws/config``) as botocore reads them.

Private to the credential package, imported on first use (so ``configparser``
and ``shlex`` load only when a file is read). Parsing follows botocore's
``configloader``: ``RawConfigParser`` sections; in the config file
``[profile name]`` and ``[default]`` are profiles, ``[sso-session name]`` and
``[services name]`` their own maps; in the credentials file every ``[name]``
is a profile whose keys win over the config file's (botocore's
``Session.full_config``). An indented block under a key (``ec2 =`` then
``endpoint_url = ...`` lines) is a nested section, read with
:func:`parse_nested` where botocore reads one. Errors name the file and line
but never quote it: the line may hold a secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..sigv4 import Credentials
from .base import Clock, ConfigError, CredentialProvider, CredentialsError

__all__ = ["SharedFiles", "parse_nested"]

Sections = dict[str, dict[str, str]]


class SharedFiles:
    """The shared credentials and config files, read once, and the profile that is active."""

    def __init__(self, env: Mapping[str, str], profile: str | None) -> None:
        self.env = env
        chosen = next(((v, o) for o, v in _profile_sources(env, profile) if v), None)
        self.name, origin = chosen or ("default", None)
        #: Whether the profile was named (argument, AWS_DEFAULT_PROFILE or AWS_PROFILE) rather than defaulted.
        self.named = origin is not None
        self.paths = {
            "credentials": _path(env, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
            "config": _path(env, "AWS_CONFIG_FILE", "~/.aws/config"),
        }
        credentials_file = _read_ini(self.paths["credentials"])
        config_file = _read_ini(self.paths["config"])
        self.sections: dict[str, Sections | None] = {
            "credentials": credentials_file,
            "config": None if config_file is None else _named_sections(config_file, "profile", default=True),
        }
        self.sso_sessions: Sections = _named_sections(config_file or {}, "sso-session")
        self.services: Sections = _named_sections(config_file or {}, "services")
        if origin is not None and not self.has_profile(self.name):
            raise CredentialsError(
                f"the AWS profile {self.name!r} (from {origin}) is not in {self.paths['config']} "
                f"or {self.paths['credentials']}"
            )

    def has_profile(self, name: str) -> bool:
        return any(name in (sections or {}) for sections in self.sections.values())

    def profile(self, name: str) -> dict[str, str]:
        """A profile's settings, credentials file over config file (botocore's full_config)."""
        return {
            **(self.sections["config"] or {}).get(name, {}),
            **(self.sections["credentials"] or {}).get(name, {}),
        }

    def settings(self) -> dict[str, str]:
        """The active profile's settings."""
        return self.profile(self.name)

    def from_file(
        self, kind: str, clock: Clock, searched: list[str], name: str | None = None
    ) -> CredentialProvider | None:
        """Static keys of profile ``name`` (the active one by default) in one of the two files."""
        name = self.name if name is None else name
        path, sections = self.paths[kind], self.sections[kind]
        where = f"{kind} file {path}"
        section = None if sections is None else sections.get(name)
        if sections is None:
            searched.append(f"{where}: not found")
        elif section is None:
            searched.append(f"{where}: no profile {name!r}")
        elif "aws_access_key_id" not in section:
            searched.append(f"{where}: profile {name!r} has no aws_access_key_id")
        elif "aws_secret_access_key" not in section:
            raise CredentialsError(f"partial credentials in {where}: profile {name!r} has no aws_secret_access_key")
        else:
            token = section.get("aws_security_token", section.get("aws_session_token"))
            credentials = Credentials(section["aws_access_key_id"], section["aws_secret_access_key"], token)
            return CredentialProvider(credentials, f"{where} (profile {name!r})", clock=clock)
        return None


def parse_nested(value: str, where: str) -> dict[str, str]:
    """An indented block of ``key = value`` lines (botocore's ``_parse_nested``); {} for a plain value."""
    if not value.startswith("\n"):
        return {}
    parsed: dict[str, str] = {}
    for number, raw in enumerate(value.splitlines()):
        line = raw.strip()
        if not line:
            continue
        key, sep, text = line.partition("=")
        if not sep:
            raise ConfigError(f"{where}: line {number} of the nested block has no '='")
        parsed[key.strip()] = text.strip()
    return parsed


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


def _named_sections(sections: Sections, kind: str, default: bool = False) -> Sections:
    # botocore's build_profile_map: "[profile name]", "[sso-session name]" and
    # "[services name]" must be two shell words; "[default]" is also a profile.
    import shlex

    found: Sections = {}
    for key, values in sections.items():
        if key.startswith(kind):
            try:
                words = shlex.split(key)
            except ValueError:
                continue
            if len(words) == 2:
                found[words[1]] = values
        elif default and key == "default":
            found[key] = values
    return found


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
