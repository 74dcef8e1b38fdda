"""`ImagingAnalyzer`: the imaging pipeline behind the photo service's `PhotoAnalyzer` boundary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from headshot.domain.validation import SetMember
from headshot.services.photos import Analysis
from headshot.settings import Settings

if TYPE_CHECKING:
    from headshot.domain.culling import CullCandidate
    from headshot.imaging.analysis import FaceAnalysis
    from headshot.imaging.pipeline import PhotoValidator


class ImagingAnalyzer:
    def __init__(self, validator: PhotoValidator) -> None:
        self._validator = validator

    @classmethod
    def from_settings(cls, settings: Settings) -> ImagingAnalyzer:
        from headshot.imaging.pipeline import PhotoValidator

        return cls(
            PhotoValidator(
                settings.validation,
                max_pixels=settings.uploads.max_pixels,
                max_side=settings.uploads.max_side,
            )
        )

    def analyze(self, data: bytes, *, filename: str, photo_id: str) -> Analysis:
        outcome = self._validator.analyze(data, filename=filename, photo_id=photo_id)
        report = outcome.report
        return Analysis(
            accepted=report.accepted,
            width=report.width,
            height=report.height,
            report=report.to_dict(),
            member=outcome.member.to_dict() if outcome.member else None,
            original=outcome.original,
            original_mime=outcome.original_mime,
            training_jpeg=outcome.training_jpeg,
            thumbnail_jpeg=outcome.thumbnail_jpeg,
        )

    def assess(self, members: Sequence[dict[str, Any]]) -> dict[str, Any]:
        report = self._validator.assess([SetMember.from_dict(m) for m in members])
        body = report.to_dict()
        # Which stored photos the set checks exclude (duplicates, someone else), and why.
        body["excluded_photos"] = [
            {
                "id": photo_id,
                "findings": [f.to_dict() for f in report.member_findings.get(photo_id, ())],
            }
            for photo_id in report.rejected_ids
        ]
        return body


class ImagingLikeness:
    """Likeness: identity similarity of a generated headshot to the person's photos."""

    def __init__(self, validator: PhotoValidator) -> None:
        self._validator = validator

    def embedding(self, image: bytes) -> tuple[float, ...] | None:
        face = self._face(image)
        return face.embedding if face else None

    def score(self, image: bytes, references: Sequence[Sequence[float]]) -> float | None:
        """Cosine similarity to the centroid of the references; None when no face is found."""
        return _likeness(self.embedding(image), references)

    def candidate(
        self,
        candidate_id: str,
        image: bytes,
        references: Sequence[Sequence[float]],
        *,
        edge_deviation: float | None = None,
    ) -> CullCandidate:
        """Everything culling needs to know of one generated image, from one face analysis:
        likeness, open eyes, mouth opening, smile and gaze (the photo checks' own measures),
        and the face's identity embedding as its near-duplicate
        signature (two crops of one photo score 0.98-0.99, two photos of one person at most
        0.87)."""
        from headshot.domain.culling import CullCandidate

        limits = self._validator.thresholds
        face = self._face(image)
        eyes_open = face is not None and face.geometry.eye_openness >= limits.min_eye_openness
        return CullCandidate(
            id=candidate_id,
            likeness=_likeness(face.embedding if face else None, references),
            eyes_open=eyes_open,
            signature=face.embedding if face else (),
            edge_deviation=edge_deviation,
            mouth_open=face.geometry.mouth_open if face else 0.0,
            smile=face.geometry.smile if face else 0.0,
            gaze=face.suitability.gaze if face else 0.0,
        )

    def _face(self, image: bytes) -> FaceAnalysis | None:
        from headshot.imaging.analysis import analyze_image
        from headshot.imaging.decode import decode

        limits = self._validator.thresholds
        decoded = decode(
            image,
            max_pixels=60_000_000,
            max_side=20_000,
            target_long_side=limits.analysis_long_side,
        )
        analysis = analyze_image(
            decoded,
            self._validator.models,
            long_side=limits.analysis_long_side,
            other_face_ratio=limits.other_face_ratio,
            other_face_score=limits.min_other_face_score,
        )
        return analysis.face


def _likeness(found: Sequence[float] | None, references: Sequence[Sequence[float]]) -> float | None:
    import numpy as np

    if found is None or not references:
        return None
    centroid = np.mean(np.asarray(references, dtype=np.float64), axis=0)
    norm = float(np.linalg.norm(centroid))
    if norm < 1e-12:
        return None
    return round(float(np.asarray(found) @ (centroid / norm)), 4)
