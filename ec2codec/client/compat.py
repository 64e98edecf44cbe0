"""boto3-shaped paginators, waiters and ``client.exceptions``, for code ported from boto3.

Owns the objects behind ``client.get_paginator(name)``,
``client.get_waiter(name)``, ``client.can_paginate(name)`` and
``client.exceptions``; names are boto3's snake_case (``describe_instances``,
``instance_running``). Like :mod:`.pagination` and :mod:`.waiters`, whose
configurations they use, they take ``call(operation, params) -> dict`` and do
no I/O themselves.

Paging follows botocore's ``PageIterator`` (``botocore/paginate.py``) step by
step, so pages, ``build_full_result()`` and the ``NextToken`` it gives for a
``MaxItems`` cut are what boto3 gives: that token is base64 of the JSON of the
input token that fetched the cut page plus ``boto_truncate_amount`` (the items
of that page already returned), and a ``StartingToken`` is read the same way,
including botocore's older ``token___index`` form. Deliberate differences:
``PaginationConfig`` and ``WaiterConfig`` keys are checked (an unknown one is
a ValidationError listing those that exist; botocore ignores it) and their
values must be ints (botocore applies ``int()``); a bad JMESPath expression in
``search()`` is a ValidationError (botocore raises jmespath's ParseError, also
a ValueError); ``resume_token`` is cleared when the pages are walked again.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..errors import ModelError, ServiceError, ValidationError
from ._jmespath import compile_search
from ._names import reverse
from .pagination import Call, PaginationError, Paginator, load_paginator, paginator_names
from .waiters import WaiterConfig, load_waiter, wait, waiter_names

__all__ = [
    "ClientExceptions",
    "ClientPaginator",
    "ClientWaiter",
    "PageIterator",
    "can_paginate",
    "get_paginator",
    "get_waiter",
    "snake_waiter_names",
]

_PAGINATION_OPTIONS = ("MaxItems", "PageSize", "StartingToken")
_WAITER_OPTIONS = ("Delay", "MaxAttempts")
_TRUNCATE = "boto_truncate_amount"


@functools.cache
def _paginated() -> dict[str, str]:
    return reverse(paginator_names())


@functools.cache
def _waiters() -> dict[str, str]:
    return reverse(waiter_names())


def snake_waiter_names() -> list[str]:
    """Every waiter by boto3's name (``client.waiter_names``), sorted."""
    return sorted(_waiters())


def can_paginate(name: str) -> bool:
    """boto3's ``client.can_paginate``: True when operation ``name`` (snake_case) has a paginator."""
    return isinstance(name, str) and name in _paginated()


