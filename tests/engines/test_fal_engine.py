"""FalEngine against the fal double, end to end."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Mapping

import httpx
import pytest
from PIL import Image

from headshot.engines.fal import FalEngine
from headshot.engines.protocol import Engine, EngineRejectedError, ProviderAuthError
from tests.engines.helpers import generation_request, poll_until_done, training_request
from tests.fal_double import GENERATOR, TRAINER, FalDouble, Fault
from tests.fal_double.fixtures import engine_for
from tests.hostile_images import jpeg_layout
from tests.imaging.jpeg_canon import JFIF_APP0_PAYLOAD


def test_fal_engine_satisfies_the_engine_protocol(fal_engine: FalEngine) -> None:
    engine: Engine = fal_engine
    assert engine.name == "fal"


def test_training_end_to_end(fal_double: FalDouble, fal_engine: FalEngine) -> None:
    handle = fal_engine.submit_training(training_request(learning_rate=0.0001, subject_crop=False))

    assert handle.kind == "training"
    assert set(handle.data) >= {
        "request_id", "status_url", "response_url", "cancel_url", "key_id", "endpoint"
    }  # fmt: skip
    assert handle.data["key_id"] == "double-key"
    assert fal_double.billable_submits(TRAINER) == 1
    (submit,) = fal_double.received_on("submit")
    body = json.loads(submit.body)
    assert body == {
        "images_data_url": fal_double.uploads[0].url,
        "trigger_phrase": "TOK",
        "steps": 2000,
        "learning_rate": 0.0001,
        "subject_crop": False,
    }
    assert submit.headers["authorization"] == "Key double-key:double-secret"
    assert submit.headers["x-fal-store-io"] == "0"
    members = fal_double.archive(handle.data["request_id"])
    assert sorted(members) == [f"img0{i}.{ext}" for i in (1, 2, 3) for ext in ("jpg", "txt")]
    assert members["img01.txt"] == b"a photo of [trigger]"

    statuses = poll_until_done(fal_engine, handle)

    assert [s.state for s in statuses] == ["queued"] + ["running"] * 4 + ["succeeded"]
    assert statuses[0].queue_position == 0
    halfway = statuses[3]  # steps 500 and 1000 logged, 0.5 s apart per step
    assert halfway.progress == pytest.approx(0.5)
    assert halfway.eta_s == pytest.approx(500.0)
    assert halfway.logs[-1].startswith("step 1000/2000")

    model = fal_engine.fetch_training(handle)

    assert model.artifact_name == "lora.safetensors"
    (header_length,) = struct.unpack("<Q", model.artifact[:8])
    header = json.loads(model.artifact[8 : 8 + header_length])
    assert any("lora_A" in name for name in header)
    end = max(t["data_offsets"][1] for n, t in header.items() if n != "__metadata__")
    assert len(model.artifact) == 8 + header_length + end
    assert model.provider_url is not None and model.provider_url.endswith(".safetensors")
    assert json.loads(model.metadata["config"])["steps"] == 2000
    assert model.metadata["request_id"] == handle.data["request_id"]


def test_generation_splits_batches_and_fetches_images(
    fal_double: FalDouble, fal_engine: FalEngine
) -> None:
    handle = fal_engine.submit_generation(generation_request(num_images=6, prompt="[nsfw] TOK"))

    bodies = [json.loads(call.body) for call in fal_double.received_on("submit")]
    assert [b["num_images"] for b in bodies] == [4, 2]
    assert [b["seed"] for b in bodies] == [42, 46]
    assert bodies[0]["image_size"] == {"width": 1024, "height": 1280}
    assert bodies[0]["loras"] == [{"path": generation_request().weights_url, "scale": 1.0}]
    assert bodies[0]["output_format"] == "jpeg"
    assert bodies[0]["enable_safety_checker"] is True
    assert fal_double.billable_submits(GENERATOR) == 2

    fal_double.complete_all()
    assert fal_engine.poll(handle).state == "succeeded"
    images = fal_engine.fetch_generation(handle)

    assert len(images) == 6
    assert [image.flagged_nsfw for image in images] == [True, False, False, False, True, False]
    assert images[0].media_type == "image/jpeg"
    assert (images[0].width, images[0].height, images[0].seed) == (1024, 1280, 42)
    assert Image.open(io.BytesIO(images[5].image)).size == (1024, 1280)
    # The provider's file carried its parameters in a comment; only the pixels are kept.
    assert all(b"prompt seed" not in image.image for image in images)
    assert all(jpeg_layout(image.image).app_payloads == [JFIF_APP0_PAYLOAD] for image in images)


def test_split_generation_reports_the_least_advanced_batch(
    fal_double: FalDouble, fal_engine: FalEngine
) -> None:
    handle = fal_engine.submit_generation(generation_request(num_images=5))
    first = handle.data["requests"][0]["request_id"]
    fal_double.requests[first].ticks = 10  # one batch finished, the other not yet

    assert fal_engine.poll(handle).state != "succeeded"


def test_unknown_option_is_refused_before_anything_is_sent(
    fal_double: FalDouble, fal_engine: FalEngine
) -> None:
    with pytest.raises(EngineRejectedError, match="unknown fal option") as raised:
        fal_engine.submit_training(training_request(learning_rat=0.1))

    assert raised.value.details[0]["loc"] == ["options", "learning_rat"]
    with pytest.raises(EngineRejectedError, match="expected bool"):
        fal_engine.submit_training(training_request(create_masks="yes"))
    with pytest.raises(EngineRejectedError):
        fal_engine.submit_generation(generation_request(enable_safety_checker=False))
    assert fal_double.received == []


def test_upload_sets_a_short_expiry(fal_double: FalDouble, fal_engine: FalEngine) -> None:
    fal_engine.submit_training(training_request())

    (upload,) = fal_double.uploads
    assert upload.flow == "v3"
    assert upload.content_type == "application/zip"
    assert upload.lifecycle == {"expiration_duration_seconds": 6 * 3600}


def test_upload_falls_back_to_the_initiate_flow(fal_double: FalDouble) -> None:
    fal_double.inject(Fault("token", "status", status=500))
    engine = engine_for(fal_double)

    handle = engine.submit_training(training_request())

    (upload,) = fal_double.uploads
    assert upload.flow == "initiate"
    assert upload.lifecycle == {"expiration_duration_seconds": 6 * 3600}
    assert fal_double.archive(handle.data["request_id"])  # the trainer could read it
    (put,) = fal_double.received_on("signed_put")
    assert "authorization" not in put.headers  # pre-signed: our key stays home


def test_cdn_token_is_reused_until_it_expires(fal_double: FalDouble) -> None:
    engine = engine_for(fal_double)
    engine.submit_training(training_request("a"))
    engine.submit_training(training_request("b"))
    assert len(fal_double.received_on("token")) == 1

    fal_double.clock.advance(3600)
    engine.submit_training(training_request("c"))
    assert len(fal_double.received_on("token")) == 2


def test_publish_path_uploads_nothing_to_fal(fal_double: FalDouble) -> None:
    published: list[str] = []

    def publish(data: bytes, name: str) -> str:
        published.append(name)
        return fal_double.host_file(data, name)

    engine = engine_for(fal_double, publish=publish)
    handle = engine.submit_training(training_request("job-7"))

    assert published == ["job-7.zip"]
    assert fal_double.uploads == []
    assert not fal_double.received_on("token") and not fal_double.received_on("initiate")
    assert fal_double.archive(handle.data["request_id"])["img02.txt"] == b"a photo of [trigger]"


def test_webhook_url_carries_job_and_token(fal_double: FalDouble) -> None:
    engine = engine_for(
        fal_double, webhook_url="https://headshot.example/api/v1/fal/webhook", webhook_secret=b"s"
    )
    engine.submit_training(training_request("job-9"))

    (submit,) = fal_double.received_on("submit")
    url = httpx.URL(submit.query["fal_webhook"])
    assert url.path == "/api/v1/fal/webhook"
    assert url.params["job"] == "job-9"
    assert len(url.params["token"]) == 40


def test_cancel_is_graceful_when_already_done(fal_double: FalDouble, fal_engine: FalEngine) -> None:
    handle = fal_engine.submit_training(training_request())
    fal_engine.cancel(handle)

    status = fal_engine.poll(handle)
    assert status.state == "cancelled"
    fal_engine.cancel(handle)  # 400 ALREADY_COMPLETED: nothing to do
    assert [c.route for c in fal_double.received].count("cancel") == 2


def test_cancel_while_running_lets_the_runner_stop(
    fal_double: FalDouble, fal_engine: FalEngine
) -> None:
    handle = fal_engine.submit_training(training_request())
    fal_double.advance(3)
    fal_engine.cancel(handle)

    assert poll_until_done(fal_engine, handle)[-1].state == "cancelled"


def test_training_that_fails_at_fal(fal_double: FalDouble, fal_engine: FalEngine) -> None:
    fal_double.inject(Fault("submit", "fail_request"))
    handle = fal_engine.submit_training(training_request())

    final = poll_until_done(fal_engine, handle)[-1]

    assert final.state == "failed"
    assert final.error is not None and "could not find a face" in final.error
    with pytest.raises(EngineRejectedError) as raised:
        fal_engine.fetch_training(handle)
    assert raised.value.details[0]["type"] == "image_load_error"


class _RotatingCredentials:
    def __init__(self) -> None:
        self.current = ("double-key", "double-secret")
        self.secrets = {"double-key": "double-secret", "second": "second-secret"}
        self.refused: list[str] = []

    def active(self) -> tuple[str, str]:
        return self.current

    def secret(self, key_id: str) -> str:
        return self.secrets[key_id]

    def admin(self) -> tuple[str, str] | None:
        return None

    def mark_unauthorized(self, key_id: str) -> None:
        self.refused.append(key_id)


def test_a_refused_key_is_reported_to_the_credentials() -> None:
    with FalDouble.start(keys={"second:second-secret": "API"}) as double:
        credentials = _RotatingCredentials()
        engine = FalEngine(
            credentials,
            queue_url=double.queue_url,
            rest_url=double.rest_url,
            cdn_url=double.cdn_url,
            api_url=double.api_url,
        )
        try:
            with pytest.raises(ProviderAuthError):
                engine.submit_training(training_request())
        finally:
            engine.close()
        assert credentials.refused == ["double-key"]
        assert double.billable_submits("fal-ai/flux-lora-portrait-trainer") == 0


def test_in_flight_work_stays_on_its_key() -> None:
    keys: Mapping[str, str] = {"double-key:double-secret": "API", "second:second-secret": "API"}
    with FalDouble.start(keys=keys) as double:
        credentials = _RotatingCredentials()
        engine = FalEngine(
            credentials,
            queue_url=double.queue_url,
            rest_url=double.rest_url,
            cdn_url=double.cdn_url,
        )
        handle = engine.submit_generation(generation_request())
        credentials.current = ("second", "second-secret")
        engine.poll(handle)
        engine.submit_generation(generation_request())

        auth = [(c.route, c.headers["authorization"]) for c in double.received]
        assert auth == [
            ("submit", "Key double-key:double-secret"),
            ("status", "Key double-key:double-secret"),
            ("submit", "Key second:second-secret"),
        ]


def test_reupload_weights(fal_double: FalDouble, fal_engine: FalEngine) -> None:
    url = fal_engine.reupload_weights(b"weights")

    (upload,) = fal_double.uploads
    assert upload.url == url and upload.file_name == "lora.safetensors"
    assert upload.lifecycle == {"expiration_duration_seconds": 3600}
    assert httpx.get(url).content == b"weights"


def test_delete_payloads_uses_the_admin_key(fal_double: FalDouble, fal_engine: FalEngine) -> None:
    handle = fal_engine.submit_training(training_request())
    fal_double.complete_all()
    model = fal_engine.fetch_training(handle)

    assert fal_engine.delete_payloads(handle.data["request_id"]) is True
    (call,) = fal_double.received_on("delete_payloads")
    assert call.headers["authorization"] == "Key double-admin:admin-secret"
    assert httpx.get(str(model.provider_url)).status_code == 404
    assert fal_engine.delete_payloads("unknown-request") is True


def test_delete_payloads_without_admin_key(fal_double: FalDouble) -> None:
    engine = FalEngine(
        _RotatingCredentials(),
        queue_url=fal_double.queue_url,
        rest_url=fal_double.rest_url,
        cdn_url=fal_double.cdn_url,
    )
    assert engine.delete_payloads("any") is False
