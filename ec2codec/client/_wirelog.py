"""What the client's wire log may show: request and response text with secrets redacted.

Redacted: the ``Signature=`` of ``Authorization``, the ``X-Amz-Security-Token``
value, and any request value or response element whose name contains one of
:data:`SECRET_WORDS` (case-insensitive; e.g. ``UserData``, ``keyMaterial``,
``passwordData``, ``PreSharedKey``), with every element nested inside such an
element. Names, not the model's ``sensitive`` trait, decide: the log must be
safe even for shapes a newer EC2 model adds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["SECRET_WORDS", "redact_body", "redact_headers", "redact_xml"]

SECRET_WORDS = (
    "password",
    "secret",
    "userdata",
    "presharedkey",
    "keymaterial",
    "privatekey",
    "signature",
    "presignedurl",
    "manifesturl",
    "uploadpolicy",
    "maccredentials",
    "gatewayconfiguration",
    "sampleconfiguration",
)
_SIGNATURE = re.compile(r"(Signature=)[0-9a-fA-F]+")
_TAG = re.compile(rb"<(/?)([A-Za-z_][\w:.-]*)[^<>]*?(/?)>")


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


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
    return "&".join(f"{pair.partition('=')[0]}=***" if _is_secret(pair.partition("=")[0]) else pair for pair in pairs)


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
    return b"".join(out).decode("utf-8", "replace")
