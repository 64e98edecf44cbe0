"""The awsQuery wire form of the two STS operations the credential sources call, until the codec speaks awsQuery.

:mod:`.sts` talks to this module through two methods, ``request(operation,
params)`` and ``parse(operation, body, status=)``, the shape of
:class:`ec2codec.protocol.codec.Model`'s; once the protocol layer encodes and
parses ``query``-protocol models, the bundled STS model replaces this module.

Requests (AWS "Query requests"; botocore's ``QuerySerializer``): ``Action``
and ``Version`` first, then each parameter in the order given, form-encoded
as ``urllib.parse.urlencode`` spells it (``quote_plus``, nothing safe). Only
the scalar members these operations need are accepted.

Answers: ``<{Operation}Response><{Operation}Result>...`` with the members of
the STS model's output shapes, ``ResponseMetadata`` reduced to ``RequestId``
(as ec2codec's parser does for EC2), or ``<ErrorResponse><Error><Code>``,
which is a :class:`~ec2codec.errors.ServiceError`. A document type
declaration is refused before parsing (no entity is ever expanded), and every
malformed answer is a :class:`~ec2codec.errors.ParseError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import quote_plus

from ...errors import ParseError, ServiceError, ValidationError

__all__ = ["API_VERSION", "StsQuery"]

API_VERSION = "2011-06-15"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"

_STRING, _INTEGER, _TIMESTAMP = "string", "integer", "timestamp"
_INPUTS: dict[str, dict[str, str]] = {
    "AssumeRole": {
        "RoleArn": _STRING,
        "RoleSessionName": _STRING,
        "Policy": _STRING,
        "DurationSeconds": _INTEGER,
        "ExternalId": _STRING,
        "SerialNumber": _STRING,
        "TokenCode": _STRING,
        "SourceIdentity": _STRING,
    },
    "AssumeRoleWithWebIdentity": {
        "RoleArn": _STRING,
        "RoleSessionName": _STRING,
        "WebIdentityToken": _STRING,
        "ProviderId": _STRING,
        "Policy": _STRING,
        "DurationSeconds": _INTEGER,
    },
}
_CREDENTIALS = {"AccessKeyId": _STRING, "SecretAccessKey": _STRING, "SessionToken": _STRING, "Expiration": _TIMESTAMP}
_USER = {"AssumedRoleId": _STRING, "Arn": _STRING}
Shape = dict[str, Any]
_OUTPUTS: dict[str, Shape] = {
    "AssumeRole": {
        "Credentials": _CREDENTIALS,
        "AssumedRoleUser": _USER,
        "PackedPolicySize": _INTEGER,
        "SourceIdentity": _STRING,
    },
    "AssumeRoleWithWebIdentity": {
        "Credentials": _CREDENTIALS,
        "SubjectFromWebIdentityToken": _STRING,
        "AssumedRoleUser": _USER,
        "PackedPolicySize": _INTEGER,
        "Provider": _STRING,
        "Audience": _STRING,
        "SourceIdentity": _STRING,
    },
}


class EncodedQuery(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class StsQuery:
    """Encode and parse AssumeRole and AssumeRoleWithWebIdentity (the :class:`Model` methods they need)."""

    api_version = API_VERSION

    def request(self, operation: str, params: Mapping[str, Any]) -> EncodedQuery:
        members = _INPUTS[operation]
        pairs = [("Action", operation), ("Version", API_VERSION)]
        for name, value in params.items():
            kind = members.get(name)
            if kind == _INTEGER and isinstance(value, int) and not isinstance(value, bool):
                pairs.append((name, str(value)))
            elif kind == _STRING and isinstance(value, str):
                pairs.append((name, value))
            else:
                raise ValidationError(operation, [(name, "not a parameter these credential calls send")])
        body = "&".join(f"{quote_plus(k, safe='')}={quote_plus(v, safe='')}" for k, v in pairs)
        return EncodedQuery("POST", "/", {"Content-Type": CONTENT_TYPE}, body.encode("ascii"))

    def parse(self, operation: str, body: bytes, *, status: int = 200) -> dict[str, Any]:
        from xml.etree import ElementTree

        if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
            raise ParseError("the STS answer declares a document type; refused")
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            raise ParseError(f"the STS answer (HTTP {status}) is not an XML document") from None
        if _local(root.tag) == "ErrorResponse":
            raise _error(root, status)
        if status >= 300 or _local(root.tag) != f"{operation}Response":
            raise ParseError(f"the STS answer (HTTP {status}) is not a {operation}Response document")
        result_node = _child(root, f"{operation}Result")
        result = _structure(result_node, _OUTPUTS[operation]) if result_node is not None else {}
        request_id = _text(_child(_child(root, "ResponseMetadata"), "RequestId"))
        result["ResponseMetadata"] = {"RequestId": request_id} if request_id is not None else {}
        return result


def _child(node: Any, name: str) -> Any:
    if node is None:
        return None
    return next((child for child in node if _local(child.tag) == name), None)


def _text(node: Any) -> str | None:
    return None if node is None else (node.text or "")


def _structure(node: Any, shape: Shape) -> dict[str, Any]:
    from ...protocol._time import parse_timestamp

    out: dict[str, Any] = {}
    for child in node:
        name = _local(child.tag)
        kind = shape.get(name)
        if kind is None:
            continue
        if isinstance(kind, dict):
            out[name] = _structure(child, kind)
            continue
        text = child.text or ""
        try:
            out[name] = int(text) if kind == _INTEGER else parse_timestamp(text) if kind == _TIMESTAMP else text
        except ValueError:
            raise ParseError(f"the STS answer's {name} is not a valid {kind}") from None
    return out


def _error(root: Any, status: int) -> ServiceError:
    error = _child(root, "Error")
    code = _text(_child(error, "Code")) or str(status)
    message = _text(_child(error, "Message")) or ""
    request_id = _text(_child(root, "RequestId"))
    return ServiceError(code, message, request_id, status=status)
