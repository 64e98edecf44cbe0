"""IAM Identity Center (SSO): role credentials from the token ``aws sso login`` caches (botocore's SSOProvider).

A profile uses this source when it has ``sso_account_id`` or ``sso_role_name``.
It needs both, plus ``sso_start_url`` and ``sso_region``: from the profile
(legacy form) or from the ``[sso-session NAME]`` section its ``sso_session``
names (a key set in both must agree). Then, on first use and at each
refresh:

1. the access token is read from ``~/.aws/sso/cache/<sha1>.json``, where the
   hash is of the session name (or of the start URL for a legacy profile):
   the file ``aws sso login`` writes;
2. for an ``sso_session`` profile, a token with less than 15 minutes left is
   renewed with its refresh token (OIDC ``CreateToken``, ``POST /token`` on
   ``oidc.<region>.amazonaws.com``) while its client registration is valid,
   and written back in the CLI's form (botocore's ``SSOTokenProvider``); a
   legacy token is never renewed;
3. the portal's ``GetRoleCredentials`` (``GET /federation/credentials`` on
   ``portal.sso.<region>.amazonaws.com``, the token in
   ``x-amz-sso_bearer_token``) gives the role credentials, kept in the AWS
   CLI's cache under the CLI's key.

An expired or rejected session says which command renews it:
``aws sso login --sso-session NAME`` or ``aws sso login --profile NAME``.
ec2codec does not implement the browser login itself. Both calls are small
JSON exchanges over ``http.client`` (:mod:`._http`); their endpoints honour
``AWS_ENDPOINT_URL_SSO`` / ``AWS_ENDPOINT_URL_SSO_OIDC``, the ``[services]``
section, FIPS and dual-stack, as botocore's clients do.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timedelta, timezone
from hashlib import sha1
from typing import Any
from urllib.parse import quote

from ..sigv4 import Credentials
from ._context import Context
from .base import ConfigError, CredentialProvider, CredentialsError
from .cache import CacheError, JsonFileCache, cached_fetch, key_for

__all__ = ["TOKEN_CACHE_DIR", "from_profile"]

TOKEN_CACHE_DIR = os.path.join("~", ".aws", "sso", "cache")
REFRESH_WINDOW = timedelta(minutes=15)  # SSOTokenProvider._REFRESH_WINDOW
TIMEOUT = 60.0
_LOG = logging.getLogger("ec2codec.credentials")
_REQUIRED = ("sso_role_name", "sso_account_id", "sso_start_url", "sso_region")


class _SsoConfig:
    def __init__(self, profile: str, values: dict[str, str]) -> None:
        self.profile = profile
        self.session = values.get("sso_session")
        self.start_url = values["sso_start_url"]
        self.region = values["sso_region"]
        self.role_name = values["sso_role_name"]
        self.account_id = values["sso_account_id"]

    @property
    def login(self) -> str:
        where = f"--sso-session {self.session}" if self.session is not None else f"--profile {self.profile}"
        return f"`aws sso login {where}`"


def _config(ctx: Context, name: str) -> _SsoConfig | None:
    profile = ctx.files.profile(name)
    if "sso_role_name" not in profile and "sso_account_id" not in profile:
        return None
    values = dict(profile)
    required = list(_REQUIRED)
    session = profile.get("sso_session")
    if session is not None:
        section = ctx.files.sso_sessions.get(session)
        if section is None:
            raise ConfigError(f"profile {name!r} names sso_session {session!r}, which has no [sso-session] section")
        for key, value in section.items():
            if values.get(key, value) != value:
                raise ConfigError(f"profile {name!r}: {key} differs between the profile and [sso-session {session}]")
            values[key] = value
        required.append("sso_session")
    missing = [key for key in required if key not in values]
    if missing:
        raise ConfigError(f"profile {name!r} is set up for SSO but lacks {', '.join(missing)}")
    return _SsoConfig(name, values)


def from_profile(ctx: Context, name: str, *, shared_cache: bool = True) -> CredentialProvider | None:
    """A deferred provider when profile ``name`` is an SSO profile, else None.

    ``shared_cache`` False keeps the role credentials in memory (a ``source_profile``, see :meth:`Context.cache`).
    """
    config = _config(ctx, name)
    if config is None:
        return None
    args = {"roleName": config.role_name, "accountId": config.account_id}
    args.update({"sessionName": config.session} if config.session is not None else {"startUrl": config.start_url})
    key = key_for(args, compact=True)
    where = f"profile {name!r} (SSO role {config.role_name} in account {config.account_id})"

    def fetch() -> dict[str, Any]:
        return _role_credentials(ctx, config)

    def refresh() -> Credentials:
        try:
            return cached_fetch(ctx.cache(shared_cache), key, fetch, ctx.clock, where)
        except CacheError as exc:
            raise CredentialsError(f"profile {name!r}: {exc}") from None

    return CredentialProvider(None, f"SSO {config.role_name} (profile {name!r})", refresh, clock=ctx.clock)


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any) -> datetime | None:
    from ...protocol._time import parse_timestamp

    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith("UTC"):
        text = text[:-3] + "Z"
    try:
        return parse_timestamp(text)
    except ValueError:
        return None


def _token(ctx: Context, config: _SsoConfig) -> str:
    """The access token: from the CLI's cache, renewed when it is about to expire and can be."""
    cache = JsonFileCache(os.path.expanduser(TOKEN_CACHE_DIR))
    key = sha1((config.session or config.start_url).encode("utf-8")).hexdigest()
    try:
        token = cache.get(key)
    except CacheError as exc:
        raise CredentialsError(f"profile {config.profile!r}: {exc}, then run {config.login}") from None
    if token is None:
        raise CredentialsError(
            f"profile {config.profile!r}: no SSO token is cached for {config.session or config.start_url} "
            f"({cache.path(key)}); run {config.login}"
        )
    expires = _parse_time(token.get("expiresAt"))
    if not isinstance(token.get("accessToken"), str) or expires is None:
        raise CredentialsError(
            f"profile {config.profile!r}: the cached SSO token {cache.path(key)} is not valid; run {config.login}"
        )
    now = ctx.clock()
    why = ""
    if config.session is not None and expires - now < REFRESH_WINDOW:
        renewed, why = _renew(ctx, config, token)
        if renewed is not None:
            cache.put(key, renewed)
            token, expires = renewed, _parse_time(renewed["expiresAt"]) or expires
    if expires <= now:
        reason = (
            f" ({why})" if why else " (a legacy sso_start_url profile cannot renew it)" if not config.session else ""
        )
        raise CredentialsError(
            f"profile {config.profile!r}: the SSO session {config.session or config.start_url} expired at "
            f"{_iso(expires)}{reason}; run {config.login}"
        )
    return str(token["accessToken"])


