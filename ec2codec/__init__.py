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
    from .auth.credentials.chain import (
        ConfigError,
        CredentialProvider,
        CredentialsError,
        RegionError,
        resolve_credentials,
        resolve_provider,
        resolve_region,
    )
    from .auth.sigv4 import Credentials, presign, sign
    from .auth.verification import SignatureError, Verified, verify
    from .client.aio import AsyncClient
    from .client.attempts import TransportError
    from .client.endpoints import Endpoint, EndpointError, resolve_endpoint
    from .client.import_waiter import ImportProgress, ImportTaskFailed, ImportTaskNotFound, wait_import_snapshot
    from .client.pagination import PaginationError, can_paginate, paginate, paginate_items, paginator_names
    from .client.sync import Client
    from .client.waiters import WaiterError, wait, waiter_names
    from .protocol.codec import Model, decode_request, encode, load_model, operations, parse, request, serialize
    from .protocol.query import EncodedRequest
    from .protocol.xml import ParseLimits, ResponseParser
    from .protocol.xml_encode import encode_error, encode_response

# Public name -> the module that defines it.
_LAZY = {
    **dict.fromkeys(
        ["Model", "decode_request", "encode", "load_model", "operations", "parse", "request", "serialize"],
        "protocol.codec",
    ),
    **dict.fromkeys(
        [
            "ConfigError",
            "CredentialProvider",
            "CredentialsError",
            "RegionError",
            "resolve_credentials",
            "resolve_provider",
            "resolve_region",
        ],
        "auth.credentials.chain",
    ),
    **dict.fromkeys(["Endpoint", "EndpointError", "resolve_endpoint"], "client.endpoints"),
    "EncodedRequest": "protocol.query",
    **dict.fromkeys(["Credentials", "presign", "sign"], "auth.sigv4"),
    **dict.fromkeys(["ParseLimits", "ResponseParser"], "protocol.xml"),
    **dict.fromkeys(["encode_error", "encode_response"], "protocol.xml_encode"),
    **dict.fromkeys(["SignatureError", "Verified", "verify"], "auth.verification"),
    **dict.fromkeys(
        ["PaginationError", "can_paginate", "paginate", "paginate_items", "paginator_names"], "client.pagination"
    ),
    **dict.fromkeys(["WaiterError", "wait", "waiter_names"], "client.waiters"),
    **dict.fromkeys(
        ["ImportProgress", "ImportTaskFailed", "ImportTaskNotFound", "wait_import_snapshot"], "client.import_waiter"
    ),
    # The client is the only module that imports requests; it loads on first use.
    "Client": "client.sync",
    # The asyncio client, the only module that imports aiohttp (the extra ec2codec[async]).
    "AsyncClient": "client.aio",
    "TransportError": "client.attempts",
}

__all__ = [
    "AsyncClient",
    "Client",
    "ConfigError",
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
    "RegionError",
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
    "paginate",
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

__version__ = "0.2.0"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ec2codec' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return [*__all__, "__version__"]
