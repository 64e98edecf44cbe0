"""Web identity: AssumeRoleWithWebIdentity with a token from a file (EKS IRSA, GitHub Actions OIDC, ...).

botocore's AssumeRoleWithWebIdentityProvider. Each setting comes from its
environment variable when present (unless a profile was named explicitly,
which turns these variables off as it does the access-key ones), else from
the profile: ``AWS_WEB_IDENTITY_TOKEN_FILE`` / ``web_identity_token_file``
(the source is used only when this is set), ``AWS_ROLE_ARN`` / ``role_arn``
(required then), ``AWS_ROLE_SESSION_NAME`` / ``role_session_name`` (else
``botocore-session-<epoch seconds>``).

The token file is read again at every fetch, as botocore does: the platform
rotates it. It is sent as read (botocore does not strip a final newline
either). The call is unsigned (the token is the authentication), made on
first use, and its answer is kept in the AWS CLI's cache under the CLI's key
(role ARN and configured session name).
"""

from __future__ import annotations

from typing import Any

from ._context import Context
from .assume_role import add_account_id
from .base import ConfigError, CredentialProvider, CredentialsError
from .cache import CacheError, cached_fetch, key_for

__all__ = ["from_config"]

_VARIABLES = {
    "web_identity_token_file": "AWS_WEB_IDENTITY_TOKEN_FILE",
    "role_arn": "AWS_ROLE_ARN",
    "role_session_name": "AWS_ROLE_SESSION_NAME",
}


def from_config(
    ctx: Context, name: str, use_environment: bool, *, shared_cache: bool = True
) -> CredentialProvider | None:
    """A deferred provider when the environment or profile ``name`` configures web identity, else None.

    ``shared_cache`` False keeps the answer in memory (a ``source_profile``, see :meth:`Context.cache`).
    """
    profile = ctx.files.profile(name)

    def setting(key: str) -> str | None:
        variable = _VARIABLES[key]
        if use_environment and variable in ctx.environ:
            return ctx.environ[variable]
        return profile.get(key)

    token_file = setting("web_identity_token_file")
    if not token_file:
        return None
    role_arn = setting("role_arn")
    if not role_arn:
        raise ConfigError(
            f"profile {name!r} is set up for web identity ({token_file}) but has no role ARN: "
            "set role_arn in the profile or AWS_ROLE_ARN"
        )
    args: dict[str, Any] = {}
    session_name = setting("role_session_name")
    if session_name is not None:
        args["RoleSessionName"] = session_name
    args["RoleArn"] = role_arn
    generated = not args.get("RoleSessionName")
    if generated:
        args["RoleSessionName"] = f"botocore-session-{int(ctx.clock().timestamp())}"
    key = key_for({k: v for k, v in args.items() if not (generated and k == "RoleSessionName")})
    path: str = token_file

    def fetch() -> dict[str, Any]:
        from .sts import StsError

        try:
            with open(path, encoding="utf-8") as file:
                token = file.read()
        except (OSError, UnicodeDecodeError) as exc:
            cause = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise CredentialsError(
                f"profile {name!r}: cannot read the web identity token file {path}: {cause}"
            ) from None
        try:
            answer = ctx.sts().assume_role_with_web_identity({**args, "WebIdentityToken": token})
        except StsError as exc:
            raise CredentialsError(f"profile {name!r}: {exc}") from None
        add_account_id(answer)
        return answer

    def refresh() -> Any:
        try:
            cache = ctx.cache(shared_cache)
            return cached_fetch(cache, key, fetch, ctx.clock, f"profile {name!r} (web identity {role_arn})")
        except CacheError as exc:
            raise CredentialsError(f"profile {name!r}: {exc}") from None

    return CredentialProvider(None, f"web identity {role_arn} (profile {name!r})", refresh, clock=ctx.clock)
