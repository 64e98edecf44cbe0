"""The AWS CLI's automatic pagination: ``--max-items``, ``--page-size``, ``--starting-token``, merged results.

Requests and token following are the client layer's
(:func:`ec2codec.client.pagination.paginate`); this module adds what the AWS
CLI adds on top, with botocore's ``PageIterator`` rules (``botocore/paginate.py``)
so that output and tokens are interchangeable with ``aws ec2 ...``:

* ``--max-items N`` stops after N items of the paginator's primary result key,
  cutting the last page, and hands back a resume token: base64 of
  ``{"<input token>": ..., "boto_truncate_amount": k}`` (botocore's
  ``TokenEncoder``), printed as ``NextToken``;
* ``--starting-token`` takes such a token (or, as botocore does, a raw
  service token), resumes with its service token and skips its first k items;
* merged results follow ``PageIterator.build_full_result``: lists of the result
  keys concatenated, numbers added, strings joined, the non-aggregate keys of
  the first page merged in.

A token, limit or ``--no-paginate`` conflict is a :class:`UsageError` found
before the first request.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..client.pagination import Call, Paginator, can_paginate, load_paginator, paginate
from ._common import UsageError

__all__ = ["CliPages", "paging_conflicts", "set_path"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TRUNCATE = "boto_truncate_amount"


def _search(expression: str) -> Callable[[Any], Any]:
    if _IDENTIFIER.match(expression):
        return lambda document: document.get(expression) if isinstance(document, dict) else None
    from ..client._jmespath import compile_search

    return compile_search(expression, "paginator")


def set_path(document: dict[str, Any], expression: str, value: Any) -> None:
    """botocore ``set_value_from_jmespath``: set a dotted path, creating dicts on the way."""
    *parents, last = expression.split(".")
    for name in parents:
        document = document.setdefault(name, {})
    document[last] = value


def _merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    # botocore.utils.merge_dicts without append_lists.
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def encode_token(token: Mapping[str, Any]) -> str:
    """botocore ``TokenEncoder.encode`` for string tokens: base64 of the JSON."""
    return base64.b64encode(json.dumps(token).encode("utf-8")).decode("utf-8")


def decode_token(text: str, input_tokens: tuple[str, ...]) -> tuple[dict[str, Any], int]:
    """The service tokens and the number of items to skip that a ``--starting-token`` holds."""
    try:
        decoded = json.loads(base64.b64decode(text.encode("utf-8")).decode("utf-8"))
    except (ValueError, binascii.Error):
        return _legacy_token(text, input_tokens)
    if not isinstance(decoded, dict):
        raise UsageError(f"--starting-token is not a token this command printed: {text!r}")
    skip = decoded.pop(_TRUNCATE, 0)
    unknown = sorted(set(decoded) - set(input_tokens))
    if unknown or isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
        raise UsageError(f"--starting-token is not a token this command printed: {text!r}")
    return {name: decoded.get(name) for name in input_tokens}, skip


def _legacy_token(text: str, input_tokens: tuple[str, ...]) -> tuple[dict[str, Any], int]:
    # botocore _parse_starting_token_deprecated: "tok1___tok2___index", or a raw service token.
    parts = text.split("___")
    skip = 0
    if len(parts) == len(input_tokens) + 1:
        try:
            skip = int(parts[-1])
            parts.pop()
        except ValueError:
            parts = [text]
    if len(parts) > len(input_tokens) or skip < 0:
        raise UsageError(f"--starting-token is not a token this command printed: {text!r}")
    values = [None if part == "None" else part for part in parts]
    values += [None] * (len(input_tokens) - len(values))
    return dict(zip(input_tokens, values, strict=True)), skip


def paging_conflicts(operation: str, params: Mapping[str, Any], options: Mapping[str, Any]) -> bool:
    """Whether ``call`` pages automatically; UsageError for paging options that cannot apply.

    ``options`` holds the given ones among ``max_items``, ``page_size``,
    ``starting_token`` and ``no_paginate``. As in the AWS CLI, an input token or
    the limit key in PARAMS (``NextToken``, ``MaxResults``) means the caller
    pages by hand, which turns automatic paging off.
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
        decode_token(options["starting_token"], config.input_tokens)  # a bad token costs no request
    return not manual and not options.get("no_paginate")


