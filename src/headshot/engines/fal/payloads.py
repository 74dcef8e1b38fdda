"""Model inputs for fal's endpoints, checked here so that a typo in `options` fails before
anything is uploaded or paid for."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from typing import Any

from headshot.engines.protocol import EngineRejectedError, GenerationRequest, TrainingRequest

TRAINER = "fal-ai/flux-lora-portrait-trainer"
GENERATOR = "fal-ai/flux-lora"
DEFAULT_TRAINING_STEPS = 2000  # the seed brief's choice; fal's own default is 2500
DEFAULT_CAPTION = "a photo of [trigger]"
MAX_IMAGES_PER_REQUEST = 4  # flux-lora's num_images range is 1-4

# Trainer inputs other than the three we set ourselves (fal's schema); value: accepted types.
TRAINER_OPTIONS: Mapping[str, tuple[type, ...]] = {
    "learning_rate": (float, int),
    "multiresolution_training": (bool,),
    "subject_crop": (bool,),
    "create_masks": (bool,),
    "data_archive_format": (str,),
    "resume_from_checkpoint": (str,),
}
# Our own knob: how each image is captioned inside the zip (never sent to fal).
ZIP_OPTIONS: Mapping[str, tuple[type, ...]] = {"caption": (str,)}
# flux-lora inputs a caller may tune; the safety checker and output format are not negotiable.
GENERATION_OPTIONS: Mapping[str, tuple[type, ...]] = {
    "num_inference_steps": (int,),
    "guidance_scale": (float, int),
    "acceleration": (str,),
    "lora_scale": (float, int),
}


def check_options(options: Mapping[str, Any], allowed: Mapping[str, tuple[type, ...]]) -> None:
    problems: list[dict[str, Any]] = []
    for name, value in options.items():
        types = allowed.get(name)
        if types is None:
            problems.append(_problem(name, f"unknown fal option (allowed: {sorted(allowed)})"))
        elif (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            problems.append(_problem(name, f"expected {'/'.join(t.__name__ for t in types)}"))
    if problems:
        raise EngineRejectedError(f"invalid fal options: {problems[0]['msg']}", details=problems)


def _problem(name: str, msg: str) -> dict[str, Any]:
    return {"loc": ["options", name], "msg": msg, "type": "invalid_option"}


def training_zip(request: TrainingRequest) -> bytes:
    """`imgNN.jpg` + `imgNN.txt` per image; fal replaces `[trigger]` in captions with the
    trigger phrase. Stored, not deflated: JPEGs do not compress."""
    caption = str(request.options.get("caption", DEFAULT_CAPTION))
    if "[trigger]" not in caption:
        raise EngineRejectedError(
            "the caption must contain [trigger]",
            details=[_problem("caption", "must contain [trigger]")],
        )
    if not request.images:
        raise EngineRejectedError("no training images", details=[_problem("images", "empty")])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for index, image in enumerate(request.images, start=1):
            stem = f"img{index:02d}"
            # A fixed timestamp keeps the archive a pure function of its content.
            archive.writestr(zipfile.ZipInfo(f"{stem}.jpg", (2020, 1, 1, 0, 0, 0)), image.jpeg)
            archive.writestr(zipfile.ZipInfo(f"{stem}.txt", (2020, 1, 1, 0, 0, 0)), caption)
    return buffer.getvalue()


def check_training(request: TrainingRequest) -> None:
    check_options(request.options, {**TRAINER_OPTIONS, **ZIP_OPTIONS})
    if not 1 <= request.steps <= 10_000:
        raise EngineRejectedError(
            "steps must be within 1-10000", details=[_problem("steps", "out of range")]
        )


def trainer_input(request: TrainingRequest, *, images_url: str) -> dict[str, Any]:
    check_training(request)
    passthrough = {k: v for k, v in request.options.items() if k in TRAINER_OPTIONS}
    return {
        "images_data_url": images_url,
        "trigger_phrase": request.trigger_phrase,
        "steps": request.steps,
        **passthrough,
    }


def generation_inputs(request: GenerationRequest) -> list[dict[str, Any]]:
    """One flux-lora input per batch of at most four images; batch k gets seed + k·4 so that
    a seeded request stays reproducible across the split."""
    check_options(request.options, GENERATION_OPTIONS)
    if request.weights_url is None:
        raise EngineRejectedError(
            "fal generation needs weights_url", details=[_problem("weights_url", "missing")]
        )
    if request.num_images < 1:
        raise EngineRejectedError(
            "num_images must be positive", details=[_problem("num_images", "< 1")]
        )
    options = dict(request.options)
    scale = float(options.pop("lora_scale", 1.0))
    base = {
        "prompt": request.prompt,
        "loras": [{"path": request.weights_url, "scale": scale}],
        # Custom sizes are {width, height}; fal's presets top out at 1024 on the long side.
        "image_size": {"width": request.width, "height": request.height},
        "output_format": "jpeg",
        "enable_safety_checker": True,
        **options,
    }
    batches: list[dict[str, Any]] = []
    for offset in range(0, request.num_images, MAX_IMAGES_PER_REQUEST):
        batch = {**base, "num_images": min(MAX_IMAGES_PER_REQUEST, request.num_images - offset)}
        if request.seed is not None:
            batch["seed"] = request.seed + offset
        batches.append(batch)
    return batches
