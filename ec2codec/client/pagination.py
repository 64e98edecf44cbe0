"""Pagination: every page of a paginated EC2 operation, following botocore's paginator configs.

Owns the client-side paging loop, transport-agnostic: it takes ``call``
(``call(operation, params) -> dict``, e.g. ``ec2codec.client.sync`` 's ``call``,
or an awaitable one for the ``*_async`` forms) and never imports the client or
an HTTP library. The paging decisions are one generator (``_walk``) that both
the sync and the async iterators drive, so they page alike. The configs are botocore's EC2
``paginators-1.json`` (with its sdk-extras merged), bundled in
``ec2codec/model/_data/ec2.paginators.json`` by ``tools/build_extras.py`` and read on
first use.

Public API::

    paginate(call, operation, params=None, *, page_size=None, model=None) -> Iterator[dict]   # each page
    paginate_items(call, operation, params=None, *, page_size=None, result_key=None, model=None) -> Iterator[Any]
    paginate_async(call, ..., model=None) -> AsyncIterator[dict]      # the same with an awaitable call
    paginate_items_async(call, ..., model=None) -> AsyncIterator[Any]
    can_paginate(operation, model=None) -> bool
    paginator_names(model=None) -> list[str]
    load_paginator(operation, model=None) -> Paginator      # the config, tokens as tuples
    PaginationError                             # an ec2codec.Error

``model`` (an ``ec2codec.Model`` or ``ServiceModel``; None for the default
model, see ``ec2codec.model.service.default_model``) picks the configs: its
own when it was loaded with a ``paginators-1.json``, else the bundled ones.

Semantics are botocore's ``PageIterator`` (``botocore/paginate.py``): the
output token(s) of each page become the input token(s) of the next request;
paging stops when ``more_results`` is configured and false, or when every
output token is absent or empty (EC2 returns ``<nextToken/>`` on the last page
of some operations); ``page_size`` sets the ``limit_key`` member
(``MaxResults``). A token already in ``params`` is the starting token.
The caller's ``params`` are never mutated, and each call gets its own dict.

Deliberate difference: the same token twice in a row raises
:class:`PaginationError` (as botocore does, "The same next token was received
twice"), and so does a first page that hands back the starting token given in
``params``, which botocore does not check but which would repeat the same
request forever.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Mapping
from typing import Any, NamedTuple

from ..errors import Error, ModelError
from ..model.datafiles import provenance, read_data
from ..model.service import HasService, ServiceModel, service_of
from ._jmespath import compile_search
from ._steps import AsyncCall, Request

__all__ = [
    "BUNDLE_NAME",
    "Call",
    "PaginationError",
    "Paginator",
    "bundle_provenance",
    "can_paginate",
    "load_paginator",
    "paginate",
    "paginate_async",
    "paginate_items",
    "paginate_items_async",
    "paginator_names",
]

BUNDLE_NAME = "ec2.paginators.json"

Call = Callable[[str, Mapping[str, Any]], dict[str, Any]]
"""Sends one request: ``call(operation, params)`` returns the parsed response or raises ``ServiceError``."""

# A bare JMESPath identifier (JMESPath spec, "Identifiers"): a plain field lookup.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class PaginationError(Error):
    """Paging cannot go on: the service repeated a token, or the paging options do not fit the operation."""


class Paginator(NamedTuple):
    """One operation's paginator config (botocore ``paginators-1.json``), scalars normalised to tuples."""

    operation: str
    input_tokens: tuple[str, ...]
    output_tokens: tuple[str, ...]
    result_keys: tuple[str, ...]
    limit_key: str | None
    more_results: str | None
    non_aggregate_keys: tuple[str, ...]


Models = HasService | ServiceModel | None

# Parsed configs of the bundled table; a model with its own keeps them in its cache.
_BUNDLED_CONFIGS: dict[str, Paginator] = {}


def _bundle() -> dict[str, Any]:
    return read_data(BUNDLE_NAME)


def _table(model: Models) -> tuple[Mapping[str, Any], dict[str, Paginator]]:
    """The paginator table that applies to ``model`` and where its parsed configs are kept."""
    service = service_of(model)
    if service.paginators is None:
        return _bundle()["pagination"], _BUNDLED_CONFIGS
    configs: dict[str, Paginator] = service.cache.setdefault("paginators", {})
    return service.paginators, configs


