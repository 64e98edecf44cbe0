"""A small evaluator for Smithy endpoint rule sets (the "rules engine", version 1.0).

Owns the language only: parameters, conditions with ``assign``, tree, endpoint
and error rules, template strings, the standard library and the AWS functions.
It knows nothing about EC2, botocore's configuration or where the data comes
from; :mod:`ec2codec.client.endpoints` feeds it the bundled rule set and partitions.

Spec: https://smithy.io/2.0/additional-specs/rules-engine/specification.html,
.../rules-engine/standard-library.html and https://smithy.io/2.0/aws/rules-engine/library-functions.html.
Where the spec leaves room, or botocore's ``endpoint_provider.py`` reads it
differently, this module does what botocore does: the package promises the
same endpoint as botocore, and the tests compare the two on real rule sets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

__all__ = ["FUNCTIONS", "RuleEndpoint", "RuleError", "RuleSet"]

Scope = dict[str, Any]


class RuleError(Exception):
    """An error rule matched, no rule matched, or the rule set or its inputs are malformed."""


class RuleEndpoint(NamedTuple):
    """The result of an endpoint rule: URL, free-form properties (``authSchemes``...) and headers."""

    url: str
    properties: dict[str, Any]
    headers: dict[str, list[str]]


# --- standard library (standard-library.html) --------------------------------------------------------------


def is_set(value: Any) -> bool:
    # "isSet only considers optionality, not truthiness": "" and false are set.
    return value is not None


def negate(value: Any) -> bool:
    return not value


def boolean_equals(left: Any, right: Any) -> bool:
    if not (isinstance(left, bool) and isinstance(right, bool)):
        raise RuleError(f"booleanEquals needs two booleans, got {left!r} and {right!r}")
    return left is right


def string_equals(left: Any, right: Any) -> bool:
    if not (isinstance(left, str) and isinstance(right, str)):
        raise RuleError(f"stringEquals needs two strings, got {left!r} and {right!r}")
    return left == right


_PATH_PART = re.compile(r"([^\[\]]*)(?:\[(\d+)\])?")


def get_attr(value: Any, path: str) -> Any:
    """``getAttr``: keys separated by ``.``, an optional ``[index]`` on a part; missing -> None."""
    for part in path.split("."):
        match = _PATH_PART.fullmatch(part)
        if match is None:
            raise RuleError(f"malformed getAttr path {path!r}")
        key, index = match.groups()
        if key:
            value = value.get(key) if isinstance(value, Mapping) else None
        if index is not None:
            # "indexes always return option values": out of range is unset, not an error.
            value = value[int(index)] if isinstance(value, Sequence) and int(index) < len(value) else None
        if value is None:
            return None
    return value


_HOST_LABEL = re.compile(r"(?!-)[a-zA-Z\d-]{1,63}(?<!-)")


def is_valid_host_label(value: Any, allow_subdomains: Any) -> bool:
    """RFC 1123 host segment; with ``allow_subdomains`` every dot-separated segment must be one."""
    if not isinstance(value, str):
        return False
    labels = value.split(".") if allow_subdomains is True else [value]
    return all(_HOST_LABEL.fullmatch(label) for label in labels)


def substring(value: Any, start: int, stop: int, reverse: bool) -> str | None:
    """``[start, stop)``, counted from the end when ``reverse``; unset when too short or not ASCII."""
    if not isinstance(value, str):
        raise RuleError(f"substring needs a string, got {value!r}")
    if start >= stop or len(value) < stop or not value.isascii():
        return None
    if reverse:
        return value[len(value) - stop : len(value) - start]
    return value[start:stop]


def uri_encode(value: Any) -> str | None:
    """RFC 3986 percent-encoding of everything but the unreserved characters ``A-Za-z0-9-_.~``."""
    if value is None:
        return None
    from urllib.parse import quote  # not at import: keep `import ec2codec` cheap

    return quote(str(value).encode("utf-8"), safe="-_.~")


_IPV4 = re.compile(r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}")


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 section 5.2.4, and (like botocore) consecutive slashes collapse.
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and kept else ""
    return first + "/".join(kept) + last


def parse_url(value: Any) -> dict[str, Any] | None:
    """``parseURL``: http(s) URLs without a query; unset for anything else."""
    if not isinstance(value, str):
        return None
    import ipaddress
    from urllib.parse import quote, urlparse

    try:
        parts = urlparse(value)
        parts.port  # noqa: B018 -- raises ValueError on a non-numeric port
        host = parts.hostname or ""
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.query:
        return None
    normalized = quote(_remove_dot_segments(parts.path) if parts.path else "/")
    if not normalized.endswith("/"):
        normalized += "/"
    try:
        is_ipv6 = isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
    except ValueError:
        is_ipv6 = False
    return {
        "scheme": parts.scheme,
        "authority": parts.netloc,
        "path": parts.path,
        "normalizedPath": normalized,
        "isIp": bool(_IPV4.fullmatch(host)) or is_ipv6,
    }


# --- AWS functions (aws/rules-engine/library-functions.html) ------------------------------------------------


def parse_arn(value: Any) -> dict[str, Any] | None:
    """``aws.parseArn``: unset unless ``arn:partition:service:region:account:resource`` with the
    partition, service and resource present; ``resourceId`` splits the resource on ``:`` and ``/``."""
    if not isinstance(value, str) or not value.startswith("arn:"):
        return None
    parts = value.split(":", 5)
    if len(parts) < 6 or not (parts[1] and parts[2] and parts[5]):
        return None
    return {
        "partition": parts[1],
        "service": parts[2],
        "region": parts[3],
        "accountId": parts[4],
        "resourceId": parts[5].replace(":", "/").split("/"),
    }


def is_virtual_hostable_s3_bucket(value: Any, allow_subdomains: Any) -> bool:
    """A host label of 3 or more characters, lower case, and not an IPv4 address."""
    if not isinstance(value, str) or len(value) < 3 or value.lower() != value or _IPV4.fullmatch(value):
        return False
    return is_valid_host_label(value, allow_subdomains)


class Partitions:
    """``aws.partition`` over a ``partitions.json`` document."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._partitions = [
            (re.compile(p["regionRegex"]), frozenset(p["regions"]), {**p["outputs"], "name": p["id"]})
            for p in data["partitions"]
        ]

    def __call__(self, region: Any) -> dict[str, Any]:
        # The spec says an unknown region gives an empty optional; botocore (and
        # the other AWS SDKs) fall back to the first partition, "aws", so that a
        # new region works before the data knows it. botocore also checks each
        # partition's list and regex together, in file order, where the Rust
        # and Java SDKs try every explicit list first; with today's data (no
        # listed region matches an earlier partition's regex) the two agree.
        if isinstance(region, str):
            for regex, regions, outputs in self._partitions:
                if region in regions or regex.match(region):
                    return dict(outputs)
        return dict(self._partitions[0][2])


