"""Pagination: tokens followed with fake services, loops refused, every bundled paginator fits its operation.

The fakes validate each request through ``ec2codec.serialize``, so a token or
limit key the paginator sends under a wrong name fails here. The paging loop
is compared with botocore's ``PageIterator`` on random page sequences, and the
bundles (paginators and waiters, one generator) must match the installed
botocore.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ec2codec
from ec2codec.client import pagination as paginate
from ec2codec.client.pagination import PaginationError, can_paginate, load_paginator, paginate_items, paginator_names
from ec2codec.errors import ModelError
from ec2codec.model.service import bundled_model
from tests.conftest import ROOT, tool

DATA = ROOT / "ec2codec" / "model" / "_data"


class FakeService:
    """Answers one operation from a list of pages, in order, recording each request."""

    def __init__(self, pages: list[dict[str, Any]], *, validate: bool = True) -> None:
        self.pages = list(pages)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.validate = validate

    def __call__(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        if self.validate:
            ec2codec.serialize(operation, params)  # raises ValidationError for a misnamed member
        self.requests.append((operation, copy.deepcopy(dict(params))))
        return self.pages[len(self.requests) - 1]


def _reservations(*ids: str, token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"Reservations": [{"ReservationId": i} for i in ids]}
    if token is not None:
        page["NextToken"] = token
    return page


def test_follows_tokens_and_leaves_params_alone() -> None:
    params = {"MaxResults": 5, "Filters": [{"Name": "instance-state-name", "Values": ["running"]}]}
    before = copy.deepcopy(params)
    pages = [_reservations("r-1", "r-2", token="t1"), _reservations("r-3", token="t2"), _reservations("r-4")]
    service = FakeService(pages)
    assert list(paginate.paginate(service, "DescribeInstances", params)) == pages
    assert service.requests == [
        ("DescribeInstances", params),
        ("DescribeInstances", {**params, "NextToken": "t1"}),
        ("DescribeInstances", {**params, "NextToken": "t2"}),
    ]
    assert params == before


def test_each_call_gets_its_own_dict() -> None:
    seen: list[Mapping[str, Any]] = []

    def call(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        seen.append(params)
        return _reservations(token="t1" if len(seen) == 1 else None)

    list(paginate.paginate(call, "DescribeInstances"))
    assert seen[0] == {} and seen[1] == {"NextToken": "t1"}


def test_pages_are_fetched_lazily() -> None:
    service = FakeService([_reservations("r-1", token="t1"), _reservations("r-2")])
    pages = paginate.paginate(service, "DescribeInstances")
    assert service.requests == []
    next(pages)
    assert len(service.requests) == 1


@pytest.mark.parametrize(
    ("last_page", "why"),
    [
        (_reservations("r-2", token=""), "empty token (EC2's <nextToken/>)"),
        (_reservations("r-2"), "no token"),
        ({"Reservations": [], "NextToken": None}, "null token"),
    ],
)
def test_stops_on_absent_or_empty_token(last_page: dict[str, Any], why: str) -> None:
    service = FakeService([_reservations("r-1", token="t1"), last_page])
    assert len(list(paginate.paginate(service, "DescribeInstances"))) == 2, why


def test_page_size_sets_the_limit_key() -> None:
    service = FakeService([_reservations("r-1", token="t1"), _reservations()])
    list(paginate.paginate(service, "DescribeInstances", {"MaxResults": 1000}, page_size=7))
    assert [params["MaxResults"] for _, params in service.requests] == [7, 7]


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "5"])
def test_bad_page_size(bad: Any) -> None:
    with pytest.raises(PaginationError, match="page_size must be a positive int"):
        paginate.paginate(FakeService([]), "DescribeInstances", page_size=bad)


def test_page_size_needs_a_limit_key() -> None:
    with pytest.raises(PaginationError, match="no limit key"):
        paginate.paginate(FakeService([]), "DescribeReservedInstancesModifications", page_size=5)


def test_starting_token_from_params() -> None:
    service = FakeService([_reservations("r-3", token="t3"), _reservations("r-4")])
    list(paginate.paginate(service, "DescribeInstances", {"NextToken": "t2"}))
    assert [params.get("NextToken") for _, params in service.requests] == ["t2", "t3"]


def test_same_token_twice_is_refused() -> None:
    service = FakeService([_reservations(token="t1"), _reservations(token="t2"), _reservations(token="t2")])
    pages = paginate.paginate(service, "DescribeInstances")
    with pytest.raises(PaginationError, match="same next token was received twice"):
        list(pages)
    assert len(service.requests) == 3


def test_starting_token_handed_back_is_refused() -> None:
    service = FakeService([_reservations(token="t2")])
    with pytest.raises(PaginationError, match="same next token"):
        list(paginate.paginate(service, "DescribeInstances", {"NextToken": "t2"}))


def test_a_token_may_come_back_later() -> None:
    # Only consecutive repeats prove a loop (botocore compares with the previous token only).
    pages = [_reservations(token="a"), _reservations(token="b"), _reservations(token="a"), _reservations()]
    assert len(list(paginate.paginate(FakeService(pages), "DescribeInstances"))) == 4


def test_more_results_false_ends_paging() -> None:
    op = "SearchTransitGatewayRoutes"
    params = {"TransitGatewayRouteTableId": "tgw-rtb-1", "Filters": [{"Name": "type", "Values": ["static"]}]}
    pages = [
        {"Routes": [{"DestinationCidrBlock": "10.0.0.0/8"}], "AdditionalRoutesAvailable": True, "NextToken": "t1"},
        {"Routes": [{"DestinationCidrBlock": "10.1.0.0/16"}], "AdditionalRoutesAvailable": False, "NextToken": "t2"},
    ]
    service = FakeService(pages)
    assert len(list(paginate.paginate(service, op, params))) == 2
    assert service.requests[1][1]["NextToken"] == "t1"


def test_unknown_and_unpaginated_operations() -> None:
    with pytest.raises(ModelError, match="unknown operation 'DescribeNothing'"):
        paginate.paginate(FakeService([]), "DescribeNothing")
    with pytest.raises(ModelError, match="RunInstances has no paginator"):
        paginate.paginate(FakeService([]), "RunInstances")
    assert not can_paginate("RunInstances") and not can_paginate(3)  # type: ignore[arg-type]
    assert can_paginate("DescribeInstances")


def test_params_must_be_a_mapping() -> None:
    with pytest.raises(PaginationError, match="must be a mapping"):
        paginate.paginate(FakeService([]), "DescribeInstances", [("MaxResults", 5)])  # type: ignore[arg-type]


def test_items_across_pages() -> None:
    pages = [_reservations("r-1", "r-2", token="t1"), {"NextToken": "t2"}, _reservations("r-3")]
    items = list(paginate_items(FakeService(pages), "DescribeInstances"))
    assert items == [{"ReservationId": "r-1"}, {"ReservationId": "r-2"}, {"ReservationId": "r-3"}]


def test_items_of_a_chosen_result_key() -> None:
    pages = [
        {"ServiceNames": ["a", "b"], "ServiceDetails": [{"ServiceName": "a"}], "NextToken": "t1"},
        {"ServiceNames": ["c"], "ServiceDetails": []},
    ]
    op = "DescribeVpcEndpointServices"
    assert list(paginate_items(FakeService(pages), op, result_key="ServiceNames")) == ["a", "b", "c"]
    assert list(paginate_items(FakeService(pages), op)) == [{"ServiceName": "a"}]  # the primary key
    with pytest.raises(PaginationError, match="must be one of"):
        paginate_items(FakeService(pages), op, result_key="Nope")


LIST_TOKEN_CONFIG = {
    "input_token": ["Marker", "Offset"],
    "output_token": ["Next.Marker", "Next.Offset"],
    "result_key": "Things[].Name",
    "limit_key": "Limit",
}


@pytest.fixture
def list_token_paginator(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A synthetic paginator with list tokens and JMESPath expressions (EC2's are all plain NextToken)."""
    bundle = {"pagination": {"ListThings": LIST_TOKEN_CONFIG}}
    monkeypatch.setattr(paginate, "_bundle", lambda: bundle)
    monkeypatch.setattr(paginate, "_BUNDLED_CONFIGS", {})
    yield "ListThings"


