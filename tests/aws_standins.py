"""Stand-ins for the services behind the credential sources, all on one HTTP server on 127.0.0.1.

:class:`AwsStandIn` answers

* STS (``POST /``): forwarded to a moto server (moto implements AssumeRole and
  AssumeRoleWithWebIdentity), except a role whose ARN ends in ``role/denied``,
  which gets STS's ``AccessDenied`` error document. Each request is recorded
  as sent (method, path, headers, body) with its signature checked by
  :func:`ec2codec.verify` against every key the stand-in knows. An answer is
  replayed for a request whose body is the same (the generated
  ``botocore-session-<seconds>`` name aside), so two clients making the same
  calls one after the other get the same credentials, and a client whose
  request differs gets different ones;
* the SSO portal (``GET /federation/credentials``) for the access tokens in
  ``tokens``, with credentials that depend only on the role and account;
* SSO OIDC (``POST /token``) for the refresh tokens in ``refresh_tokens``;
* a container credentials endpoint (``GET /container``) and IMDS
  (``/latest/...``), each with fixed credentials.

Point botocore and ec2codec at it with ``AWS_ENDPOINT_URL_STS``,
``AWS_ENDPOINT_URL_SSO``, ``AWS_ENDPOINT_URL_SSO_OIDC``,
``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and ``AWS_EC2_METADATA_SERVICE_ENDPOINT``
(:meth:`AwsStandIn.env`).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import pytest

import ec2codec
from ec2codec.auth.sigv4 import Credentials

SESSION_NAME = re.compile(rb"botocore-session-\d+")
ACCESS_DENIED = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    "<Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/dev is not authorized to perform: "
    "sts:AssumeRole on resource: {arn}</Message></Error><RequestId>denied-1</RequestId></ErrorResponse>"
)


class Recorded(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    signature: str  # "valid", "unsigned", or the SignatureError reason


def _whole_seconds(when: datetime) -> datetime:
    return when.replace(microsecond=0)


class AwsStandIn:
    """STS (via moto), the SSO portal and OIDC, a container endpoint and IMDS; see the module docstring."""

    def __init__(self, moto_url: str) -> None:
        self.moto_url = moto_url
        self.requests: list[Recorded] = []
        self.tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.keys: dict[str, Credentials] = {}
        self._replay: dict[bytes, bytes] = {}
        self._lock = threading.Lock()
        expires = _whole_seconds(datetime.now(timezone.utc) + timedelta(hours=2))
        self.sso_expiration_ms = int(expires.timestamp()) * 1000
        self.fixed = {
            "container": Credentials("ASIACONTAINER", "container-secret", "container-token", expires),
            "imds": Credentials("ASIAIMDS", "imds-secret", "imds-token", expires),
        }
        for credentials in self.fixed.values():
            self.know(credentials)
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, status: int, body: str | bytes, headers: dict[str, str] | None = None) -> None:
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self) -> None:
                body = self._body()
                if self.path == "/token":
                    self._reply(*standin.create_token(body))
                else:
                    self._reply(*standin.sts(self.path, dict(self.headers.items()), body))

            def do_GET(self) -> None:
                self._reply(*standin.get(self.path, dict(self.headers.items())))

            def do_PUT(self) -> None:
                self._body()
                if self.path == "/latest/api/token":
                    self._reply(200, "imds-session")
                else:
                    self._reply(404, "")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL_STS": self.url,
            "AWS_ENDPOINT_URL_SSO": self.url,
            "AWS_ENDPOINT_URL_SSO_OIDC": self.url,
        }

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def know(self, credentials: Credentials) -> None:
        with self._lock:
            self.keys[credentials.access_key] = credentials

    def lookup(self, access_key: str) -> Credentials | None:
        with self._lock:
            return self.keys.get(access_key)

    def sso_credentials(self, role: str, account: str) -> Credentials:
        digest = hashlib.sha256(f"{role}/{account}".encode()).hexdigest()[:12].upper()
        expires = datetime.fromtimestamp(self.sso_expiration_ms / 1000, timezone.utc)
        return Credentials(f"ASIASSO{digest}", f"sso-secret-{digest}", f"sso-token-{digest}", expires)

    # -- STS -----------------------------------------------------------------------

    def _check_signature(self, path: str, headers: dict[str, str], body: bytes) -> str:
        if not any(name.lower() == "authorization" for name in headers):
            return "unsigned"
        try:
            ec2codec.verify("POST", f"{self.url}{path}", headers, body, self.lookup, service="sts")
        except ec2codec.SignatureError as exc:
            return exc.reason
        return "valid"

    def sts(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, dict[str, str]]:
        signature = self._check_signature(path, headers, body)
        self.requests.append(Recorded("POST", path, headers, body, signature))
        form = parse_qs(body.decode())
        arn = form.get("RoleArn", [""])[0]
        if arn.endswith(":role/denied"):
            return 403, ACCESS_DENIED.format(arn=arn).encode(), {"Content-Type": "text/xml"}
        key = SESSION_NAME.sub(b"botocore-session-N", body)
        with self._lock:
            answer = self._replay.get(key)
        if answer is None:
            answer = self._forward(path, headers, body)
            with self._lock:
                self._replay[key] = answer
        return 200, answer, {"Content-Type": "text/xml"}

    def _forward(self, path: str, headers: dict[str, str], body: bytes) -> bytes:
        from ec2codec.protocol.codec import bundled

        parts = urlsplit(self.moto_url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
            conn.request("POST", path, body=body, headers=sent)
            answer = conn.getresponse().read()
        finally:
            conn.close()
        operation = parse_qs(body.decode())["Action"][0]
        found = bundled("sts").parse(operation, answer)["Credentials"]
        self.know(
            Credentials(found["AccessKeyId"], found["SecretAccessKey"], found["SessionToken"], found["Expiration"])
        )
        return answer

    # -- SSO, container, IMDS --------------------------------------------------------

    def create_token(self, body: bytes) -> tuple[int, str, dict[str, str]]:
        request = json.loads(body)
        refresh = request.get("refreshToken")
        if request.get("grantType") != "refresh_token" or refresh not in self.refresh_tokens:
            return 400, json.dumps({"error": "invalid_grant", "error_description": "bad refresh token"}), {}
        access = f"renewed-{refresh}"
        self.tokens.add(access)
        answer = {"accessToken": access, "tokenType": "Bearer", "expiresIn": 28800, "refreshToken": f"{refresh}-next"}
        return 200, json.dumps(answer), {"Content-Type": "application/json"}

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        parts = urlsplit(path)
        if parts.path == "/federation/credentials":
            query = parse_qs(parts.query)
            token = next((v for k, v in headers.items() if k.lower() == "x-amz-sso_bearer_token"), None)
            if token not in self.tokens:
                error = {"message": "Session token not found or invalid"}
                return 401, json.dumps(error), {"x-amzn-ErrorType": "UnauthorizedException"}
            found = self.sso_credentials(query["role_name"][0], query["account_id"][0])
            self.know(found)
            role = {
                "accessKeyId": found.access_key,
                "secretAccessKey": found.secret_key,
                "sessionToken": found.token,
                "expiration": self.sso_expiration_ms,
            }
            return 200, json.dumps({"roleCredentials": role}), {"Content-Type": "application/json"}
        kind = "container" if parts.path == "/container" else "imds"
        if parts.path == "/latest/meta-data/iam/security-credentials/":
            return 200, "imds-role", {}
        if parts.path in ("/container", "/latest/meta-data/iam/security-credentials/imds-role"):
            found = self.fixed[kind]
            assert found.expiration is not None and found.token is not None
            document = {
                "Code": "Success",
                "AccessKeyId": found.access_key,
                "SecretAccessKey": found.secret_key,
                "Token": found.token,
                "Expiration": found.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            return 200, json.dumps(document), {"Content-Type": "application/json"}
        return 404, "", {}


@pytest.fixture(scope="module")
def moto_standin() -> Iterator[AwsStandIn]:
    """A stand-in in front of a moto server of its own, for the tests of one module."""
    moto_server = pytest.importorskip("moto.server")
    moto = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    server = AwsStandIn(f"http://{host}:{port}")
    try:
        yield server
    finally:
        server.close()
        moto.stop()
