"""ec2codec: a small, fast, typed codec for the Amazon EC2 Query protocol.

Importing the package is nearly free: it loads only the exception classes.
Every other public name is imported from its module on first access (PEP 562
module ``__getattr__``), the bundled EC2 model is opened on first use, and each
operation's encoder and decoder are compiled the first time they are called.
A program that only encodes never loads lxml; one that never signs never
loads the signer.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import Error, ModelError, ParseError, ServiceError, ValidationError

if TYPE_CHECKING:
    from .codec import Model, decode_request, encode, load_model, operations, parse, request, serialize
    from .credentials import (
        CredentialProvider,
        CredentialsError,
        resolve_credentials,
        resolve_provider,
        resolve_region,
    )
    from .endpoints import Endpoint, EndpointError, resolve_endpoint
    from .query import EncodedRequest
    from .sigv4 import Credentials, presign, sign
    from .xml import ParseLimits, ResponseParser

# Public name -> the module that defines it.
_LAZY = {
    **dict.fromkeys(
        ["Model", "decode_request", "encode", "load_model", "operations", "parse", "request", "serialize"], "codec"
    ),
    **dict.fromkeys(
        ["CredentialProvider", "CredentialsError", "resolve_credentials", "resolve_provider", "resolve_region"],
        "credentials",
    ),
    **dict.fromkeys(["Endpoint", "EndpointError", "resolve_endpoint"], "endpoints"),
    "EncodedRequest": "query",
    **dict.fromkeys(["Credentials", "presign", "sign"], "sigv4"),
    **dict.fromkeys(["ParseLimits", "ResponseParser"], "xml"),
}

__all__ = [
    "CredentialProvider",
    "Credentials",
    "CredentialsError",
    "EncodedRequest",
    "Endpoint",
    "EndpointError",
    "Error",
    "Model",
    "ModelError",
    "ParseError",
    "ParseLimits",
    "ResponseParser",
    "ServiceError",
    "ValidationError",
    "decode_request",
    "encode",
    "load_model",
    "operations",
    "parse",
    "presign",
    "request",
    "resolve_credentials",
    "resolve_endpoint",
    "resolve_provider",
    "resolve_region",
    "serialize",
    "sign",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ec2codec' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return [*__all__, "__version__"]
