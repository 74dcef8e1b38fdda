"""Shared request builders and a poll loop for the fal engine tests."""

from __future__ import annotations

import io

from PIL import Image

from headshot.engines.fal import FalEngine
from headshot.engines.protocol import (
    GenerationRequest,
    Handle,
    JobStatus,
    Look,
    TrainingImage,
    TrainingRequest,
)


def tiny_jpeg(shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (shade, shade, shade)).save(buffer, "JPEG")
    return buffer.getvalue()


def training_request(job_id: str = "train-1", **options: object) -> TrainingRequest:
    images = tuple(TrainingImage(f"img{i:02d}.jpg", tiny_jpeg(40 * i)) for i in range(1, 4))
    return TrainingRequest(
        job_id=job_id, images=images, trigger_phrase="TOK", steps=2000, options=options
    )


def generation_request(
    *, num_images: int = 1, seed: int | None = 42, prompt: str = "TOK headshot", **options: object
) -> GenerationRequest:
    return GenerationRequest(
        job_id="gen-1",
        look=Look(background="grey", attire="suit", lighting="soft"),
        prompt=prompt,
        num_images=num_images,
        seed=seed,
        weights_url="https://v3.fal.media/files/lora.safetensors",
        model_artifact=None,
        options=options,
    )


def poll_until_done(engine: FalEngine, handle: Handle, *, limit: int = 20) -> list[JobStatus]:
    seen = []
    for _ in range(limit):
        status = engine.poll(handle)
        seen.append(status)
        if status.state in ("succeeded", "failed", "cancelled"):
            return seen
    raise AssertionError(f"not finished after {limit} polls: {seen[-1]}")
