"""boto3-shaped helpers: paginators, waiters, client.exceptions, ServiceError.response, checked options.

Paging is compared with botocore's own ``Paginator``/``PageIterator`` driven
by the same fake service (random page layouts, ``MaxItems``, ``PageSize``,
``StartingToken`` and resuming from the token each one hands back), so the
pages, ``build_full_result()`` and the ``NextToken`` of a ``MaxItems`` cut
are botocore's. The same against moto over HTTP is in ``test_boto3_compat_moto.py``.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest
import responses
from hypothesis import given
from hypothesis import strategies as st

import ec2codec
from ec2codec.client._names import snake_case
from ec2codec.client.compat import ClientPaginator
from ec2codec.client.pagination import PaginationError, load_paginator, paginator_names
from ec2codec.client.waiters import WaiterError, waiter_names
from ec2codec.errors import ServiceError, ValidationError
from tests.client_support import ENDPOINT, error_document, make_client

botocore_paginate = pytest.importorskip("botocore.paginate")
botocore_session = pytest.importorskip("botocore.session")


@functools.cache
def _botocore() -> tuple[Any, Any]:
    session = botocore_session.get_session()
    return session.get_service_model("ec2"), session.get_paginator_model("ec2")


class Fake:
    """A paginated EC2 operation over ``total`` items: ``NextToken`` is ``tok-<offset>``, pages of ``MaxResults``."""

    RESULT_KEYS: ClassVar[dict[str, tuple[str, ...]]] = {
        "DescribeInstances": ("Reservations",),
        "DescribeVpcEndpointServices": ("ServiceDetails", "ServiceNames"),
        "GetNetworkInsightsAccessScopeAnalysisFindings": ("AnalysisFindings",),
        "SearchTransitGatewayRoutes": ("Routes",),
        "DescribeReservedInstancesModifications": ("ReservedInstancesModifications",),
    }

    def __init__(self, operation: str, total: int, default_size: int, *, empty_last_token: bool = False) -> None:
        self.operation = operation
        self.total = total
        self.default_size = default_size
        self.empty_last_token = empty_last_token
        self.requests: list[dict[str, Any]] = []

    def __call__(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        assert operation == self.operation
        # A misnamed token or limit key fails here (small page sizes are below some minimums: not the point).
        ec2codec.serialize(operation, {**params, "MaxResults": 100} if "MaxResults" in params else params)
        self.requests.append(dict(params))
        token = params.get("NextToken")
        start = int(token[4:]) if isinstance(token, str) and token.startswith("tok-") else 0
        end = min(start + params.get("MaxResults", self.default_size), self.total)
        primary, *secondary = self.RESULT_KEYS[operation]
        page: dict[str, Any] = {primary: [{"Id": f"item-{i}"} for i in range(start, end)]}
        for key in secondary:
            page[key] = [f"name-{i}" for i in range(start, end)]
        if operation == "GetNetworkInsightsAccessScopeAnalysisFindings":
            page.update(AnalysisStatus="succeeded", NetworkInsightsAccessScopeAnalysisId=f"a-{start}")
        if operation == "SearchTransitGatewayRoutes":
            page["AdditionalRoutesAvailable"] = end < self.total
        if end < self.total:
            page["NextToken"] = f"tok-{end}"
        elif self.empty_last_token:
            page["NextToken"] = ""
        page["ResponseMetadata"] = {"RequestId": f"req-{start}"}
        return page


_REQUIRED = {
    "GetNetworkInsightsAccessScopeAnalysisFindings": {"NetworkInsightsAccessScopeAnalysisId": "nisa-1"},
    "SearchTransitGatewayRoutes": {"TransitGatewayRouteTableId": "tgw-rtb-1", "Filters": []},
}


def _both(operation: str, fake_args: tuple[int, int, bool], params: dict[str, Any], config: dict[str, Any]) -> Any:
    """Pages, resume token and full result of one paginate() each, ours and botocore's, which must be equal."""
    service, paginators = _botocore()
    params = {**_REQUIRED.get(operation, {}), **params}

    def run(make: Any) -> dict[str, Any]:
        fake = Fake(operation, *fake_args[:2], empty_last_token=fake_args[2])
        pages_of = make(fake)
        # A fresh paginate() for each use: botocore's PageIterator walked twice
        # resumes from where the first walk's last request left off.
        pages = pages_of.paginate(**copy.deepcopy(params), PaginationConfig=dict(config))
        walked = {"pages": copy.deepcopy(list(pages)), "resume": pages.resume_token}
        full = pages_of.paginate(**copy.deepcopy(params), PaginationConfig=dict(config)).build_full_result()
        return {**walked, "full": full, "requests": fake.requests}

    expected = run(
        lambda fake: botocore_paginate.Paginator(
            lambda **kwargs: fake(operation, kwargs),
            paginators.get_paginator(operation),
            service.operation_model(operation),
        )
    )
    got = run(lambda fake: ClientPaginator(fake, snake_case(operation), load_paginator(operation)))
    assert got == expected
    return got


