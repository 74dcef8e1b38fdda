"""The studio's models: the face models of `headshot.imaging` plus mediapipe's selfie segmenter,
each loaded on first use, once per process, and used under its own lock (mediapipe graphs must
not run concurrently)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from headshot.imaging.models import FaceModels, Lazy


@dataclass
class StudioModels:
    """Owner of the models the studio needs; share one instance per process."""

    faces: FaceModels = field(default_factory=FaceModels)
    _segmenter: Lazy[Any] = field(init=False)

    def __post_init__(self) -> None:
        self._segmenter = Lazy(_selfie_segmenter)

    def segmenter(self) -> tuple[Any, AbstractContextManager[bool]]:
        return self._segmenter.get(), self._segmenter.use_lock

    def person_mask(self, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Person probability (0..1) at the image's size, averaged with the mirrored image's:
        the segmenter's errors are not symmetric, so the average is steadier along the hair."""
        model, lock = self.segmenter()
        mirrored = np.ascontiguousarray(rgb[:, ::-1])
        with lock:
            direct = np.asarray(model.process(rgb).segmentation_mask, dtype=np.float32)
            flipped = np.asarray(model.process(mirrored).segmentation_mask, dtype=np.float32)
        return np.asarray((direct + flipped[:, ::-1]) * 0.5, dtype=np.float32)


def _selfie_segmenter() -> Any:
    from headshot.imaging.mpimport import import_solution

    # Through the imaging helper, so mediapipe never drags matplotlib in (cold start).
    selfie_segmentation = import_solution("selfie_segmentation")

    # The general model (256x256 input) follows hair better than the landscape one (144x256).
    return selfie_segmentation.SelfieSegmentation(model_selection=0)
