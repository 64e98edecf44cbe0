"""The STS, SSO portal and OIDC endpoints of the credential sources, compared with botocore.

The rule sets are compared with botocore's own ``EndpointProvider`` over
every region of the bundled partition data (plus unknown and pseudo regions)
with each combination of FIPS, dual-stack and STS's global-endpoint switch;
how botocore's client turns settings into those switches (legacy mode, a
client without a region, FIPS pseudo-regions) is compared with real botocore
STS clients.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ec2codec.auth.credentials import _endpoints
from ec2codec.auth.credentials._endpoints import service_endpoint
from ec2codec.auth.credentials.base import ConfigError
from ec2codec.model.datafiles import read_data

botocore_session = pytest.importorskip("botocore.session")
from botocore.endpoint_provider import EndpointProvider  # noqa: E402
from botocore.exceptions import EndpointResolutionError  # noqa: E402
from botocore.loaders import create_loader  # noqa: E402

_LOADER = create_loader()
_PARTITIONS = _LOADER.load_data("partitions")
_REGIONS = sorted({r for p in read_data("ec2.endpoints.json")["partitions"]["partitions"] for r in p["regions"]})
_REGIONS += ["xx-new-1", "cn-new-9", "us-gov-new-1", "eusc-de-new-1"]


def _botocore(service: str, params: dict[str, Any]) -> tuple[str, str] | str:
    provider = EndpointProvider(_LOADER.load_service_model(service, "endpoint-rule-set-1"), _PARTITIONS)
    try:
        found = provider.resolve_endpoint(**params)
    except EndpointResolutionError as exc:
        return str(exc).split("Endpoint resolution failed. Error: ", 1)[-1].strip()
    schemes = found.properties.get("authSchemes") or [{}]
    return found.url, schemes[0].get("signingRegion", params["Region"])


def _ours(service: str, region: str, fips: bool, dualstack: bool, legacy: bool) -> tuple[str, str] | str:
    try:
        found = service_endpoint(service, region, use_fips=fips, use_dualstack=dualstack, sts_legacy=legacy)
    except ConfigError as exc:
        return str(exc)
    return found.url, found.signing_region


@pytest.mark.parametrize("service", ["sts", "sso", "sso-oidc"])
def test_rule_sets_equal_botocore(service: str) -> None:
    checked = 0
    for region, fips, dualstack, legacy in itertools.product(_REGIONS, (False, True), (False, True), (False, True)):
        if legacy and service != "sts":
            continue
        params: dict[str, Any] = {"Region": region, "UseFIPS": fips, "UseDualStack": dualstack}
        if service == "sts":
            # botocore's client sets UseGlobalEndpoint only in legacy mode, for the legacy regions.
            params["UseGlobalEndpoint"] = legacy and region in _endpoints._LEGACY_GLOBAL_STS
        expected = _botocore(service, params)
        got = _ours(service, region, fips, dualstack, legacy)
        if isinstance(expected, str):
            assert isinstance(got, str) and expected in got, (region, fips, dualstack, legacy)
        else:
            assert got == expected, (region, fips, dualstack, legacy)
        checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    ("region", "settings", "expected"),
    [
        (None, {}, "https://sts.amazonaws.com"),
        ("us-east-1", {}, "https://sts.us-east-1.amazonaws.com"),
        ("us-west-2", {"sts_regional_endpoints": "legacy"}, "https://sts.amazonaws.com"),
        ("ap-east-1", {"sts_regional_endpoints": "legacy"}, "https://sts.ap-east-1.amazonaws.com"),
        ("us-west-2", {"sts_regional_endpoints": "legacy", "use_fips_endpoint": True}, None),
        ("fips-us-east-2", {}, None),
        ("us-east-1-fips", {}, None),
        ("cn-north-1", {"use_dualstack_endpoint": True}, None),
        ("us-gov-west-1", {"use_fips_endpoint": True}, None),
        ("eu-west-1", {"endpoint_url": "http://127.0.0.1:1234"}, "http://127.0.0.1:1234"),
    ],
)
def test_sts_client_settings_equal_botocore(
    monkeypatch: pytest.MonkeyPatch, region: str | None, settings: dict[str, Any], expected: str | None
) -> None:
    from botocore.config import Config

    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_STS_REGIONAL_ENDPOINTS", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    session = botocore_session.Session()
    if "sts_regional_endpoints" in settings:
        monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", settings["sts_regional_endpoints"])
    config = Config(
        use_fips_endpoint=settings.get("use_fips_endpoint"),
        use_dualstack_endpoint=settings.get("use_dualstack_endpoint"),
    )
    sent: list[str] = []

    def capture(request: Any, **kwargs: Any) -> None:
        sent.append(request.url)
        raise RuntimeError("captured")

    client = session.create_client(
        "sts",
        region_name=region,
        endpoint_url=settings.get("endpoint_url"),
        config=config,
        aws_access_key_id="A",
        aws_secret_access_key="s",
    )
    client.meta.events.register("before-send", capture)
    with pytest.raises(RuntimeError, match="captured"):
        client.get_caller_identity()
    url = sent[0].rstrip("/")
    if expected is not None:
        assert url == expected
    ours = service_endpoint(
        "sts",
        region,
        use_fips=bool(settings.get("use_fips_endpoint")),
        use_dualstack=bool(settings.get("use_dualstack_endpoint")),
        configured=settings.get("endpoint_url"),
        sts_legacy=settings.get("sts_regional_endpoints") == "legacy",
    )
    assert ours.url == url


@pytest.mark.parametrize("region", ["not a region", "-bad", "a" * 64])
def test_invalid_regions(region: str) -> None:
    with pytest.raises(ConfigError, match="invalid region"):
        service_endpoint("sts", region)


def test_sso_needs_a_region() -> None:
    with pytest.raises(ConfigError, match="no region"):
        service_endpoint("sso", None)
