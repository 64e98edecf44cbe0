"""Assume role: a profile's ``role_arn`` with ``source_profile`` or ``credential_source``.

botocore's AssumeRoleProvider.

A profile uses this source when it has ``role_arn`` and no
``web_identity_token_file`` (that one is :mod:`.web_identity`'s). Its
settings, as in the AWS CLI's "Using an IAM role in the AWS CLI":

* exactly one of ``source_profile`` (a profile whose credentials call
  AssumeRole: static keys, SSO, web identity, a process, or another role, to
  any depth) and ``credential_source`` (``Environment``,
  ``Ec2InstanceMetadata`` or ``EcsContainer``, spelt exactly so);
* ``role_session_name`` (else ``botocore-session-<epoch seconds>``, the name
  the AWS CLI gives, so that CloudTrail shows the same), ``external_id``,
  ``duration_seconds`` (ignored unless a whole number, as botocore does),
  ``mfa_serial``: the code then comes from the ``mfa_prompt`` callback, asked
  ``Enter MFA code for <serial>: ``, and again at a refresh that finds no
  cached credentials (botocore refuses to refresh MFA credentials at all).

A chain that comes back to a profile it has visited is refused with the
chain spelt out (``a -> b -> a``); a profile may name itself as
``source_profile`` only when it holds static keys (botocore's rule).
AssumeRole is called on first use, not when the profile is resolved, and
its answer is kept in the AWS CLI's cache (:mod:`.cache`) under the CLI's key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._context import Context
from .base import ConfigError, CredentialProvider, CredentialsError
from .cache import CacheError, cached_fetch, key_for

__all__ = ["CREDENTIAL_SOURCES", "add_account_id", "from_profile", "has_role", "has_static_keys"]

CREDENTIAL_SOURCES = ("Environment", "Ec2InstanceMetadata", "EcsContainer")


def has_role(profile: Mapping[str, str]) -> bool:
    """botocore's ``_has_assume_role_config_vars``: role_arn, and not for web identity."""
    return "role_arn" in profile and "web_identity_token_file" not in profile


def has_static_keys(profile: Mapping[str, str]) -> bool:
    return "aws_access_key_id" in profile or "aws_secret_access_key" in profile


def from_profile(ctx: Context, name: str) -> CredentialProvider | None:
    """A deferred provider for profile ``name`` when it assumes a role, else None."""
    if not has_role(ctx.files.profile(name)):
        return None
    return _assume(ctx, name, [name])


def _assume(ctx: Context, name: str, visited: list[str]) -> CredentialProvider:
    profile = ctx.files.profile(name)
    role_arn = profile["role_arn"]
    # Errors name the chain that led here: "profile 'deploy' -> 'admin': ...".
    label = " -> ".join(repr(p) for p in visited)
    source = _source(ctx, name, profile, visited)
    source_name = profile.get("source_profile")
    # A role's own errors name its chain already; any other source names only its profile.
    relabel = source_name is not None and not _is_role_source(ctx, name, source_name)
    args: dict[str, Any] = {}
    # The order botocore builds its arguments in, which is the order of the request body.
    if profile.get("role_session_name") is not None:
        args["RoleSessionName"] = profile["role_session_name"]
    if profile.get("external_id") is not None:
        args["ExternalId"] = profile["external_id"]
    serial = profile.get("mfa_serial")
    if serial is not None:
        args["SerialNumber"] = serial
    duration = profile.get("duration_seconds")
    if duration is not None and duration.strip().lstrip("+-").isdigit():
        args["DurationSeconds"] = int(duration)
    args["RoleArn"] = role_arn
    generated = not args.get("RoleSessionName")
    if generated:
        # Assigned in place, so an empty configured name keeps its position, as in botocore.
        args["RoleSessionName"] = f"botocore-session-{int(ctx.clock().timestamp())}"
    # The generated session name is not part of the cache key.
    key = key_for({k: v for k, v in args.items() if not (generated and k == "RoleSessionName")})
    where = f"profile {name!r} (AssumeRole {role_arn})"

    def fetch() -> dict[str, Any]:
        from .sts import StsError

        call = dict(args)
        if serial is not None:
            call["TokenCode"] = _mfa_code(ctx, label, serial)
        try:
            source_credentials = source.get()
        except CredentialsError as exc:
            if not relabel:
                raise
            raise CredentialsError(_within(label, str(source_name), str(exc))) from None
        try:
            answer = ctx.sts().assume_role(call, source_credentials)
        except StsError as exc:
            raise CredentialsError(f"profile {label}: {exc}") from None
        add_account_id(answer)
        return answer

    def refresh() -> Any:
        try:
            return cached_fetch(ctx.cache(), key, fetch, ctx.clock, where)
        except CacheError as exc:
            raise CredentialsError(f"profile {label}: {exc}") from None

    return CredentialProvider(None, f"assume role {role_arn} (profile {name!r})", refresh, clock=ctx.clock)


