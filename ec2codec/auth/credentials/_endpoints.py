"""Where the credential sources send their calls: the STS, SSO portal and SSO OIDC endpoints.

The client layer evaluates EC2's endpoint rule set with a rules engine; the
auth layer sits below it and needs three endpoints whose rule sets
(botocore's ``sts``, ``sso`` and ``sso-oidc`` ``endpoint-rule-set-1.json``)
are the same few lines, written out here over the partition data bundled for
EC2 (``ec2.endpoints.json``, botocore's ``partitions.json``):

* a configured endpoint URL is used as is, with FIPS and dual-stack off
  (botocore passes ``SDK::Endpoint`` and forces both built-ins to false);
* STS with ``sts_regional_endpoints = legacy`` sends the 16 regions of
  botocore's ``LEGACY_GLOBAL_STS_REGIONS`` (and ``aws-global``, the region of a
  client without one) to ``https://sts.amazonaws.com``, signed for us-east-1;
* FIPS and dual-stack: ``https://{prefix}-fips.{region}.{dualStackDnsSuffix}``
  and so on, FIPS in ``aws-us-gov`` staying ``https://{prefix}.{region}.amazonaws.com``;
  a partition without the variant is an error with the rule set's words;
* otherwise ``https://{prefix}.{region}.{dnsSuffix}``.

A FIPS pseudo-region (``fips-us-east-1``, ``us-east-1-fips``) is the plain
region with FIPS on, as botocore's client creation makes it.
``tests/auth/test_service_endpoints.py`` compares every case with botocore.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from .base import ConfigError

__all__ = ["ServiceEndpoint", "service_endpoint"]

# The host prefix of each service, and its FIPS form.
_PREFIXES = {"sts": ("sts", "sts-fips"), "sso": ("portal.sso", "portal.sso-fips"), "sso-oidc": ("oidc", "oidc-fips")}
# botocore.args.LEGACY_GLOBAL_STS_REGIONS.
_LEGACY_GLOBAL_STS = frozenset(
    {
        "ap-northeast-1",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "aws-global",
        "ca-central-1",
        "eu-central-1",
        "eu-north-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)
_GLOBAL_STS = "https://sts.amazonaws.com"
# botocore.utils.validate_region_name: the region becomes part of a host name.
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?")


class ServiceEndpoint(NamedTuple):
    url: str
    signing_region: str


def _partition(region: str) -> dict[str, Any]:
    """``aws.partition``: the first partition listing the region or matching its pattern, else ``aws``."""
    from ...model.datafiles import read_data

    partitions = read_data("ec2.endpoints.json")["partitions"]["partitions"]
    for partition in partitions:
        if region in partition["regions"] or re.match(partition["regionRegex"], region):
            return {**partition["outputs"], "name": partition["id"]}
    return {**partitions[0]["outputs"], "name": partitions[0]["id"]}


def service_endpoint(
    service: str,
    region: str | None,
    *,
    use_fips: bool = False,
    use_dualstack: bool = False,
    configured: str | None = None,
    sts_legacy: bool = False,
) -> ServiceEndpoint:
    """The URL and signing region of ``service`` ("sts", "sso" or "sso-oidc") for these settings."""
    if region is None:
        if service != "sts":
            raise ConfigError(f"no region for the {service} endpoint")
        region = "aws-global"  # botocore's region for an STS client created without one
    if not _REGION.fullmatch(region):
        raise ConfigError(f"invalid region {region!r} for the {service} endpoint")
    plain = region.replace("fips-", "").replace("-fips", "")
    if plain != region:
        region, use_fips = plain, True
    signing = "us-east-1" if service == "sts" and region == "aws-global" else region
    if configured:
        return ServiceEndpoint(configured, signing)
    global_sts = region == "aws-global" or (sts_legacy and region in _LEGACY_GLOBAL_STS)
    if service == "sts" and global_sts and not use_fips and not use_dualstack:
        return ServiceEndpoint(_GLOBAL_STS, "us-east-1")
    partition = _partition(region)
    prefix, fips_prefix = _PREFIXES[service]
    if use_fips and use_dualstack:
        if not (partition["supportsFIPS"] and partition["supportsDualStack"]):
            raise ConfigError("FIPS and DualStack are enabled, but this partition does not support one or both")
        return ServiceEndpoint(f"https://{fips_prefix}.{region}.{partition['dualStackDnsSuffix']}", region)
    if use_fips:
        if not partition["supportsFIPS"]:
            raise ConfigError("FIPS is enabled but this partition does not support FIPS")
        if partition["name"] == "aws-us-gov":
            return ServiceEndpoint(f"https://{prefix}.{region}.amazonaws.com", region)
        return ServiceEndpoint(f"https://{fips_prefix}.{region}.{partition['dnsSuffix']}", region)
    if use_dualstack:
        if not partition["supportsDualStack"]:
            raise ConfigError("DualStack is enabled but this partition does not support DualStack")
        return ServiceEndpoint(f"https://{prefix}.{region}.{partition['dualStackDnsSuffix']}", region)
    return ServiceEndpoint(f"https://{prefix}.{region}.{partition['dnsSuffix']}", region)