def _renew(ctx: Context, config: _SsoConfig, token: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """botocore's ``SSOTokenProvider._refresh_access_token``: the new token, or None and why not."""
    missing = [k for k in ("refreshToken", "clientId", "clientSecret", "registrationExpiresAt") if k not in token]
    if missing:
        return None, "the cached token has no refresh token"
    registration = _parse_time(token["registrationExpiresAt"])
    if registration is None or registration <= ctx.clock():
        return None, "its client registration has expired"
    body = {
        "grantType": "refresh_token",
        "clientId": token["clientId"],
        "clientSecret": token["clientSecret"],
        "refreshToken": token["refreshToken"],
    }
    try:
        status, answer = _call(ctx, config, "sso-oidc", "POST", "/token", body=json.dumps(body).encode())
    except CredentialsError as exc:
        _LOG.warning("refreshing the SSO token of profile %r failed: %s", config.profile, exc)
        return None, "renewing it failed"
    if status != 200 or not isinstance(answer.get("accessToken"), str) or not isinstance(answer.get("expiresIn"), int):
        _LOG.warning("refreshing the SSO token of profile %r failed: %s", config.profile, _describe(status, answer))
        return None, f"renewing it failed: {_describe(status, answer)}"
    renewed = {
        "startUrl": config.start_url,
        "region": config.region,
        "accessToken": answer["accessToken"],
        "expiresAt": _iso(ctx.clock() + timedelta(seconds=answer["expiresIn"])),
        "clientId": token["clientId"],
        "clientSecret": token["clientSecret"],
        "registrationExpiresAt": token["registrationExpiresAt"],
    }
    if "refreshToken" in answer:
        renewed["refreshToken"] = answer["refreshToken"]
    _LOG.info("renewed the SSO token of profile %r", config.profile)
    return renewed, ""


def _role_credentials(ctx: Context, config: _SsoConfig) -> dict[str, Any]:
    access_token = _token(ctx, config)
    query = f"role_name={quote(config.role_name, safe='')}&account_id={quote(config.account_id, safe='')}"
    headers = {"x-amz-sso_bearer_token": access_token}
    status, answer = _call(ctx, config, "sso", "GET", f"/federation/credentials?{query}", headers=headers)
    if status in (401, 403) or _error_code(answer) == "UnauthorizedException":
        raise CredentialsError(
            f"profile {config.profile!r}: the SSO session {config.session or config.start_url} has expired or is "
            f"not valid ({_describe(status, answer)}); run {config.login}"
        )
    found = answer.get("roleCredentials")
    keys = ("accessKeyId", "secretAccessKey", "sessionToken")
    if status != 200 or not isinstance(found, dict) or not all(isinstance(found.get(k), str) for k in keys):
        raise CredentialsError(f"profile {config.profile!r}: GetRoleCredentials failed: {_describe(status, answer)}")
    expiration = found.get("expiration")
    if not isinstance(expiration, (int, float)) or isinstance(expiration, bool):
        raise CredentialsError(f"profile {config.profile!r}: GetRoleCredentials gave no expiration")
    expires = datetime.fromtimestamp(expiration / 1000.0, timezone.utc)
    # The CLI's cache entry (SSOCredentialFetcher._get_credentials).
    return {
        "ProviderType": "sso",
        "Credentials": {
            "AccessKeyId": found["accessKeyId"],
            "SecretAccessKey": found["secretAccessKey"],
            "SessionToken": found["sessionToken"],
            "Expiration": _iso(expires),
            "AccountId": config.account_id,
        },
    }


def _call(
    ctx: Context,
    config: _SsoConfig,
    service: str,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, dict[str, Any]]:
    """One unsigned JSON call to the SSO portal or OIDC; the status and the decoded body ({} if none)."""
    from ._endpoints import service_endpoint
    from ._http import HttpError, send

    settings = ctx.settings
    try:
        endpoint = service_endpoint(
            service,
            config.region,
            use_fips=settings.use_fips,
            use_dualstack=settings.use_dualstack,
            configured=settings.configured_endpoint(service.replace("-", "_")),
        )
    except ConfigError as exc:
        raise CredentialsError(f"profile {config.profile!r}: the {service} endpoint: {exc}") from None
    sent = {"User-Agent": "ec2codec (credential provider)", **(headers or {})}
    if body is not None:
        sent["Content-Type"] = "application/json"
    url = endpoint.url.rstrip("/") + path
    try:
        response = send(method, url, sent, body, timeout=TIMEOUT, ca_bundle=settings.ca_bundle, environ=ctx.environ)
    except HttpError as exc:
        raise CredentialsError(f"profile {config.profile!r}: {service}: {exc}") from None
    try:
        decoded = json.loads(response.body) if response.body.strip() else {}
    except ValueError:
        decoded = {}
    if not isinstance(decoded, dict):
        decoded = {}
    error_type = response.headers.get("x-amzn-errortype")
    if error_type and "__type" not in decoded:
        decoded["__type"] = error_type
    return response.status, decoded


def _error_code(answer: dict[str, Any]) -> str | None:
    code = answer.get("__type") or answer.get("error") or answer.get("code")
    if not isinstance(code, str):
        return None
    return code.split(":")[0].rpartition("#")[2]


def _describe(status: int, answer: dict[str, Any]) -> str:
    code = _error_code(answer) or f"HTTP {status}"
    message = answer.get("message") or answer.get("Message") or answer.get("error_description")
    return f"{code}: {' '.join(message.split())}" if isinstance(message, str) and message else code
