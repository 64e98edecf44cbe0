"""Waiters: poll an EC2 operation until a resource reaches a state, with botocore's waiter semantics.

Owns the polling loops, transport-agnostic: they take ``call``
(``call(operation, params) -> dict``, raising ``ServiceError`` for EC2 error
documents) plus injectable ``sleep`` and ``clock``, and never import the
client or an HTTP library. Each loop is a sans-I/O generator (:mod:`._steps`)
that the sync form and the ``*_async`` form (an awaitable ``call`` and
``sleep``) both drive, so the two decide alike.

Public API::

    wait(call, name, params=None, *, delay=None, max_attempts=None, sleep=time.sleep, model=None) -> dict
    await wait_async(call, name, params=None, *, ..., sleep=asyncio.sleep, model=None) -> dict
    waiter_names(model=None) -> list[str]        # botocore's names: "InstanceRunning", "SnapshotImported", ...
    load_waiter(name, model=None) -> WaiterConfig
    select_acceptor(config, response) -> Acceptor | None   # the decision of one attempt
    WaiterError(name, reason, last_response)

The ImportSnapshot waiter with progress reports is :mod:`ec2codec.client.import_waiter`.
``model`` (an ``ec2codec.Model`` or ``ServiceModel``; None for the default
model) picks the configs: its own when it was loaded with a ``waiters-2.json``,
else the bundled ones.

``wait`` runs botocore's waiter version 2 (``botocore/waiter.py``, the Smithy
``@waitable`` acceptor rules) over EC2's ``waiters-2.json``, bundled in
``ec2codec/model/_data/ec2.waiters.json`` by ``tools/build_extras.py`` and read on
first use. Each attempt's response (a dict, or the ``ServiceError`` ``call``
raised) is matched against the acceptors in order; the first match sets the
state: ``success`` returns, ``failure`` raises :class:`WaiterError`, ``retry``
sleeps ``delay`` and polls again. An error no acceptor accepts is a failure
(``"An error occurred (Code): Message"``), as in botocore. ``status``
acceptors see ``ServiceError.status`` for errors and 200 for responses (a
response that ``call`` returns is an HTTP 200 in EC2, which is what botocore's
``ResponseMetadata.HTTPStatusCode`` holds). When an ``error`` acceptor decides
``success`` (``VolumeDeleted`` on ``InvalidVolume.NotFound``), ``wait`` returns
the error in botocore's shape: ``{"Error": {"Code", "Message"}, "ResponseMetadata": {"RequestId"}}``.
Deliberate differences: ``wait`` returns the final response (botocore
returns None); "Max attempts exceeded. Previously accepted state: ..." names
the acceptor that last matched (botocore names the last one it tried); a
JMESPath type error (``length(Images[])`` on a response without ``Images``)
means the acceptor does not match, where botocore raises ``JMESPathTypeError``.

"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ..errors import Error, ModelError, ServiceError, ValidationError
from ..model.datafiles import provenance, read_data
from ..model.service import HasService, ServiceModel, service_of
from ._jmespath import compile_search
from ._steps import AsyncCall, AsyncSleep, Pause, Request, Steps, run, run_async

__all__ = [
    "Call",
    "Response",
    "BUNDLE_NAME",
    "Acceptor",
    "WaiterConfig",
    "WaiterError",
    "bundle_provenance",
    "check_number",
    "load_waiter",
    "select_acceptor",
    "wait",
    "wait_async",
    "waiter_names",
]

BUNDLE_NAME = "ec2.waiters.json"

Call = Callable[[str, Mapping[str, Any]], dict[str, Any]]
Response = dict[str, Any] | ServiceError

_MATCHERS = frozenset({"path", "pathAll", "pathAny", "status", "error"})
_STATES = frozenset({"success", "failure", "retry"})


class WaiterError(Error):
    """A waiter stopped without reaching success: a failure state, an unexpected error, or no attempts left.

    ``name`` is the waiter, ``reason`` why it stopped (botocore's wording for
    :func:`wait`), ``last_response`` the last response dict or ``ServiceError``.
    """

    def __init__(self, name: str, reason: str, last_response: Response | None, *, message: str | None = None) -> None:
        self.name = name
        self.reason = reason
        self.last_response = last_response
        super().__init__(message or f"Waiter {name} failed: {reason}")


class Acceptor(NamedTuple):
    """One acceptor of a waiter: when ``matcher`` finds ``expected`` (at ``argument``), move to ``state``."""

    state: str
    matcher: str
    expected: Any
    argument: str | None


class WaiterConfig(NamedTuple):
    """One waiter of ``waiters-2.json``: the operation to poll, how often, and its acceptors in order."""

    name: str
    operation: str
    delay: float
    max_attempts: int
    acceptors: tuple[Acceptor, ...]


Models = HasService | ServiceModel | None

# Parsed configs of the bundled document; a model with its own keeps them in its cache.
_BUNDLED_CONFIGS: dict[str, WaiterConfig] = {}


def _checked(document: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    if document.get("version") != 2:
        raise ModelError(f"{where} holds waiter version {document.get('version')!r}; only version 2 is supported")
    waiters: Mapping[str, Any] = document["waiters"]
    return waiters


@functools.cache
def _bundle() -> Mapping[str, Any]:
    return _checked(read_data(BUNDLE_NAME), BUNDLE_NAME)


def _table(model: Models) -> tuple[Mapping[str, Any], dict[str, WaiterConfig]]:
    """The waiter table that applies to ``model`` and where its parsed configs are kept."""
    service = service_of(model)
    if service.waiters is None:
        return _bundle(), _BUNDLED_CONFIGS
    table = _checked(service.waiters, "the model's waiters-2.json")
    configs: dict[str, WaiterConfig] = service.cache.setdefault("waiters", {})
    return table, configs


def bundle_provenance() -> dict[str, Any]:
    """Where the bundled configs came from: ``botocore_version`` and ``generator``."""
    return provenance(BUNDLE_NAME, "waiters")


def waiter_names(model: Models = None) -> list[str]:
    """Every waiter, by botocore's name, sorted."""
    return sorted(_table(model)[0])


