"""The imaging facade the service and the CLI use: bytes in, a report and stored images out."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from headshot.domain.validation import MetricValue, PhotoReport, SetMember, SetReport
from headshot.imaging import compress
from headshot.imaging.analysis import PhotoAnalysis, analysis_pixels, analyze_image, with_embedding
from headshot.imaging.checks import run_checks
from headshot.imaging.decode import DecodedImage, clean_original, decode, encode_clean, probe
from headshot.imaging.identity import embed
from headshot.imaging.models import FaceModels
from headshot.imaging.setcheck import assess_set, expression_of
from headshot.imaging.thresholds import ValidationThresholds


@dataclass(frozen=True)
class PhotoOutcome:
    """Everything one upload produces. `member` and `training_jpeg` are None when rejected."""

    report: PhotoReport
    member: SetMember | None
    original: bytes  # upright, without any metadata
    original_mime: str
    training_jpeg: bytes | None
    thumbnail_jpeg: bytes


class PhotoValidator:
    """Validates photos one at a time and sets of accepted photos. Thread-safe; share one.

    `analyze` raises `InvalidInputError(code="format")` for files that are not a readable photo
    and `PayloadTooLargeError(code="too_large")` for images over the pixel limits; every decodable
    image gets a report, accepted or not.
    """

    def __init__(
        self,
        thresholds: ValidationThresholds,
        *,
        models: FaceModels | None = None,
        max_pixels: int = 60_000_000,
        max_side: int = 20_000,
    ) -> None:
        self.thresholds = thresholds
        self.models = models if models is not None else FaceModels()
        self._max_pixels = max_pixels
        self._max_side = max_side
        self._helper_pool: ThreadPoolExecutor | None = None
        self._helper_pid = 0

    def analyze(self, data: bytes, *, filename: str, photo_id: str | None = None) -> PhotoOutcome:
        """Validate one photo. `photo_id` names its `SetMember` (the filename when not given)."""
        limits = self.thresholds
        work = self._decode(data)
        # Side work runs on the helper thread, overlapping the analysis on a second core: the
        # clean original (a 12 MP HEIF's JPEG re-encode is ~80 ms; a JPEG only loses metadata)
        # and the thumbnail. Both only read the decoded image.
        original = self._helper().submit(self._clean_original, data, work)
        thumb = self._helper().submit(
            compress.thumbnail, work.image, long_side=limits.thumbnail_long_side
        )
        photo = analyze_image(
            work,
            self.models,
            long_side=limits.analysis_long_side,
            other_face_ratio=limits.other_face_ratio,
            other_face_score=limits.min_other_face_score,
            embedding=False,
        )
        findings = run_checks(photo, limits)
        accepted = not any(f.severity == "error" for f in findings)
        # Only an accepted photo's SetMember needs the SFace embedding (~20 ms of C++ without the
        # GIL), and it overlaps the training image's resize, encode and SSIM.
        embedding = self._embed_later(work, photo) if accepted else None
        report = PhotoReport(
            filename=filename,
            accepted=accepted,
            face_count=photo.face_count,
            findings=findings,
            metrics=metrics_of(photo, work, limits),
            width=photo.width,
            height=photo.height,
        )
        training = self._training_jpeg(data, work, photo) if accepted else None
        member = None
        if embedding is not None:
            photo = with_embedding(photo, embedding.result())
            member = _member(photo, photo_id or filename, filename, limits)
        return PhotoOutcome(report, member, *original.result(), training, thumb.result())

    def assess(self, members: Sequence[SetMember]) -> SetReport:
        """The set report; `rejected_ids` lists the members the set checks exclude."""
        return assess_set(members, self.thresholds)

    def _helper(self) -> ThreadPoolExecutor:
        """One helper thread per validator and process, for work that overlaps the analysis."""
        # A forked child inherits the executor but not its thread: work sent there would wait
        # forever. Racing threads may make two executors here; the spare one is collected.
        if self._helper_pool is None or self._helper_pid != os.getpid():
            self._helper_pool = ThreadPoolExecutor(1, thread_name_prefix="headshot-imaging")
            self._helper_pid = os.getpid()
        return self._helper_pool

    def _decode(self, data: bytes) -> DecodedImage:
        limits = self.thresholds
        info = probe(data, max_pixels=self._max_pixels, max_side=self._max_side)
        # HEIF cannot decode at reduced size; decode it once at full size and reuse the pixels.
        target = max(limits.analysis_long_side, limits.training_long_side)
        return decode(
            data,
            max_pixels=self._max_pixels,
            max_side=self._max_side,
            target_long_side=None if info.format == "HEIF" else target,
        )

    def _clean_original(self, data: bytes, work: DecodedImage) -> tuple[bytes, str]:
        if work.info.format == "HEIF":
            # Decoded at full size already: re-encode those pixels. `encode_clean` empties the
            # image's `info`, which nothing else reads (a copy would cost ~25 ms at 12 MP).
            return encode_clean(work.image)
        return clean_original(data, max_pixels=self._max_pixels, max_side=self._max_side)

    def _embed_later(self, work: DecodedImage, photo: PhotoAnalysis) -> Future[tuple[float, ...]]:
        assert photo.face is not None  # accepted photos always have one face
        rgb = analysis_pixels(work, self.thresholds.analysis_long_side)
        return self._helper().submit(embed, rgb, photo.face.geometry.points, self.models)

    def _training_jpeg(self, data: bytes, work: DecodedImage, photo: PhotoAnalysis) -> bytes:
        assert photo.face is not None  # accepted photos always have one face
        limits = self.thresholds
        points = photo.face.geometry.points[:468, :2] / photo.analysis_scale  # original pixels
        box = compress.head_and_shoulders(points, width=photo.width, height=photo.height)
        crop_long = box[2] - box[0]
        if crop_long * work.scale < limits.training_long_side and work.scale < 1:
            # The reduced decode is too coarse for this crop: decode again, just large enough.
            needed = int(limits.training_long_side / crop_long * max(photo.width, photo.height))
            work = decode(
                data, max_pixels=self._max_pixels, max_side=self._max_side, target_long_side=needed
            )
        left, top = round(box[0] * work.scale), round(box[1] * work.scale)
        side = min(round(crop_long * work.scale), work.image.width - left, work.image.height - top)
        crop = work.region(left, top, left + side, top + side)
        return compress.encode_training(
            crop,
            long_side=limits.training_long_side,
            max_bytes=limits.training_max_bytes,
            min_ssim=limits.training_min_ssim,
        ).jpeg


def _quality(photo: PhotoAnalysis, limits: ValidationThresholds) -> float:
    """A rough usefulness score for keeping the better of two near-duplicates."""
    assert photo.face is not None
    sharp = min(photo.face.sharpness / limits.min_sharpness, 4.0)
    size = min(photo.face.face_px / limits.recommended_face_px, 2.0)
    return round(sharp + size, 4)


def _member(
    photo: PhotoAnalysis, photo_id: str, filename: str, limits: ValidationThresholds
) -> SetMember:
    assert photo.face is not None
    geometry = photo.face.geometry
    return SetMember(
        photo_id=photo_id,
        filename=filename,
        yaw=round(geometry.yaw, 2),
        pitch=round(geometry.pitch, 2),
        roll=round(geometry.roll, 2),
        smile=round(geometry.smile, 4),
        mouth_width=round(geometry.mouth_width, 4),
        mouth_open=round(geometry.mouth_open, 4),
        eye_openness=round(geometry.eye_openness, 4),
        quality=_quality(photo, limits),
        embedding=photo.face.embedding,
        phash=photo.phash,
        gaze=round(photo.face.suitability.gaze, 2),
        occlusion=round(photo.face.suitability.occlusion, 4),
        sharpness=round(photo.face.sharpness, 1),
        face_luma=round(photo.face.exposure.face_mean, 1),
    )


def metrics_of(
    photo: PhotoAnalysis, work: DecodedImage, limits: ValidationThresholds
) -> Mapping[str, MetricValue]:
    out: dict[str, MetricValue] = {
        "format": work.info.format,
        "face_count": photo.face_count,
        "background_faces": photo.ignored_faces,
        "frame_luma": round(photo.frame_mean, 1),
    }
    face = photo.face
    if face is None:
        return out
    g = face.geometry
    out |= {
        "face_px": round(face.face_px, 1),
        "face_extent": round(face.extent, 3),
        "face_outside": round(face.outside, 3),
        "sharpness": round(face.sharpness, 1),
        "face_luma": round(face.exposure.face_mean, 1),
        "face_clipped_high": round(face.exposure.face_clipped_high, 3),
        "face_clipped_low": round(face.exposure.face_clipped_low, 3),
        "backlight": round(face.exposure.background_minus_face, 1),
        "eye_openness": round(g.eye_openness, 3),
        "eye_dark_share": round(face.eye_dark_share, 3),
        "mouth_open": round(g.mouth_open, 3),
        "occlusion": round(face.suitability.occlusion, 3),
        "mouth_detail": round(face.suitability.mouth_detail, 3),
        "gaze": round(face.suitability.gaze, 1),
        "skin_texture": round(face.suitability.skin_texture, 3),
        "yaw": round(g.yaw, 1),
        "pitch": round(g.pitch, 1),
        "roll": round(g.roll, 1),
        "smile": round(g.smile, 3),
        "expression": expression_of(_member(photo, "", "", limits), limits),
    }
    return out
