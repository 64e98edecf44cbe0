"""Shared helpers of the response-parser tests: botocore as the reference, comparison, EC2 XML rendering.

``botocore_parse`` runs botocore's ``EC2QueryParser`` on the same bytes and
reduces ``ResponseMetadata`` to what ec2codec keeps (``RequestId``).
``comparable`` makes two results comparable with ``==``: NaN equals NaN, and
naive datetimes (botocore's for ISO text without an offset) are read as UTC.
``values_for`` builds hypothesis strategies for any shape of a model and
``render`` writes a value of that shape as an EC2 response document.
"""

from __future__ import annotations

import base64
import math
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import strategies as st

from ec2codec.model.service import ServiceModel

NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"
UTC = timezone.utc


@lru_cache(maxsize=1)
def botocore_ec2() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("ec2")


def botocore_parse(operation: str, body: bytes, *, status: int = 200, service: Any = None) -> dict[str, Any]:
    """botocore's result for ``body``, with ResponseMetadata reduced to {"RequestId": ...} (or {})."""
    from botocore.parsers import create_parser

    service = service or botocore_ec2()
    op = service.operation_model(operation)
    result: dict[str, Any] = create_parser("ec2").parse(
        {"body": body, "headers": {}, "status_code": status}, op.output_shape
    )
    meta = result.get("ResponseMetadata", {})
    result["ResponseMetadata"] = {k: v for k, v in meta.items() if k == "RequestId"}
    return result


