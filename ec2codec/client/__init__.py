"""The client layer: everything that turns the codec into calls over a network.

Owns the synchronous HTTP client (:mod:`.sync`, the only importer of requests),
the asyncio client (:mod:`.aio`, the only importer of aiohttp, an optional
extra), what both share (:mod:`._shared`) and the sans-I/O decisions they
apply (:mod:`.attempts`, the per-call retry and clock-skew state machine, over
the policy in :mod:`._retry`), endpoint resolution (:mod:`.endpoints`,
:mod:`._rules`), pagination (:mod:`.pagination`), waiters (:mod:`.waiters`,
:mod:`.import_waiter`; their loops are sans-I/O generators run by the drivers
of :mod:`._steps`), the wire log's redaction (:mod:`._wirelog`) and the
generated per-operation methods (:mod:`._client_methods`).

May import: every lower layer (errors, model, protocol, auth), requests (only
:mod:`.sync`), aiohttp (only :mod:`.aio`) and jmespath.
"""
