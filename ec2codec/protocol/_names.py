"""Member naming rules shared by the awsQuery request encoder and the XML response codec.

One rule names a structure member on the wire both as an awsQuery form key
(Smithy ``aws.protocols#awsQuery``, "Query key resolution") and as an XML
element (Smithy "XML bindings"): the member's ``locationName`` (Smithy
``xmlName``), else the member name. It differs from the ec2Query key rule
(``queryName``, then a capitalised name), which stays in ``_querycompile``.

One case needs care: a flattened list with a named item (``"member":
{"locationName": "Attribute"}``). Smithy's own protocol tests mark
``@xmlFlattened`` on the member reference and name the elements after the
member (``QueryXmlLists``: ``flattenedList`` with items named ``item`` is
written ``<flattenedList>``); botocore's older hand-written suites and the
pre-Smithy models (SimpleDB, SES) mark ``flattened`` on the list shape itself
and name them after the item (``<Attribute>``), which is what those services
send. Both hold here: the item's name wins only when the list shape itself is
flattened and the member reference has no ``locationName``. botocore applies
the item's name in every case, and so fails the Smithy tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["is_flattened", "member_name"]


def member_name(member: str, ref: Mapping[str, Any], target: Mapping[str, Any]) -> str:
    """The awsQuery key / XML element of structure member ``member`` (reference ``ref``, shape ``target``)."""
    name = ref.get("locationName")
    if name:
        return str(name)
    if target.get("type") == "list" and target.get("flattened"):
        item = target["member"].get("locationName")
        if item:
            return str(item)
    return member


def is_flattened(ref: Mapping[str, Any], target: Mapping[str, Any]) -> bool:
    """Whether a list or map member is flattened, by its reference or its shape (botocore merges both)."""
    return bool(ref.get("flattened") or target.get("flattened"))
