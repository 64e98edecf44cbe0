"""EC2 endpoint resolution: which URL a request goes to, and which region signs it.

Owns the client-side half of botocore's endpoint logic for EC2: turning a
region, the FIPS and dual-stack switches and a configured endpoint URL into
the parameters of EC2's endpoint rule set, and the rule set's answer into an
:class:`Endpoint`. The rule set itself is evaluated by :mod:`ec2codec.client._rules`
(a Smithy rules-engine evaluator) over botocore's own data: EC2's
``endpoint-rule-set-1.json`` and ``partitions.json``, bundled in
``ec2codec/model/_data/ec2.endpoints.json`` by ``tools/build_endpoints.py``. Nothing is
read at import; the first resolution reads the bundle (once per process).

Public API::

    resolve_endpoint(region, *, use_fips=None, use_dualstack=None, endpoint_url=None,
                     use_ssl=True, environ=None, profile=None, services=None) -> Endpoint
    evaluate_rule_set(params) -> RuleEndpoint     # the bare rule set, like botocore's EndpointProvider
    Endpoint(url, signing_region, signing_name, properties, headers)
    EndpointError                                  # an ec2codec.Error

``resolve_endpoint`` behaves like a botocore EC2 client created with the same
settings (``create_client("ec2", region_name=..., endpoint_url=...,
config=Config(use_fips_endpoint=..., use_dualstack_endpoint=...))``):

* the endpoint URL, first found wins: the ``endpoint_url`` argument; unless
  ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` (or the profile's
  ``ignore_configured_endpoint_urls``) is true, ``AWS_ENDPOINT_URL_EC2``,
  ``AWS_ENDPOINT_URL``, the ``ec2`` entry of the profile's ``services``
  section, the profile's ``endpoint_url``;
* ``use_fips``/``use_dualstack`` left as None come from ``AWS_USE_FIPS_ENDPOINT``/
  ``AWS_USE_DUALSTACK_ENDPOINT``, then the profile's ``use_fips_endpoint``/
  ``use_dualstack_endpoint`` (true when the text is ``true`` in any case);
  with a configured endpoint URL both are ignored, as botocore does;
* a FIPS pseudo-region (``fips-us-gov-west-1``, ``us-east-1-fips``) is the
  plain region with FIPS switched on;
* an unknown but well-formed region (``xx-new-1``) resolves in the ``aws``
  partition, a region that is not a host label (``"not a region!"``) is an
  :class:`EndpointError` with botocore's message, and so is every error rule of
  the rule set (``"FIPS and DualStack are enabled, but this partition does not
  support one or both"``) and a URL botocore would refuse (``Invalid endpoint: ...``).

``environ`` defaults to ``os.environ``; ``profile`` is the active profile's
settings from the shared config file and ``services`` the ``[services NAME]``
section it names (both as parsed mappings: this module reads no config files).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..errors import Error
from ..model.datafiles import provenance, read_data
from ._rules import RuleEndpoint, RuleError, RuleSet

__all__ = ["Endpoint", "EndpointError", "RuleEndpoint", "evaluate_rule_set", "resolve_endpoint"]

BUNDLE_NAME = "ec2.endpoints.json"
SIGNING_NAME = "ec2"


class EndpointError(Error):
    """No endpoint for these settings: an invalid region or URL, or an error rule of the rule set."""


class Endpoint(NamedTuple):
    """Where to send an EC2 request and how to sign it."""

    url: str
    signing_region: str
    signing_name: str
    properties: dict[str, Any]
    headers: dict[str, list[str]]


class _Bundle(NamedTuple):
    rule_set: RuleSet
    provenance: dict[str, Any]


_BUNDLE: _Bundle | None = None
_BUNDLE_LOCK = threading.Lock()


def _bundle() -> _Bundle:
    global _BUNDLE
    if _BUNDLE is None:
        with _BUNDLE_LOCK:
            if _BUNDLE is None:
                data = read_data(BUNDLE_NAME)
                found = provenance(BUNDLE_NAME, "ruleset", "partitions")
                _BUNDLE = _Bundle(RuleSet(data["ruleset"], data["partitions"]), found)
    return _BUNDLE


def bundle_provenance() -> dict[str, Any]:
    """Where the bundled data came from: ``botocore_version`` and ``generator``."""
    return dict(_bundle().provenance)


def evaluate_rule_set(params: Mapping[str, Any]) -> RuleEndpoint:
    """Evaluate EC2's rule set on raw parameters (``Region``, ``UseFIPS``, ``UseDualStack``, ``Endpoint``).

    No configuration, environment or validation around it: the equivalent of
    ``botocore.endpoint_provider.EndpointProvider(...).resolve_endpoint(**params)``.
    """
    try:
        return _bundle().rule_set.evaluate(params)
    except RuleError as exc:
        raise EndpointError(str(exc)) from None


# botocore.utils.validate_region_name: a region must be usable as a host label.
_REGION = re.compile(r"(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)")
# botocore.utils.is_valid_endpoint_url: dot-separated labels, or else an IPv6 literal.
_HOSTNAME = re.compile(r"((?!-)[A-Z\d-]{1,63}(?<!-)\.)*((?!-)[A-Z\d-]{1,63}(?<!-))", re.IGNORECASE)


def _is_true(value: Any) -> bool:
    # botocore.utils.ensure_boolean: only the text "true" (any case) is true.
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _setting(environ: Mapping[str, str], profile: Mapping[str, Any], variable: str, key: str) -> Any:
    # botocore's config chain: an environment variable that is present wins, even empty.
    if variable in environ:
        return environ[variable]
    return profile.get(key)


def _configured_endpoint(
    endpoint_url: str | None,
    environ: Mapping[str, str],
    profile: Mapping[str, Any],
    services: Mapping[str, Any],
) -> str | None:
    """The endpoint URL a botocore client would use, or None for the rule set's own choice.

    See "Service-specific endpoints" in the AWS SDKs and Tools reference guide;
    the order is botocore's ``ConfiguredEndpointProvider``.
    """
    if endpoint_url is not None:
        return endpoint_url
    ignore = _setting(environ, profile, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "ignore_configured_endpoint_urls")
    if _is_true(ignore):
        return None
    ec2_section = services.get("ec2")
    candidates = (
        environ.get("AWS_ENDPOINT_URL_EC2"),
        environ.get("AWS_ENDPOINT_URL"),
        ec2_section.get("endpoint_url") if isinstance(ec2_section, Mapping) else None,
        profile.get("endpoint_url"),
    )
    for candidate in candidates:
        if candidate:  # an empty value means "not configured here", try the next place
            return str(candidate)
    return None


def _is_valid_url(url: str) -> bool:
    """botocore refuses to create an endpoint for anything else (``ValueError: Invalid endpoint``)."""
    if any(c in url for c in "\t\r\n"):  # urlsplit would silently strip them
        return False
    import ipaddress
    from urllib.parse import urlsplit

    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if not host or len(host) > 255:
        return False
    if _HOSTNAME.fullmatch(host[:-1] if host.endswith(".") else host):
        return True
    try:
        return isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
    except ValueError:
        return False


def _signing(properties: Mapping[str, Any], region: str) -> tuple[str, str]:
    # The endpoint's authSchemes modify the signing properties of the scheme
    # the service uses (SigV4 for EC2): "iterate ... if the name matches,
    # update ... if none matches, do not modify" (rules-engine specification).
    for scheme in properties.get("authSchemes") or ():
        if isinstance(scheme, Mapping) and scheme.get("name") == "sigv4":
            return str(scheme.get("signingRegion", region)), str(scheme.get("signingName", SIGNING_NAME))
    return region, SIGNING_NAME


def resolve_endpoint(
    region: str | None,
    *,
    use_fips: bool | None = None,
    use_dualstack: bool | None = None,
    endpoint_url: str | None = None,
    use_ssl: bool = True,
    environ: Mapping[str, str] | None = None,
    profile: Mapping[str, Any] | None = None,
    services: Mapping[str, Any] | None = None,
) -> Endpoint:
    """The endpoint a botocore EC2 client with these settings would send requests to (see the module docstring)."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    settings: Mapping[str, Any] = profile or {}
    if region is None:
        # botocore refuses an EC2 client without a region even when it has an
        # endpoint URL (the region signs the request); use the rule set's words.
        raise EndpointError("Invalid Configuration: Missing Region")
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise EndpointError(f"Provided region_name '{region}' doesn't match a supported format.")
    plain_region = region.replace("fips-", "").replace("-fips", "")
    if plain_region != region:
        # botocore's ClientCreator._normalize_fips_region: the pseudo-region
        # turns FIPS on, overriding an explicit use_fips=False.
        region, use_fips = plain_region, True
    if use_fips is None:
        use_fips = _is_true(_setting(env, settings, "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint"))
    if use_dualstack is None:
        use_dualstack = _is_true(_setting(env, settings, "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint"))
    configured = _configured_endpoint(endpoint_url, env, settings, services or {})
    if configured is not None and not _is_valid_url(configured):
        raise EndpointError(f"Invalid endpoint: {configured}")
    # Flags go to the rule set as given, so a non-boolean is refused there, not read as truthy.
    params: dict[str, Any] = {"Region": region, "UseFIPS": use_fips, "UseDualStack": use_dualstack}
    if configured:
        # botocore passes SDK::Endpoint and forces the FIPS and dual-stack
        # built-ins to false: a custom endpoint is never an error (args.py,
        # compute_endpoint_resolver_builtin_defaults).
        params.update(Endpoint=configured, UseFIPS=False, UseDualStack=False)
    result = evaluate_rule_set(params)
    url = result.url
    if not use_ssl and not configured and url.startswith("https://"):
        # The rule set only knows https; botocore rewrites for is_secure=False.
        url = "http://" + url[len("https://") :]
    if not _is_valid_url(url):
        raise EndpointError(f"Invalid endpoint: {url}")
    signing_region, signing_name = _signing(result.properties, region)
    return Endpoint(url, signing_region, signing_name, result.properties, result.headers)
