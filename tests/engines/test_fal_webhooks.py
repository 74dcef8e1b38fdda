"""Webhook signature verification (FAL.md §2.4) against deliveries signed by the double."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from headshot.engines.fal import (
    FalWebhookVerifier,
    WebhookKeysUnavailableError,
    WebhookRejectedError,
    webhook_token,
)
from headshot.engines.fal.webhooks import parse_event
from tests.engines.helpers import generation_request, training_request
from tests.fal_double import FalDouble, Fault, WebhookDelivery
from tests.fal_double.fixtures import engine_for
from tests.fal_double.signing import WebhookSigner

SECRET = b"test-webhook-secret"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _delivery(double: FalDouble, *, fail: bool = False) -> WebhookDelivery:
    engine = engine_for(double, webhook_url="https://headshot.example/hook", webhook_secret=SECRET)
    if fail:
        double.inject(Fault("submit", "fail_request"))
        engine.submit_training(training_request("job-1"))
    else:
        engine.submit_generation(generation_request())
    double.complete_all()
    return double.webhooks[-1]


def _verifier(double: FalDouble, clock: Clock) -> FalWebhookVerifier:
    return FalWebhookVerifier(rest_url=double.rest_url, token_secret=SECRET, clock=clock)


def test_valid_delivery_is_accepted(fal_double: FalDouble) -> None:
    delivery = _delivery(fal_double)
    event = _verifier(fal_double, Clock(fal_double.clock.datetime())).verify(
        delivery.headers,
        delivery.body,
        query={"job": "gen-1", "token": webhook_token(SECRET, "gen-1")},
    )
    assert event.status == "OK" and event.job_id == "gen-1"
    assert event.request_id == next(iter(fal_double.requests))
    assert event.payload["images"][0]["width"] == 1024


def test_error_delivery_is_parsed(fal_double: FalDouble) -> None:
    delivery = _delivery(fal_double, fail=True)
    event = _verifier(fal_double, Clock(fal_double.clock.datetime())).verify(
        delivery.headers, delivery.body
    )
    assert event.status == "ERROR" and event.error == "Invalid status code: 422"
    assert event.payload["detail"][0]["type"] == "image_load_error"
    assert event.job_id is None  # no query given: the route then matches by request_id


def test_payload_error_is_kept() -> None:
    body = json.dumps(
        {"request_id": "r", "status": "OK", "payload": None, "payload_error": "too big"}
    ).encode()
    event = parse_event(body)
    assert event.payload is None and event.payload_error == "too big"


def test_wrong_key_is_refused(fal_double: FalDouble) -> None:
    delivery = _delivery(fal_double)
    forged = WebhookSigner().headers(
        request_id=delivery.headers["X-Fal-Webhook-Request-Id"],
        user_id="double-user",
        timestamp=int(fal_double.clock.now()),
        body=delivery.body,
    )
    with pytest.raises(WebhookRejectedError, match="no fal key"):
        _verifier(fal_double, Clock(fal_double.clock.datetime())).verify(forged, delivery.body)


@pytest.mark.parametrize("skew_s", [-301, 301])
def test_stale_timestamp_is_refused(fal_double: FalDouble, skew_s: int) -> None:
    delivery = _delivery(fal_double)
    clock = Clock(fal_double.clock.datetime() + timedelta(seconds=skew_s))
    with pytest.raises(WebhookRejectedError, match="tolerance"):
        _verifier(fal_double, clock).verify(delivery.headers, delivery.body)
    clock.now = fal_double.clock.datetime() + timedelta(seconds=299)
    _verifier(fal_double, clock).verify(delivery.headers, delivery.body)


def test_tampered_body_is_refused(fal_double: FalDouble) -> None:
    delivery = _delivery(fal_double)
    tampered = delivery.body.replace(b'"OK"', b'"ERROR"')
    with pytest.raises(WebhookRejectedError):
        _verifier(fal_double, Clock(fal_double.clock.datetime())).verify(delivery.headers, tampered)


@pytest.mark.parametrize("missing", ["Request-Id", "User-Id", "Timestamp", "Signature"])
def test_missing_header_is_refused(fal_double: FalDouble, missing: str) -> None:
    delivery = _delivery(fal_double)
    headers = {k: v for k, v in delivery.headers.items() if k != f"X-Fal-Webhook-{missing}"}
    with pytest.raises(WebhookRejectedError, match="missing"):
        _verifier(fal_double, Clock(fal_double.clock.datetime())).verify(headers, delivery.body)


def test_wrong_job_token_is_refused(fal_double: FalDouble) -> None:
    delivery = _delivery(fal_double)
    verifier = _verifier(fal_double, Clock(fal_double.clock.datetime()))
    with pytest.raises(WebhookRejectedError, match="token"):
        verifier.verify(delivery.headers, delivery.body, query={"job": "gen-1", "token": "x"})
    with pytest.raises(WebhookRejectedError, match="token"):
        verifier.verify(delivery.headers, delivery.body, query={"job": "gen-1"})


def test_jwks_is_cached_for_at_most_a_day(fal_double: FalDouble) -> None:
    delivery = _delivery(fal_double)
    clock = Clock(fal_double.clock.datetime())
    verifier = _verifier(fal_double, clock)
    verifier.verify(delivery.headers, delivery.body)
    verifier.verify(delivery.headers, delivery.body)
    assert len(fal_double.received_on("jwks")) == 1

    fetches = []
    for step_s in (23 * 3600, 3600, 3600):  # ages 23 h, 24 h, then 1 h after the refetch
        fal_double.clock.advance(step_s)
        clock.now = fal_double.clock.datetime()
        again = _delivery(fal_double)
        verifier.verify(again.headers, again.body)
        fetches.append(len(fal_double.received_on("jwks")))
    assert fetches == [1, 2, 2]


def test_unknown_key_triggers_one_refetch(fal_double: FalDouble) -> None:
    delivery = _delivery(fal_double)
    clock = Clock(fal_double.clock.datetime())
    verifier = _verifier(fal_double, clock)
    verifier.verify(delivery.headers, delivery.body)
    forged = WebhookSigner().headers(
        request_id="r", user_id="u", timestamp=int(fal_double.clock.now()), body=b"{}"
    )
    with pytest.raises(WebhookRejectedError):
        verifier.verify(forged, b"{}")
    assert len(fal_double.received_on("jwks")) == 1  # fresh cache: no refetch storm

    clock.now += timedelta(minutes=10)
    fal_double.clock.advance(600)
    forged = WebhookSigner().headers(
        request_id="r", user_id="u", timestamp=int(fal_double.clock.now()), body=b"{}"
    )
    with pytest.raises(WebhookRejectedError):
        verifier.verify(forged, b"{}")
    assert len(fal_double.received_on("jwks")) == 2


def test_unreachable_jwks_asks_fal_to_retry(fal_double: FalDouble) -> None:
    delivery = _delivery(fal_double)
    fal_double.inject(Fault("jwks", "status", status=503))
    with pytest.raises(WebhookKeysUnavailableError):
        _verifier(fal_double, Clock(fal_double.clock.datetime())).verify(
            delivery.headers, delivery.body
        )
