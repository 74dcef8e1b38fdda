"""Every number the checks compare against, in one settings model (`Settings.validation`).

Calibration notes live in docs/validation.md; tests pin these defaults against testdata/faces.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class ValidationThresholds(BaseModel):
    # Resolution and face size (original pixels).
    min_short_side: int = Field(
        400, gt=0, description="Shortest image side below which a photo is refused (px)."
    )
    recommended_short_side: int = Field(
        768, gt=0, description="Shortest image side below which a warning is given (px)."
    )
    min_face_px: int = Field(
        80, gt=0, description="Face box width below which a photo is refused (original px)."
    )
    recommended_face_px: int = Field(
        160, gt=0, description="Face box width below which a warning is given (original px)."
    )
    # Faces.
    other_face_ratio: float = Field(
        0.5,
        gt=0,
        le=1,
        description="A second face counts when at least this share of the main face's width.",
    )
    min_other_face_score: float = Field(
        0.75,
        ge=0,
        le=1,
        description="Detector confidence a second face needs to count (posters, seals score low).",
    )
    # Sharpness: second-derivative variance of the face scaled to 40 px between the irises,
    # median-filtered, along its weaker axis (see measures.sharpness).
    min_sharpness: float = Field(
        1100.0,
        ge=0,
        description="Face sharpness (scale-normalised, noise-robust) that a photo must reach.",
    )
    # Exposure: luma 0..255 measured on the inner face.
    min_face_luma: float = Field(
        55.0,
        ge=0,
        le=255,
        description="Mean face brightness below which a photo is refused as too dark.",
    )
    max_face_luma: float = Field(
        215.0,
        ge=0,
        le=255,
        description="Mean face brightness above which a photo is refused as too bright.",
    )
    max_face_clipped: float = Field(
        0.25, ge=0, le=1, description="Largest share of blown-out (>=250) face pixels."
    )
    max_face_crushed: float = Field(
        0.25, ge=0, le=1, description="Largest share of pitch-black (<=8) face pixels."
    )
    backlight_delta: float = Field(
        70.0,
        ge=0,
        description="Background minus face brightness above which a backlight warning is given.",
    )
    # Framing: the face's extent is the larger of its width and height share of the frame.
    min_face_extent: float = Field(
        0.12, gt=0, le=1, description="Face extent below which the face is too far away."
    )
    max_face_extent: float = Field(
        0.85, gt=0, description="Face extent above which the face is too close."
    )
    max_outside: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Largest share of face landmarks allowed outside the frame (face cut off).",
    )
    # Eyes.
    min_eye_openness: float = Field(
        0.12, ge=0, description="Eye aspect ratio below which the eyes count as closed."
    )
    max_eye_dark_share: float = Field(
        0.10,
        ge=0,
        le=1,
        description="Largest share of near-black pixels in the eye band (covered eyes).",
    )
    # Headshot suitability (docs/validation.md has the calibration).
    max_occlusion: float = Field(
        0.25,
        ge=0,
        le=1,
        description="Largest share of the mouth area that may be covered by something not skin.",
    )
    min_mouth_detail: float = Field(
        0.30,
        ge=0,
        description="Least edge strength across the lips (over skin brightness): lower is covered.",
    )
    max_occluder_yaw: float = Field(
        30.0,
        ge=0,
        description="Head turn (degrees) beyond which the mouth area is not judged for objects.",
    )
    max_mouth_open: float = Field(
        0.30,
        ge=0,
        description="Lip gap over mouth width above which an unsmiling mouth reads as speaking.",
    )
    max_gaze: float = Field(
        20.0,
        ge=0,
        description="Eyes' horizontal turn away from the camera (degrees) that gives a warning.",
    )
    max_camera_pitch: float = Field(
        20.0,
        ge=0,
        description="Head pitch (degrees) beyond which the camera is too low or too high.",
    )
    min_skin_texture: float = Field(
        0.04,
        ge=0,
        description="Cheek detail over eyelid detail below which skin reads as filter-smoothed.",
    )
    # Set checks.
    min_photos: int = Field(
        10, gt=0, description="Accepted photos needed before training can start."
    )
    min_yaw_spread: float = Field(
        15.0,
        ge=0,
        description="Head-turn spread (degrees) below which more angles are asked for.",
    )
    min_pitch_spread: float = Field(
        8.0,
        ge=0,
        description="Up/down tilt spread (degrees) below which more angles are asked for.",
    )
    pose_step: float = Field(
        8.0,
        gt=0,
        description="Turn away from the set's median (degrees) that counts as a distinct angle.",
    )
    smile_lift: float = Field(
        0.05,
        description="Mouth-corner lift (over eye distance) from which a face counts as smiling.",
    )
    smile_width: float = Field(
        0.75,
        gt=0,
        description="Mouth width (over eye distance) from which a face counts as smiling.",
    )
    neutral_lift: float = Field(
        0.03,
        description="Mouth-corner lift below which a face counts as neutral (with a narrow mouth).",
    )
    duplicate_cosine: float = Field(
        0.92,
        ge=-1,
        le=1,
        description="Identity similarity from which two same-pose photos are near-duplicates.",
    )
    duplicate_pose_delta: float = Field(
        8.0,
        ge=0,
        description="Largest yaw/pitch difference (degrees) for two photos to be near-duplicates.",
    )
    duplicate_hash_distance: int = Field(
        6,
        ge=0,
        le=64,
        description="Perceptual-hash distance (bits) up to which two photos are near-duplicates.",
    )
    identity_cosine: float = Field(
        0.36,
        ge=-1,
        le=1,
        description="SFace cosine similarity from which two faces are the same person.",
    )
    # Outputs.
    analysis_long_side: int = Field(
        1024, gt=0, description="Long side of the image the face models see (px)."
    )
    training_long_side: int = Field(
        1024, gt=0, description="Long side of stored training images (px)."
    )
    training_max_bytes: int = Field(
        1_000_000, gt=0, description="Largest stored training image (bytes)."
    )
    training_min_ssim: float = Field(
        0.97, gt=0, le=1, description="Least SSIM of a training image against the resized source."
    )
    thumbnail_long_side: int = Field(
        320, gt=0, description="Long side of the thumbnails shown in the app (px)."
    )
