"""The configuration the AWS CLI reads besides credentials: one profile's settings, as botocore's config store.

A setting comes from its environment variable when that is present (even
empty), else from the active profile (credentials file over config file),
else from its default -- the rule of botocore's ``ConfigValueStore`` and the
"Settings reference" of the AWS SDKs and Tools reference guide. Reading a
setting never touches the network. :func:`load_settings` reads the shared
files once; :class:`Settings` answers:

* ``ca_bundle`` (``AWS_CA_BUNDLE``, ``ca_bundle``): the CA certificates that
  verify TLS, for the client and for STS, SSO and OIDC calls;
* ``max_attempts`` (``AWS_MAX_ATTEMPTS``, ``max_attempts``) and ``retry_mode``
  (``AWS_RETRY_MODE``, ``retry_mode``: ``standard``, ``legacy``; ``adaptive``
  is read as ``standard``, see the README);
* ``use_fips`` / ``use_dualstack`` (``AWS_USE_FIPS_ENDPOINT``,
  ``AWS_USE_DUALSTACK_ENDPOINT`` and the profile keys);
* ``sts_regional_endpoints`` (``AWS_STS_REGIONAL_ENDPOINTS``: ``regional``, the
  default of the pinned botocore, or ``legacy``);
* ``configured_endpoint(service)``: botocore's ``ConfiguredEndpointProvider``
  (``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_ENDPOINT_URL``, the profile's
  ``services`` section, the profile's ``endpoint_url``; none of them when
  ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` / ``ignore_configured_endpoint_urls``
  is true);
* ``services``: the ``[services NAME]`` section the profile names, parsed.

An unusable value is a :class:`ConfigError` naming the variable or key and
where it came from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .base import ConfigError

if TYPE_CHECKING:
    from .profiles import SharedFiles

__all__ = ["RETRY_MODES", "Settings", "load_settings"]

RETRY_MODES = ("standard", "legacy", "adaptive")
_STS_MODES = ("regional", "legacy")


def load_settings(environ: Mapping[str, str] | None = None, profile: str | None = None) -> Settings:
    """The settings of ``profile`` (else ``AWS_DEFAULT_PROFILE``, ``AWS_PROFILE``, ``default``)."""
    from .profiles import SharedFiles

    env = os.environ if environ is None else environ
    return Settings(SharedFiles(env, profile), env)


def is_true(value: object) -> bool:
    # botocore.utils.ensure_boolean: only the text "true" (any case) is true.
    return value is True or (isinstance(value, str) and value.lower() == "true")


class Settings:
    """One profile's settings: each read from its environment variable if present, else the profile."""

    def __init__(self, files: SharedFiles, environ: Mapping[str, str]) -> None:
        self.files = files
        self.environ = environ
        self.profile_name = files.name
        self.profile = files.settings()

    def __repr__(self) -> str:
        return f"<Settings profile={self.profile_name!r}>"

    def lookup(self, key: str | None, variable: str | None = None) -> tuple[str | None, str]:
        """The value and where it came from: ``variable`` in the environment if present, else profile ``key``."""
        if variable is not None and variable in self.environ:
            return self.environ[variable], variable
        where = f"{key} of profile {self.profile_name!r}"
        return (self.profile.get(key) if key else None), where

    def get(self, key: str | None, variable: str | None = None) -> str | None:
        return self.lookup(key, variable)[0]

    @property
    def ca_bundle(self) -> str | None:
        # Used as written, as botocore does (no "~" expansion).
        return self.get("ca_bundle", "AWS_CA_BUNDLE") or None

    @property
    def max_attempts(self) -> int | None:
        value, where = self.lookup("max_attempts", "AWS_MAX_ATTEMPTS")
        if value is None or value == "":
            return None
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            raise ConfigError(f"{where} must be a whole number of at least 1, got {value!r}")
        return int(text)

    @property
    def retry_mode(self) -> str | None:
        value, where = self.lookup("retry_mode", "AWS_RETRY_MODE")
        if not value:
            return None
        if value not in RETRY_MODES:
            raise ConfigError(f"{where} must be one of {', '.join(RETRY_MODES)}, got {value!r}")
        return value

    @property
    def use_fips(self) -> bool:
        return is_true(self.get("use_fips_endpoint", "AWS_USE_FIPS_ENDPOINT"))

    @property
    def use_dualstack(self) -> bool:
        return is_true(self.get("use_dualstack_endpoint", "AWS_USE_DUALSTACK_ENDPOINT"))

    @property
    def sts_regional_endpoints(self) -> str:
        value, where = self.lookup("sts_regional_endpoints", "AWS_STS_REGIONAL_ENDPOINTS")
        if not value:
            return "regional"
        if value not in _STS_MODES:
            raise ConfigError(f"{where} must be regional or legacy, got {value!r}")
        return value

    @property
    def services(self) -> dict[str, dict[str, str]]:
        """The profile's ``[services NAME]`` section, each service's block parsed (botocore's services map)."""
        from .profiles import parse_nested

        name = self.profile.get("services")
        if name is None:
            return {}
        section = self.files.services.get(name)
        if not section:
            raise ConfigError(
                f"profile {self.profile_name!r} names the services section {name!r}, but "
                f"{self.files.paths['config']} has no [services {name}] section"
            )
        where = f"[services {name}] in {self.files.paths['config']}"
        return {service: parse_nested(block, f"{where}, {service}") for service, block in section.items()}

    def configured_endpoint(self, service_id: str) -> str | None:
        """The endpoint URL configured for ``service_id`` (snake case: ``ec2``, ``sts``, ``sso_oidc``), or None."""
        if is_true(self.get("ignore_configured_endpoint_urls", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")):
            return None
        # An empty value means "not configured here": botocore tries the next place.
        for variable in (f"AWS_ENDPOINT_URL_{service_id.upper()}", "AWS_ENDPOINT_URL"):
            if self.environ.get(variable):
                return self.environ[variable]
        # The services section is only looked up now: botocore fails on a missing one only here.
        return self.services.get(service_id, {}).get("endpoint_url") or self.profile.get("endpoint_url") or None