def bundle_provenance() -> dict[str, Any]:
    """Where the bundled configs came from: ``botocore_version`` and ``generator``."""
    return provenance(BUNDLE_NAME, "pagination")


def paginator_names(model: Models = None) -> list[str]:
    """Every operation with a paginator, sorted."""
    return sorted(_table(model)[0])


def can_paginate(operation: str, model: Models = None) -> bool:
    """True when ``operation`` has a paginator."""
    return isinstance(operation, str) and operation in _table(model)[0]


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)


def load_paginator(operation: str, model: Models = None) -> Paginator:
    """The paginator config of ``operation``; ``ModelError`` when it is unknown or not paginated."""
    table, configs = _table(model)
    config = configs.get(operation) if isinstance(operation, str) else None
    if config is not None:
        return config
    if not isinstance(operation, str) or operation not in table:
        if service_of(model).has_operation(operation):
            raise ModelError(f"{operation} has no paginator: it returns everything in one response")
        raise ModelError(f"unknown operation {operation!r}: no such EC2 operation")
    # A race parses the same config twice and keeps an equal value: harmless, so no lock.
    config = configs[operation] = _parse_paginator(operation, table[operation])
    return config


def _parse_paginator(operation: str, raw: Mapping[str, Any]) -> Paginator:
    if "input_token" not in raw or "output_token" not in raw:
        raise ModelError(f"paginator of {operation} lacks input_token or output_token")
    config = Paginator(
        operation=operation,
        input_tokens=_as_tuple(raw["input_token"]),
        output_tokens=_as_tuple(raw["output_token"]),
        result_keys=_as_tuple(raw.get("result_key")),
        limit_key=raw.get("limit_key"),
        more_results=raw.get("more_results"),
        non_aggregate_keys=_as_tuple(raw.get("non_aggregate_keys")),
    )
    if len(config.input_tokens) != len(config.output_tokens):
        raise ModelError(f"paginator of {operation} pairs {config.input_tokens} with {config.output_tokens}")
    # A loaded model's paginators-1.json is input like any other: expressions must be text.
    expressions = [*config.input_tokens, *config.output_tokens, *config.result_keys, *config.non_aggregate_keys]
    expressions += [e for e in (config.limit_key, config.more_results) if e is not None]
    if not all(isinstance(e, str) for e in expressions):
        raise ModelError(f"paginator of {operation} has a token or key that is not a string: {dict(raw)}")
    return config


@functools.lru_cache(maxsize=512)
def _compile(expression: str) -> Callable[[Any], Any]:
    """A search function for a JMESPath expression of a paginator config, compiled once."""
    if _IDENTIFIER.match(expression):
        # Every EC2 token and most result keys are bare identifiers; a dict lookup is
        # what JMESPath does for them, and spares loading jmespath at all.
        return lambda document: document.get(expression) if isinstance(document, dict) else None
    return compile_search(expression, "paginator")


def _next_token(page: Mapping[str, Any], config: Paginator) -> dict[str, Any] | None:
    """The input tokens for the request after ``page``, or None on the last page (botocore ``_get_next_token``)."""
    if config.more_results is not None and not _compile(config.more_results)(page):
        return None
    tokens: dict[str, Any] = {}
    for output_token, input_token in zip(config.output_tokens, config.input_tokens, strict=True):
        value = _compile(output_token)(page)
        # An empty token is no token: EC2 sends <nextToken/> on some last pages.
        tokens[input_token] = value if value else None
    if all(value is None for value in tokens.values()):
        return None
    return tokens


def _first_request(config: Paginator, params: Mapping[str, Any] | None, page_size: int | None) -> dict[str, Any]:
    if params is not None and not isinstance(params, Mapping):
        raise PaginationError(f"params for {config.operation} must be a mapping, got {type(params).__name__}")
    request = dict(params or {})
    if page_size is not None:
        if config.limit_key is None:
            raise PaginationError(f"page_size is not supported for {config.operation}: its paginator has no limit key")
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise PaginationError(f"page_size must be a positive int, got {page_size!r}")
        request[config.limit_key] = page_size
    return request