def test_list_tokens_and_expressions(list_token_paginator: str) -> None:
    pages = [
        {"Things": [{"Name": "a"}], "Next": {"Marker": "m1", "Offset": 1}},
        {"Things": [{"Name": "b"}, {"Name": "c"}], "Next": {"Marker": "m1", "Offset": ""}},  # one token left
        {"Things": [], "Next": {}},
    ]
    service = FakeService(pages, validate=False)
    names = list(paginate_items(service, list_token_paginator, {"Offset": 9, "Other": 1}, page_size=2))
    assert names == ["a", "b", "c"]
    assert [params for _, params in service.requests] == [
        {"Offset": 9, "Other": 1, "Limit": 2},
        {"Offset": 1, "Other": 1, "Limit": 2, "Marker": "m1"},
        {"Other": 1, "Limit": 2, "Marker": "m1"},  # a token that ends is dropped, as botocore does
    ]


# -- every paginator against the model ---------------------------------------------------------------------------

_LEADING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _members(shape_name: str | None) -> set[str]:
    return set(bundled_model().shape(shape_name)["members"]) if shape_name else set()


@pytest.mark.parametrize("operation", paginator_names())
def test_paginator_fits_its_operation(operation: str) -> None:
    config = load_paginator(operation)
    op = bundled_model().operation(operation)
    inputs, outputs = _members(op.input), _members(op.output)
    assert config.input_tokens and len(config.input_tokens) == len(config.output_tokens)
    assert set(config.input_tokens) <= inputs
    if config.limit_key is not None:
        assert config.limit_key in inputs
    for expression in (*config.output_tokens, *config.result_keys, *filter(None, [config.more_results])):
        match = _LEADING_NAME.match(expression)
        assert match and match.group() in outputs, expression
    assert config.result_keys


