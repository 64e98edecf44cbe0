"""Differential: for every EC2 operation, random responses decode exactly as botocore decodes them.

A random value of the operation's output shape (strategies built from the
bundled model, members optional, lists short, nesting thinned past a few
levels) is rendered as EC2 XML: members by ``locationName``, lists as
``<x><item>..</item></x>``, a ``<requestId>``, with or without the EC2
namespace. ``ec2codec.parse`` must equal botocore's ``EC2QueryParser`` on the
same bytes, up to the ResponseMetadata fields only the HTTP layer knows.
Each operation is its own test with a few examples (``HYPOTHESIS_PROFILE=thorough``
for more); together they cover all 777 operations with an output shape.
"""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ec2codec
from ec2codec.model.service import bundled_model
from tests.parse_support import XML_TEXT, botocore_parse, comparable, response_document, values_for

MODEL = bundled_model()
WITH_OUTPUT = [op for op in MODEL.operation_names() if MODEL.operation(op).output]
WITHOUT_OUTPUT = [op for op in MODEL.operation_names() if not MODEL.operation(op).output]
# A quarter of the profile's examples per operation keeps the file fast under
# the ci profile (777 operations) and still scales with "thorough".
EXAMPLES = max(2, settings().max_examples // 4)


@cache
def _content(operation: str) -> st.SearchStrategy[str]:
    output = MODEL.operation(operation).output
    assert output is not None
    return values_for(MODEL, output)


def test_every_operation_is_covered() -> None:
    assert len(WITH_OUTPUT) == 777
    assert len(WITH_OUTPUT) + len(WITHOUT_OUTPUT) == len(ec2codec.operations())


@pytest.mark.parametrize("operation", WITH_OUTPUT)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_parse_equals_botocore(operation: str, data: st.DataObject) -> None:
    content = data.draw(_content(operation), label="content")
    request_id = data.draw(st.none() | XML_TEXT, label="requestId")
    body = response_document(operation, content, request_id=request_id, namespace=data.draw(st.booleans()))
    expected = comparable(botocore_parse(operation, body))
    assert comparable(ec2codec.parse(operation, body)) == expected
    chunk = data.draw(st.integers(1, max(1, len(body))), label="chunk size")
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    assert comparable(ec2codec.parse(operation, iter(chunks))) == expected


@pytest.mark.parametrize("operation", WITHOUT_OUTPUT)
def test_operations_without_output(operation: str) -> None:
    body = response_document(operation, "<return>true</return>", request_id="r-1", namespace=True)
    assert (
        ec2codec.parse(operation, body) == botocore_parse(operation, body) == {"ResponseMetadata": {"RequestId": "r-1"}}
    )
