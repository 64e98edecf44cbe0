"""The AWS CLI's automatic pagination for ``call``: which paging options apply, and the pages to print.

Paging itself is the client layer's: :class:`ec2codec.client.compat.PageIterator`
follows botocore's ``PageIterator`` step by step, so ``--max-items`` cuts,
``NextToken`` resume tokens (base64 of the input token plus
``boto_truncate_amount``), ``--starting-token`` (including a raw service
token, as botocore reads one) and merged results are what ``aws ec2 ...``
prints. This module decides, before the first request, whether ``call``
pages at all and refuses options that cannot apply, as the AWS CLI does:

* an operation without a paginator takes no paging option;
* ``--no-paginate`` takes no other paging option;
* an input token or the limit key in PARAMS (``NextToken``, ``MaxResults``)
  means the caller pages by hand, which turns automatic paging off (the AWS
  CLI does the same for ``--next-token``/``--max-results``);
* ``--page-size`` needs a paginator with a page size, and a
  ``--starting-token`` must parse.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..client.compat import PageIterator
from ..client.pagination import Call, can_paginate, load_paginator
from ..errors import ValidationError
from ._common import UsageError

__all__ = ["pages", "paging_conflicts"]


def _never(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    raise AssertionError("a paging check sends nothing")  # pragma: no cover


def pages(
    call: Call,
    operation: str,
    params: Mapping[str, Any],
    *,
    max_items: int | None = None,
    page_size: int | None = None,
    starting_token: str | None = None,
) -> PageIterator:
    """The pages of ``operation`` as the AWS CLI walks them; a bad ``starting_token`` is a UsageError."""
    try:
        return PageIterator(
            call,
            load_paginator(operation),
            dict(params),
            max_items=max_items,
            starting_token=starting_token,
            page_size=page_size,
        )
    except ValidationError as exc:
        problems = "; ".join(message for _, message in exc.problems)
        raise UsageError(f"--starting-token is not a token this command printed ({problems})") from None


def paging_conflicts(operation: str, params: Mapping[str, Any], options: Mapping[str, Any]) -> bool:
    """Whether ``call`` pages automatically; UsageError for paging options that cannot apply.

    ``options`` holds the given ones among ``max_items``, ``page_size``,
    ``starting_token`` and ``no_paginate``.
    """
    given = [f"--{name.replace('_', '-')}" for name in ("max_items", "page_size", "starting_token") if name in options]
    if not can_paginate(operation):
        if given or options.get("no_paginate"):
            flags = ", ".join(given or ["--no-paginate"])
            raise UsageError(f"{operation} returns everything in one response: {flags} does not apply")
        return False
    config = load_paginator(operation)
    manual = [name for name in (*config.input_tokens, config.limit_key) if name and name in params]
    if manual and given:
        raise UsageError(f"PARAMS sets {', '.join(manual)}, which pages by hand: {', '.join(given)} cannot apply")
    if options.get("no_paginate") and given:
        raise UsageError(f"--no-paginate cannot go with {', '.join(given)}")
    if "page_size" in options and config.limit_key is None:
        raise UsageError(f"--page-size does not apply to {operation}: its paginator has no page size")
    if "starting_token" in options:
        pages(_never, operation, {}, starting_token=options["starting_token"])  # parsed now: a bad one costs no request
    return not manual and not options.get("no_paginate")
