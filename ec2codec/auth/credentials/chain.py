"""Where credentials and the region come from: the default chain of the AWS CLI and botocore.

Credentials come from the first of these sources that has them (the order of
botocore's ``create_credential_resolver``):

1. explicit ``access_key`` / ``secret_key`` (/ ``token``) arguments;
2. the environment: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
   ``AWS_SESSION_TOKEN`` (or the older ``AWS_SECURITY_TOKEN``, which botocore
   reads first) and ``AWS_CREDENTIAL_EXPIRATION``; skipped when ``profile=``
   is passed, as botocore skips it for an explicit profile;
3. assume role: the profile's ``role_arn`` with ``source_profile`` or
   ``credential_source`` (:mod:`.assume_role`);
4. web identity: ``AWS_WEB_IDENTITY_TOKEN_FILE`` / ``web_identity_token_file``
   with ``AWS_ROLE_ARN`` / ``role_arn`` (:mod:`.web_identity`);
5. IAM Identity Center: ``sso_account_id`` / ``sso_role_name`` with an
   ``sso_session`` or the legacy ``sso_start_url`` (:mod:`.sso`);
6. the shared credentials file (``AWS_SHARED_CREDENTIALS_FILE``, default
   ``~/.aws/credentials``), section ``[name]``;
7. ``credential_process`` (:mod:`.process`); a profile with ``login_session``
   (``aws login``) is refused here with a clear error, since ec2codec does not
   implement that source;
8. the config file (``AWS_CONFIG_FILE``, default ``~/.aws/config``), section
   ``[profile name]`` (``[default]`` for the default profile);
9. the container endpoint: ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` (on
   169.254.170.2) or ``AWS_CONTAINER_CREDENTIALS_FULL_URI``, sending
   ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` or ``AWS_CONTAINER_AUTHORIZATION_TOKEN``;
10. EC2 instance metadata (IMDSv2, IMDSv1 fallback unless
    ``AWS_EC2_METADATA_V1_DISABLED``), 1 s timeout and 1 attempt unless
    ``AWS_METADATA_SERVICE_TIMEOUT`` / ``AWS_METADATA_SERVICE_NUM_ATTEMPTS`` say
    otherwise, off with ``AWS_EC2_METADATA_DISABLED=true``, elsewhere with
    ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` or ``..._ENDPOINT_MODE=IPv6``.

Steps 4 to 8 are the "profile chain" that also gives a ``source_profile``
its credentials. Assume role, web identity and SSO call their service on the
first :meth:`~.base.CredentialProvider.get` (botocore's deferred credentials),
sending STS calls to the STS endpoint of ``region`` (the client's region, as
botocore does; else the configured one; else the global endpoint). Their
answers are cached where the AWS CLI caches them (``cache_dir``,
``~/.aws/cli/cache``; None keeps them in memory only).

The profile is ``profile=``, else ``AWS_DEFAULT_PROFILE``, else ``AWS_PROFILE``,
else ``default``; a profile named explicitly but found in neither file is an
error, as are malformed files. The region is ``region=``, else ``AWS_REGION``
(AWS CLI v2; botocore reads only the next one), else ``AWS_DEFAULT_REGION``,
else the profile's ``region``; none is a :class:`RegionError`.

:func:`resolve_provider` returns a :class:`CredentialProvider`: call its
``get()`` before signing each request and temporary credentials are refreshed
15 minutes before they expire (a failure then is tolerated; from 10 minutes it
is raised), once across threads. :func:`resolve_credentials` is the one-shot
form. When nothing is found, :class:`CredentialsError` lists every place looked
at. Secret keys and tokens never appear in a message or a repr.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..sigv4 import Credentials
from ._context import DEFAULT_CACHE_DIR, Context, MfaPrompt
from .base import ADVISORY_REFRESH, Clock, ConfigError, CredentialProvider, CredentialsError, RegionError, utcnow

if TYPE_CHECKING:
    from .metadata import ContainerFetcher, ImdsFetcher
    from .profiles import SharedFiles

__all__ = [
    "DEFAULT_CACHE_DIR",
    "ConfigError",
    "CredentialProvider",
    "CredentialsError",
    "RegionError",
    "resolve_credentials",
    "resolve_provider",
    "resolve_region",
]

# botocore's validate_region_name: the region becomes part of a host name.
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?")


def resolve_credentials(
    access_key: str | None = None,
    secret_key: str | None = None,
    token: str | None = None,
    *,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    region: str | None = None,
    mfa_prompt: MfaPrompt | None = None,
    cache_dir: str | None = DEFAULT_CACHE_DIR,
    process_timeout: float | None = None,
) -> Credentials:
    """The credentials the default chain finds now (see :func:`resolve_provider`)."""
    return resolve_provider(
        access_key,
        secret_key,
        token,
        profile=profile,
        environ=environ,
        clock=clock,
        region=region,
        mfa_prompt=mfa_prompt,
        cache_dir=cache_dir,
        process_timeout=process_timeout,
    ).get()


def resolve_provider(
    access_key: str | None = None,
    secret_key: str | None = None,
    token: str | None = None,
    *,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    region: str | None = None,
    mfa_prompt: MfaPrompt | None = None,
    cache_dir: str | None = DEFAULT_CACHE_DIR,
    process_timeout: float | None = None,
) -> CredentialProvider:
    """A provider for the first source of the default chain that has credentials, or CredentialsError.

    ``environ`` replaces ``os.environ`` for every variable the chain reads;
    ``clock`` (returning an aware datetime) replaces the system clock.
    ``region`` selects the STS endpoint (default: the configured region).
    ``mfa_prompt(prompt) -> code`` is asked for the MFA code of a role with
    ``mfa_serial`` (without it such a role is an error). ``cache_dir`` is the
    assumed-role and SSO credential cache (the AWS CLI's by default; None: in
    memory). ``process_timeout`` bounds a ``credential_process`` (60 s).
    """
    env = os.environ if environ is None else environ
    now = clock or utcnow
    if access_key is not None or secret_key is not None or token is not None:
        if not access_key or not secret_key:
            raise CredentialsError("explicit credentials need both access_key and secret_key")
        return CredentialProvider(Credentials(access_key, secret_key, token), clock=now)
    from .config import Settings
    from .process import DEFAULT_TIMEOUT
    from .profiles import SharedFiles

    files = SharedFiles(env, profile)  # as botocore: a bad file or profile fails first
    if region is None:
        region = _configured_region(env, files)
    ctx = Context(
        environ=env,
        files=files,
        settings=Settings(files, env),
        clock=now,
        region=region,
        mfa_prompt=mfa_prompt,
        cache_dir=cache_dir,
        process_timeout=DEFAULT_TIMEOUT if process_timeout is None else process_timeout,
    )
    ctx.profile_chain = lambda name: _profile_chain(ctx, name, [], use_environment=False, source=True)
    ctx.named_source = lambda name: _named_source(ctx, name)
    searched: list[str] = []
    found = None
    if profile is not None:
        searched.append("environment variables: skipped, a profile was given explicitly")
    else:
        found = _from_environment(env, now, searched)
    if found is None:
        from . import assume_role

        found = assume_role.from_profile(ctx, files.name)
        if found is None:
            searched.append(f"assume role: profile {files.name!r} has no role_arn")
    if found is None:
        found = _profile_chain(ctx, files.name, searched, use_environment=profile is None)
    if found is None:
        found = _from_container(env, now, searched)
    if found is None:
        found = _from_instance_metadata(env, files.settings(), now, searched)
    if found is None:
        raise CredentialsError("no AWS credentials found", searched)
    return found


def _profile_chain(
    ctx: Context, name: str, searched: list[str], *, use_environment: bool, source: bool = False
) -> CredentialProvider | None:
    """botocore's ``ProfileProviderBuilder.providers``: web identity, SSO, credentials file, process, config file.

    ``source`` says the profile is a role's ``source_profile``.
    """
    from . import process, sso, web_identity

    found = web_identity.from_config(ctx, name, use_environment, shared_cache=not source)
    if found is not None:
        return found
    searched.append(f"web identity: no web_identity_token_file for profile {name!r}")
    found = sso.from_profile(ctx, name, shared_cache=not source)
    if found is not None:
        return found
    searched.append(f"SSO: profile {name!r} has no sso_account_id or sso_role_name")
    found = ctx.files.from_file("credentials", ctx.clock, searched, name)
    if found is not None:
        return found
    settings = ctx.files.profile(name)
    if "login_session" in settings:
        raise CredentialsError(
            f"the AWS profile {name!r} gets its credentials through login_session (`aws login`), which ec2codec "
            "does not support; use the output of `aws configure export-credentials --format env` instead"
        )
    found = process.from_profile(settings, name, ctx.clock, ctx.process_timeout)
    if found is not None:
        return found
    searched.append(f"credential_process: profile {name!r} has none")
    return ctx.files.from_file("config", ctx.clock, searched, name)


def _named_source(ctx: Context, name: str) -> CredentialProvider | None:
    """The provider a role's ``credential_source`` names (botocore's ``CanonicalNameCredentialSourcer``)."""
    scratch: list[str] = []
    if name == "Environment":
        return _from_environment(ctx.environ, ctx.clock, scratch)
    if name == "EcsContainer":
        return _from_container(ctx.environ, ctx.clock, scratch)
    return _from_instance_metadata(ctx.environ, ctx.files.settings(), ctx.clock, scratch)


def _configured_region(env: Mapping[str, str], files: SharedFiles) -> str | None:
    for value in (env.get("AWS_REGION"), env.get("AWS_DEFAULT_REGION"), files.settings().get("region")):
        if value:
            return value
    return None


def resolve_region(
    region: str | None = None, *, profile: str | None = None, environ: Mapping[str, str] | None = None
) -> str:
    """The region: ``region``, AWS_REGION, AWS_DEFAULT_REGION, then the profile's ``region``; else RegionError."""
    env = os.environ if environ is None else environ
    searched: list[str] = []
    candidates: list[tuple[str, str | None]] = [("region argument", region)]
    candidates += [(name, env.get(name)) for name in ("AWS_REGION", "AWS_DEFAULT_REGION")]
    for where, value in candidates:
        if value:
            return _checked_region(value, where)
        searched.append(f"{where}: not set")
    from .profiles import SharedFiles

    shared = SharedFiles(env, profile)
    value = shared.settings().get("region")
    if value:
        return _checked_region(value, f"profile {shared.name!r}")
    searched.append(f"region of profile {shared.name!r} in {shared.paths['config']} and {shared.paths['credentials']}")
    raise RegionError("no AWS region configured", searched)


