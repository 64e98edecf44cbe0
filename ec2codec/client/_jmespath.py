"""JMESPath expressions of the bundled paginator and waiter configurations, compiled once each.

The ``jmespath`` library evaluates them (botocore's own choice); it is loaded
on the first expression that needs it. An expression that raises while
searching (a function given the wrong type, such as ``length()`` of a member
the response lacks) finds nothing here, where botocore's waiter raises
``JMESPathTypeError``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..errors import ModelError

__all__ = ["compile_search"]


@functools.lru_cache(maxsize=512)
def compile_search(expression: str, where: str) -> Callable[[Any], Any]:
    """A search function for ``expression``; ``where`` names its config in the ModelError for a bad one."""
    import jmespath  # type: ignore[import-untyped,unused-ignore]
    from jmespath.exceptions import JMESPathError  # type: ignore[import-untyped,unused-ignore]

    try:
        compiled = jmespath.compile(expression)
    except JMESPathError as exc:
        raise ModelError(f"{where} expression {expression!r} is not valid JMESPath: {exc}") from None

    def search(document: Any) -> Any:
        try:
            return compiled.search(document)
        except JMESPathError:
            return None

    return search