Function = Callable[..., Any]

FUNCTIONS: dict[str, Function] = {
    "isSet": is_set,
    "not": negate,
    "booleanEquals": boolean_equals,
    "stringEquals": string_equals,
    "getAttr": get_attr,
    "isValidHostLabel": is_valid_host_label,
    "substring": substring,
    "uriEncode": uri_encode,
    "parseURL": parse_url,
    "aws.parseArn": parse_arn,
    "aws.isVirtualHostableS3Bucket": is_virtual_hostable_s3_bucket,
}
"""Every function a rule set may call, except ``aws.partition`` which needs the partition data."""

_PARAMETER_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "stringarray": lambda v: isinstance(v, (list, tuple)) and all(isinstance(s, str) for s in v),
}

# "{{" and "}}" are literal braces; "{name}" and "{name#path}" (getAttr sugar) are substitutions.
_TEMPLATE = re.compile(r"\{\{|\}\}|\{([A-Za-z][A-Za-z0-9_]*)(?:#([^{}]+))?\}")


class RuleSet:
    """One endpoint rule set, evaluated against parameter values with :meth:`evaluate`."""

    def __init__(self, ruleset: Mapping[str, Any], partitions: Mapping[str, Any]) -> None:
        self.parameters: dict[str, Mapping[str, Any]] = dict(ruleset["parameters"])
        self.rules: list[Mapping[str, Any]] = list(ruleset["rules"])
        self.functions: dict[str, Function] = {**FUNCTIONS, "aws.partition": Partitions(partitions)}

    def evaluate(self, params: Mapping[str, Any]) -> RuleEndpoint:
        """The endpoint the first matching rule gives, or :class:`RuleError` with the error rule's message."""
        scope = self._bind(params)
        endpoint = self._first_match(self.rules, scope)
        if endpoint is None:
            # "If the list of rules is exhausted ... MUST return an error."
            listing = ", ".join(f"{k}={v!r}" for k, v in scope.items())
            raise RuleError(f"no endpoint rule matched the parameters ({listing})")
        return endpoint

    def _bind(self, params: Mapping[str, Any]) -> Scope:
        unknown = sorted(set(params) - set(self.parameters))
        if unknown:
            raise RuleError(f"unknown endpoint parameter(s): {', '.join(unknown)}")
        scope: Scope = {}
        for name, spec in self.parameters.items():
            value = params.get(name)
            if value is None:
                # "A parameter with a default MUST also be required"; an unset
                # required parameter without a default stops evaluation.
                value = spec.get("default")
                if value is None and spec.get("required"):
                    raise RuleError(f"Cannot find value for required parameter {name}")
            elif not _PARAMETER_TYPES.get(str(spec["type"]).lower(), lambda _: False)(value):
                raise RuleError(f"endpoint parameter {name} must be of type {spec['type']}, got {value!r}")
            if value is not None:
                scope[name] = value
        return scope

    def _first_match(self, rules: Sequence[Mapping[str, Any]], scope: Scope) -> RuleEndpoint | None:
        for rule in rules:
            # Variables assigned by a rule's conditions are visible to it and
            # its subordinate rules only, so every rule starts from a copy.
            local = dict(scope)
            if not self._conditions_hold(rule.get("conditions", ()), local):
                continue
            kind = rule.get("type")
            if kind == "endpoint":
                return self._endpoint(rule["endpoint"], local)
            if kind == "error":
                raise RuleError(self._string(rule["error"], local))
            if kind != "tree":
                raise RuleError(f"unknown rule type {kind!r}")
            found = self._first_match(rule["rules"], local)
            if found is not None:
                return found
            # The spec calls an exhausted tree terminal (an error); botocore
            # moves on to the tree's siblings, and so do we. Published rule
            # sets end every tree with an unconditional rule, so it never shows.
        return None

    def _conditions_hold(self, conditions: Sequence[Mapping[str, Any]], scope: Scope) -> bool:
        for condition in conditions:
            result = self._call(condition, scope)
            name = condition.get("assign")
            if name is not None:
                # "Variable names MUST NOT overlap with existing parameter names or variable declarations in scope."
                if name in scope:
                    raise RuleError(f"rule set assigns {name!r}, which is already defined")
                scope[name] = result
            # "If a condition returns None or False, the condition does not match."
            if result is None or result is False:
                return False
        return True

    def _call(self, expression: Mapping[str, Any], scope: Scope) -> Any:
        name = expression["fn"]
        function = self.functions.get(name)
        if function is None:
            raise RuleError(f"rule set uses unsupported function {name!r}")
        args = [self._value(arg, scope) for arg in expression.get("argv", ())]
        try:
            return function(*args)
        except TypeError as exc:
            raise RuleError(f"bad arguments to {name}: {exc}") from None

    def _value(self, expression: Any, scope: Scope) -> Any:
        if isinstance(expression, Mapping):
            if "fn" in expression:
                return self._call(expression, scope)
            if "ref" in expression:
                return scope.get(expression["ref"])
        if isinstance(expression, str):
            return self._template(expression, scope)
        if isinstance(expression, list):
            return [self._value(item, scope) for item in expression]
        return expression

    def _string(self, expression: Any, scope: Scope) -> str:
        value = self._value(expression, scope)
        if not isinstance(value, str):
            raise RuleError(f"rule set expression {expression!r} is not a string: {value!r}")
        return value

    def _template(self, text: str, scope: Scope) -> str:
        if "{" not in text and "}" not in text:
            return text

        def substitute(match: re.Match[str]) -> str:
            whole, name, path = match.group(0), match.group(1), match.group(2)
            if name is None:
                return whole[0]
            value = scope.get(name)
            if path is not None and value is not None:
                value = get_attr(value, path)
            if value is None:
                raise RuleError(f"template {text!r} refers to {whole}, which is not set")
            return str(value)

        return _TEMPLATE.sub(substitute, text)

    def _properties(self, value: Any, scope: Scope) -> Any:
        # "Properties MAY contain template strings" but no references or functions.
        if isinstance(value, Mapping):
            return {key: self._properties(item, scope) for key, item in value.items()}
        if isinstance(value, list):
            return [self._properties(item, scope) for item in value]
        if isinstance(value, str):
            return self._template(value, scope)
        return value

    def _endpoint(self, endpoint: Mapping[str, Any], scope: Scope) -> RuleEndpoint:
        headers = {
            name: [self._string(v, scope) for v in values] for name, values in endpoint.get("headers", {}).items()
        }
        return RuleEndpoint(
            self._string(endpoint["url"], scope), self._properties(endpoint.get("properties", {}), scope), headers
        )
