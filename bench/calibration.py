"""Calibration of the photo checks: clean acceptance and failure recall on public-domain photos
and degraded copies of them with known ground truth, plus each check's operating point.

Run: `uv run python bench/calibration.py [--sources N]`. The set is built at run time (nothing
is written to disk): every single-face original in testdata/person and testdata/faces, each with
benign variants that must be accepted and degraded variants that must be refused (see VARIANTS).
The testdata/faces fixtures are added with the verdicts their PROVENANCE.md gives. Set
HEADSHOT_TESTDATA if the shared test data is not at `<repo>/../shared/testdata`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the synthetic degradations live with the tests

from tests.imaging import synthetic as syn  # noqa: E402

from headshot.domain.errors import HeadshotError  # noqa: E402
from headshot.imaging.heif import ensure_heif_opener  # noqa: E402
from headshot.imaging.pipeline import PhotoValidator  # noqa: E402
from headshot.imaging.thresholds import ValidationThresholds  # noqa: E402

Make = Callable[[Image.Image, syn.Face, "Poster"], Image.Image]

# name -> (how to make it, the error the checks must give, or None when it must be accepted)
VARIANTS: dict[str, tuple[Make, str | None]] = {
    "original": (lambda im, _f, _o: im, None),
    "mirrored": (lambda im, _f, _o: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), None),
    "downscaled to 480 px": (lambda im, _f, _o: syn.rescale(im, min(1, 480 / min(im.size))), None),
    "upscaled x2.5": (lambda im, _f, _o: syn.rescale(im, 2.5), None),
    "JPEG q40": (lambda im, _f, _o: syn.jpeg(im, 40), None),
    "noise sigma 6": (lambda im, _f, _o: syn.noise(im, 6), None),
    "darker x0.75": (lambda im, _f, _o: syn.brightness(im, 0.75), None),
    "brighter x1.2": (lambda im, _f, _o: syn.brightness(im, 1.2), None),
    "poster behind (0.4 face)": (lambda im, f, o: syn.poster(im, f, *o, share=0.4), None),
    "beauty-mode smoothing": (lambda im, f, _o: syn.beauty_filter(im, f), None),
    "blur 0.05 eye-dist": (
        lambda im, f, _o: syn.gaussian_blur(im, 0.05 * f.eye_distance),
        "sharpness",
    ),
    "motion 0.2 eye-dist": (
        lambda im, f, _o: syn.motion_blur(im, 0.2 * f.eye_distance),
        "sharpness",
    ),
    "blur + noise 8": (
        lambda im, f, _o: syn.noise(syn.gaussian_blur(im, 0.05 * f.eye_distance), 8),
        "sharpness",
    ),
    "blur + JPEG q15": (
        lambda im, f, _o: syn.jpeg(syn.gaussian_blur(im, 0.05 * f.eye_distance), 15),
        "sharpness",
    ),
    "under-exposed x0.2": (lambda im, _f, _o: syn.brightness(im, 0.2), "exposure"),
    "over-exposed x2.8": (lambda im, _f, _o: syn.brightness(im, 2.8), "exposure"),
    "microphone": (lambda im, f, _o: syn.microphone(im, f), "occluder"),
    "hand over mouth": (lambda im, f, _o: syn.hand(im, f), "occluder"),
    "downscaled to 300 px": (lambda im, _f, _o: syn.rescale(im, 300 / min(im.size)), "resolution"),
    # What is left below the nose may still read as a (cut-off) face: either reason is right.
    "cropped below the eyes": (lambda im, f, _o: crop_below_eyes(im, f), "face_count|framing"),
    "cropped inside the face": (lambda im, f, _o: crop_inside(im, f), "framing"),
}
# testdata/faces fixtures: the verdict of their PROVENANCE.md (None = accepted).
FIXTURES: dict[str, str | None] = {
    "d_obama_blur_r4.jpg": "sharpness",
    "d_obama_motion_blur.jpg": "sharpness",
    "d_obama_dark.jpg": "exposure",
    "d_obama_bright.jpg": "exposure",
    "d_hopper_dark.jpg": "exposure",
    "d_obama_tiny_120.jpg": "resolution",
    "d_obama_cut_top.jpg": "face_count",
    "d_obama_cut_side.jpg": "framing",
    "d_obama_torso_no_face.jpg": "face_count",
    "d_obama_tight_crop.jpg": "framing",
    "d_obama_eyes_occluded.jpg": "eyes",
    "d_two_faces_obama_biden.jpg": "face_count",
    "d_small_face_in_scene.jpg": "framing",
    "d_obama_gray.jpg": None,
    "d_obama_cmyk.jpg": None,
    "d_obama_rgba.png": None,
    "d_obama_exif_orient6.jpg": None,
    "d_obama_roll_p20.jpg": None,
    "d_biden_1024.heic": None,
}
# The faces originals not already in testdata/person (the others are byte-identical copies).
FACE_ORIGINALS = ("pd_grace_hopper.jpg", "pd_astronaut_collins.jpg", "pd_biden_blueroom_2010.jpg")
# Metric behind each threshold check, and whether a failure reads low or high.
OPERATING_POINTS = {
    "sharpness": ("sharpness", "min_sharpness", "low"),
    "occluder": ("occlusion", "max_occlusion", "high"),
    "occluder (lips hidden)": ("mouth_detail", "min_mouth_detail", "low"),
}
# Warnings the originals deserve, judged by looking at them: the congress address is
# mid-sentence with the eyes on the audience, wa02 is mid-sentence, the signing photo looks
# down at the desk from below the camera. Their benign variants inherit these.
NATURAL_WARNINGS = {
    "pd_obama_2009_congress.jpg": {"mouth", "gaze"},
    "pd_obama_wa02_striped-shirt.jpg": {"mouth"},
    "pd_obama_2016_oval-office-signing.jpg": {"gaze", "camera_angle"},
}
WARNING_CODES = ("mouth", "gaze", "camera_angle", "filter")


Poster = tuple[Image.Image, syn.Face]  # another person's photo, and where the face is in it


@dataclass(frozen=True)
class Case:
    source: str
    variant: str
    expected: str | None
    accepted: bool
    errors: frozenset[str]
    warnings: frozenset[str]
    metrics: dict[str, object]


def crop_below_eyes(image: Image.Image, face: syn.Face) -> Image.Image:
    top = round(float(face.points[1, 1]))  # the nose tip
    return image.crop((0, top, image.width, image.height))


def crop_inside(image: Image.Image, face: syn.Face) -> Image.Image:
    xs, ys = face.points[:468, 0], face.points[:468, 1]
    width = float(xs.max() - xs.min())
    box = (xs.min() + 0.15 * width, ys.min() + 0.15 * width, xs.max() - 0.15 * width, ys.max())
    return image.crop(tuple(round(float(v)) for v in box))


def testdata() -> Path:
    return Path(os.environ.get("HEADSHOT_TESTDATA", REPO.parent / "shared" / "testdata"))


def judge(
    validator: PhotoValidator, data: bytes, source: str, variant: str, expected: str | None
) -> Case:
    try:
        report = validator.analyze(data, filename=source).report
    except HeadshotError as exc:  # refused before analysis (format, size)
        return Case(source, variant, expected, False, frozenset({exc.code}), frozenset(), {})
    errors = frozenset(f.code for f in report.findings if f.severity == "error")
    warnings = frozenset(f.code for f in report.findings if f.severity == "warning")
    return Case(source, variant, expected, report.accepted, errors, warnings, dict(report.metrics))


def build(validator: PhotoValidator, limit: int | None) -> list[Case]:
    root = testdata()
    sources = sorted((root / "person").glob("*.jpg")) + [root / "faces" / n for n in FACE_ORIGINALS]
    biden = Image.open(root / "faces" / "pd_biden_blueroom_2010.jpg").convert("RGB")
    hopper = Image.open(root / "faces" / "pd_grace_hopper.jpg").convert("RGB")
    posters = {
        "biden": (biden, syn.locate(biden, validator.models)),
        "hopper": (hopper, syn.locate(hopper, validator.models)),
    }
    cases = []
    for path in sources[:limit]:
        image = Image.open(path).convert("RGB")
        face = syn.locate(image, validator.models)
        # Never a poster of the same person.
        poster = posters["hopper" if "biden" in path.name else "biden"]
        for name, (make, expected) in VARIANTS.items():
            data = syn.jpeg_bytes(make(image, face, poster))
            cases.append(judge(validator, data, path.name, name, expected))
        print(f"  {path.name}", file=sys.stderr, flush=True)
    for name, expected in FIXTURES.items():
        data = (root / "faces" / name).read_bytes()
        cases.append(judge(validator, data, name, "fixture", expected))
    return cases


def as_expected(case: Case) -> bool:
    if case.expected is None:
        return case.accepted
    return bool(case.errors & set(case.expected.split("|")))


def share(part: int, whole: int) -> str:
    return f"{part}/{whole} = {100 * part / whole:.1f} %" if whole else "-"


def summary(cases: list[Case]) -> None:
    clean = [c for c in cases if c.expected is None]
    failing = [c for c in cases if c.expected is not None]
    accepted = sum(c.accepted for c in clean)
    caught = sum(not c.accepted for c in failing)
    named = sum(as_expected(c) for c in failing)
    print(f"clean acceptance: {share(accepted, len(clean))}")
    print(f"failure recall (refused): {share(caught, len(failing))}")
    print(f"failure recall (refused for the expected reason): {share(named, len(failing))}")
    print("\n| variant | expected | cases | as expected | other errors seen |")
    print("|---|---|---|---|---|")
    by_variant: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_variant[
            case.variant if case.variant != "fixture" else f"fixture ({case.source})"
        ].append(case)
    for variant, group in by_variant.items():
        expected = group[0].expected
        ok = sum(as_expected(c) for c in group)
        seen = sorted({e for c in group for e in c.errors} - set((expected or "").split("|")))
        print(f"| {variant} | {expected or 'accepted'} | {len(group)} | {ok} | {', '.join(seen)} |")
    misses = [c for c in cases if (c.accepted if c.expected else not c.accepted)]
    print("\nWrong verdicts (accepted or refused when the other was expected):")
    for case in misses:
        print(
            f"  {case.source} / {case.variant}: expected {case.expected}, got {sorted(case.errors)}"
        )


def operating_points(cases: list[Case], limits: ValidationThresholds) -> None:
    print(
        "\n| check | metric | threshold | clean: worst | failures: worst | recall | false alarms |"
    )
    print("|---|---|---|---|---|---|---|")
    for check, (metric, field, direction) in OPERATING_POINTS.items():
        if field not in ValidationThresholds.model_fields:
            continue  # an older version of the checks (for before/after comparisons)
        code = check.split()[0]
        threshold = float(getattr(limits, field))
        values = {id(c): judged(c, metric, limits) for c in cases}
        clean = [v for c in cases if c.expected is None and (v := values[id(c)]) is not None]
        bad = [v for c in cases if c.expected == code and (v := values[id(c)]) is not None]
        if direction == "low":
            flagged_bad, flagged_clean = (
                sum(v < threshold for v in bad),
                sum(v < threshold for v in clean),
            )
            worst_clean, worst_bad = min(clean, default=0), max(bad, default=0)
        else:
            flagged_bad, flagged_clean = (
                sum(v > threshold for v in bad),
                sum(v > threshold for v in clean),
            )
            worst_clean, worst_bad = max(clean, default=0), min(bad, default=0)
        print(
            f"| {check} | {metric} | {threshold:g} | {worst_clean:.3g} | {worst_bad:.3g} "
            f"| {share(flagged_bad, len(bad))} | {share(flagged_clean, len(clean))} |"
        )


def judged(case: Case, metric: str, limits: ValidationThresholds) -> float | None:
    """The metric when the check judges it (the mouth area is not judged on a turned head)."""
    value = case.metrics.get(metric)
    if not isinstance(value, float | int):
        return None
    yaw = case.metrics.get("yaw")
    limit = getattr(limits, "max_occluder_yaw", 90.0)  # older versions of the checks lack it
    turned = isinstance(yaw, float | int) and abs(yaw) > limit
    return None if metric in {"occlusion", "mouth_detail"} and turned else float(value)


def deserved(case: Case) -> set[str]:
    if case.expected is not None or case.variant == "fixture":
        return set()
    extra = {"filter"} if case.variant == "beauty-mode smoothing" else set()
    return NATURAL_WARNINGS.get(case.source, set()) | extra


def warning_points(cases: list[Case]) -> None:
    judged_cases = [c for c in cases if c.accepted]  # warnings matter on accepted photos
    print("\n| warning | deserved | given where deserved | given where not deserved |")
    print("|---|---|---|---|")
    for code in WARNING_CODES:
        due = [c for c in judged_cases if code in deserved(c)]
        undue = [c for c in judged_cases if code not in deserved(c)]
        hits = sum(code in c.warnings for c in due)
        false = sum(code in c.warnings for c in undue)
        print(f"| {code} | {len(due)} | {share(hits, len(due))} | {share(false, len(undue))} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=None, help="use only the first N sources")
    args = parser.parse_args()
    ensure_heif_opener()
    limits = ValidationThresholds()
    validator = PhotoValidator(limits)
    started = time.perf_counter()
    cases = build(validator, args.sources)
    summary(cases)
    operating_points(cases, limits)
    warning_points(cases)
    seconds = time.perf_counter() - started
    print(f"\n{len(cases)} cases in {seconds:.0f} s; median per case {seconds / len(cases):.2f} s")


if __name__ == "__main__":
    main()