def load_waiter(name: str, model: Models = None) -> WaiterConfig:
    """The config of waiter ``name``; ``ModelError`` when there is no such waiter."""
    table, configs = _table(model)
    config = configs.get(name) if isinstance(name, str) else None
    if config is not None:
        return config
    if not isinstance(name, str) or name not in table:
        raise ModelError(f"unknown waiter {name!r}; waiters: {', '.join(sorted(table))}")
    # A race parses the same config twice and keeps an equal value: harmless, so no lock.
    config = configs[name] = _parse_waiter(name, table[name])
    return config


def _parse_waiter(name: str, raw: Mapping[str, Any]) -> WaiterConfig:
    try:
        acceptors = []
        for spec in raw["acceptors"]:
            acceptor = Acceptor(spec["state"], spec["matcher"], spec["expected"], spec.get("argument"))
            if acceptor.matcher not in _MATCHERS or acceptor.state not in _STATES:
                raise ModelError(f"waiter {name}: unsupported acceptor {spec}")
            if acceptor.matcher.startswith("path"):
                if not isinstance(acceptor.argument, str):
                    raise ModelError(f"waiter {name}: a {acceptor.matcher} acceptor needs a string argument")
                _compile(acceptor.argument)  # a bad expression fails when the waiter loads, not mid-wait
            acceptors.append(acceptor)
        config = WaiterConfig(name, raw["operation"], raw["delay"], raw["maxAttempts"], tuple(acceptors))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ModelError(f"waiter {name} is malformed: missing or bad {exc}") from None
    if not isinstance(config.operation, str):
        raise ModelError(f"waiter {name}: operation must be a string, got {config.operation!r}")
    delay = config.delay
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not math.isfinite(delay) or delay < 0:
        raise ModelError(f"waiter {name}: delay must be a finite number >= 0, got {delay!r}")
    if isinstance(config.max_attempts, bool) or not isinstance(config.max_attempts, int) or config.max_attempts < 1:
        raise ModelError(f"waiter {name}: maxAttempts must be an int >= 1, got {config.max_attempts!r}")
    return config


def _compile(expression: str) -> Callable[[Any], Any]:
    return compile_search(expression, "waiter")


def _matches(acceptor: Acceptor, response: Response) -> bool:
    """Whether one acceptor matches (botocore ``AcceptorConfig._create_*_matcher``)."""
    expected = acceptor.expected
    if acceptor.matcher == "error":
        # Smithy @waitable errorType: true = any error, false = no error, else one error code.
        if expected is True or expected is False:
            return isinstance(response, ServiceError) is expected
        return isinstance(response, ServiceError) and bool(response.code == expected)
    if acceptor.matcher == "status":
        if isinstance(response, ServiceError):
            return bool(response.status == expected)
        metadata = response.get("ResponseMetadata")
        status = metadata.get("HTTPStatusCode", 200) if isinstance(metadata, dict) else 200
        return bool(status == expected)
    if isinstance(response, ServiceError):
        return False  # path matchers never look into error responses
    found = _compile(acceptor.argument or "")(response)
    if acceptor.matcher == "path":
        return bool(found == expected)
    # pathAll/pathAny need a non-empty list: an empty projection proves nothing.
    if not isinstance(found, list) or not found:
        return False
    if acceptor.matcher == "pathAll":
        return all(element == expected for element in found)
    return any(element == expected for element in found)