def comparable(value: Any) -> Any:
    """``value`` with NaN replaced by a marker and every datetime aware and in UTC."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "<NaN>"
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


# --- random results and their documents -------------------------------------------

# XML 1.0 Char, section 2.2: what a text node can hold.
XML_TEXT = st.text(
    st.characters(
        min_codepoint=0x20, max_codepoint=0x10FFFF, exclude_categories=("Cs",), exclude_characters="\ufffe\uffff"
    )
    | st.sampled_from("\t\n\r &<>\"'"),
    max_size=12,
)
_TIMES = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC))


@st.composite
def _timestamp_text(draw: st.DrawFn) -> str:
    """A timestamp in one of the forms both parsers accept."""
    when: datetime = draw(_TIMES)
    form = draw(st.sampled_from(["iso", "iso-frac", "offset", "epoch", "epoch-frac", "http"]))
    if form == "iso":
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    if form == "iso-frac":
        return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if form == "offset":
        minutes = draw(st.integers(-14 * 60, 14 * 60))
        zone = timezone(timedelta(minutes=minutes))
        return when.astimezone(zone).isoformat()
    if form == "epoch":
        return str(int(when.timestamp()))
    if form == "epoch-frac":
        return f"{when.timestamp():.3f}"
    return format_datetime(when.replace(microsecond=0), usegmt=True)


_SCALAR_TEXT: dict[str, st.SearchStrategy[str]] = {
    "string": XML_TEXT,
    "integer": st.integers(-(2**31), 2**31 - 1).map(str),
    "long": st.integers(-(2**63), 2**63 - 1).map(str),
    "boolean": st.sampled_from(["true", "false"]),
    "double": st.floats(allow_nan=True, allow_infinity=True).map(repr)
    | st.sampled_from(["NaN", "Infinity", "-Infinity", "0", "1.5e3"]),
    "timestamp": _timestamp_text(),
    "blob": st.binary(max_size=24).map(lambda b: base64.b64encode(b).decode()),
}
_SCALAR_TEXT["float"] = _SCALAR_TEXT["double"]


def values_for(model: ServiceModel, shape_name: str, depth: int = 0) -> st.SearchStrategy[str]:
    """Element content (XML text) for a random value of ``shape_name``; big shapes are thinned with depth."""
    shape = model.shape(shape_name)
    kind = shape["type"]
    if kind in _SCALAR_TEXT:
        return _SCALAR_TEXT[kind].map(escape)
    if kind == "list":
        member = shape["member"]
        tag = member.get("locationName") or "member"
        if depth > 6:
            return st.just("")
        item = values_for(model, member["shape"], depth + 1)
        return st.lists(item, max_size=2 if depth < 3 else 1).map(
            lambda items: "".join(f"<{tag}>{x}</{tag}>" for x in items)
        )
    if kind == "structure":
        members = shape.get("members", {})
        if depth > 6:
            return st.just("")
        fields = {
            (ref.get("locationName") or name): st.deferred(lambda ref=ref: values_for(model, ref["shape"], depth + 1))
            for name, ref in members.items()
        }
        return st.fixed_dictionaries({}, optional=fields).map(
            lambda present: "".join(f"<{tag}>{x}</{tag}>" for tag, x in present.items())
        )
    if kind == "map" and not shape.get("flattened"):
        # <entry><key/><value/></entry>, the tags renamed by the key's and value's locationName.
        key_tag = shape["key"].get("locationName") or "key"
        value_tag = shape["value"].get("locationName") or "value"
        if depth > 6:
            return st.just("")
        keys = values_for(model, shape["key"]["shape"], depth + 1)
        values = values_for(model, shape["value"]["shape"], depth + 1)
        return st.dictionaries(keys, values, max_size=2).map(
            lambda entries: "".join(
                f"<entry><{key_tag}>{k}</{key_tag}><{value_tag}>{v}</{value_tag}></entry>" for k, v in entries.items()
            )
        )
    raise AssertionError(f"no strategy for {kind} shapes")


def response_document(operation: str, content: str, *, request_id: str | None, namespace: bool) -> bytes:
    """``content`` wrapped as a ``<{operation}Response>`` document."""
    xmlns = f' xmlns="{NAMESPACE}"' if namespace else ""
    rid = f"<requestId>{escape(request_id)}</requestId>" if request_id is not None else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{operation}Response{xmlns}>{rid}{content}</{operation}Response>\n'
    ).encode()


def instance_xml(i: int) -> str:
    """One realistic ``<item>`` of a DescribeInstances reservation (about 2.5 KB)."""
    return f"""
                <item>
                    <instanceId>i-{i:017x}</instanceId>
                    <imageId>ami-0abcdef1234567890</imageId>
                    <instanceState><code>16</code><name>running</name></instanceState>
                    <privateDnsName>ip-10-0-{i // 250 % 256}-{i % 250}.ec2.internal</privateDnsName>
                    <dnsName/>
                    <reason/>
                    <keyName>deploy-key</keyName>
                    <amiLaunchIndex>{i % 4}</amiLaunchIndex>
                    <productCodes/>
                    <instanceType>m5.large</instanceType>
                    <launchTime>2024-05-01T12:{i % 60:02d}:00.000Z</launchTime>
                    <placement><availabilityZone>us-east-1a</availabilityZone><groupName/><tenancy>default</tenancy></placement>
                    <monitoring><state>disabled</state></monitoring>
                    <subnetId>subnet-0123456789abcdef0</subnetId>
                    <vpcId>vpc-0123456789abcdef0</vpcId>
                    <privateIpAddress>10.0.{i // 250 % 256}.{i % 250}</privateIpAddress>
                    <sourceDestCheck>true</sourceDestCheck>
                    <groupSet>
                        <item><groupId>sg-0123456789abcdef0</groupId><groupName>web</groupName></item>
                        <item><groupId>sg-0fedcba9876543210</groupId><groupName>ssh &amp; admin</groupName></item>
                    </groupSet>
                    <architecture>x86_64</architecture>
                    <rootDeviceType>ebs</rootDeviceType>
                    <rootDeviceName>/dev/xvda</rootDeviceName>
                    <blockDeviceMapping>
                        <item>
                            <deviceName>/dev/xvda</deviceName>
                            <ebs>
                                <volumeId>vol-{i:017x}</volumeId>
                                <status>attached</status>
                                <attachTime>2024-05-01T12:00:01.000Z</attachTime>
                                <deleteOnTermination>true</deleteOnTermination>
                            </ebs>
                        </item>
                    </blockDeviceMapping>
                    <virtualizationType>hvm</virtualizationType>
                    <clientToken/>
                    <tagSet>
                        <item><key>Name</key><value>web-{i}</value></item>
                        <item><key>team</key><value>platform</value></item>
                    </tagSet>
                    <hypervisor>xen</hypervisor>
                    <networkInterfaceSet>
                        <item>
                            <networkInterfaceId>eni-{i:017x}</networkInterfaceId>
                            <subnetId>subnet-0123456789abcdef0</subnetId>
                            <vpcId>vpc-0123456789abcdef0</vpcId>
                            <ownerId>123456789012</ownerId>
                            <status>in-use</status>
                            <macAddress>02:00:00:00:{i // 256 % 256:02x}:{i % 256:02x}</macAddress>
                            <privateIpAddress>10.0.{i // 250 % 256}.{i % 250}</privateIpAddress>
                            <sourceDestCheck>true</sourceDestCheck>
                            <attachment>
                                <attachmentId>eni-attach-{i:017x}</attachmentId>
                                <deviceIndex>0</deviceIndex>
                                <status>attached</status>
                                <attachTime>2024-05-01T12:00:00.000Z</attachTime>
                                <deleteOnTermination>true</deleteOnTermination>
                            </attachment>
                        </item>
                    </networkInterfaceSet>
                    <ebsOptimized>false</ebsOptimized>
                    <cpuOptions><coreCount>1</coreCount><threadsPerCore>2</threadsPerCore></cpuOptions>
                    <metadataOptions><state>applied</state><httpTokens>required</httpTokens><httpPutResponseHopLimit>2</httpPutResponseHopLimit></metadataOptions>
                </item>"""


def describe_instances(reservations: int, per_reservation: int) -> bytes:
    """A DescribeInstances response with ``reservations * per_reservation`` instances."""
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="{NAMESPACE}">\n'
        "    <requestId>8f7e6d5c-4b3a-2918-0706-f5e4d3c2b1a0</requestId>\n    <reservationSet>"
    ]
    n = 0
    for r in range(reservations):
        parts.append(
            f"\n        <item>\n            <reservationId>r-{r:017x}</reservationId>\n"
            "            <ownerId>123456789012</ownerId>\n            <groupSet/>\n            <instancesSet>"
        )
        for _ in range(per_reservation):
            parts.append(instance_xml(n))
            n += 1
        parts.append("\n            </instancesSet>\n        </item>")
    parts.append("\n    </reservationSet>\n</DescribeInstancesResponse>\n")
    return "".join(parts).encode()
