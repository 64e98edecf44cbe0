"""What the client's wire log may show: request and response text with secrets redacted.

Redacted: the ``Signature=`` of ``Authorization``, the ``X-Amz-Security-Token``
value, and any request value or response element whose name contains one of
:data:`SECRET_WORDS` (case-insensitive, punctuation ignored; e.g. ``UserData``,
``keyMaterial``, ``passwordData``, ``PreSharedKey``, ``X-Amz-Security-Token``),
with every element nested inside such an element. Names, not the model's
``sensitive`` trait, decide: the log must be safe even for shapes a newer EC2
model adds.

A presigned URL can travel inside a harmless-looking value (``DiskContainer.Url``
of ImportSnapshot, echoed back as ``SnapshotTaskDetail.Url``), so the query
parameters that carry a signature or a session token (SigV4 ``X-Amz-Signature``
and ``X-Amz-Security-Token``, SigV2 ``Signature``; AWS "Authenticating
Requests: Using Query Parameters") are redacted wherever they appear in a
logged body: as written, percent-encoded once or twice inside a form value,
or between ``&amp;`` in XML text. The rest of such a URL (bucket, key,
``X-Amz-Credential``'s access key id and scope, dates) stays readable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote_plus

__all__ = ["SECRET_WORDS", "redact_body", "redact_headers", "redact_text", "redact_xml"]

SECRET_WORDS = (
    "password",
    "secret",
    "userdata",
    "presharedkey",
    "keymaterial",
    "privatekey",
    "signature",
    "securitytoken",
    "sessiontoken",
    "presignedurl",
    "manifesturl",
    "uploadpolicy",
    "maccredentials",
    "gatewayconfiguration",
    "sampleconfiguration",
)
_SIGNATURE = re.compile(r"(Signature=)[0-9a-fA-F]+")
_TAG = re.compile(rb"<(/?)([A-Za-z_][\w:.-]*)[^<>]*?(/?)>")
_NOT_ALNUM = re.compile(r"[^0-9a-z]")
# A secret query parameter: its name at the start of a parameter (after "?",
# "&", "&amp;", a blank or a quote, or after an encoded "?" / "&"), then "=",
# plain or encoded, then its value up to the next parameter or the end of the
# text. Encoded up to twice: a URL in a form value, or a URL in a URL's value.
_URL_SECRET = re.compile(
    r"""(?:^|(?<=[?&;\s"'<>,(])|(?<=%3F)|(?<=%26)|(?<=%253F)|(?<=%2526))
    (x-amz-signature|x-amz-security-token|signature)
    (=|%3D|%253D)
    (?:(?!%26|%2526)[^&\s"'<>#])*""",
    re.IGNORECASE | re.VERBOSE,
)


def _is_secret(name: str) -> bool:
    flat = _NOT_ALNUM.sub("", name.lower())
    return any(word in flat for word in SECRET_WORDS)


def redact_text(text: str) -> str:
    """``text`` with the value of every signature or session-token query parameter replaced by ``***``."""
    return _URL_SECRET.sub(r"\1\2***", text)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` with the SigV4 signature and the session token replaced by ``***``."""
    out = dict(headers)
    for name, value in headers.items():
        lowered = name.lower()
        if lowered == "authorization":
            out[name] = _SIGNATURE.sub(r"\1***", value)
        elif lowered == "x-amz-security-token":
            out[name] = "***"
    return out


def redact_body(body: bytes, headers: Mapping[str, str]) -> str:
    """A form body for the log, the value of every key naming a secret replaced by ``***``."""
    if any(name.lower() == "content-encoding" for name in headers):
        return f"<{len(body)} compressed bytes>"
    pairs = body.decode("ascii", "replace").split("&")
    out = []
    for pair in pairs:
        key, eq, value = pair.partition("=")
        out.append(f"{key}=***" if _is_secret(unquote_plus(key)) else key + eq + redact_text(value))
    return "&".join(out)


def redact_xml(snippet: bytes | bytearray) -> str:
    """The start of a response document for the log, the text inside secret-named elements replaced by ``***``."""
    out: list[bytes] = []
    depth = 0  # how many open elements name a secret
    at = 0
    for match in _TAG.finditer(snippet):
        text = snippet[at : match.start()]
        out.append(b"***" if depth and text.strip() else bytes(text))
        out.append(match.group(0))
        closing, name, empty = match.group(1), match.group(2).decode("ascii", "replace"), match.group(3)
        if not empty and (depth or _is_secret(name)):
            depth += -1 if closing else 1
        at = match.end()
    tail = snippet[at:]
    out.append(b"***" if depth and tail.strip() else bytes(tail))
    return redact_text(b"".join(out).decode("utf-8", "replace"))
