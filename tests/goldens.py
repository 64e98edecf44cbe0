"""The JSON convention of the golden files in ``fixtures/``, and a folder walker.

Plain JSON cannot hold every value a parsed EC2 result contains, so three
values are tagged: a timestamp is ``{"$timestamp": "2024-05-01T12:00:00.123000Z"}``
(always UTC, microseconds), a blob is ``{"$blob": "<base64>"}``, and a float that
JSON cannot spell is ``{"$float": "NaN" | "Infinity" | "-Infinity"}``. Files are
written with two-space indentation, sorted keys off (document order matters for
request params) and a trailing newline, so they diff well.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def to_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        utc = value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return {"$timestamp": utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    if isinstance(value, (bytes, bytearray)):
        return {"$blob": base64.b64encode(value).decode("ascii")}
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    return value


def _hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, raw),) = obj.items()
        if key == "$timestamp":
            return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        if key == "$blob":
            return base64.b64decode(raw)
        if key == "$float":
            return float(raw.replace("Infinity", "inf"))
    return obj


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n"


def loads(text: str) -> Any:
    return json.loads(text, object_hook=_hook)


def walk(kind: str, suffix: str) -> Iterator[Path]:
    """Every file ending in ``suffix`` under ``fixtures/<kind>``, sorted (for parametrisation)."""
    yield from sorted((FIXTURES / kind).rglob(f"*{suffix}"))
