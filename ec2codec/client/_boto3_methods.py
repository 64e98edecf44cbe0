"""The boto3-shaped methods of :class:`ec2codec.client.sync.Client`, for code ported from boto3.

``get_paginator``, ``can_paginate``, ``get_waiter``, ``waiter_names``,
``exceptions`` and ``generate_presigned_url`` take boto3's snake_case names
and arguments and behave as a boto3 EC2 client's do (the objects they return
are in :mod:`ec2codec.client.compat`). This mixin holds only the argument
handling; the client supplies ``call``, its sleep and the presigning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from ._names import reverse

if TYPE_CHECKING:
    from ..model.service import ServiceModel
    from .compat import ClientExceptions, ClientPaginator, ClientWaiter

__all__ = ["Boto3Methods"]


class Boto3Methods:
    """boto3's client helpers over the client's ``call`` (see :mod:`ec2codec.client.compat`)."""

    _service: ServiceModel
    _sleep: Callable[[float], object]

    def call(self, operation: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        raise NotImplementedError  # the client's

    def _presigned_url(self, operation: str, params: Any, expires: int, method: str | None) -> str:
        raise NotImplementedError  # the client's

    def _methods(self) -> dict[str, str]:
        # boto3's method name -> operation, once per model; stored only complete, so reading it needs no lock.
        methods: dict[str, str] | None = self._service.cache.get("boto3-methods")
        if methods is None:
            methods = self._service.cache["boto3-methods"] = reverse(self._service.operation_names())
        return methods

    def get_paginator(self, operation_name: str) -> ClientPaginator:
        """boto3's paginator for ``operation_name`` (snake_case): ``.paginate(**params, PaginationConfig={...})``."""
        from .compat import get_paginator

        return get_paginator(self.call, operation_name, self._methods())

    def can_paginate(self, operation_name: str) -> bool:
        """boto3's ``can_paginate``: whether ``operation_name`` (snake_case) has a paginator."""
        from .compat import can_paginate

        return can_paginate(operation_name)

    def get_waiter(self, waiter_name: str) -> ClientWaiter:
        """boto3's waiter ``waiter_name`` (snake_case): ``.wait(**params, WaiterConfig={"Delay", "MaxAttempts"})``."""
        from .compat import get_waiter

        return get_waiter(self.call, waiter_name, self._sleep)

    @property
    def waiter_names(self) -> list[str]:
        """Every waiter by boto3's name, sorted."""
        from .compat import snake_waiter_names

        return snake_waiter_names()

    @property
    def exceptions(self) -> ClientExceptions:
        """boto3's ``client.exceptions``: ``except client.exceptions.ClientError`` catches ServiceError."""
        from .compat import ClientExceptions

        return ClientExceptions()

    def generate_presigned_url(
        self,
        ClientMethod: str,  # boto3's argument names
        Params: Mapping[str, Any] | None = None,
        ExpiresIn: int = 3600,
        HttpMethod: str | None = None,
    ) -> str:
        """boto3's ``generate_presigned_url``: the call as a SigV4 query-signed URL, valid ``ExpiresIn`` seconds.

        As in botocore, the params are prepared as for sending (aliases,
        ``UserData``, idempotency tokens) but CopySnapshot gets no
        ``PresignedUrl`` of its own; see :func:`.customizations.presigned_url`.
        """
        operation = self._methods().get(ClientMethod) if isinstance(ClientMethod, str) else None
        problems = []
        if operation is None:
            problems.append(("ClientMethod", f"no client method {ClientMethod!r} (boto3's snake_case names)"))
        if isinstance(ExpiresIn, bool) or not isinstance(ExpiresIn, int) or ExpiresIn < 1:
            problems.append(("ExpiresIn", f"expected seconds as an int >= 1, got {ExpiresIn!r}"))
        if HttpMethod is not None and not isinstance(HttpMethod, str):
            problems.append(("HttpMethod", f"expected str or None, got {type(HttpMethod).__name__}"))
        if problems or operation is None:
            raise ValidationError("generate_presigned_url", problems)
        return self._presigned_url(operation, Params, ExpiresIn, HttpMethod)
