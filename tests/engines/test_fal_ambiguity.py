"""Submit safety: an ambiguous submit is reconciled, never blindly resubmitted."""

from __future__ import annotations

import httpx
import pytest

from headshot.engines.fal import FalSubmitOutcomeUnknownError, FalWebhookVerifier
from headshot.engines.protocol import SubmitOutcomeUnknownError
from tests.engines.helpers import poll_until_done, training_request
from tests.fal_double import TRAINER, FalDouble, Fault
from tests.fal_double.fixtures import engine_for


def test_reset_after_processing_is_found_without_a_second_submit(fal_double: FalDouble) -> None:
    engine = engine_for(fal_double)
    sent_after = fal_double.clock.datetime()
    fal_double.inject(Fault("submit", "reset_after"))

    with pytest.raises(SubmitOutcomeUnknownError):
        engine.submit_training(training_request())
    assert fal_double.billable_submits(TRAINER) == 1  # fal did take (and bill) it

    outcome = engine.reconcile("training", sent_after=sent_after)

    assert outcome.outcome == "found" and outcome.handle is not None
    (request_id,) = fal_double.requests
    assert outcome.handle.data["request_id"] == request_id
    assert poll_until_done(engine, outcome.handle)[-1].state == "succeeded"
    assert engine.fetch_training(outcome.handle).artifact
    assert fal_double.billable_submits(TRAINER) == 1
    assert not fal_double.received_on("submit")[1:]  # reconciliation sent no submit


def test_reset_before_processing_is_absent(fal_double: FalDouble) -> None:
    engine = engine_for(fal_double)
    sent_after = fal_double.clock.datetime()
    fal_double.inject(Fault("submit", "reset_before"))

    with pytest.raises(SubmitOutcomeUnknownError):
        engine.submit_training(training_request())

    assert engine.reconcile("training", sent_after=sent_after).outcome == "absent"
    assert fal_double.billable_submits(TRAINER) == 0


def test_other_jobs_requests_are_not_claimed(fal_double: FalDouble) -> None:
    engine = engine_for(fal_double)
    sent_after = fal_double.clock.datetime()
    other = engine.submit_training(training_request("other"))
    fal_double.inject(Fault("submit", "reset_after"))
    with pytest.raises(SubmitOutcomeUnknownError):
        engine.submit_training(training_request("mine"))

    unsure = engine.reconcile("training", sent_after=sent_after)
    assert unsure.outcome == "unclear" and len(unsure.candidates) == 2

    sure = engine.reconcile(
        "training", sent_after=sent_after, known_request_ids={other.data["request_id"]}
    )
    assert sure.outcome == "found" and sure.handle is not None
    assert sure.handle.data["request_id"] != other.data["request_id"]


def test_fal_request_id_hint_is_checked_directly(fal_double: FalDouble) -> None:
    engine = engine_for(fal_double)
    sent_after = fal_double.clock.datetime()
    fal_double.inject(Fault("submit", "status", status=503, with_request_id=True))
    with pytest.raises(FalSubmitOutcomeUnknownError) as raised:
        engine.submit_training(training_request())

    outcome = engine.reconcile(
        "training", sent_after=sent_after, request_id_hint=raised.value.request_id
    )

    assert outcome.outcome == "absent"  # the double never queued a 5xx'd submit
    assert [c.route for c in fal_double.received][-2:] == ["status", "list_requests"]


def test_webhook_names_the_job_of_an_ambiguous_submit(fal_double: FalDouble) -> None:
    secret = b"webhook-secret"
    engine = engine_for(
        fal_double, webhook_url="https://headshot.example/api/v1/fal/webhook", webhook_secret=secret
    )
    fal_double.inject(Fault("submit", "reset_after"))
    with pytest.raises(SubmitOutcomeUnknownError):
        engine.submit_training(training_request("job-42"))
    fal_double.complete_all()

    (delivery,) = fal_double.webhooks
    verifier = FalWebhookVerifier(
        rest_url=fal_double.rest_url, token_secret=secret, clock=fal_double.clock.datetime
    )
    query = dict(httpx.URL(delivery.url).params.multi_items())
    event = verifier.verify(delivery.headers, delivery.body, query=query)

    assert event.job_id == "job-42" and event.status == "OK"
    handle = engine.handle_for_request("training", event.request_id, key_id="double-key")
    assert engine.poll(handle).state == "succeeded"
    assert fal_double.billable_submits(TRAINER) == 1
