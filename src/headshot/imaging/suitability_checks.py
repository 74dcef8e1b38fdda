"""Headshot-suitability checks: pure functions from one face's measures to findings.

Only something in front of the face is an error (the headshot would keep it); the rest are
warnings: the photo still helps training, but a better one should replace it.
"""

from __future__ import annotations

from headshot.domain.validation import Finding
from headshot.imaging.analysis import FaceAnalysis
from headshot.imaging.thresholds import ValidationThresholds


def occluder(face: FaceAnalysis, limits: ValidationThresholds) -> Finding | None:
    if abs(face.geometry.yaw) > limits.max_occluder_yaw:
        return None  # a turned head shows cheek and background where the mouth area would be
    tip = "Take the photo with nothing in front of your face: no microphone, hand, phone or glass."
    measures = face.suitability
    if measures.occlusion > limits.max_occlusion:
        return Finding(
            "occluder",
            "error",
            "Something is in front of your mouth or chin (a microphone, a hand, a phone?).",
            tip,
            round(measures.occlusion, 3),
            limits.max_occlusion,
        )
    if measures.mouth_detail < limits.min_mouth_detail:
        return Finding(
            "occluder",
            "error",
            "Your mouth is hidden: something covers your lips (a hand, a scarf, a cup?).",
            tip,
            round(measures.mouth_detail, 3),
            limits.min_mouth_detail,
        )
    return None


def mouth(face: FaceAnalysis, limits: ValidationThresholds) -> Finding | None:
    g = face.geometry
    if g.mouth_open <= limits.max_mouth_open or g.smile >= limits.smile_lift:
        return None  # closed, relaxed or smiling: all fine for a headshot
    return Finding(
        "mouth",
        "warning",
        "Your mouth is open, as if caught mid-sentence.",
        "Close your mouth or smile; a frame from a video of you talking rarely makes a good "
        "headshot.",
        round(g.mouth_open, 3),
        limits.max_mouth_open,
    )


def gaze(face: FaceAnalysis, limits: ValidationThresholds) -> Finding | None:
    turn = face.suitability.gaze
    if abs(turn) <= limits.max_gaze:
        return None
    return Finding(
        "gaze",
        "warning",
        "You are looking away from the camera.",
        "Look straight into the lens; headshots work best with eye contact.",
        round(turn, 1),
        limits.max_gaze,
    )


def camera_angle(face: FaceAnalysis, limits: ValidationThresholds) -> Finding | None:
    pitch = face.geometry.pitch
    if abs(pitch) <= limits.max_camera_pitch:
        return None
    where = "below" if pitch > 0 else "above"
    return Finding(
        "camera_angle",
        "warning",
        f"The camera is far {where} your eyes, which distorts your face.",
        "Hold the camera at eye height, or prop it on a shelf at that height.",
        round(pitch, 1),
        limits.max_camera_pitch,
    )


def photo_filter(face: FaceAnalysis, limits: ValidationThresholds) -> Finding | None:
    texture = face.suitability.skin_texture
    if texture >= limits.min_skin_texture:
        return None
    return Finding(
        "filter",
        "warning",
        "Your skin looks smoothed by a filter or beauty mode.",
        "Turn off beauty mode and filters; the headshots should look like you.",
        round(texture, 3),
        limits.min_skin_texture,
    )


SUITABILITY_CHECKS = (occluder, mouth, gaze, camera_angle, photo_filter)
