"""The public codec facade: :class:`Model` and the module-level functions bound to the default EC2 model.

This module sits above the model, the encoder and the decoder and only wires
them together; it owns argument normalisation (unknown operation, ``None``
params), the protocols a model may use (``ec2``, and ``query`` for awsQuery
services such as STS) and nothing else. The default model is the bundled one, or the model
``$EC2CODEC_MODEL`` names (:func:`ec2codec.model.service.default_model`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ModelError, ValidationError
from ..model.service import ServiceModel, bundled_model, default_model, model_from
from .query import COMPRESS_MIN_BYTES, EncodedRequest, OperationEncoder, TokenFactory, encoder_for

if TYPE_CHECKING:
    from .xml import Body, ParseLimits

__all__ = [
    "PROTOCOLS",
    "Model",
    "bundled",
    "decode_request",
    "encode",
    "load_model",
    "operations",
    "parse",
    "request",
    "serialize",
]

# botocore's names: "ec2" is the EC2 Query protocol, "query" is awsQuery (Smithy aws.protocols#awsQuery).
PROTOCOLS = ("ec2", "query")


class Model:
    """A service model with the codec's operations bound to it.

    ``ec2codec.load_model(...)`` returns one for any botocore-format model using
    the ``ec2`` or ``query`` (awsQuery) protocol; the module-level functions use
    the default one (the bundled EC2 model unless ``$EC2CODEC_MODEL`` names
    another), and :func:`bundled` gives each bundled service's.
    """

    def __init__(self, service: ServiceModel) -> None:
        if service.protocol and service.protocol not in PROTOCOLS:
            raise ModelError(
                f"ec2codec speaks the ec2 protocol and awsQuery (query); this model uses {service.protocol!r}"
            )
        self.service = service
        # Operation name -> its compiled encoder (compiled once per model, see
        # encoder_for), so a call skips the name check and the cache key.
        self._encoders: dict[str, OperationEncoder] = {}

    def __repr__(self) -> str:
        return f"<ec2codec.Model {self.service.metadata.get('serviceId', '?')} {self.api_version}>"

    @property
    def api_version(self) -> str:
        return self.service.api_version

    def operations(self) -> list[str]:
        """Every operation name, sorted."""
        return self.service.operation_names()

    def _encoder(self, operation: str) -> OperationEncoder:
        found = self._encoders.get(operation) if type(operation) is str else None
        if found is None:
            if not self.service.has_operation(operation):
                raise ValidationError(str(operation), [("", f"unknown operation {operation!r}")])
            found = self._encoders[operation] = encoder_for(self.service, operation)
        return found

    def serialize(
        self, operation: str, params: Mapping[str, Any] | None = None, *, token_factory: TokenFactory | None = None
    ) -> list[tuple[str, str]]:
        """``[("Action", op), ("Version", v), *params]`` in botocore's order (unencoded)."""
        return self._encoder(operation).serialize(params, token_factory)

    def encode(
        self, operation: str, params: Mapping[str, Any] | None = None, *, token_factory: TokenFactory | None = None
    ) -> bytes:
        """The ``application/x-www-form-urlencoded`` body botocore would send."""
        found = self._encoders.get(operation) if type(operation) is str else None  # _encoder's hit, inline
        return (found or self._encoder(operation)).encode(params, token_factory)

    def request(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        token_factory: TokenFactory | None = None,
        compress_min_bytes: int | None = COMPRESS_MIN_BYTES,
    ) -> EncodedRequest:
        """Body plus method, path, headers and expanded ``hostPrefix`` (unsigned)."""
        return self._encoder(operation).request(params, token_factory, compress_min_bytes)

    def decode_request(self, body: bytes | str) -> tuple[str, dict[str, Any]]:
        """The server side: ``(operation, params)`` from a form-encoded request body."""
        # Server side: not loaded by clients.
        if self.service.protocol == "query":
            from ._awsquerydecode import decode_request as decode_awsquery

            return decode_awsquery(body, self.service)
        from .query_decode import decode_request

        return decode_request(body, self.service)

    def encode_response(self, operation: str, result: Mapping[str, Any], request_id: str) -> bytes:
        """The server side: the XML document EC2 sends for ``operation`` returning ``result``."""
        from .xml_encode import encode_response  # server side: not loaded by clients

        return encode_response(operation, result, request_id, model=self.service)

    def encode_error(
        self, code: str, message: str, request_id: str, *, fault: str = "Sender", errors: Sequence[tuple[str, str]] = ()
    ) -> bytes:
        """The server side: this protocol's error document (EC2 ``<Response>``, awsQuery ``<ErrorResponse>``)."""
        from .xml_encode import encode_error

        return encode_error(code, message, request_id, errors=errors, model=self.service, fault=fault)

    def parse(
        self, operation: str, body: Body, *, limits: ParseLimits | None = None, status: int | None = None
    ) -> dict[str, Any]:
        """Decode a response body (bytes, str, iterable of chunks, binary file) into botocore's dict.

        Raises ServiceError for an EC2 error document and ParseError for anything
        else that is not a response to ``operation`` (see :mod:`ec2codec.protocol.xml`).
        """
        return (_parse_response or _import_parser())(self.service, operation, body, limits=limits, status=status)


