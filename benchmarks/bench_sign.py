"""Signing benchmark: ec2codec.auth.sigv4.sign against botocore's SigV4Auth.add_auth, side by side.

The request is the reference ImportSnapshot call: a POST to the us-east-1 EC2
endpoint with the form Content-Type and a ~1 KB form body, signed with
temporary credentials (so the token header is signed too). Both signers read
the clock, as they do in real use. Before timing, the script checks that both
produce the same Authorization header at a fixed time.

Usage::

    python benchmarks/bench_sign.py           # full run; exits 1 below the 5x target
    python benchmarks/bench_sign.py --quick   # one short round, never fails on speed
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials

from ec2codec.auth.sigv4 import Credentials, sign

TARGET = 5.0
URL = "https://ec2.us-east-1.amazonaws.com/"
REGION = "us-east-1"
HEADERS = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
ACCESS_KEY = "ASIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE" * 16
# A fixed ImportSnapshot form body (~1 KB), as the ec2 encoder would write it.
BODY = (
    b"Action=ImportSnapshot&Version=2016-11-15"
    b"&ClientData.Comment=nightly%20import%20of%20the%20build%20farm%20root%20volume"
    b"&ClientData.UploadEnd=2024-05-01T12%3A30%3A00Z&ClientData.UploadSize=53687091200"
    b"&ClientData.UploadStart=2024-05-01T11%3A00%3A00Z"
    b"&ClientToken=5f0e1b8c-7a57-4a5e-9a3c-3b1f2d0c9e11"
    b"&Description=Imported%20snapshot%20of%20disk%20image%20build-farm-root-2024-05-01.vmdk"
    b"&DiskContainer.Description=root%20volume%20of%20the%20build%20farm%20runner%20fleet"
    b"&DiskContainer.Format=VMDK"
    b"&DiskContainer.Url=https%3A%2F%2Fexample-import-bucket.s3.us-east-1.amazonaws.com%2Fimages%2F"
    b"build-farm-root-2024-05-01.vmdk%3FX-Amz-Algorithm%3DAWS4-HMAC-SHA256%26X-Amz-Expires%3D3600"
    b"&DiskContainer.UserBucket.S3Bucket=example-import-bucket"
    b"&DiskContainer.UserBucket.S3Key=images%2Fbuild-farm-root-2024-05-01.vmdk"
    b"&DryRun=false&Encrypted=true"
    b"&KmsKeyId=arn%3Aaws%3Akms%3Aus-east-1%3A123456789012%3Akey%2F1234abcd-12ab-34cd-56ef-1234567890ab"
    b"&RoleName=vmimport"
    b"&TagSpecification.1.ResourceType=import-snapshot-task"
    b"&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=build-farm-root"
    b"&TagSpecification.1.Tag.2.Key=team&TagSpecification.1.Tag.2.Value=platform-infrastructure"
    b"&TagSpecification.1.Tag.3.Key=cost-center&TagSpecification.1.Tag.3.Value=cc-4242"
    b"&TagSpecification.1.Tag.4.Key=retention&TagSpecification.1.Tag.4.Value=30-days"
)


def _check_same_signature() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0)
    ours = sign("POST", URL, HEADERS, BODY, Credentials(ACCESS_KEY, SECRET_KEY, TOKEN), REGION, now=now)
    request = AWSRequest(method="POST", url=URL, headers=HEADERS, data=BODY)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=now):
        botocore.auth.SigV4Auth(BotocoreCredentials(ACCESS_KEY, SECRET_KEY, TOKEN), "ec2", REGION).add_auth(request)
    if ours["Authorization"] != request.headers["Authorization"]:
        sys.exit(
            f"signatures differ:\n  ours:     {ours['Authorization']}\n  botocore: {request.headers['Authorization']}"
        )


def _best(func: Callable[[], None], number: int, repeat: int) -> float:
    """Best per-call time in seconds over ``repeat`` rounds of ``number`` calls (least disturbed round)."""
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round (smoke test)")
    args = parser.parse_args()
    number, repeat = (200, 1) if args.quick else (5000, 7)

    _check_same_signature()
    ours_creds = Credentials(ACCESS_KEY, SECRET_KEY, TOKEN)
    signer = botocore.auth.SigV4Auth(BotocoreCredentials(ACCESS_KEY, SECRET_KEY, TOKEN), "ec2", REGION)
    reused = AWSRequest(method="POST", url=URL, headers=HEADERS, data=BODY)

    def ec2codec_sign() -> None:
        sign("POST", URL, HEADERS, BODY, ours_creds, REGION)

    def botocore_add_auth() -> None:
        signer.add_auth(reused)  # add_auth replaces its own headers, so the request can be reused

    def botocore_build_and_add_auth() -> None:
        signer.add_auth(AWSRequest(method="POST", url=URL, headers=HEADERS, data=BODY))

    ours = _best(ec2codec_sign, number, repeat)
    theirs = _best(botocore_add_auth, max(number // 5, 1), repeat)
    theirs_built = _best(botocore_build_and_add_auth, max(number // 5, 1), repeat)
    ratio = theirs / ours
    print(f"body: {len(BODY)} bytes; best of {repeat} round(s)")
    print(f"ec2codec sign                        {ours * 1e6:8.2f} us/request")
    print(f"botocore SigV4Auth.add_auth          {theirs * 1e6:8.2f} us/request  ({ratio:.1f}x slower)")
    built_ratio = theirs_built / ours
    print(f"botocore AWSRequest() + add_auth     {theirs_built * 1e6:8.2f} us/request  ({built_ratio:.1f}x slower)")
    met = ratio >= TARGET
    print(f"speedup over add_auth: {ratio:.1f}x (target {TARGET:.0f}x: {'met' if met else 'NOT met'})")
    return 0 if met or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