def _checked_region(region: str, where: str) -> str:
    if not _REGION.fullmatch(region):
        raise RegionError(f"invalid region {region!r} from {where}")
    return region


def _read_environment(env: Mapping[str, str], require_expiration: bool = False) -> Credentials:
    from ...protocol._time import parse_timestamp

    access_key = env.get("AWS_ACCESS_KEY_ID", "")
    secret_key = env.get("AWS_SECRET_ACCESS_KEY", "")
    if not access_key or not secret_key:
        missing = "AWS_SECRET_ACCESS_KEY" if access_key else "AWS_ACCESS_KEY_ID"
        raise CredentialsError(f"partial credentials in the environment: {missing} is not set")
    token = env.get("AWS_SECURITY_TOKEN") or env.get("AWS_SESSION_TOKEN") or None
    expiry = env.get("AWS_CREDENTIAL_EXPIRATION", "")
    if require_expiration and not expiry:
        raise CredentialsError("AWS_CREDENTIAL_EXPIRATION is no longer set in the environment")
    try:
        expiration = parse_timestamp(expiry) if expiry else None
    except ValueError:
        raise CredentialsError("AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 timestamp") from None
    return Credentials(access_key, secret_key, token, expiration)


def _from_environment(env: Mapping[str, str], clock: Clock, searched: list[str]) -> CredentialProvider | None:
    if not env.get("AWS_ACCESS_KEY_ID"):
        searched.append("environment variables AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: not set")
        return None
    credentials = _read_environment(env)
    # botocore re-reads the environment to refresh credentials that expire.
    refresh = None if credentials.expiration is None else lambda: _read_environment(env, require_expiration=True)
    return CredentialProvider(credentials, "environment variables", refresh, clock=clock)