_OPERATIONS = [
    "DescribeInstances",
    "DescribeVpcEndpointServices",
    "GetNetworkInsightsAccessScopeAnalysisFindings",
    "SearchTransitGatewayRoutes",
]


def _resume_until_done(operation: str, fake: tuple[int, int, bool], config: dict[str, Any]) -> None:
    """Walk, then resume from each token until the items run out, as boto3 code would; compare every step."""
    total = fake[0]
    seen: list[Any] = []
    for _ in range(total + 2):
        got = _both(operation, fake, {}, config)
        seen += [item for page in got["pages"] for item in page[Fake.RESULT_KEYS[operation][0]]]
        if got["resume"] is None:
            break
        config = {**config, "StartingToken": got["resume"]}
    assert seen == [{"Id": f"item-{i}"} for i in range(total)]  # every item once, in order


@pytest.mark.parametrize("total", [0, 1, 6, 7])
@pytest.mark.parametrize("page_size", [None, 2, 3])
@pytest.mark.parametrize("max_items", [None, 1, 2, 3, 4, 5, 8])
def test_max_items_cuts_and_resumes_as_botocore_does(total: int, page_size: int | None, max_items: int | None) -> None:
    config = {key: value for key, value in (("PageSize", page_size), ("MaxItems", max_items)) if value is not None}
    _resume_until_done("DescribeInstances", (total, 3, False), config)


@given(
    operation=st.sampled_from(_OPERATIONS),
    layout=st.tuples(st.integers(0, 12), st.integers(1, 5), st.booleans()),  # items, default page, <NextToken/>
    page_size=st.none() | st.integers(1, 5),
    max_items=st.none() | st.integers(1, 14),
)
def test_pages_full_result_and_resume_token_equal_botocores(
    operation: str, layout: tuple[int, int, bool], page_size: int | None, max_items: int | None
) -> None:
    config: dict[str, Any] = {}
    if page_size is not None:
        config["PageSize"] = page_size
    if max_items is not None:
        config["MaxItems"] = max_items
    _resume_until_done(operation, layout, config)


@pytest.mark.parametrize(
    "starting_token",
    [
        "tok-3",  # a raw service token (not botocore's base64 JSON)
        "tok-3___2",  # botocore's older "token___index" form
        "None___1",
        "!!not base64!!",
        base64.b64encode(json.dumps({"NextToken": "tok-2", "boto_truncate_amount": 1}).encode()).decode(),
        base64.b64encode(json.dumps({"NextToken": None}).encode()).decode(),
        base64.b64encode(b"12").decode(),  # JSON but not an object: botocore crashes, we read it as a raw token
    ],
)
def test_starting_tokens_are_read_as_botocore_reads_them(starting_token: str) -> None:
    config = {"StartingToken": starting_token, "MaxItems": 4}
    if starting_token == base64.b64encode(b"12").decode():
        fake = Fake("DescribeInstances", 9, 3)
        paginator = ClientPaginator(fake, "describe_instances", load_paginator("DescribeInstances"))
        list(paginator.paginate(PaginationConfig=config))
        assert fake.requests[0]["NextToken"] == starting_token
        return
    _both("DescribeInstances", (9, 3, False), {"Filters": [{"Name": "a", "Values": ["b"]}]}, config)


def test_search_flattens_like_botocores() -> None:
    service, paginators = _botocore()
    theirs = botocore_paginate.Paginator(
        lambda **kwargs: Fake("DescribeInstances", 7, 3)("DescribeInstances", kwargs),
        paginators.get_paginator("DescribeInstances"),
        service.operation_model("DescribeInstances"),
    )
    ours = ClientPaginator(Fake("DescribeInstances", 7, 3), "describe_instances", load_paginator("DescribeInstances"))
    for expression in ("Reservations[].Id", "NextToken", "length(Reservations)", "Reservations[0]"):
        assert list(ours.paginate().search(expression)) == list(theirs.paginate().search(expression))
    with pytest.raises(ValidationError, match="expression"):
        ours.paginate().search("Reservations[")


def test_a_repeated_token_stops_paging() -> None:
    def stuck(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"Reservations": [{"Id": "x"}], "NextToken": "same"}

    ours = ClientPaginator(stuck, "describe_instances", load_paginator("DescribeInstances"))
    with pytest.raises(PaginationError, match="same next token"):
        list(ours.paginate())


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"MaxItem": 3}, "MaxItem: unknown key \\(keys: MaxItems, PageSize, StartingToken\\)"),
        ({"MaxItems": 0}, "MaxItems: expected an int >= 1"),
        ({"PageSize": "5"}, "PageSize: expected an int >= 1"),
        ({"StartingToken": 5}, "StartingToken: expected str"),
        ([("MaxItems", 1)], "expected a dict"),
    ],
)
def test_pagination_config_is_checked(config: Any, problem: str) -> None:
    client, _ = make_client()
    with pytest.raises(ValidationError, match=problem):
        client.get_paginator("describe_instances").paginate(PaginationConfig=config)


