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
    from .client import Client, TransportError
    from .codec import Model, decode_request, encode, load_model, operations, parse, request, serialize
    from .credentials import (
        CredentialProvider,
        CredentialsError,
        resolve_credentials,
        resolve_provider,
        resolve_region,
    )
    from .endpoints import Endpoint, EndpointError, resolve_endpoint
    from .import_waiter import ImportProgress, ImportTaskFailed, ImportTaskNotFound, wait_import_snapshot
    from .paginate import PaginationError, can_paginate, paginate_items, paginator_names
    from .query import EncodedRequest
    from .sigv4 import Credentials, presign, sign
    from .verify import SignatureError, Verified, verify
    from .waiters import WaiterError, wait, waiter_names
    from .xml import ParseLimits, ResponseParser
    from .xml_encode import encode_error, encode_response

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
    **dict.fromkeys(["encode_error", "encode_response"], "xml_encode"),
    **dict.fromkeys(["SignatureError", "Verified", "verify"], "verify"),
    # Not ``paginate`` itself: that name is the submodule, which Python binds
    # on ``ec2codec`` as soon as anything imports it (the client does).
    **dict.fromkeys(["PaginationError", "can_paginate", "paginate_items", "paginator_names"], "paginate"),
    **dict.fromkeys(["WaiterError", "wait", "waiter_names"], "waiters"),
    **dict.fromkeys(
        ["ImportProgress", "ImportTaskFailed", "ImportTaskNotFound", "wait_import_snapshot"], "import_waiter"
    ),
    # The client is the only module that imports requests; it loads on first use.
    **dict.fromkeys(["Client", "TransportError"], "client"),
}

__all__ = [
    "Client",
    "CredentialProvider",
    "Credentials",
    "CredentialsError",
    "EncodedRequest",
    "Endpoint",
    "EndpointError",
    "Error",
    "ImportProgress",
    "ImportTaskFailed",
    "ImportTaskNotFound",
    "Model",
    "ModelError",
    "PaginationError",
    "ParseError",
    "ParseLimits",
    "ResponseParser",
    "ServiceError",
    "SignatureError",
    "TransportError",
    "ValidationError",
    "Verified",
    "WaiterError",
    "can_paginate",
    "decode_request",
    "encode",
    "encode_error",
    "encode_response",
    "load_model",
    "operations",
    "paginate_items",
    "paginator_names",
    "parse",
    "presign",
    "request",
    "resolve_credentials",
    "resolve_endpoint",
    "resolve_provider",
    "resolve_region",
    "serialize",
    "sign",
    "verify",
    "wait",
    "wait_import_snapshot",
    "waiter_names",
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
