"""Output, paging, skeletons and names against the AWS CLI's and botocore's own code, in-process.

awscli (``text.format_text``, ``formatter.TableFormatter``, ``JSONFormatter``)
and botocore (``PageIterator``, ``ArgumentGenerator``, ``xform_name``) are test
dependencies: every rule ec2codec copies is compared with the original on
generated input. test_cli_awscli.py compares whole commands with ``aws ec2``.
"""

from __future__ import annotations

import copy
import io
import json
import random
import types
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from ec2codec.cli import _table
from ec2codec.cli.commands import skeleton
from ec2codec.cli.names import kebab, operation_names, waiter_names
from ec2codec.cli.output import Output, format_text, plain
from ec2codec.cli.paging import pages as cli_pages
from ec2codec.client.pagination import load_paginator

awscli_text = pytest.importorskip("awscli.text")
awscli_table = pytest.importorskip("awscli.table")
awscli_formatter = pytest.importorskip("awscli.formatter")
botocore_paginate = pytest.importorskip("botocore.paginate")
jmespath = pytest.importorskip("jmespath")

# Response-like values: keys as EC2 names them, scalars of every JSON type, text with wide characters.
_KEYS = st.sampled_from(["Name", "Value", "Key", "State", "Id", "Tags", "Size", "Items", "A", "Zone", "日本"])
_SCALARS = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12),
    st.sampled_from(["i-0123456789abcdef0", "us-east-1a", "ü", "日本語", "", "a b"]),
    st.integers(-5, 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.none(),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # Lists hold one kind of element, as EC2 lists do (the AWS CLI crashes on some mixed lists).
    return st.one_of(
        st.dictionaries(_KEYS, children, max_size=5),
        st.lists(st.dictionaries(_KEYS, children, max_size=4), max_size=4),
        st.lists(_SCALARS, max_size=4),
        st.lists(st.lists(_SCALARS, max_size=3), max_size=3),
    )


RESULTS = st.recursive(_SCALARS, _containers, max_leaves=30)
DOCUMENTS = st.dictionaries(_KEYS, RESULTS, max_size=5)


@given(RESULTS)
@example([{"B": 1, "A": "x", "Z": [1]}, {"C": 3, "A": "y"}])  # one column set for all: every scalar key, sorted
@example({"Items": [[1, 2], [3]], "Key": "k", "Tags": [{"Key": "a", "Value": "b"}]})
def test_text_is_the_aws_clis(value: Any) -> None:
    theirs = io.StringIO()
    try:
        awscli_text.format_text(value, theirs)
    except (AttributeError, TypeError):
        assume(False)  # a shape the AWS CLI itself cannot print
    assert format_text(value) == theirs.getvalue()


def _aws_table(title: str, value: Any, width: int, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(awscli_table, "determine_terminal_width", lambda default_width=80: width)
    formatter = awscli_formatter.TableFormatter(types.SimpleNamespace(color="off", query=None))
    stream = io.StringIO()
    formatter(title, value, stream)
    return stream.getvalue()


@pytest.mark.parametrize("width", [80, 40, 200])
@given(value=st.one_of(DOCUMENTS, RESULTS))
def test_table_is_the_aws_clis(width: int, value: Any) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        try:
            theirs = _aws_table("DescribeThings", copy.deepcopy(value), width, monkeypatch)
        except (AttributeError, TypeError, ValueError, IndexError, KeyError):
            assume(False)  # a shape the AWS CLI itself cannot print
    assert _table.format_table("DescribeThings", value, width=width) == theirs


@given(DOCUMENTS)
def test_json_is_the_aws_clis(value: dict[str, Any]) -> None:
    stream = io.StringIO()
    awscli_formatter.JSONFormatter(types.SimpleNamespace(query=None))("Op", copy.deepcopy(value), stream)
    assert Output("json", None).render("Op", value) == stream.getvalue()


def test_results_print_as_the_aws_cli_prints_them() -> None:
    from datetime import datetime, timezone

    result = {
        "When": datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=timezone.utc),
        "Blob": b"\x00\xff",
        "ResponseMetadata": {"RequestId": "r"},
    }
    assert plain(result) == {
        "When": "2024-05-01T12:00:00.123000+00:00",
        "Blob": "AP8=",
        "ResponseMetadata": {"RequestId": "r"},
    }
    assert Output("json", None).render("Op", result) == (
        '{\n    "When": "2024-05-01T12:00:00.123000+00:00",\n    "Blob": "AP8="\n}\n'
    )
    assert Output("json", None).render("Op", {"ResponseMetadata": {"RequestId": "r"}}) == ""
    assert Output("text", None).render("Op", {"A": True, "B": None}) == "True\tNone\n"


# -- paging: the pages call prints against botocore's PageIterator on the same fake service -------------------


def _fake_service(operation: str, pages: list[dict[str, Any]]) -> Any:
    """``call(operation, params)``: page i+1 answers NextToken "t<i+1>"; every answer a fresh copy."""
    requests: list[dict[str, Any]] = []

    def call(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
        assert name == operation
        requests.append(dict(params))
        token = params.get("NextToken")
        index = int(token[1:]) if token else 0
        return copy.deepcopy(pages[index])

    call.requests = requests  # type: ignore[attr-defined]
    return call


@st.composite
def _paged(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    operation = draw(
        st.sampled_from(
            [
                "DescribeInstances",
                "DescribeVpcEndpointServices",  # two result keys
                "GetNetworkInsightsAccessScopeAnalysisFindings",  # non-aggregate keys
                "SearchTransitGatewayRoutes",  # more_results
            ]
        )
    )
    config = load_paginator(operation)
    count = draw(st.integers(1, 5))
    pages = []
    for index in range(count):
        page: dict[str, Any] = {}
        for key in config.result_keys:
            if draw(st.integers(0, 9)):  # now and then a page lacks a result key
                page[key] = [f"{key}-{index}-{n}" for n in range(draw(st.integers(0, 4)))]
        for key in config.non_aggregate_keys:
            page[key] = f"{key}-{index}"
        last = index == count - 1
        if not last:
            page["NextToken"] = f"t{index + 1}"
        elif draw(st.booleans()):
            page["NextToken"] = ""  # EC2's <nextToken/> on a last page
        if config.more_results:
            page[config.more_results] = not last
        page["ResponseMetadata"] = {"RequestId": f"r{index}"}
        pages.append(page)
    return operation, pages


def _botocore_pages(call: Any, operation: str, **paging: Any) -> Any:
    config = load_paginator(operation)
    compile_ = jmespath.compile
    return botocore_paginate.PageIterator(
        lambda **params: call(operation, params),
        list(config.input_tokens),
        [compile_(t) for t in config.output_tokens],
        compile_(config.more_results) if config.more_results else None,
        [compile_(k) for k in config.result_keys],
        [compile_(k) for k in config.non_aggregate_keys],
        config.limit_key,
        paging.get("max_items"),
        paging.get("starting_token"),
        paging.get("page_size"),
        {},
    )


_FIVE = {"Reservations": ["a", "b", "c", "d", "e"], "NextToken": "t1"}


@given(_paged(), st.one_of(st.none(), st.integers(1, 12)), st.one_of(st.none(), st.integers(1, 5)))
# Cut within a page twice: the second token must count the items the first resume skipped.
@example(("DescribeInstances", [_FIVE, {"Reservations": ["f"]}]), 2, None)
@example(("DescribeInstances", [_FIVE, {"Reservations": ["f"]}]), 5, None)  # a cut on the page boundary
def test_merged_pages_and_resume_tokens_are_botocores(
    paged: tuple[str, list[dict[str, Any]]], max_items: int | None, page_size: int | None
) -> None:
    operation, pages = paged
    paging = {"max_items": max_items, "page_size": page_size}
    theirs = _botocore_pages(_fake_service(operation, pages), operation, **paging)
    expected = theirs.build_full_result()
    mine_call = _fake_service(operation, pages)
    ours = cli_pages(mine_call, operation, {}, **paging)
    assert ours.build_full_result() == expected
    assert list(ours.build_full_result()) == list(expected)  # key order too: it shows in the output
    assert ours.resume_token == theirs.resume_token
    if ours.resume_token is None:
        return
    # Resuming from the printed token: the same next stretch, the same next token.
    again = _botocore_pages(_fake_service(operation, pages), operation, starting_token=theirs.resume_token, **paging)
    resumed = cli_pages(_fake_service(operation, pages), operation, {}, starting_token=ours.resume_token, **paging)
    assert resumed.build_full_result() == again.build_full_result()
    assert resumed.resume_token == again.resume_token


@given(_paged(), st.one_of(st.none(), st.integers(1, 12)))
def test_text_pages_are_the_aws_clis(paged: tuple[str, list[dict[str, Any]]], max_items: int | None) -> None:
    # awscli TextFormatter prints a paginated response page by page (non-aggregate keys with the first).
    operation, pages = paged
    theirs = _botocore_pages(_fake_service(operation, pages), operation, max_items=max_items)
    stream = io.StringIO()
    awscli_formatter.TextFormatter(types.SimpleNamespace(query=None))(operation, theirs, stream)
    ours = cli_pages(_fake_service(operation, pages), operation, {}, max_items=max_items)
    with pytest.MonkeyPatch.context() as monkeypatch:
        printed = io.StringIO()
        monkeypatch.setattr("sys.stdout", printed)
        Output("text", None).emit_pages(operation, ours)
    assert printed.getvalue() == stream.getvalue()


def test_paging_sends_the_page_size_and_stops_at_max_items() -> None:
    pages = [{"Reservations": [1, 2], "NextToken": f"t{i + 1}"} for i in range(5)] + [{"Reservations": [9]}]
    call = _fake_service("DescribeInstances", pages)
    result = cli_pages(call, "DescribeInstances", {"Filters": []}, max_items=3, page_size=2).build_full_result()
    assert result["Reservations"] == [1, 2, 1]
    assert call.requests == [{"Filters": [], "MaxResults": 2}, {"Filters": [], "MaxResults": 2, "NextToken": "t1"}]


# -- skeletons and names -------------------------------------------------------------------------


def test_skeletons_are_botocores_for_every_operation(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.session
    from botocore.utils import ArgumentGenerator

    # botocore picks a random enum value for a string; the bundled model has no enums: "" for both.
    monkeypatch.setattr(random, "choice", lambda sequence: "")
    service = botocore.session.get_session().get_service_model("ec2")
    generator = ArgumentGenerator()
    for operation in operation_names():
        shape = service.operation_model(operation).input_shape
        theirs = {} if shape is None else generator.generate_skeleton(shape)
        assert skeleton(operation) == json.loads(json.dumps(theirs, default=lambda d: d.isoformat())), operation


def test_names_are_the_aws_clis() -> None:
    from botocore import xform_name

    for name in operation_names() + waiter_names():
        assert kebab(name) == xform_name(name, "-")
    assert len({kebab(name) for name in operation_names()}) == len(operation_names())
