"""Per-photo checks: small pure functions from measurements to findings (the API's codes)."""

from __future__ import annotations

from collections.abc import Callable

from headshot.domain.validation import Finding
from headshot.imaging.analysis import FaceAnalysis, PhotoAnalysis
from headshot.imaging.suitability_checks import SUITABILITY_CHECKS
from headshot.imaging.thresholds import ValidationThresholds

FaceCheck = Callable[[FaceAnalysis, ValidationThresholds], Finding | None]


def run_checks(photo: PhotoAnalysis, limits: ValidationThresholds) -> tuple[Finding, ...]:
    """All findings for one photo, errors first; face checks run only when there is exactly one."""
    found: list[Finding | None] = [resolution(photo, limits), face_count(photo)]
    if photo.face is not None and photo.face_count == 1:
        checks: tuple[FaceCheck, ...] = (face_size, sharpness, exposure, framing, eyes)
        checks += SUITABILITY_CHECKS
        found.extend(check(photo.face, limits) for check in checks)
    findings = [f for f in found if f is not None]
    return tuple(sorted(findings, key=lambda f: f.severity != "error"))


def resolution(photo: PhotoAnalysis, limits: ValidationThresholds) -> Finding | None:
    short = min(photo.width, photo.height)
    tip = (
        "Use your phone's main camera at full resolution, and don't send a screenshot or thumbnail."
    )
    if short < limits.min_short_side:
        message = f"The photo is too small ({photo.width} x {photo.height} pixels)."
        return Finding(
            "resolution", "error", message, tip, float(short), float(limits.min_short_side)
        )
    if short < limits.recommended_short_side:
        message = "The photo's resolution is low; training works best with larger photos."
        return Finding(
            "resolution",
            "warning",
            message,
            tip,
            float(short),
            float(limits.recommended_short_side),
        )
    return None


def face_count(photo: PhotoAnalysis) -> Finding | None:
    if photo.face_count == 1:
        return None
    if photo.face_count == 0:
        message = "We could not find a face in this photo, or the face is cut off."
        tip = "Take a photo of your whole face, looking at the camera, with nothing covering it."
    else:
        message = f"We found {photo.face_count} faces; each photo must show only you."
        tip = "Take the photo on your own, or crop the others out."
    return Finding("face_count", "error", message, tip, float(photo.face_count), 1.0)


def face_size(face: FaceAnalysis, limits: ValidationThresholds) -> Finding | None:
    tip = "Move closer to the camera so your face fills more of the photo."
    if face.face_px < limits.min_face_px:
        message = f"Your face is too small in this photo ({face.face_px:.0f} pixels wide)."
        return Finding(
            "face_size", "error", message, tip, round(face.face_px), float(limits.min_face_px)
        )
    if face.face_px < limits.recommended_face_px:
        message = "Your face is rather small in this photo; more detail gives better headshots."
        return Finding(
            "face_size",
            "warning",
            message,
            tip,
            round(face.face_px),
            float(limits.recommended_face_px),
        )
    return None


def sharpness(face: FaceAnalysis, limits: ValidationThresholds) -> Finding | None:
    if face.sharpness >= limits.min_sharpness:
        return None
    return Finding(
        "sharpness",
        "error",
        "The photo is blurry: your face is out of focus or moved.",
        "Hold the phone still, tap your face to focus, and use more light for a faster shutter.",
        round(face.sharpness, 1),
        limits.min_sharpness,
    )


def exposure(face: FaceAnalysis, limits: ValidationThresholds) -> Finding | None:
    light = face.exposure
    if light.face_mean < limits.min_face_luma or light.face_clipped_low > limits.max_face_crushed:
        return Finding(
            "exposure",
            "error",
            "Your face is too dark.",
            "Face a window or a lamp; avoid having the light behind you.",
            round(light.face_mean, 1),
            limits.min_face_luma,
        )
    if light.face_mean > limits.max_face_luma or light.face_clipped_high > limits.max_face_clipped:
        return Finding(
            "exposure",
            "error",
            "Your face is overexposed: parts of it are washed out to white.",
            "Step out of direct sunlight or away from the flash; soft daylight works best.",
            round(light.face_mean, 1),
            limits.max_face_luma,
        )
    if light.background_minus_face > limits.backlight_delta:
        return Finding(
            "exposure",
            "warning",
            "The background is much brighter than your face (backlight).",
            "Turn around so the light falls on your face.",
            round(light.background_minus_face, 1),
            limits.backlight_delta,
        )
    return None


def framing(face: FaceAnalysis, limits: ValidationThresholds) -> Finding | None:
    if face.outside > limits.max_outside:
        message = "Part of your face is cut off by the edge of the photo."
        tip = "Keep your whole head inside the frame, with a little space around it."
        return Finding("framing", "error", message, tip, round(face.outside, 3), limits.max_outside)
    if face.extent > limits.max_face_extent:
        message = "The camera is too close: your face fills the whole photo."
        tip = "Hold the camera at arm's length so your head and shoulders are in the photo."
        return Finding(
            "framing", "error", message, tip, round(face.extent, 3), limits.max_face_extent
        )
    if face.extent < limits.min_face_extent:
        message = "You are too far from the camera."
        tip = "Come closer, so that your head and shoulders fill most of the photo."
        return Finding(
            "framing", "error", message, tip, round(face.extent, 3), limits.min_face_extent
        )
    return None


def eyes(face: FaceAnalysis, limits: ValidationThresholds) -> Finding | None:
    if face.eye_dark_share > limits.max_eye_dark_share:
        return Finding(
            "eyes",
            "error",
            "Your eyes are not visible: something covers them (hair, hand, sunglasses).",
            "Take off sunglasses and keep hair and hands away from your eyes.",
            round(face.eye_dark_share, 3),
            limits.max_eye_dark_share,
        )
    if face.geometry.eye_openness < limits.min_eye_openness:
        return Finding(
            "eyes",
            "error",
            "Your eyes look closed in this photo.",
            "Keep your eyes open and look at the camera; take a few shots and pick the best.",
            round(face.geometry.eye_openness, 3),
            limits.min_eye_openness,
        )
    return None