def test_paginator_names_match_botocore() -> None:
    from botocore.loaders import Loader

    assert paginator_names() == sorted(Loader().load_service_model("ec2", "paginators-1")["pagination"])


# -- the loop against botocore's PageIterator ---------------------------------------------------------------------

_TOKENS = st.one_of(st.sampled_from(["t1", "t2", "t3", ""]), st.none())
_PAGE_TOKENS = st.lists(_TOKENS, min_size=1, max_size=6)


def _outcome(pages_for: list[str | None], run: Any) -> tuple[list[Any], str]:
    pages = [_reservations(f"r-{i}", token=t) for i, t in enumerate(pages_for)] + [_reservations()]
    service = FakeService(pages, validate=False)
    try:
        run(service)
    except PaginationError:
        return [p for _, p in service.requests], "loop"
    except Exception as exc:  # botocore's own PaginationError
        if "same next token" not in str(exc):
            raise
        return [p for _, p in service.requests], "loop"
    return [p for _, p in service.requests], "done"


@functools.cache
def _botocore_operation(name: str) -> Any:
    from botocore.session import get_session

    return get_session().get_service_model("ec2").operation_model(name)


@given(tokens=_PAGE_TOKENS, page_size=st.none() | st.integers(1, 50))
def test_loop_matches_botocore(tokens: list[str | None], page_size: int | None) -> None:
    from botocore.paginate import Paginator

    config = json.loads((DATA / paginate.BUNDLE_NAME).read_text())["pagination"]["DescribeInstances"]

    def theirs(service: FakeService) -> None:
        method = lambda **kwargs: service("DescribeInstances", kwargs)  # noqa: E731
        list(
            Paginator(method, config, _botocore_operation("DescribeInstances")).paginate(
                PaginationConfig={"PageSize": page_size} if page_size else {}
            )
        )

    def ours(service: FakeService) -> None:
        list(paginate.paginate(service, "DescribeInstances", {"DryRun": False}, page_size=page_size))

    requests, result = _outcome(tokens, ours)
    expected_requests, expected_result = _outcome(tokens, theirs)
    assert result == expected_result
    assert [{k: v for k, v in r.items() if k != "DryRun"} for r in requests] == expected_requests


# -- bundles and laziness ---------------------------------------------------------------------------------------


def test_bundles_are_current() -> None:
    botocore = pytest.importorskip("botocore")
    for name in (paginate.BUNDLE_NAME, "ec2.waiters.json"):
        recorded = json.loads((DATA / name).read_text())["botocore_version"]
        if botocore.__version__ != recorded:
            pytest.skip(f"{name} generated from botocore {recorded}, installed {botocore.__version__}")
    assert paginate.bundle_provenance() == {
        "botocore_version": botocore.__version__,
        "generator": "tools/build_extras.py",
    }
    assert tool("build_extras").main(["--check"]) == 0, "run python tools/build_extras.py"


def test_import_reads_no_bundle_and_skips_jmespath() -> None:
    code = (
        "import sys, ec2codec.client.pagination as p, ec2codec.client.waiters, ec2codec.model.datafiles as d\n"
        "print(d.read_data.cache_info().currsize, 'jmespath' in sys.modules)\n"
        "list(p.paginate(lambda op, params: {'Reservations': []}, 'DescribeInstances'))\n"
        "print('jmespath' in sys.modules, 'requests' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["0", "False", "False", "False"]