class CliPages:
    """The pages of one paginated call, cut and resumed as botocore's ``PageIterator`` does; iterate once."""

    def __init__(
        self,
        call: Call,
        operation: str,
        params: Mapping[str, Any],
        *,
        max_items: int | None = None,
        page_size: int | None = None,
        starting_token: str | None = None,
    ) -> None:
        self._config: Paginator = load_paginator(operation)
        self._call = call
        self._params = dict(params)
        self._max_items = max_items
        self._page_size = page_size
        # Decoded now: a bad token is a usage error before any request.
        self._starting = None if starting_token is None else decode_token(starting_token, self._config.input_tokens)
        self.result_keys: tuple[str, ...] = self._config.result_keys
        self.non_aggregate_part: dict[str, Any] = {}
        self.resume_token: str | None = None

    @staticmethod
    def search(expression: str, document: Any) -> Any:
        return _search(expression)(document)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        config = self._config
        params = dict(self._params)
        # The service tokens of the request in flight: with a cut page, the resume token.
        tokens: dict[str, Any] = dict.fromkeys(config.input_tokens)
        if self._starting is not None:
            tokens = dict(self._starting[0])
            for name, value in tokens.items():
                if value is not None and value != "None":
                    params[name] = value
        primary = config.result_keys[0]
        total = 0
        skipped = 0
        for number, page in enumerate(paginate(self._call, config.operation, params, page_size=self._page_size)):
            if number == 0:
                if self._starting is not None:
                    skipped = self._skip_first(page, self._starting[1])
                for expression in config.non_aggregate_keys:
                    set_path(self.non_aggregate_part, expression, self.search(expression, page))
            else:
                skipped = 0
            items = self.search(primary, page) or []
            excess = 0 if self._max_items is None else total + len(items) - self._max_items
            if excess > 0:
                keep = len(items) - excess
                set_path(page, primary, items[:keep])
                self.resume_token = encode_token({**tokens, _TRUNCATE: keep + skipped})
                yield page
                return
            yield page
            total += len(items)
            tokens = self._next_tokens(page)
            if all(value is None for value in tokens.values()):
                return
            if self._max_items is not None and total == self._max_items:
                self.resume_token = encode_token(tokens)  # on a page boundary: the service token alone
                return

    def _next_tokens(self, page: Mapping[str, Any]) -> dict[str, Any]:
        # The tokens paginate() sends next (botocore _get_next_token); None for all on the last page.
        config = self._config
        if config.more_results is not None and not self.search(config.more_results, page):
            return {}
        return {
            name: self.search(output, page) or None
            for output, name in zip(config.output_tokens, config.input_tokens, strict=True)
        }

    def _skip_first(self, page: dict[str, Any], skip: int) -> int:
        # botocore _handle_first_request: drop the items the previous command already printed.
        keys = self.result_keys
        found = self.search(keys[0], page)
        set_path(page, keys[0], found[skip:] if isinstance(found, (list, str)) else None)
        for key in keys[1:]:
            sample = self.search(key, page)
            if isinstance(sample, list):
                empty: Any = []
            elif isinstance(sample, str):
                empty = ""
            elif isinstance(sample, (int, float)):
                empty = sample
            else:
                empty = None
            set_path(page, key, empty)
        return skip

    def build_full_result(self) -> dict[str, Any]:
        """All pages merged (botocore ``PageIterator.build_full_result``), with ``NextToken`` when cut."""
        complete: dict[str, Any] = {}
        for page in self:
            for key in self.result_keys:
                value = self.search(key, page)
                if value is None:
                    continue
                existing = self.search(key, complete)
                if existing is None:
                    set_path(complete, key, value)
                elif isinstance(value, list):
                    existing.extend(value)
                elif isinstance(value, (int, float, str)):
                    set_path(complete, key, existing + value)
        _merge(complete, self.non_aggregate_part)
        if self.resume_token is not None:
            complete["NextToken"] = self.resume_token
        return complete
