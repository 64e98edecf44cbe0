"""Command-line names of operations and waiters: kebab-case as the AWS CLI spells them, or the API's CamelCase.

The AWS CLI derives ``describe-instances`` from ``DescribeInstances`` with
botocore's ``xform_name(name, "-")``; :func:`kebab` applies the same three
rules, so every name ``aws ec2 ...`` accepts is accepted here (plus
``import-instance`` and ``import-volume``, which the AWS CLI hides). Waiters
are named the same way: ``InstanceRunning`` is ``instance-running``, as in
``aws ec2 wait instance-running``.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable

from ._common import UsageError

__all__ = ["kebab", "operation_names", "resolve_operation", "resolve_waiter", "waiter_names"]

# botocore/__init__.py: _special_case_transform, _first_cap_regex, _end_cap_regex.
_PLURAL_ACRONYM = re.compile(r"[A-Z]{2,}s$")
_FIRST_CAP = re.compile(r"(.)([A-Z][a-z]+)")
_END_CAP = re.compile(r"([a-z0-9])([A-Z])")


def kebab(name: str) -> str:
    """``DescribeInstances`` -> ``describe-instances``, exactly as botocore's ``xform_name(name, "-")``."""
    if "-" in name:
        return name
    plural = _PLURAL_ACRONYM.search(name)
    if plural is not None:
        # "DescribeVpcEndpointConnectionNotificationACLs" style endings: "...-acls".
        name = f"{name[: -len(plural.group())]}-{plural.group().lower()}"
    return _END_CAP.sub(r"\1-\2", _FIRST_CAP.sub(r"\1-\2", name)).lower()


def operation_names() -> list[str]:
    """Every bundled operation, by its API name, sorted."""
    from ..model.service import default_model

    return default_model().operation_names()


def waiter_names() -> list[str]:
    """Every bundled waiter, by its API name, sorted."""
    from ..client.waiters import waiter_names as names

    return names()


@functools.cache
def _by_kebab(kind: str) -> dict[str, str]:
    names = operation_names() if kind == "operation" else waiter_names()
    return {kebab(name): name for name in names}


def _resolve(kind: str, name: str, listing: str) -> str:
    table = _by_kebab(kind)
    if name in table.values():
        return name
    if name in table:
        return table[name]
    close = difflib.get_close_matches(name if "-" in name else kebab(name), list(table), n=1)
    hint = f"; did you mean {close[0]}?" if close else f"; `{listing}` lists them"
    raise UsageError(f"unknown {kind} {name!r}{hint}")


def resolve_operation(name: str) -> str:
    """The API name of an operation given as ``describe-instances`` or ``DescribeInstances``."""
    return _resolve("operation", name, "ec2codec ops")


def resolve_waiter(name: str) -> str:
    """The API name of a waiter given as ``instance-running`` or ``InstanceRunning``."""
    return _resolve("waiter", name, "ec2codec ops --waiters")


def listing(names: Iterable[str], api_names: bool, contains: str | None) -> list[str]:
    """The names ``ec2codec ops`` prints: kebab-case (or API names), optionally those containing a substring."""
    shown = [name if api_names else kebab(name) for name in names]
    if contains:
        needle = contains.lower()
        shown = [name for name in shown if needle in name.lower()]
    return sorted(shown)
