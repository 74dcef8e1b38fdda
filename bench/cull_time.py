"""Generation time per look with over-generate and cull, against making only what is shown.

Run: `uv run python bench/cull_time.py [--per-look 2] [--factor 3] [--repeat 2]`.
Trains the studio on the person test set (as `bench/studio_sheet.py` does), then for three
looks times, per look: *shown only* — `per_look` images made and each scored for likeness (the
generation job before culling); *culled* — `per_look x factor` candidates made in one call,
each analysed (`ImagingLikeness.candidate`) and culled to `per_look` (`best_candidates`, as the
generation job and `headshot run` now do). Prints seconds per look (median over looks and
repeats), the median likeness, and how many shown faces are headshot-ready (mouth closed or
smiling, eyes to the camera; counted outside the timing). Nothing is written to disk.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from headshot.domain.culling import CullPolicy, headshot_ready  # noqa: E402
from headshot.engines.protocol import GenerationRequest, Look, TrainingRequest  # noqa: E402
from headshot.engines.studio import StudioEngine, StudioModels  # noqa: E402
from headshot.imaging.models import FaceModels  # noqa: E402
from headshot.imaging.pipeline import PhotoValidator  # noqa: E402
from headshot.imaging.thresholds import ValidationThresholds  # noqa: E402
from headshot.services.analysis import ImagingLikeness  # noqa: E402
from headshot.services.candidates import best_candidates  # noqa: E402
from studio_sheet import training_images  # noqa: E402

LOOKS = (
    Look("studio-grey", "as-is", "soft-studio"),
    Look("office", "as-is", "rembrandt"),
    Look("outdoor-green", "as-is", "golden-hour"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-look", type=int, default=2)
    parser.add_argument("--factor", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2)
    options = parser.parse_args()
    models = FaceModels()
    validator = PhotoValidator(ValidationThresholds(), models=models)
    likeness = ImagingLikeness(validator)
    images, _ = training_images(models)
    members = [validator.analyze(image.jpeg, filename=image.name).member for image in images]
    references = [m.embedding for m in members if m is not None]
    engine = StudioEngine(models=StudioModels(faces=models))
    model = engine.train(TrainingRequest("bench", tuple(images), trigger_phrase="x", steps=0))
    shown, culled, kept_likeness, shown_likeness = [], [], [], []
    ready = {"shown only": 0, "culled": 0}  # mouth closed or smiling, eyes to the camera
    for _ in range(options.repeat):
        for index, look in enumerate(LOOKS):
            request = GenerationRequest(
                job_id="bench",
                look=look,
                prompt="",
                num_images=options.per_look,
                seed=index * 1000,
                weights_url=None,
                model_artifact=model.artifact,
            )
            start = time.perf_counter()
            made = engine.generate(request)
            shown_likeness += [likeness.score(m.image, references) for m in made]
            shown.append(time.perf_counter() - start)
            start = time.perf_counter()
            many = engine.generate(replace(request, num_images=options.per_look * options.factor))
            kept = best_candidates(likeness, many, references, keep=options.per_look)
            culled.append(time.perf_counter() - start)
            kept_likeness += [k.likeness for k in kept]
            for name, chosen in (("shown only", made), ("culled", [k.image for k in kept])):
                for number, image in enumerate(chosen):
                    candidate = likeness.candidate(str(number), image.image, references)
                    ready[name] += headshot_ready(candidate, CullPolicy())
    print(f"shown only ({options.per_look}/look): {statistics.median(shown):.2f} s per look")
    print(
        f"culled ({options.per_look}x{options.factor} candidates/look): "
        f"{statistics.median(culled):.2f} s per look"
    )
    print(f"median likeness shown only: {statistics.median(x or 0 for x in shown_likeness):.3f}")
    print(f"median likeness kept: {statistics.median(x or 0 for x in kept_likeness):.3f}")
    total = options.repeat * len(LOOKS) * options.per_look
    for name, count in ready.items():
        print(f"headshot-ready faces, {name}: {count} of {total}")


if __name__ == "__main__":
    main()
