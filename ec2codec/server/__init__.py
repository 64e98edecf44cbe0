"""The server layer: LocalEC2, an in-memory EC2 import endpoint over real HTTP.

Owns the HTTP server and request handling (:mod:`.httpd`), the import-task
state machine (:mod:`._importtasks`) and the test context manager
(:mod:`.testing`).

May import: every lower layer (errors, model, protocol, auth, client) and the
standard library.
"""
