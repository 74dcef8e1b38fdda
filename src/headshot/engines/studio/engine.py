"""`StudioEngine`: the offline engine. Training picks the person's best photos and cuts each out
as a framed portrait with a refined matte; generation places a portrait on a procedurally
painted backdrop under a lighting preset. No network, no GPU, no generative model: the face in
every headshot is the person's own photo, relit. It cannot change clothes (see `limitations`)."""

from __future__ import annotations

import secrets
import threading

from headshot.domain.styles import ATTIRE
from headshot.engines.protocol import (
    EngineRejectedError,
    GeneratedImage,
    GenerationRequest,
    Look,
    TrainedModel,
    TrainingRequest,
)
from headshot.engines.studio import selection
from headshot.engines.studio.edges import edge_deviation
from headshot.engines.studio.models import StudioModels
from headshot.engines.studio.package import (
    pack_portrait,
    read_manifest,
    read_portrait,
    write_package,
)
from headshot.engines.studio.portrait import Portrait, make_portrait
from headshot.engines.studio.render import BACKGROUNDS, LIGHTINGS, Rendered, encode_jpeg, render

ARTIFACT_NAME = "studio-model.zip"
MAX_SIDE = 4096
MAX_IMAGES = 16
ATTIRE_NOTE = "Attire changes need the AI engine; this headshot keeps the clothes from your photo."
MSG_NO_PHOTO = (
    "None of the photos has a clear, front-facing face the studio can use. Add well-lit photos "
    "looking at the camera and train again."
)
_ATTIRE_IDS = frozenset(style.id for style in ATTIRE)
_SPARE = 2  # candidates cut out beyond the limit, in case some have a neighbour in the frame
_ROUND_ZOOMS = (1.0, 1.1, 1.2)  # extra zoom of each round through the portraits


class StudioEngine:
    """The offline studio. Thread-safe; share one per process (its models load once).

    Cutting out and rendering hold a few hundred MB of full-size float images while they run,
    and both are CPU-bound, so at most `at_once` trainings or generations run together in a
    process (others wait their turn): two at once on a two-core server finish no sooner and
    took it past its memory bound.
    """

    name = "studio"

    def __init__(
        self, *, models: StudioModels | None = None, max_portraits: int = 6, at_once: int = 1
    ) -> None:
        self._models = models if models is not None else StudioModels()
        self._max_portraits = max_portraits
        self._turns = threading.BoundedSemaphore(at_once)

    def train(self, request: TrainingRequest) -> TrainedModel:
        """Cut out the best photos as portraits. Raises `EngineRejectedError` when none has a
        usable face (details: the names of the photos that were not usable)."""
        with self._turns:
            return self._train(request)

    def _train(self, request: TrainingRequest) -> TrainedModel:
        candidates, unusable = [], []
        for image in request.images:
            candidate = selection.analyse(image, self._models.faces)
            if candidate is None:
                unusable.append(image.name)
            else:
                candidates.append(candidate)
        chosen = selection.choose(candidates, limit=self._max_portraits + _SPARE)
        if not chosen:
            raise EngineRejectedError(MSG_NO_PHOTO, details={"unusable": unusable})
        # Packed one by one: a portrait's arrays are freed before the next is cut out.
        portraits = [pack_portrait(make_portrait(c, models=self._models)) for c in chosen]
        portraits.sort(key=lambda p: p.score, reverse=True)
        kept = portraits[: self._max_portraits]
        metadata = {
            "engine": self.name,
            "job_id": request.job_id,
            "sources": [p.entry["source"] for p in kept],
            "unusable": unusable,
        }
        package = write_package(kept, metadata=metadata)
        summary = {**metadata, "portraits": len(kept), "bytes": len(package)}
        return TrainedModel(artifact=package, artifact_name=ARTIFACT_NAME, metadata=summary)

    def generate(self, request: GenerationRequest) -> tuple[GeneratedImage, ...]:
        """`num_images` JPEG headshots; image i uses seed `seed + i` and the portrait and crop
        that seed picks (`candidate_plan`), so any one image can be made again from its own
        seed, and consecutive seeds are distinct candidates for the same look."""
        _check(request)
        with self._turns:
            return self._generate(request)

    def _generate(self, request: GenerationRequest) -> tuple[GeneratedImage, ...]:
        assert request.model_artifact is not None  # checked by `generate`
        package = request.model_artifact
        count = len(read_manifest(package)["portraits"])
        base = request.seed if request.seed is not None else secrets.randbelow(2**31)
        portraits: dict[int, Portrait] = {}
        results = []
        for offset in range(request.num_images):
            seed = base + offset
            index, zoom = candidate_plan(seed, count)
            if index not in portraits:
                portraits[index] = read_portrait(package, index)
            rendered = render(
                portraits[index],
                background=request.look.background,
                lighting=request.look.lighting,
                width=request.width,
                height=request.height,
                seed=seed,
                zoom=zoom,
            )
            results.append(_image(rendered, seed=seed, portrait=index))
        return tuple(results)

    def limitations(self, look: Look) -> list[str]:
        """Plain sentences on what the studio does not do for `look` (empty when nothing)."""
        return [ATTIRE_NOTE] if look.attire != "as-is" else []


def candidate_plan(seed: int, count: int) -> tuple[int, float]:
    """(portrait index, extra zoom) for `seed`: consecutive seeds go through the portraits (best
    first); each further round through them crops closer, so no two candidates of one request
    are the same picture."""
    rounds, index = divmod(seed, count)
    return index, _ROUND_ZOOMS[rounds % len(_ROUND_ZOOMS)]


def _image(rendered: Rendered, *, seed: int, portrait: int) -> GeneratedImage:
    height, width = rendered.alpha.shape
    metrics = {
        "edge_deviation": edge_deviation(rendered.pixels, rendered.alpha),
        "portrait": float(portrait),
    }
    return GeneratedImage(
        encode_jpeg(rendered.pixels),
        "image/jpeg",
        seed,
        width,
        height,
        effective_width=rendered.effective_width,
        effective_height=rendered.effective_height,
        metrics=metrics,
    )


def _check(request: GenerationRequest) -> None:
    look = request.look
    if request.model_artifact is None:
        raise EngineRejectedError("The studio needs its trained model to generate.")
    if look.background not in BACKGROUNDS:
        raise EngineRejectedError(f"Unknown background style: {look.background!r}.")
    if look.lighting not in LIGHTINGS:
        raise EngineRejectedError(f"Unknown lighting style: {look.lighting!r}.")
    if look.attire not in _ATTIRE_IDS:
        raise EngineRejectedError(f"Unknown attire style: {look.attire!r}.")
    if not (1 <= request.num_images <= MAX_IMAGES):
        raise EngineRejectedError(f"Ask for between 1 and {MAX_IMAGES} images.")
    if not (64 <= request.width <= MAX_SIDE and 64 <= request.height <= MAX_SIDE):
        raise EngineRejectedError(f"Image sides must be between 64 and {MAX_SIDE} pixels.")
