"""Input schemas of the two endpoints (FAL.md §4.1, §5.1). fal's apps are pydantic models, so
pydantic's own error list, with `loc` starting at "body", is fal's 422 `detail` shape."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PRESETS = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}


Preset = Literal[
    "square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"
]


class TrainerInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    images_data_url: str
    trigger_phrase: str | None = None
    learning_rate: float = Field(0.00009, ge=0.000001, le=0.001)
    steps: int = Field(2500, ge=1, le=10000)
    multiresolution_training: bool = True
    subject_crop: bool = True
    data_archive_format: str | None = None
    resume_from_checkpoint: str = ""
    create_masks: bool = False


class ImageSize(BaseModel):
    width: int = Field(512, gt=0, le=14142)
    height: int = Field(512, gt=0, le=14142)


class LoraWeight(BaseModel):
    path: str
    scale: float = 1.0


class FluxLoraInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    prompt: str
    image_size: ImageSize | Preset = "landscape_4_3"
    num_inference_steps: int = Field(28, ge=1, le=50)
    seed: int | None = None
    loras: list[LoraWeight] = Field(default_factory=list)
    guidance_scale: float = Field(3.5, ge=0, le=35)
    sync_mode: bool = False
    num_images: int = Field(1, ge=1, le=4)
    enable_safety_checker: bool = True
    output_format: Literal["jpeg", "png"] = "jpeg"
    acceleration: Literal["none", "regular"] = "none"

    def size(self) -> tuple[int, int]:
        if isinstance(self.image_size, ImageSize):
            return self.image_size.width, self.image_size.height
        return PRESETS[self.image_size]


SCHEMAS: dict[str, type[BaseModel]] = {
    "fal-ai/flux-lora-portrait-trainer": TrainerInput,
    "fal-ai/flux-lora": FluxLoraInput,
}


def validate(endpoint: str, body: Any) -> tuple[BaseModel | None, list[dict[str, Any]]]:
    """The parsed input, or fal's `detail` list."""
    try:
        return SCHEMAS[endpoint].model_validate(body), []
    except ValidationError as exc:
        errors: list[dict[str, Any]] = json.loads(exc.json(include_url=False))
        for error in errors:
            error["loc"] = ["body", *error["loc"]]
        return None, errors