_parse_response: Callable[..., dict[str, Any]] | None = None


def _import_parser() -> Callable[..., dict[str, Any]]:
    # lxml is loaded by the first parse, not by import; the global spares each
    # later parse a function-level import (about a microsecond).
    global _parse_response
    from .xml import parse_response

    _parse_response = parse_response
    return parse_response


def load_model(source: str | os.PathLike[str] | Mapping[str, Any]) -> Model:
    """A :class:`Model` from a botocore-format dict or a path.

    The path is a botocore ``service-2.json`` or ``service-2.json.gz``, a
    botocore service folder such as ``botocore/data/ec2`` (the newest API
    version inside is used), one API-version folder, or an ec2codec bundle.
    A folder's ``paginators-1.json`` and ``waiters-2.json`` come with the model
    (``model.service.paginators``/``.waiters``). Errors are ``ModelError``
    naming the path.
    """
    return Model(model_from(source))


_DEFAULT: Model | None = None
_BUNDLED: dict[str, Model] = {}


def _default() -> Model:
    # The bundled EC2 model, or the one $EC2CODEC_MODEL names (read once; see default_model).
    global _DEFAULT
    service = default_model()
    if _DEFAULT is None or _DEFAULT.service is not service:
        _DEFAULT = Model(service)
    return _DEFAULT


def bundled(service: str = "ec2") -> Model:
    """The :class:`Model` of a service bundled with the package: ``"ec2"`` or ``"sts"`` (opened on first use)."""
    found = _BUNDLED.get(service) if isinstance(service, str) else None
    if found is None:
        found = _BUNDLED.setdefault(service, Model(bundled_model(service)))
    return found


def operations() -> list[str]:
    """Every operation of the default EC2 model."""
    return _default().operations()


def serialize(
    operation: str, params: Mapping[str, Any] | None = None, *, token_factory: TokenFactory | None = None
) -> list[tuple[str, str]]:
    """Serialise ``params`` for ``operation`` of the default EC2 model (see :meth:`Model.serialize`)."""
    return _default().serialize(operation, params, token_factory=token_factory)


def encode(
    operation: str, params: Mapping[str, Any] | None = None, *, token_factory: TokenFactory | None = None
) -> bytes:
    """Encode the request body for ``operation`` of the default EC2 model (see :meth:`Model.encode`)."""
    return _default().encode(operation, params, token_factory=token_factory)


def request(
    operation: str,
    params: Mapping[str, Any] | None = None,
    *,
    token_factory: TokenFactory | None = None,
    compress_min_bytes: int | None = COMPRESS_MIN_BYTES,
) -> EncodedRequest:
    """The unsigned request for ``operation`` of the default EC2 model (see :meth:`Model.request`)."""
    return _default().request(operation, params, token_factory=token_factory, compress_min_bytes=compress_min_bytes)


def decode_request(body: bytes | str) -> tuple[str, dict[str, Any]]:
    """Decode an EC2 request body against the bundled model (see :meth:`Model.decode_request`)."""
    return _default().decode_request(body)


def parse(
    operation: str, body: Body, *, limits: ParseLimits | None = None, status: int | None = None
) -> dict[str, Any]:
    """Decode a response to ``operation`` of the default EC2 model (see :meth:`Model.parse`)."""
    # Straight to the decoder (not through _default().parse): one call less on the hot path.
    return (_parse_response or _import_parser())(default_model(), operation, body, limits=limits, status=status)
