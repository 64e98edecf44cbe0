"""botocore's EC2 customizations as plain functions: what boto3 does to a call beyond the model.

The codec stays byte-identical to botocore's *serializer*; a boto3 EC2 client
does more than serialize, through handlers that botocore registers on its
event system (``botocore/handlers.py``, ``BUILTIN_HANDLERS``). This module owns
those that apply to EC2, as functions in tables keyed by operation, applied by
:meth:`ec2codec.client.sync.Client.call` and the async client's (through
:mod:`._shared`) at the points where botocore emits the events:

``before-parameter-build`` (:func:`prepare_params`, on the caller's params)
    * ``ec2.*.Filter``: ``Filters`` is accepted as the alias of ``Filter`` for
      the operations whose member is ``Filter`` (DescribeNatGateways,
      DescribeFlowLogs, DescribeHosts, DescribeHostReservations,
      DescribeHostReservationOfferings): ``ParameterAlias.alias_parameter_in_call``.
    * RunInstances: ``UserData`` is base64-encoded (``base64_encode_user_data``).
    * Absent idempotency tokens are filled (``generate_idempotent_uuid``): the
      client does that itself, see :mod:`ec2codec.client.sync`.

``before-call`` (:func:`before_call`, on the validated params)
    * CopySnapshot: ``PresignedUrl`` (a GET CopySnapshot presigned for the
      source region) and ``DestinationRegion`` are added
      (``inject_presigned_url_ec2``); EC2 needs both for encrypted copies
      between regions.
    * Every operation: ``X-Amzn-Trace-Id`` from ``_X_AMZN_TRACE_ID`` inside
      AWS Lambda (``add_recursion_detection_header``, :func:`trace_headers`).

``after-call`` (:func:`after_call`, on the parsed result)
    * GetConsoleOutput: ``Output`` is base64-decoded (``decode_console_output``).

``creating-client-class`` adds ``generate_presigned_url`` to every client:
:func:`presigned_url` is its core.

The others botocore registers for every service do nothing for EC2:
``inject_api_version_header_if_needed`` (no EC2 operation uses endpoint
discovery) and ``_handle_request_validation_mode_member`` (none has an
``httpChecksum`` trait). ``add_retry_headers`` (``amz-sdk-invocation-id``,
``amz-sdk-request``) is SDK telemetry that changes nothing EC2 does, and is
not sent. Each function keeps botocore's semantics, including its parameter
order on the wire (an alias moves its member to the end, as
``params[original] = params.pop(alias)`` does), so bodies stay equal to boto3's.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

from ..auth.sigv4 import Credentials, presign
from ..errors import ValidationError
from ..protocol.query import OperationEncoder
from .endpoints import Endpoint

__all__ = [
    "NOTES",
    "PARAMETER_ALIASES",
    "CallContext",
    "after_call",
    "alias_note",
    "base64_encode_user_data",
    "before_call",
    "decode_console_output",
    "inject_presigned_url_ec2",
    "needs_context",
    "prepare_params",
    "presigned_url",
    "trace_headers",
]

Params = dict[str, Any]

# botocore handlers._add_parameter_aliases: {"ec2.*.Filter": "Filters"}, as original -> alias.
PARAMETER_ALIASES = {"Filter": "Filters"}

# botocore's add_recursion_detection_header: the characters quote() leaves alone.
_TRACE_SAFE = "-=;:+&[]{}\"',"


class CallContext(NamedTuple):
    """What a ``before-call`` customization may use besides the params."""

    region: str  # the client's region (botocore: the request signer's region name)
    url: str  # the request URL, as botocore's request_dict["url"]
    credentials: Credentials  # those the call is signed with
    now: datetime  # the client's clock, skew-corrected
    encoder: OperationEncoder


def base64_encode_user_data(params: Params) -> Params:
    """RunInstances: ``UserData`` as base64 (botocore ``base64_encode_user_data``); text is encoded as UTF-8 first.

    Anything but str or bytes is left for the encoder to reject with its path,
    where botocore lets ``b64encode`` raise a TypeError.
    """
    value = params.get("UserData")
    if isinstance(value, str):
        try:
            value = value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the encoder names the member
            return params
    if not isinstance(value, (bytes, bytearray)):
        return params
    return {**params, "UserData": base64.b64encode(value).decode("utf-8")}  # same position in the body


def decode_console_output(parsed: Params) -> Params:
    """GetConsoleOutput: ``Output`` base64-decoded to text (botocore ``decode_console_output``).

    As botocore: the base64 is read leniently (characters outside the alphabet
    are skipped), bytes that are not UTF-8 become U+FFFD, and a value that does
    not decode at all is left as it came.
    """
    output = parsed.get("Output")
    if not isinstance(output, str):
        return parsed
    try:
        text = base64.b64decode(output.encode("latin-1")).decode("utf-8", "replace")
    except (UnicodeEncodeError, binascii.Error):
        return parsed
    return {**parsed, "Output": text}


def inject_presigned_url_ec2(params: Params, context: CallContext) -> Params:
    """CopySnapshot: add ``PresignedUrl`` and ``DestinationRegion`` (botocore ``inject_presigned_url_ec2``).

    The URL is a GET of the same CopySnapshot (its params plus
    ``DestinationRegion``, in body order) presigned with SigV4 query
    authentication for ``SourceRegion``, valid for an hour, at the client's
    endpoint with the destination region's name replaced by the source's
    (botocore's ``_get_cross_region_presigned_url``, which notes this holds for
    EC2's endpoints). A ``PresignedUrl`` the caller gives is kept, and then
    nothing is added.
    """
    source = params.get("SourceRegion")
    if "PresignedUrl" in params or not isinstance(source, str):
        return params  # without SourceRegion the encoder reports the missing member
    destination = context.region
    copy = dict(params)
    copy["DestinationRegion"] = destination
    query = urlencode(context.encoder.serialize(copy), quote_via=quote)
    url = f"{context.url.replace(destination, source)}?{query}"
    signed = presign("GET", url, context.credentials, source, "ec2", 3600, context.now)
    out = dict(params)
    out["PresignedUrl"] = signed
    out["DestinationRegion"] = destination  # botocore: EC2 needs it on the wire as well
    return out


def presigned_url(
    encoder: OperationEncoder,
    params: Params,
    endpoint: Endpoint,
    credentials: Credentials,
    *,
    now: datetime | None = None,
    expires: int = 3600,
    method: str | None = None,
) -> str:
    """The operation as a presigned URL, as botocore's ``generate_presigned_url`` makes it.

    The serialized params move into the query string ahead of the ``X-Amz-*``
    parameters (``SigV4QueryAuth._modify_request_before_signing``), only
    ``host`` is signed, for the endpoint's signing region and name, and the
    method is the operation's (POST) unless ``method`` is given. ``params``
    must be prepared already (:func:`prepare_params`, idempotency tokens):
    botocore runs ``before-parameter-build`` but not ``before-call`` here.
    """
    url = encoder.request(params).url(endpoint.url)
    query = urlencode(encoder.serialize(params), quote_via=quote)
    method = method or encoder.operation.method
    return presign(method, f"{url}?{query}", credentials, endpoint.signing_region, endpoint.signing_name, expires, now)


# Operation -> its own transform, at each event botocore emits.
_BEFORE_PARAMETER_BUILD: dict[str, Callable[[Params], Params]] = {"RunInstances": base64_encode_user_data}
_BEFORE_CALL: dict[str, Callable[[Params, CallContext], Params]] = {"CopySnapshot": inject_presigned_url_ec2}
_AFTER_CALL: dict[str, Callable[[Params], Params]] = {"GetConsoleOutput": decode_console_output}

NOTES = {
    "RunInstances": "``UserData`` is base64-encoded for you, as boto3 does: pass the script itself.",
    "CopySnapshot": (
        "``PresignedUrl`` and ``DestinationRegion`` are filled in for you (a presigned CopySnapshot for "
        "``SourceRegion``), as boto3 does."
    ),
    "GetConsoleOutput": "``Output`` comes back decoded from base64, as boto3 returns it.",
}
"""One sentence per customized operation, for its generated method's docstring."""


def alias_note(members: Mapping[str, Any]) -> str | None:
    """The docstring sentence for an operation whose input has an aliased member, or None."""
    for original, alias in PARAMETER_ALIASES.items():
        if original in members:
            return f"``{alias}`` is accepted for ``{original}``, as boto3 documents it."
    return None


def prepare_params(operation: str, members: Mapping[str, Any], params: Mapping[str, Any] | None) -> Any:
    """botocore's ``before-parameter-build`` customizations of ``operation`` (``members``: its input members).

    Returns a new dict (the caller's params are never changed), or ``params``
    itself when it is not a mapping, for the encoder to reject.
    """
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        return params
    prepared = dict(params)
    for original, alias in PARAMETER_ALIASES.items():
        if original in members and alias in prepared:
            if original in prepared:
                # botocore: AliasConflictParameterError.
                raise ValidationError(
                    operation, [(alias, f"{alias} is an alias of {original}: give one of them, not both")]
                )
            prepared[original] = prepared.pop(alias)
    transform = _BEFORE_PARAMETER_BUILD.get(operation)
    return transform(prepared) if transform is not None else prepared


def before_call(operation: str, params: Any, context: CallContext) -> Any:
    """botocore's ``before-call`` customizations of ``operation``'s params (a new dict when any applies)."""
    transform = _BEFORE_CALL.get(operation)
    if transform is None or not isinstance(params, dict):
        return params
    return transform(params, context)


def needs_context(operation: str) -> bool:
    """Whether :func:`before_call` has anything to do for ``operation`` (so the context is built only then)."""
    return operation in _BEFORE_CALL


def after_call(operation: str, parsed: Params) -> Params:
    """botocore's ``after-call`` customizations of ``operation``'s parsed result."""
    transform = _AFTER_CALL.get(operation)
    return transform(parsed) if transform is not None else parsed


def trace_headers(environ: Mapping[str, str]) -> dict[str, str]:
    """``X-Amzn-Trace-Id`` inside AWS Lambda (botocore ``add_recursion_detection_header``), else nothing.

    Lambda sets ``_X_AMZN_TRACE_ID`` for each invocation; passing it on lets
    Lambda's recursive loop detection see a function that calls itself through
    AWS. SigV4 leaves the header unsigned (botocore's blacklist), so tracing
    proxies may rewrite it.
    """
    trace_id = environ.get("_X_AMZN_TRACE_ID")
    if "AWS_LAMBDA_FUNCTION_NAME" in environ and trace_id:
        return {"X-Amzn-Trace-Id": quote(trace_id, safe=_TRACE_SAFE)}
    return {}