def paginate(
    call: Call,
    operation: str,
    params: Mapping[str, Any] | None = None,
    *,
    page_size: int | None = None,
    model: Models = None,
) -> Iterator[dict[str, Any]]:
    """Call ``operation`` page after page, yielding each response dict as it arrives.

    Errors in the arguments (unknown operation, no paginator, bad ``page_size``)
    are raised here, not on the first ``next()``. ``ServiceError`` from ``call``
    propagates unchanged.
    """
    config = load_paginator(operation, model)
    request = _first_request(config, params, page_size)
    return _pages(call, config, request)


def paginate_async(
    call: AsyncCall,
    operation: str,
    params: Mapping[str, Any] | None = None,
    *,
    page_size: int | None = None,
    model: Models = None,
) -> AsyncIterator[dict[str, Any]]:
    """:func:`paginate` with an awaitable ``call``: ``async for page in paginate_async(client.call, ...)``."""
    config = load_paginator(operation, model)
    request = _first_request(config, params, page_size)
    return _pages_async(call, config, request)


def _pages(call: Call, config: Paginator, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    walk = _walk(config, request)
    step = next(walk)
    while True:
        page = call(step.operation, step.params)
        yield page
        try:
            step = walk.send(page)
        except StopIteration:
            return


async def _pages_async(call: AsyncCall, config: Paginator, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    walk = _walk(config, request)
    step = next(walk)
    while True:
        page = await call(step.operation, step.params)
        yield page
        try:
            step = walk.send(page)
        except StopIteration:
            return


def _walk(config: Paginator, request: dict[str, Any]) -> Generator[Request, dict[str, Any], None]:
    """The paging decisions, no I/O: yields each request, is sent its page, returns after the last page."""
    previous: dict[str, Any] | None = None
    if any(request.get(name) for name in config.input_tokens):
        previous = {name: request.get(name) or None for name in config.input_tokens}
    while True:
        page = yield Request(config.operation, dict(request))
        token = _next_token(page, config)
        if token is None:
            return
        if token == previous:
            raise PaginationError(f"{config.operation}: the same next token was received twice: {token}")
        for name, value in token.items():
            if value is None:
                request.pop(name, None)
            else:
                request[name] = value
        previous = token


def paginate_items(
    call: Call,
    operation: str,
    params: Mapping[str, Any] | None = None,
    *,
    page_size: int | None = None,
    result_key: str | None = None,
    model: Models = None,
) -> Iterator[Any]:
    """Every item of the paginator's result key across all pages (botocore ``ResultKeyIterator``).

    ``result_key`` picks one of the paginator's result keys (``load_paginator(op).result_keys``);
    the default is the first, botocore's primary result key.
    """
    config, search = _result_search(operation, result_key, model)
    pages = _pages(call, config, _first_request(config, params, page_size))
    return _items(pages, search)


def paginate_items_async(
    call: AsyncCall,
    operation: str,
    params: Mapping[str, Any] | None = None,
    *,
    page_size: int | None = None,
    result_key: str | None = None,
    model: Models = None,
) -> AsyncIterator[Any]:
    """:func:`paginate_items` with an awaitable ``call``."""
    config, search = _result_search(operation, result_key, model)
    pages = _pages_async(call, config, _first_request(config, params, page_size))
    return _items_async(pages, search)


def _result_search(operation: str, result_key: str | None, model: Models) -> tuple[Paginator, Callable[[Any], Any]]:
    config = load_paginator(operation, model)
    if not config.result_keys:
        raise PaginationError(f"{operation}'s paginator declares no result key")
    if result_key is None:
        result_key = config.result_keys[0]
    elif result_key not in config.result_keys:
        raise PaginationError(
            f"result_key for {operation} must be one of {list(config.result_keys)}, got {result_key!r}"
        )
    return config, _compile(result_key)


def _items(pages: Iterator[dict[str, Any]], search: Callable[[Any], Any]) -> Iterator[Any]:
    for page in pages:
        yield from _found(search(page))


async def _items_async(pages: AsyncIterator[dict[str, Any]], search: Callable[[Any], Any]) -> AsyncIterator[Any]:
    async for page in pages:
        for item in _found(search(page)):
            yield item


def _found(found: Any) -> list[Any]:
    if isinstance(found, list):
        return found
    return [] if found is None else [found]
