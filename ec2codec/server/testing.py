"""Test support: :class:`LocalEC2`, an in-memory EC2 import endpoint for tests, as a context manager.

moto does not implement ImportSnapshot; LocalEC2 does (ImportSnapshot,
DescribeImportSnapshotTasks, CancelImportTask), behind real HTTP and real
SigV4 checks, so any client -- ec2codec, boto3, the AWS CLI -- can be pointed
at it::

    with LocalEC2(time_scale=0.5) as ec2:
        client = boto3.client("ec2", endpoint_url=ec2.endpoint_url, region_name=ec2.region,
                              aws_access_key_id=ec2.credentials.access_key,
                              aws_secret_access_key=ec2.credentials.secret_key)
        subprocess.run(["aws", "ec2", "describe-import-snapshot-tasks"], env={**os.environ, **ec2.env()})

Each instance has its own random key pair and its own tasks; ``time_scale``
is how many seconds a whole import takes, ``request_timeout`` how long one
request may take to arrive, and ``max_tasks`` how many tasks it keeps.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from types import TracebackType

from ..auth.sigv4 import Credentials
from ._importtasks import DEFAULT_MAX_TASKS, ImportTasks
from .httpd import DEFAULT_REQUEST_TIMEOUT, LocalEC2Server

__all__ = ["LocalEC2"]


def _test_credentials() -> Credentials:
    # AWS-shaped (AKIA + 16 upper-case alphanumerics) so tools that check the form accept it.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    access_key = "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))
    return Credentials(access_key, secrets.token_urlsafe(30))


class LocalEC2:
    """Start LocalEC2 on a free port for the ``with`` block; stop it (threads joined, port released) after.

    ``credentials`` is the instance's test key pair; ``extra_credentials``
    are further pairs it accepts (with a token, requests must carry it).
    Requests must be signed for ``region``. ``request_timeout`` and
    ``max_tasks`` are :class:`~ec2codec.server.httpd.LocalEC2Server`'s.
    """

    def __init__(
        self,
        *,
        time_scale: float = 2.0,
        port: int = 0,
        host: str = "127.0.0.1",
        region: str = "us-east-1",
        extra_credentials: Iterable[Credentials] = (),
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_tasks: int = DEFAULT_MAX_TASKS,
    ) -> None:
        self.region = region
        self.credentials = _test_credentials()
        self.tasks = ImportTasks(time_scale=time_scale, max_tasks=max_tasks)
        self._server = LocalEC2Server(
            host,
            port,
            credentials=[self.credentials, *extra_credentials],
            region=region,
            tasks=self.tasks,
            request_timeout=request_timeout,
        )
        self._started = False

    def __repr__(self) -> str:
        where = self.endpoint_url if self._started else "stopped"
        return f"<LocalEC2 {where} region={self.region}>"

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>`` while running."""
        return self._server.url

    def start(self) -> LocalEC2:
        """Start serving in a background thread (``with`` does this)."""
        self._server.start()
        self._started = True
        return self

    def stop(self) -> None:
        """Stop serving; idempotent (``with`` does this)."""
        self._server.stop()
        self._started = False

    def env(self) -> dict[str, str]:
        """AWS_* variables pointing the AWS CLI, boto3 or ec2codec's resolver at this endpoint with its key.

        Merge them over the environment (``{**os.environ, **ec2.env()}``) and
        drop any ``AWS_PROFILE`` there: the shared files are pointed at the
        null device, so a named profile would not be found.
        """
        out = {
            "AWS_ACCESS_KEY_ID": self.credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": self.credentials.secret_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL_EC2": self.endpoint_url,
            # No shared-file profile or instance metadata should be consulted for a local endpoint.
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        if self.credentials.token is not None:
            out["AWS_SESSION_TOKEN"] = self.credentials.token
        return out

    def __enter__(self) -> LocalEC2:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