def _positive_int(where: str, name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(where, [(name, f"expected an int >= 1, got {value!r}")])
    return value


def _config(where: str, value: Any, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(where, [("", f"expected a dict with keys {', '.join(allowed)}, got {value!r}")])
    unknown = [key for key in value if key not in allowed]
    if unknown:
        problems = [(str(key), f"unknown key (keys: {', '.join(allowed)})") for key in unknown]
        raise ValidationError(where, problems)
    return value


def _set_path(document: dict[str, Any], expression: str, value: Any) -> None:
    # botocore.utils.set_value_from_jmespath: dotted keys, creating dicts on the way.
    *parents, last = expression.split(".")
    for part in parents:
        document = document.setdefault(part, {})
    document[last] = value


def _merge(target: dict[str, Any], extra: Mapping[str, Any]) -> None:
    # botocore.utils.merge_dicts without append_lists.
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _encode_token(token: Mapping[str, Any]) -> str:
    # botocore TokenEncoder: EC2's tokens are strings, so json.dumps always succeeds.
    return base64.b64encode(json.dumps(token).encode("utf-8")).decode("utf-8")


class PageIterator:
    """The pages of one ``paginate()`` (botocore ``PageIterator``): iterable again, each walk calling anew."""

    def __init__(
        self,
        call: Call,
        config: Paginator,
        params: dict[str, Any],
        *,
        max_items: int | None,
        starting_token: str | None,
        page_size: int | None,
    ) -> None:
        self._call = call
        self._config = config
        self._params = params
        self._max_items = max_items
        self._page_size = page_size
        self._start = self._parse_starting_token(starting_token) if starting_token is not None else None
        self.resume_token: str | None = None
        self.non_aggregate_part: dict[str, Any] = {}

    @property
    def result_keys(self) -> list[str]:
        """The paginator's result keys (JMESPath expressions), the primary first."""
        return list(self._config.result_keys)

    # -- tokens -------------------------------------------------------------

    def _parse_starting_token(self, token: str) -> tuple[dict[str, Any], int]:
        """``(input tokens, items to skip on the first page)`` from a StartingToken."""
        where = f"paginate {self._config.operation}"
        if not isinstance(token, str):
            raise ValidationError(where, [("StartingToken", f"expected str, got {type(token).__name__}")])
        try:
            decoded = json.loads(base64.b64decode(token.encode("utf-8")).decode("utf-8"))
        except ValueError:  # not base64, UTF-8 or JSON: botocore tries the older form
            decoded = None
        if not isinstance(decoded, dict):
            return self._parse_deprecated_token(token, where)
        decoded.pop("boto_encoded_keys", None)  # only set for bytes tokens, which EC2 never has
        index = decoded.pop(_TRUNCATE, 0)
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValidationError(where, [("StartingToken", f"bad {_TRUNCATE} {index!r}")])
        return decoded, index

    def _parse_deprecated_token(self, token: str, where: str) -> tuple[dict[str, Any], int]:
        # botocore _parse_starting_token_deprecated: "token1___token2___index", "None" for none.
        names = self._config.input_tokens
        parts = token.split("___")
        index = 0
        if len(parts) == len(names) + 1:
            try:
                index = int(parts.pop())
            except ValueError:
                parts = [token]  # an opaque service token after all
        if len(parts) > len(names):
            raise ValidationError(where, [("StartingToken", f"bad starting token: {token}")])
        values: list[str | None] = [None if part == "None" else part for part in parts]
        values += [None] * (len(names) - len(values))
        return dict(zip(names, values, strict=True)), index

    def _next_token(self, page: Mapping[str, Any]) -> dict[str, Any]:
        config = self._config
        if config.more_results is not None and not compile_search(config.more_results, "paginator")(page):
            return {}
        tokens: dict[str, Any] = {}
        for output_token, input_token in zip(config.output_tokens, config.input_tokens, strict=True):
            value = compile_search(output_token, "paginator")(page)
            tokens[input_token] = value if value else None  # botocore: an empty token is no token
        return tokens

    @staticmethod
    def _inject(params: dict[str, Any], tokens: Mapping[str, Any]) -> None:
        for name, value in tokens.items():
            if value is not None and value != "None":
                params[name] = value
            else:
                params.pop(name, None)

    # -- pages --------------------------------------------------------------

    def _search(self, expression: str, page: Any) -> Any:
        return compile_search(expression, "paginator")(page)

    def _skip_on_first_page(self, page: dict[str, Any], index: int) -> None:
        # botocore _handle_first_request: resume inside the page a MaxItems cut.
        primary, *secondary = self._config.result_keys
        items = self._search(primary, page)
        _set_path(page, primary, items[index:] if isinstance(items, (list, str)) else None)
        for key in secondary:
            sample = self._search(key, page)
            if isinstance(sample, list):
                empty: Any = []
            elif isinstance(sample, str):
                empty = ""
            elif isinstance(sample, (int, float)):
                empty = sample
            else:
                empty = None
            _set_path(page, key, empty)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        config = self._config
        if not config.result_keys:
            raise PaginationError(f"{config.operation}'s paginator declares no result key")
        primary = config.result_keys[0]
        params = dict(self._params)
        tokens: dict[str, Any] = dict.fromkeys(config.input_tokens)
        if self._start is not None:
            tokens = dict(self._start[0])
            self._inject(params, tokens)
        if self._page_size is not None and config.limit_key is not None:
            params[config.limit_key] = self._page_size
        self.resume_token = None
        previous: dict[str, Any] | None = None
        total = 0
        skipped = 0
        first = True
        while True:
            page = self._call(config.operation, dict(params))
            if first:
                if self._start is not None:
                    skipped = self._start[1]
                    self._skip_on_first_page(page, skipped)
                first = False
                self.non_aggregate_part = {}
                for key in config.non_aggregate_keys:
                    _set_path(self.non_aggregate_part, key, self._search(key, page))
            else:
                skipped = 0
            items = self._search(primary, page)
            count = len(items) if isinstance(items, (list, str, dict)) else 0
            excess = total + count - self._max_items if self._max_items is not None else 0
            if excess > 0:
                # botocore _truncate_response: keep what fits; the resume token
                # re-requests this page and skips what was returned of it.
                keep = count - excess
                _set_path(page, primary, (items or [])[:keep])
                self.resume_token = _encode_token({**tokens, _TRUNCATE: keep + skipped})
                yield page
                return
            yield page
            total += count
            tokens = self._next_token(page)
            if all(value is None for value in tokens.values()):
                return
            if self._max_items is not None and total == self._max_items:
                self.resume_token = _encode_token(tokens)  # on a page boundary
                return
            if previous is not None and previous == tokens:
                raise PaginationError(f"{config.operation}: the same next token was received twice: {tokens}")
            self._inject(params, tokens)
            previous = tokens

    def search(self, expression: str) -> Iterator[Any]:
        """Each page searched with JMESPath ``expression``; list results are flattened (botocore ``search``)."""
        try:
            compiled = compile_search(expression, "search") if isinstance(expression, str) else None
        except ModelError as exc:
            raise ValidationError("search", [("expression", str(exc))]) from None
        if compiled is None:
            raise ValidationError("search", [("expression", f"expected str, got {type(expression).__name__}")])
        return self._searched(compiled)

    def _searched(self, compiled: Callable[[Any], Any]) -> Iterator[Any]:
        for page in self:
            found = compiled(page)
            if isinstance(found, list):
                yield from found
            else:
                yield found

    def build_full_result(self) -> dict[str, Any]:
        """Every page merged (botocore ``build_full_result``): result keys joined, ``NextToken`` after a cut."""
        complete: dict[str, Any] = {}
        for page in self:
            for key in self._config.result_keys:
                value = self._search(key, page)
                if value is None:
                    continue
                existing = self._search(key, complete)
                if existing is None:
                    _set_path(complete, key, value)
                elif isinstance(value, list):
                    existing.extend(value)
                elif isinstance(value, (int, float, str)):
                    _set_path(complete, key, existing + value)
        _merge(complete, self.non_aggregate_part)
        if self.resume_token is not None:
            complete["NextToken"] = self.resume_token
        return complete


class ClientPaginator:
    """boto3's paginator of one operation: ``paginate(**params, PaginationConfig={...})``."""

    def __init__(self, call: Call, name: str, config: Paginator) -> None:
        self.name = name
        self._call = call
        self._config = config

    def __repr__(self) -> str:
        return f"<ec2codec paginator {self.name}>"

    def paginate(self, **kwargs: Any) -> PageIterator:
        """The pages of the operation called with ``kwargs``.

        ``PaginationConfig`` takes ``MaxItems``, ``PageSize`` and ``StartingToken``.
        """
        where = f"paginate {self._config.operation}"
        options = _config(where, kwargs.pop("PaginationConfig", None), _PAGINATION_OPTIONS)
        page_size = _positive_int(where, "PageSize", options.get("PageSize"))
        if page_size is not None and self._config.limit_key is None:
            raise PaginationError(f"PageSize is not supported for {self._config.operation}: it takes no page size")
        token = options.get("StartingToken")
        return PageIterator(
            self._call,
            self._config,
            kwargs,
            max_items=_positive_int(where, "MaxItems", options.get("MaxItems")),
            starting_token=token,
            page_size=page_size,
        )


class ClientWaiter:
    """boto3's waiter: ``wait(**params, WaiterConfig={"Delay": s, "MaxAttempts": n})`` returns None or raises."""

    def __init__(self, call: Call, name: str, config: WaiterConfig, sleep: Callable[[float], object]) -> None:
        self.name = name
        self.config = config
        self._call = call
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"<ec2codec waiter {self.name}>"

    def wait(self, **kwargs: Any) -> None:
        """Poll until success; :class:`~ec2codec.client.waiters.WaiterError` on failure or when attempts run out."""
        options = _config(f"waiter {self.name}", kwargs.pop("WaiterConfig", None), _WAITER_OPTIONS)
        wait(
            self._call,
            self.config.name,
            kwargs,
            delay=options.get("Delay"),
            max_attempts=options.get("MaxAttempts"),
            sleep=self._sleep,  # type: ignore[arg-type]  # its result is ignored
        )


class ClientExceptions:
    """``client.exceptions``: EC2 models no error shapes, so every error is ``ClientError`` (our ServiceError)."""

    ClientError = ServiceError

    def from_code(self, code: str) -> type[ServiceError]:
        """The class for an error code (botocore ``from_code``): always ServiceError for EC2."""
        return ServiceError


def _unknown(kind: str, name: Any, known: Mapping[str, str], methods: Mapping[str, str]) -> ValidationError:
    # boto3 takes snake_case names; say which name was meant when it is recognisable.
    if isinstance(name, str) and name in known.values():
        hint = f"boto3's name for it is {next(k for k, v in known.items() if v == name)!r}"
    elif isinstance(name, str) and name in methods:
        hint = f"{methods[name]} returns everything in one response (client.can_paginate({name!r}) is False)"
    else:
        hint = f"see client.{'can_paginate' if kind == 'paginator' else 'waiter_names'}"
    return ValidationError(f"get_{kind}", [("", f"no {kind} named {name!r}: {hint}")])


def get_paginator(call: Call, name: str, methods: Mapping[str, str]) -> ClientPaginator:
    """boto3's ``client.get_paginator(name)`` (``methods``: boto3's method names -> operations, for errors)."""
    operation = _paginated().get(name) if isinstance(name, str) else None
    if operation is None:
        raise _unknown("paginator", name, _paginated(), methods)
    return ClientPaginator(call, name, load_paginator(operation))


def get_waiter(call: Call, name: str, sleep: Callable[[float], object]) -> ClientWaiter:
    """boto3's ``client.get_waiter(name)``."""
    waiter = _waiters().get(name) if isinstance(name, str) else None
    if waiter is None:
        raise _unknown("waiter", name, _waiters(), {})
    return ClientWaiter(call, name, load_waiter(waiter), sleep)
