"""The wire log's redaction: signatures, secrets and session tokens never reach the log, harmless data does.

The hard case is a presigned URL inside a parameter value (ImportSnapshot's
``DiskContainer.Url``): percent-encoded in the form body, and echoed back by
EC2 between ``&amp;`` in the XML answer. It is built by ``ec2codec.presign``
with a session token whose characters all need encoding.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from urllib.parse import quote

import pytest

import ec2codec
from ec2codec.client._wirelog import redact_body, redact_headers, redact_text, redact_xml
from ec2codec.client.sync import Client
from ec2codec.server.testing import LocalEC2

TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE/TOKEN+with=padding=="
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CREDS = ec2codec.Credentials("ASIAEXAMPLEEXAMPLE12", SECRET, TOKEN)
SIGNED_AT = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
OBJECT = "https://amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com/disks/server.vhd"
URL = ec2codec.presign("GET", OBJECT, CREDS, "us-east-1", "s3", 3600, SIGNED_AT)
SIGNATURE = URL.rsplit("X-Amz-Signature=", 1)[1]


def _spellings(secret: str) -> list[str]:
    """``secret`` as it may appear: as is, encoded once (in the URL), twice (the URL in a form value)."""
    once = quote(secret, safe="-_.~")
    return [secret, once, quote(once, safe="-_.~")]


def _assert_redacted(text: str) -> None:
    assert SIGNATURE not in text and SECRET not in text
    for spelling in _spellings(TOKEN):
        assert spelling not in text
    # Harmless: which object, whose key (the access key id is no secret), when and for how long.
    for shown in ("amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com", "server.vhd", CREDS.access_key, "20260101T120000Z"):
        assert shown in text
    assert "3600" in text and "X-Amz-Credential" in text


def test_a_presigned_url_in_a_form_value_is_redacted() -> None:
    body = ec2codec.encode(
        "ImportSnapshot", {"DiskContainer": {"Format": "VHD", "Url": URL}, "Description": "C++ build + Signature test"}
    )
    assert quote(quote(TOKEN, safe="-_.~"), safe="-_.~").encode() in body  # what the log must not show
    logged = redact_body(body, {})
    _assert_redacted(logged)
    assert "X-Amz-Signature%3D***" in logged and "X-Amz-Security-Token%3D***" in logged
    assert "DiskContainer.Format=VHD" in logged and "Description=C%2B%2B+build+%2B+Signature+test" in logged


def test_a_presigned_url_echoed_in_xml_is_redacted() -> None:
    result = {"ImportTaskId": "import-snap-1", "SnapshotTaskDetail": {"Format": "VHD", "Url": URL}}
    document = ec2codec.encode_response("ImportSnapshot", result, "req-1")
    assert f"X-Amz-Signature={SIGNATURE}".encode() in document
    logged = redact_xml(document)
    _assert_redacted(logged)
    assert "&amp;X-Amz-Security-Token=***&amp;X-Amz-Signature=***</url>" in logged
    assert "<importTaskId>import-snap-1</importTaskId>" in logged and "<format>VHD</format>" in logged


def test_the_debug_log_of_an_import_from_a_presigned_url_shows_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    with LocalEC2(time_scale=100) as ec2:
        client = Client(ec2.region, ec2.endpoint_url, ec2.credentials, environ={})
        with caplog.at_level(logging.DEBUG, logger="ec2codec.wire"):
            task = client.import_snapshot(DiskContainer={"Format": "VHD", "Url": URL})
            client.describe_import_snapshot_tasks(ImportTaskIds=[task["ImportTaskId"]])
    assert task["SnapshotTaskDetail"]["Url"] == URL  # the secrets did travel, both ways
    assert caplog.text.count("X-Amz-Signature%3D***") == 1  # the import request
    assert caplog.text.count("X-Amz-Signature=***</url>") == 2  # both answers echo the URL
    _assert_redacted(caplog.text)
    assert ec2.credentials.secret_key not in caplog.text


# (logged text, what the log shows)
TEXTS = [
    # SigV2 query authentication: Signature (base64, encoded) and a lowercase token name.
    (
        "https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKID&Expires=1&Signature=a%2Bb%3D&x-amz-security-token=t%2F",
        "https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKID&Expires=1&Signature=***&x-amz-security-token=***",
    ),
    # A presigned URL inside another URL's parameter: encoded twice.
    (
        "https://a/?next=https%3A%2F%2Fb%2Fk%3FX-Amz-Date%3D1%26X-Amz-Signature%3Dabc%26X-Amz-Expires%3D9",
        "https://a/?next=https%3A%2F%2Fb%2Fk%3FX-Amz-Date%3D1%26X-Amz-Signature%3D***%26X-Amz-Expires%3D9",
    ),
    ("u=a%253FX-Amz-Security-Token%253Dt%25252F%2526b%253D1", "u=a%253FX-Amz-Security-Token%253D***%2526b%253D1"),
    ("AWS4-HMAC-SHA256 Credential=A/s, SignedHeaders=host, Signature=0af9", "... Signature=***"),
    ('<a href="https://b/?X-Amz-Signature=00ff">', '<a href="https://b/?X-Amz-Signature=***">'),
    ("cut short: ?X-Amz-Security-Token=IQoJb3", "cut short: ?X-Amz-Security-Token=***"),
    # Harmless data stays as it is.
    ("NextToken=abc&ClientToken=def&SignatureVersion=4&SignatureMethod=HmacSHA256", None),
    ("<nextToken>abc</nextToken><keyFingerprint>1f:2e</keyFingerprint>", None),
    ("X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-SignedHeaders=host", None),
    ("Description=my-signature=mine&DigitalSignature.Enabled=true", None),
]


TEXT_IDS = ["sigv2", "url-in-url", "encoded-twice", "authorization", "attribute", "cut-short"] + [
    f"harmless-{kind}" for kind in ("query", "xml", "credential", "words")
]


@pytest.mark.parametrize(("text", "shown"), TEXTS, ids=TEXT_IDS)
def test_redact_text(text: str, shown: str | None) -> None:
    logged = redact_text(text)
    if shown is None:
        assert logged == text
    elif shown.startswith("..."):
        assert logged.endswith(shown[3:])
    else:
        assert logged == shown


def test_form_keys_naming_a_token_or_secret_are_redacted_however_spelt() -> None:
    body = b"Action=X&X-Amz-Security-Token=tok&Secret%5FKey=s&SessionToken=t&NextToken=n&ClientToken=c"
    assert redact_body(body, {}) == (
        "Action=X&X-Amz-Security-Token=***&Secret%5FKey=***&SessionToken=***&NextToken=n&ClientToken=c"
    )
    assert redact_xml(b"<c><sessionToken>t</sessionToken><nextToken>n</nextToken></c>") == (
        "<c><sessionToken>***</sessionToken><nextToken>n</nextToken></c>"
    )


def test_headers() -> None:
    headers = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=A/s, SignedHeaders=host, Signature=0af9",
        "X-Amz-Security-Token": TOKEN,
    }
    assert redact_headers(headers) == {
        "Authorization": "AWS4-HMAC-SHA256 Credential=A/s, SignedHeaders=host, Signature=***",
        "X-Amz-Security-Token": "***",
    }
