"""Hypothesis strategies for operation results in parsed form (what ``ec2codec.parse`` returns).

Used by the response encoder's round trip: ``str`` for strings (every
character XML 1.0 can carry, whitespace-only, empty, markup characters and
CR included), ``int`` within the Smithy type's range, ``float`` including
NaN, infinities and -0.0, ``bool``, aware UTC ``datetime`` over the whole
range ``datetime`` allows, ``bytes`` for blobs, lists and nested dicts.
Structure nesting is bounded (EC2 output shapes nest deeply and some
recurse) and lists are kept short, so one example stays cheap.
"""

from __future__ import annotations

import functools
from datetime import timezone
from typing import Any

from hypothesis import strategies as st

from ec2codec.model.service import ServiceModel, bundled_model

# Past this structure depth only empty structures and lists are drawn.
MAX_DEPTH = 6
# Members drawn per structure near the top (half that deeper down).
MAX_MEMBERS = 6

# XML 1.0 section 2.2 Char, with the characters that need care drawn often.
_XML_CHARS = st.characters(
    min_codepoint=0x20, max_codepoint=0x10FFFF, exclude_categories=("Cs",), exclude_characters="\ufffe\uffff"
)
XML_TEXT = st.text(st.sampled_from("\t\n\r &<>\"']") | _XML_CHARS, max_size=12)

_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "string": XML_TEXT,
    "integer": st.integers(-(2**31), 2**31 - 1),
    "long": st.integers(-(2**63), 2**63 - 1),
    "boolean": st.booleans(),
    "float": st.floats(allow_nan=True, allow_infinity=True),
    "double": st.floats(allow_nan=True, allow_infinity=True),
    "timestamp": st.datetimes(timezones=st.just(timezone.utc)),
    "blob": st.binary(max_size=24),
}


def result_values(model: ServiceModel, shape_name: str, depth: int = 0) -> st.SearchStrategy[Any]:
    """Parsed-form values of ``shape_name``; big shapes are thinned with depth."""
    return _cached(model, shape_name, depth)


@functools.cache
def _cached(model: ServiceModel, shape_name: str, depth: int) -> st.SearchStrategy[Any]:
    shape = model.shape(shape_name)
    kind = shape["type"]
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "list":
        if depth > MAX_DEPTH:
            return st.just([])
        item = st.deferred(lambda: result_values(model, shape["member"]["shape"], depth + 1))
        return st.lists(item, max_size=2 if depth < 3 else 1)
    if kind == "structure":
        members = shape.get("members", {})
        if depth > MAX_DEPTH:
            return st.just({})
        values = {
            name: st.deferred(lambda ref=ref: result_values(model, ref["shape"], depth + 1))
            for name, ref in members.items()
        }
        # The top level always has a member: hypothesis draws the smallest example first.
        least = 1 if depth == 0 else 0
        return _structures(values, least, MAX_MEMBERS if depth < 2 else MAX_MEMBERS // 2) if values else st.just({})
    if kind == "map":
        key = result_values(model, shape["key"]["shape"], depth + 1)
        value = st.deferred(lambda: result_values(model, shape["value"]["shape"], depth + 1))
        return st.dictionaries(key, value, max_size=2)
    raise AssertionError(f"no strategy for {kind} shapes")


@st.composite
def _structures(draw: st.DrawFn, values: dict[str, st.SearchStrategy[Any]], least: int, most: int) -> dict[str, Any]:
    # A few members of each structure, not a coin toss per member: EC2 structures
    # have up to ~80 members, and one draw per member made examples slow.
    names = draw(st.lists(st.sampled_from(sorted(values)), unique=True, min_size=least, max_size=most))
    return {name: draw(values[name]) for name in names}


def results_for(operation: str, model: ServiceModel | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """A result dict (without ResponseMetadata) for ``operation``."""
    model = model or bundled_model()
    output = model.operation(operation).output
    return result_values(model, output) if output else st.just({})


# Request ids as EC2 writes them are UUIDs; any non-empty XML text must work.
REQUEST_IDS = st.uuids().map(str) | XML_TEXT.filter(bool)
