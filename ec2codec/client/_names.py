"""boto3's snake_case names for operations and waiters (``describe_instances``, ``instance_running``).

:func:`snake_case` is botocore's ``xform_name`` (``botocore/__init__.py``)
re-implemented, so the package never needs botocore; a test compares the two
for every operation and waiter. ``tools/build_client_methods.py`` names the
generated methods with it, and the boto3-shaped helpers
(:mod:`ec2codec.client.compat`) map names back with :func:`reverse`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["reverse", "snake_case"]

# botocore's _first_cap_regex, _end_cap_regex and _special_case_transform.
_FIRST_CAP = re.compile("(.)([A-Z][a-z]+)")
_END_CAP = re.compile("([a-z0-9])([A-Z])")
_PLURAL_ACRONYM = re.compile("[A-Z]{2,}s$")
# botocore pre-seeds its cache with names the rules get wrong; none is an EC2 name.
_EXCEPTIONS = {
    "CreateCachediSCSIVolume": "create_cached_iscsi_volume",
    "DescribeCachediSCSIVolumes": "describe_cached_iscsi_volumes",
    "DescribeStorediSCSIVolumes": "describe_stored_iscsi_volumes",
    "CreateStorediSCSIVolume": "create_stored_iscsi_volume",
    "ListHITsForQualificationType": "list_hits_for_qualification_type",
}


def snake_case(name: str) -> str:
    """boto3's name for an operation or waiter (botocore ``xform_name`` with ``sep="_"``)."""
    if "_" in name:
        return name
    if name in _EXCEPTIONS:
        return _EXCEPTIONS[name]
    special = _PLURAL_ACRONYM.search(name)
    if special is not None:
        # GatewayARNs -> gateway_arns, not gateway_ar_ns.
        matched = special.group()
        name = f"{name[: -len(matched)]}_{matched.lower()}"
    return _END_CAP.sub(r"\1_\2", _FIRST_CAP.sub(r"\1_\2", name)).lower()


def reverse(names: Iterable[str]) -> dict[str, str]:
    """``{snake_case(name): name}`` for ``names``."""
    return {snake_case(name): name for name in names}
