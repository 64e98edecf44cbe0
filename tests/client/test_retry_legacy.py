"""botocore's legacy retry mode in the attempt machine: which failures, how many attempts, which delays."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

import ec2codec
from ec2codec.client import _retry
from ec2codec.client.attempts import Attempts, GiveUp, Sleep, TransportError, is_retryable


def test_legacy_policy_equals_botocore_retry_json() -> None:
    from botocore.loaders import create_loader

    data = create_loader().load_data("_retry")
    policies = {**data["retry"]["__default__"]["policies"], **data["retry"]["ec2"]["__default__"]["policies"]}
    pairs, statuses = set(), set()
    for policy in policies.values():
        condition = data["definitions"][policy["$ref"]] if "$ref" in policy else policy
        response = condition["applies_when"].get("response")
        if response is None:
            continue
        if "service_error_code" in response:
            pairs.add((response["service_error_code"], response["http_status_code"]))
        else:
            statuses.add(response["http_status_code"])
    assert pairs == set(_retry.LEGACY_CODES)
    assert statuses == set(_retry.LEGACY_STATUSES)
    assert data["retry"]["__default__"]["max_attempts"] == _retry.default_max_attempts("legacy")
    assert json.dumps(data["retry"]["__default__"]["delay"], sort_keys=True) == (
        '{"base": "rand", "growth_factor": 2, "type": "exponential"}'
    )


@pytest.mark.parametrize(
    ("error", "standard", "legacy"),
    [
        (ec2codec.ServiceError("Throttling", "", None, status=400), True, True),
        (ec2codec.ServiceError("Throttling", "", None, status=403), True, False),
        (ec2codec.ServiceError("RequestLimitExceeded", "", None, status=503), True, True),
        (ec2codec.ServiceError("509", "", None, status=509), False, True),
        # HTTP 429 is throttling in botocore 1.44's standard mode too (ThrottlingStatusCodeChecker).
        (ec2codec.ServiceError("TooMany", "", None, status=429), True, True),
        (ec2codec.ServiceError("RequestTimeout", "", None, status=400), True, False),
        (TransportError("refused"), True, True),
        (TransportError("cut short", incomplete_body=True), True, False),
        (ec2codec.ParseError("truncated"), True, False),
    ],
)
def test_standard_and_legacy_decisions(error: ec2codec.Error, standard: bool, legacy: bool) -> None:
    assert is_retryable(error) is standard
    assert is_retryable(error, "legacy") is legacy


def test_legacy_delays_are_not_capped() -> None:
    machine = Attempts(9, timedelta(0), rng=lambda: 1.0, mode="legacy")
    machine.start()
    delays = []
    for _ in range(8):
        action = machine.failed(TransportError("refused"), None, None)  # type: ignore[arg-type]
        assert isinstance(action, Sleep)
        delays.append(action.seconds)
        machine.slept()
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128]
    assert isinstance(machine.failed(TransportError("refused"), None, None), GiveUp)  # type: ignore[arg-type]
