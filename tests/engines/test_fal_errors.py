"""Every failure of a fal call maps onto one branch of the engine error tree."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import httpx
import pytest

from headshot.engines.fal import (
    FalEngine,
    FalKey,
    FalSubmitOutcomeUnknownError,
    StaticFalCredentials,
)
from headshot.engines.fal.client import check_url, retry_after
from headshot.engines.protocol import (
    EngineError,
    EngineRejectedError,
    ProviderAccountError,
    ProviderAuthError,
    ProviderUnreachableError,
    RetryableEngineError,
    SubmitOutcomeUnknownError,
)
from tests.engines.helpers import generation_request
from tests.fal_double import GENERATOR, FalDouble, Fault
from tests.fal_double.fixtures import engine_for


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault("submit", "status", status=429, retry_after="7"), RetryableEngineError),
        (Fault("submit", "status", status=502), RetryableEngineError),
        (Fault("submit", "status", status=503), RetryableEngineError),
        (Fault("submit", "status", status=504), RetryableEngineError),
        (Fault("submit", "status", status=503, with_request_id=True), SubmitOutcomeUnknownError),
        (Fault("submit", "status", status=500), SubmitOutcomeUnknownError),
        (Fault("submit", "status", status=401), ProviderAuthError),
        (Fault("submit", "status", status=403), ProviderAccountError),
        (Fault("submit", "status", status=404), EngineError),
        (Fault("submit", "reset_before"), SubmitOutcomeUnknownError),
        (Fault("submit", "reset_after"), SubmitOutcomeUnknownError),
    ],
    ids=lambda value: f"{value.kind}-{value.status}" if isinstance(value, Fault) else "",
)
def test_submit_failures(fal_double: FalDouble, fault: Fault, error: type[Exception]) -> None:
    fal_double.inject(fault)
    with pytest.raises(error) as raised:
        engine_for(fal_double).submit_generation(generation_request())
    assert type(raised.value) is not EngineError or error is EngineError
    if fault.status == 429:
        assert isinstance(raised.value, RetryableEngineError)
        assert raised.value.retry_after_s == 7.0
    if fault.with_request_id:
        assert isinstance(raised.value, FalSubmitOutcomeUnknownError)
        assert raised.value.request_id


def test_retryable_submit_errors_are_not_ambiguous(fal_double: FalDouble) -> None:
    # An ingress 503 (no fal request id) is safe to retry: it is not a SubmitOutcomeUnknown.
    fal_double.inject(Fault("submit", "status", status=503))
    with pytest.raises(RetryableEngineError) as raised:
        engine_for(fal_double).submit_generation(generation_request())
    assert not isinstance(raised.value, SubmitOutcomeUnknownError)
    assert fal_double.billable_submits(GENERATOR) == 0


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault("status", "status", status=429, retry_after="2"), RetryableEngineError),
        (Fault("status", "status", status=502), RetryableEngineError),
        (Fault("status", "status", status=500, with_request_id=True), RetryableEngineError),
        (Fault("status", "reset_before"), RetryableEngineError),
        (Fault("status", "status", status=401), ProviderAuthError),
        (Fault("status", "status", status=403), ProviderAccountError),
    ],
)
def test_poll_failures(fal_double: FalDouble, fault: Fault, error: type[Exception]) -> None:
    engine = engine_for(fal_double)
    handle = engine.submit_generation(generation_request())
    fal_double.inject(fault)
    with pytest.raises(error) as raised:
        engine.poll(handle)
    assert not isinstance(raised.value, SubmitOutcomeUnknownError)
    assert engine.poll(handle).state in ("queued", "running")  # the fault was one-off


def test_invalid_input_is_rejected_with_fal_details(fal_double: FalDouble) -> None:
    with pytest.raises(EngineRejectedError) as raised:
        engine_for(fal_double).submit_generation(generation_request(guidance_scale=100))
    (detail,) = raised.value.details
    assert detail["loc"] == ["body", "guidance_scale"]
    assert detail["type"] == "less_than_equal"
    assert fal_double.billable_submits(GENERATOR) == 0


def test_bad_key_and_locked_account(fal_double: FalDouble) -> None:
    engine = FalEngine(
        StaticFalCredentials(["nobody:wrong"]),
        queue_url=fal_double.queue_url,
        rest_url=fal_double.rest_url,
        cdn_url=fal_double.cdn_url,
    )
    with pytest.raises(ProviderAuthError, match="No user found"):
        engine.submit_generation(generation_request())

    fal_double.lock_account()
    with pytest.raises(ProviderAccountError, match="Exhausted balance"):
        engine_for(fal_double).submit_generation(generation_request())


def test_slow_submit_is_ambiguous_but_slow_poll_is_retryable(fal_double: FalDouble) -> None:
    engine = engine_for(fal_double, timeout=httpx.Timeout(0.2))
    fal_double.inject(Fault("submit", "slow", delay_s=0.5))
    with pytest.raises(SubmitOutcomeUnknownError):
        engine.submit_generation(generation_request())

    handle = engine.submit_generation(generation_request())
    fal_double.inject(Fault("status", "slow", delay_s=0.5))
    with pytest.raises(RetryableEngineError):
        engine.poll(handle)


def test_unreachable_provider_is_provably_not_sent() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with FalDouble.start() as double:
        engine = engine_for(double, queue_url=f"http://127.0.0.1:{port}")
        with pytest.raises(ProviderUnreachableError):
            engine.submit_generation(generation_request())


def test_download_failures_are_retryable(fal_double: FalDouble) -> None:
    engine = engine_for(fal_double)
    handle = engine.submit_generation(generation_request())
    fal_double.complete_all()
    fal_double.inject(Fault("download", "reset_before"))
    with pytest.raises(RetryableEngineError):
        engine.fetch_generation(handle)
    assert len(engine.fetch_generation(handle)) == 1


def test_secrets_never_show() -> None:
    key = FalKey("kid", "very-secret")
    assert "very-secret" not in repr(key)
    assert "very-secret" not in repr(StaticFalCredentials(["kid:very-secret"]))


def test_plain_http_only_to_loopback() -> None:
    assert check_url("http://127.0.0.1:9/x") and check_url("https://queue.fal.run/x")
    with pytest.raises(EngineError):
        check_url("http://queue.fal.run/x")


def test_retry_after_accepts_an_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    headers = {"retry-after": "Thu, 01 Jan 2026 12:00:30 GMT"}
    assert retry_after(headers, now=now) == 30.0
    assert retry_after({"retry-after": "soon"}, now=now) is None