def select_acceptor(config: WaiterConfig, response: Response) -> Acceptor | None:
    """The first acceptor of ``config`` that matches ``response``, or None: the decision of one attempt."""
    for acceptor in config.acceptors:
        if _matches(acceptor, response):
            return acceptor
    return None


def _explain(acceptor: Acceptor) -> str:
    """botocore's ``AcceptorConfig.explanation`` wording."""
    if acceptor.matcher == "path":
        return f'For expression "{acceptor.argument}" we matched expected path: "{acceptor.expected}"'
    if acceptor.matcher == "pathAll":
        return f'For expression "{acceptor.argument}" all members matched expected path: "{acceptor.expected}"'
    if acceptor.matcher == "pathAny":
        return f'For expression "{acceptor.argument}" we matched expected path: "{acceptor.expected}" at least once'
    if acceptor.matcher == "status":
        return f"Matched expected HTTP status code: {acceptor.expected}"
    return f"Matched expected service error code: {acceptor.expected}"


def _error_document(error: ServiceError) -> dict[str, Any]:
    """An error in botocore's parsed shape, for a waiter that succeeds on an error."""
    return {
        "Error": {"Code": error.code, "Message": error.message},
        "ResponseMetadata": {"RequestId": error.request_id},
    }


def check_number(waiter: str, name: str, value: float, minimum: float) -> float:
    """``value`` if it is a finite number of at least ``minimum``, else a ValidationError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < minimum:
        raise ValidationError(f"waiter {waiter}", [(name, f"expected a finite number >= {minimum:g}, got {value!r}")])
    return value


def wait(
    call: Call,
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    delay: float | None = None,
    max_attempts: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    model: Models = None,
) -> dict[str, Any]:
    """Poll the waiter's operation until an acceptor decides success (returns the response) or failure.

    ``delay`` (seconds between attempts) and ``max_attempts`` default to the
    waiter's config. Raises :class:`WaiterError` on a failure state, on an error
    no acceptor accepts, and when the attempts run out; ``ModelError`` for an
    unknown waiter; ``ValidationError`` for a bad ``delay``/``max_attempts``.
    """
    return run(_wait_steps(name, params, delay, max_attempts, model), call, sleep)


async def wait_async(
    call: AsyncCall,
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    delay: float | None = None,
    max_attempts: int | None = None,
    sleep: AsyncSleep | None = None,
    model: Models = None,
) -> dict[str, Any]:
    """:func:`wait` with an awaitable ``call`` and ``sleep`` (``asyncio.sleep`` by default)."""
    if sleep is None:
        import asyncio

        sleep = asyncio.sleep
    return await run_async(_wait_steps(name, params, delay, max_attempts, model), call, sleep)


def _wait_steps(
    name: str, params: Mapping[str, Any] | None, delay: float | None, max_attempts: int | None, model: Models
) -> Steps[dict[str, Any]]:
    # Arguments are checked before the generator exists, so a mistake raises at the call.
    config = load_waiter(name, model)
    pause = config.delay if delay is None else check_number(name, "delay", delay, 0)
    attempts = config.max_attempts if max_attempts is None else max_attempts
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise ValidationError(f"waiter {name}", [("max_attempts", f"expected an int >= 1, got {attempts!r}")])
    if params is not None and not isinstance(params, Mapping):
        raise ValidationError(f"waiter {name}", [("params", f"expected a mapping, got {type(params).__name__}")])
    return _polls(config, dict(params or {}), pause, attempts)


def _polls(config: WaiterConfig, request: dict[str, Any], pause: float, attempts: int) -> Steps[dict[str, Any]]:
    """The waiter's decisions, no I/O: yields each poll and pause, returns the final response."""
    name = config.name
    last_matched: Acceptor | None = None
    response: Response | None = None
    for attempt in range(1, attempts + 1):
        try:
            response = yield Request(config.operation, dict(request))
        except ServiceError as exc:
            response = exc
        acceptor = select_acceptor(config, response)
        if acceptor is None:
            if isinstance(response, ServiceError):
                reason = f"An error occurred ({response.code}): {response.message}"
                raise WaiterError(name, reason, response) from response
        else:
            last_matched = acceptor
            if acceptor.state == "success":
                return _error_document(response) if isinstance(response, ServiceError) else response
            if acceptor.state == "failure":
                reason = f"Waiter encountered a terminal failure state: {_explain(acceptor)}"
                raise WaiterError(name, reason, response)
        if attempt < attempts:
            yield Pause(pause)
    reason = "Max attempts exceeded"
    if last_matched is not None:
        reason += f". Previously accepted state: {_explain(last_matched)}"
    raise WaiterError(name, reason, response)