def _refreshing(fetch: ContainerFetcher | ImdsFetcher, source: str) -> Callable[[], Credentials]:
    from .metadata import MetadataError

    def refresh() -> Credentials:
        try:
            return fetch()
        except MetadataError as exc:
            raise CredentialsError(f"refreshing credentials from {source} failed: {exc}") from None

    return refresh


def _from_container(env: Mapping[str, str], clock: Clock, searched: list[str]) -> CredentialProvider | None:
    relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if relative is None and full is None:
        searched.append("container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set")
        return None
    from .metadata import CONTAINER_HOST, ContainerFetcher, MetadataError, check_container_url

    try:
        if relative is not None:
            url = f"http://{CONTAINER_HOST}{relative}"
        else:
            url = full or ""
            check_container_url(url)
        fetcher = ContainerFetcher(url, env)
        credentials = fetcher()
    except MetadataError as exc:
        # botocore stops here too: the endpoint was configured, so it must answer.
        raise CredentialsError(f"container credentials failed: {exc}", searched) from None
    source = f"container endpoint {url}"
    return CredentialProvider(credentials, source, _refreshing(fetcher, source), clock=clock)


def _from_instance_metadata(
    env: Mapping[str, str], settings: Mapping[str, str], clock: Clock, searched: list[str]
) -> CredentialProvider | None:
    if env.get("AWS_EC2_METADATA_DISABLED", "false").lower() == "true":
        searched.append("EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED")
        return None
    from .metadata import IMDS_URL, IMDS_URL_IPV6, ImdsFetcher, MetadataError

    def setting(variable: str, key: str) -> str | None:
        # Environment over config file, as botocore's config chain.
        return env[variable] if variable in env else settings.get(key)

    timeout = setting("AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout") or "1"
    attempts = setting("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts") or "1"
    endpoint = setting("AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint")
    mode = (setting("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ec2_metadata_service_endpoint_mode") or "ipv4").lower()
    v1_off = (setting("AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled") or "").lower() == "true"
    try:
        seconds, tries = float(timeout), int(attempts)
    except ValueError:
        raise CredentialsError("the metadata service timeout and number of attempts must be numbers") from None
    if mode not in ("ipv4", "ipv6"):
        raise CredentialsError(f"the metadata service endpoint mode must be IPv4 or IPv6, not {mode!r}")
    base = endpoint or (IMDS_URL_IPV6 if mode == "ipv6" else IMDS_URL)
    if not re.match(r"https?://[^/?#]+", base):
        raise CredentialsError(f"the metadata service endpoint is not an http(s) URL: {base!r}")
    fetcher = ImdsFetcher(
        base, timeout=seconds, attempts=tries, v1_disabled=v1_off, clock=clock, refresh_window=ADVISORY_REFRESH
    )
    try:
        credentials = fetcher()
    except MetadataError as exc:
        searched.append(f"EC2 instance metadata {fetcher.base_url}: {exc}")
        return None
    source = f"EC2 instance metadata {fetcher.base_url}"
    return CredentialProvider(credentials, source, _refreshing(fetcher, source), clock=clock)
