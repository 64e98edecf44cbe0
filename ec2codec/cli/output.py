"""Printing results: ``--output json|text|table`` and ``--query``, as the AWS CLI prints them.

The rules are the AWS CLI v1's (``awscli/formatter.py``, ``awscli/text.py``,
``awscli/table.py``), so output is byte for byte what ``aws ec2 ...`` prints
for the same result:

* members in the order of the response document (botocore orders them as the
  model does, and the bundled model keeps no member order; the two agree
  whenever the service writes members in model order, as moto does);
* ``ResponseMetadata`` is dropped; timestamps are ISO 8601 strings (the AWS
  CLI v2 default, v1's ``cli_timestamp_format = iso8601``) and blobs base64,
  before ``--query`` sees the result, so a query compares the strings printed;
* json: four-space indent, non-ASCII as is, nothing at all for ``{}``;
* text: tab-separated scalars, a line per dict prefixed by its key in upper
  case, paginated results printed page by page with the query applied to each
  page (that is why ``--query`` on paged text output sees one page at a time);
* table: :mod:`._table`.

``--query`` is JMESPath, compiled before the first request so that a bad
expression costs no call. Deliberate difference: an expression that fails
while searching (``length(x)`` on a missing ``x``) finds null, where the AWS
CLI stops with an error after the call has been made.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import ModelError
from ._common import UsageError
from ._table import format_table

if TYPE_CHECKING:
    from ..client.compat import PageIterator

__all__ = ["FORMATS", "Output", "compile_query", "format_text", "plain", "resolve_output"]

FORMATS = ("json", "text", "table")


def plain(value: Any) -> Any:
    """``value`` as the AWS CLI's formatters see it: datetimes as ISO 8601 strings, bytes as base64."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    return value


def _without_metadata(result: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in result.items() if key != "ResponseMetadata"}


# -- text: awscli/text.py ------------------------------------------------------------------------


def format_text(value: Any) -> str:
    """``value`` in the AWS CLI's text layout."""
    out: list[str] = []
    _text(value, out)
    return "".join(out)


def _text(item: Any, out: list[str], identifier: str | None = None, scalar_keys: list[str] | None = None) -> None:
    if isinstance(item, dict):
        _text_dict(item, out, identifier, scalar_keys)
    elif isinstance(item, list):
        _text_list(item, out, identifier)
    else:
        out.append(f"{item}\n")


def _text_list(item: list[Any], out: list[str], identifier: str | None) -> None:
    if not item:
        return
    if any(isinstance(el, dict) for el in item):
        keys = sorted(
            {k for el in item if isinstance(el, dict) for k, v in el.items() if not isinstance(v, (dict, list))}
        )
        for element in item:
            _text(element, out, identifier, keys)
    elif any(isinstance(el, list) for el in item):
        scalars = [el for el in item if not isinstance(el, (list, dict))]
        if scalars:
            _text_scalars(scalars, out, identifier)
        for element in item:
            if isinstance(element, (list, dict)):
                _text(element, out, identifier)
    else:
        _text_scalars(item, out, identifier)


def _text_scalars(elements: list[Any], out: list[str], identifier: str | None) -> None:
    if identifier is not None:
        out.extend(f"{identifier.upper()}\t{element}\n" for element in elements)
    else:
        out.append("\t".join(str(element) for element in elements) + "\n")


def _text_dict(item: dict[str, Any], out: list[str], identifier: str | None, scalar_keys: list[str] | None) -> None:
    scalars: list[str] = []
    nested: list[tuple[str, Any]] = []
    if scalar_keys is None:
        for key, value in sorted(item.items()):
            if isinstance(value, (dict, list)):
                nested.append((key, value))
            else:
                scalars.append(str(value))
    else:
        # Every element of a list prints the same columns: the scalar keys of all of them.
        scalars = [str(item.get(key, "")) for key in scalar_keys]
        nested = [(key, item[key]) for key in sorted(set(item) - set(scalar_keys))]
    if scalars:
        if identifier is not None:
            scalars.insert(0, identifier.upper())
        out.append("\t".join(scalars) + "\n")
    for key, value in nested:
        _text(value, out, key)


# -- the printer ---------------------------------------------------------------------------------


class Output(NamedTuple):
    """How a command prints its result: the format and the compiled ``--query``, if any."""

    format: str
    query: Callable[[Any], Any] | None

    def _searched(self, value: Any) -> Any:
        return value if self.query is None else self.query(value)

    def render(self, title: str, result: Mapping[str, Any] | Any) -> str:
        """One result (``ResponseMetadata`` dropped) in this format; ``title`` heads a table."""
        value = plain(_without_metadata(result) if isinstance(result, Mapping) else result)
        value = self._searched(value)
        if self.format == "text":
            return format_text(value)
        if self.format == "table":
            return format_table(title, value)
        if value == {}:
            return ""  # as the AWS CLI: an empty result prints nothing (e.g. DeleteVolume)
        return json.dumps(value, indent=4, ensure_ascii=False) + "\n"

    def emit(self, title: str, result: Mapping[str, Any] | Any) -> None:
        _write(self.render(title, result))

    def emit_pages(self, title: str, pages: PageIterator) -> None:
        """Every page of a paginated call: text page by page as pages arrive; json and table merged."""
        if self.format != "text":
            self.emit(title, pages.build_full_result())
            return
        for chunk in _text_pages(pages, self._searched):
            _write(chunk)


def _set_path(document: dict[str, Any], expression: str, value: Any) -> None:
    # botocore.utils.set_value_from_jmespath: a dotted path, dicts created on the way.
    *parents, last = expression.split(".")
    for name in parents:
        document = document.setdefault(name, {})
    document[last] = value


def _text_pages(pages: PageIterator, search: Callable[[Any], Any]) -> Iterable[str]:
    # awscli TextFormatter with a PageIterator: the non-aggregate keys once, then each page's result keys.
    from ..client._jmespath import compile_search

    for i, page in enumerate(pages):
        current = pages.non_aggregate_part if i == 0 else {}
        for key in pages.result_keys:
            _set_path(current, key, compile_search(key, "paginator")(page))
        yield format_text(search(plain(current)))
    if pages.resume_token is not None:
        yield format_text(search({"NextToken": {"NextToken": pages.resume_token}}))


def _write(text: str) -> None:
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()


def compile_query(expression: str) -> Callable[[Any], Any]:
    """``--query`` compiled now (UsageError for a bad expression), so a typo costs no request."""
    from ..client._jmespath import compile_search

    try:
        return compile_search(expression, "--query")
    except ModelError as exc:
        raise UsageError(str(exc)) from None
    except RecursionError:
        raise UsageError("--query expression nests too deeply") from None


def resolve_output(output: str | None, query: str | None, configured: Callable[[], tuple[str | None, str]]) -> Output:
    """The format from ``--output``, else the configured one, else json.

    ``configured`` returns the ``AWS_DEFAULT_OUTPUT`` or the profile's ``output``
    setting and where it was found; it is only asked when ``--output`` is absent.
    """
    where = "--output"
    if output is None:
        found, where = configured()
        output = found or "json"
    if output not in FORMATS:
        raise UsageError(f"{where} must be json, text or table, got {output!r}")
    return Output(output, None if query is None else compile_query(query))