def test_page_size_needs_a_limit_key_as_in_botocore() -> None:
    paginator = ClientPaginator(
        Fake("DescribeReservedInstancesModifications", 3, 3),
        "describe_reserved_instances_modifications",
        load_paginator("DescribeReservedInstancesModifications"),
    )
    with pytest.raises(PaginationError, match="PageSize"):
        paginator.paginate(PaginationConfig={"PageSize": 2})


# -- names ------------------------------------------------------------------------


def test_paginator_and_waiter_names_are_boto3s() -> None:
    from botocore import xform_name

    client, _ = make_client()
    assert all(client.can_paginate(xform_name(op)) for op in paginator_names())
    assert not client.can_paginate("describe_regions")
    assert not client.can_paginate("DescribeInstances")  # boto3 takes snake_case only
    assert client.waiter_names == sorted(xform_name(name) for name in waiter_names())
    assert all(snake_case(name) == xform_name(name) for name in waiter_names())
    assert client.get_waiter("instance_running").config.operation == "DescribeInstances"


@pytest.mark.parametrize(
    ("method", "name", "hint"),
    [
        ("get_paginator", "DescribeInstances", "boto3's name for it is 'describe_instances'"),
        ("get_paginator", "describe_regions", "DescribeRegions returns everything in one response"),
        ("get_paginator", "no_such", "see client.can_paginate"),
        ("get_paginator", 5, "no paginator named 5"),
        ("get_waiter", "InstanceRunning", "boto3's name for it is 'instance_running'"),
        ("get_waiter", "instance_up", "see client.waiter_names"),
    ],
)
def test_unknown_names_say_what_exists(method: str, name: Any, hint: str) -> None:
    client, _ = make_client()
    with pytest.raises(ValidationError, match=hint):
        getattr(client, method)(name)


# -- waiters ----------------------------------------------------------------------


def _instances(state: str) -> str:
    return (
        '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>'
        "<reservationSet><item><reservationId>r-1</reservationId><instancesSet><item>"
        f"<instanceId>i-1</instanceId><instanceState><code>0</code><name>{state}</name></instanceState>"
        "</item></instancesSet></item></reservationSet></DescribeInstancesResponse>"
    )


@responses.activate
def test_waiter_polls_with_waiter_config_and_returns_none() -> None:
    for state in ("pending", "pending", "running"):
        responses.add(responses.POST, ENDPOINT, body=_instances(state))
    client, sleep = make_client()
    waiter = client.get_waiter("instance_running")
    assert waiter.wait(InstanceIds=["i-1"], WaiterConfig={"Delay": 2, "MaxAttempts": 5}) is None
    assert sleep.delays == [2, 2]
    assert b"InstanceId.1=i-1" in responses.calls[0].request.body


@responses.activate
def test_waiter_runs_out_of_attempts() -> None:
    responses.add(responses.POST, ENDPOINT, body=_instances("pending"))
    client, sleep = make_client()
    with pytest.raises(WaiterError, match="Max attempts exceeded"):
        client.get_waiter("instance_running").wait(InstanceIds=["i-1"], WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    assert sleep.delays == [1]


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"Timeout": 3}, "Timeout: unknown key \\(keys: Delay, MaxAttempts\\)"),
        ({"Delay": -1}, "delay: expected a finite number >= 0"),
        ({"MaxAttempts": 0}, "max_attempts: expected an int >= 1"),
        ("fast", "expected a dict"),
    ],
)
def test_waiter_config_is_checked_before_any_call(config: Any, problem: str) -> None:
    client, _ = make_client()
    with pytest.raises(ValidationError, match=problem):  # no HTTP mock: a request would fail differently
        client.get_waiter("instance_running").wait(InstanceIds=["i-1"], WaiterConfig=config)


# -- client.exceptions ----------------------------------------------------------------


@responses.activate
def test_client_exceptions_client_error_catches_service_errors() -> None:
    responses.add(responses.POST, ENDPOINT, body=error_document("InvalidVolume.NotFound", "gone"), status=400)
    client, _ = make_client(max_attempts=1)
    with pytest.raises(client.exceptions.ClientError) as info:
        client.describe_volumes(VolumeIds=["vol-1"])
    assert info.value.response["Error"]["Code"] == "InvalidVolume.NotFound"
    assert client.exceptions.ClientError is ServiceError
    assert client.exceptions.from_code("InvalidVolume.NotFound") is ServiceError