def add_account_id(answer: dict[str, Any]) -> None:
    """botocore's ``_add_account_id_to_response``: the account of the assumed role's ARN, into Credentials."""
    arn = answer.get("AssumedRoleUser", {}).get("Arn")
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) == 6 and parts[0] == "arn" and isinstance(answer.get("Credentials"), dict):
        answer["Credentials"]["AccountId"] = parts[4]


def _within(label: str, source: str, message: str) -> str:
    """A source profile's error as part of the chain: "profile 'dev' -> 'sso': <its message>"."""
    own = f"profile {source!r}"
    for separator in (": ", " "):
        if message.startswith(own + separator):
            return f"profile {label} -> {source!r}{separator}{message[len(own) + len(separator) :]}"
    return f"profile {label} -> {source!r}: {message}"


def _is_role_source(ctx: Context, name: str, source: str) -> bool:
    settings = ctx.files.profile(source)
    return source != name and has_role(settings) and not has_static_keys(settings)


def _mfa_code(ctx: Context, label: str, serial: str) -> str:
    if ctx.mfa_prompt is None:
        raise CredentialsError(
            f"profile {label} needs an MFA code for {serial}, and no mfa_prompt was given to ask for it"
        )
    try:
        code = ctx.mfa_prompt(f"Enter MFA code for {serial}: ")
    except (EOFError, OSError):
        raise CredentialsError(f"profile {label}: no MFA code was entered for {serial}") from None
    if not isinstance(code, str) or not code.strip():
        raise CredentialsError(f"profile {label}: no MFA code was entered for {serial}")
    return code.strip()


def _source(ctx: Context, name: str, profile: Mapping[str, str], visited: list[str]) -> CredentialProvider:
    """The credentials that call AssumeRole for profile ``name`` (botocore's ``_resolve_source_credentials``)."""
    source_profile = profile.get("source_profile")
    credential_source = profile.get("credential_source")
    if source_profile is not None and credential_source is not None:
        raise ConfigError(f"profile {name!r} has both source_profile and credential_source; keep one")
    if credential_source is not None:
        if credential_source not in CREDENTIAL_SOURCES:
            raise ConfigError(
                f"profile {name!r}: credential_source {credential_source!r} is not one of "
                f"{', '.join(CREDENTIAL_SOURCES)}"
            )
        found = ctx.named_source(credential_source)
        if found is None:
            raise CredentialsError(f"profile {name!r}: credential_source {credential_source} has no credentials")
        return found
    if source_profile is None:
        raise CredentialsError(f"profile {name!r} has role_arn but neither source_profile nor credential_source")
    if not ctx.files.has_profile(source_profile):
        raise ConfigError(f"profile {name!r}: its source_profile {source_profile!r} does not exist")
    source_settings = ctx.files.profile(source_profile)
    if source_profile in visited and (source_profile != name or not has_static_keys(source_settings)):
        chain = " -> ".join([*visited, source_profile])
        raise ConfigError(f"profile {visited[0]!r}: the role chain loops back to profile {source_profile!r}: {chain}")
    visited.append(source_profile)
    if has_static_keys(source_settings) or not has_role(source_settings):
        found = ctx.profile_chain(source_profile)
        if found is None:
            raise CredentialsError(f"profile {name!r}: its source_profile {source_profile!r} has no credentials")
        return found
    return _assume(ctx, source_profile, visited)
