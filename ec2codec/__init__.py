"""ec2codec: a small, fast, typed codec for the Amazon EC2 Query protocol.

Importing the package is cheap: it loads no model data, no lxml and no
requests; the bundled EC2 model is opened on first use and each operation's
encoder is compiled the first time it is called.
"""

from __future__ import annotations

from .codec import Model, decode_request, encode, load_model, operations, parse, request, serialize
from .credentials import CredentialProvider, CredentialsError, resolve_credentials, resolve_provider, resolve_region
from .endpoints import Endpoint, EndpointError, resolve_endpoint
from .errors import Error, ModelError, ParseError, ServiceError, ValidationError
from .query import EncodedRequest
from .sigv4 import Credentials, presign, sign
from .xml import ParseLimits, ResponseParser

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
