"""One analysis pass per photo: detect faces, mesh the main face, measure everything the checks,
the set checks and the training crop need. The checks themselves are pure (see `checks.py`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from headshot.imaging import measures
from headshot.imaging.decode import DecodedImage
from headshot.imaging.detect import FaceBox, detect_faces
from headshot.imaging.identity import embed
from headshot.imaging.landmarks import FaceGeometry, face_mesh
from headshot.imaging.models import FaceModels
from headshot.imaging.suitability import Suitability
from headshot.imaging.suitability import measure as measure_suitability


@dataclass(frozen=True)
class FaceAnalysis:
    """The main face, in analysis-image pixels unless named otherwise."""

    box: FaceBox
    geometry: FaceGeometry
    face_px: float  # face box width in original pixels
    extent: float  # larger of face width/height share of the frame
    outside: float  # share of mesh points outside the frame
    sharpness: float
    exposure: measures.Exposure
    eye_dark_share: float
    suitability: Suitability
    embedding: tuple[float, ...]


@dataclass(frozen=True)
class PhotoAnalysis:
    width: int  # original, upright
    height: int
    analysis_scale: float  # analysis pixels per original pixel
    face_count: int
    ignored_faces: int  # implausible faces: small, faint or not a face to the mesh (posters, seals)
    face: FaceAnalysis | None
    phash: str
    frame_mean: float


def analysis_pixels(decoded: DecodedImage, long_side: int) -> NDArray[np.uint8]:
    """The decoded image reduced by a whole factor to at most `long_side` (so between half of it
    and all of it) for the face models; box reduction is ~5x faster than an arbitrary resize."""
    factor = -(-max(decoded.image.size) // long_side)
    if factor <= 1:
        return decoded.pixels
    width, height = decoded.image.size
    if factor == 2 and width % 2 == 0 and height % 2 == 0:
        import cv2

        # The usual case (a JPEG drafted to 1024-2048 px). OpenCV's 2x box average equals
        # Pillow's reduce(2) bit for bit (not so for other factors), and it works on the array
        # the training crop reuses: ~1 ms instead of ~5 ms.
        half = cv2.resize(decoded.pixels, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
        return np.asarray(half, dtype=np.uint8)
    return np.asarray(decoded.image.reduce(factor), dtype=np.uint8)


def analyze_image(
    decoded: DecodedImage,
    models: FaceModels,
    *,
    long_side: int,
    other_face_ratio: float,
    other_face_score: float = 0.0,
    embedding: bool = True,
) -> PhotoAnalysis:
    """Everything about one photo. With `embedding=False` the face's embedding is left empty
    (SFace is a third of the analysis time); `with_embedding` adds it when it is needed.

    A face beside the largest one counts only when it is plausibly another person: at least
    `other_face_ratio` of the largest face's width, detected with at least `other_face_score`
    confidence, and confirmed by the face mesh (seals, posters and screens behind a person
    are smaller, fainter, or not a face to the mesh)."""
    rgb = analysis_pixels(decoded, long_side)
    scale = rgb.shape[1] / decoded.info.width
    gray = measures.luma(rgb)
    faces = detect_faces(rgb, models)
    counted = faces[:1] + [
        f
        for f in faces[1:]
        if f.w >= other_face_ratio * faces[0].w
        and f.score >= other_face_score
        and face_mesh(rgb, f, models) is not None
    ]
    main = None
    if counted:
        main = _main_face(rgb, gray, decoded.image, counted[0], models, scale, embedding=embedding)
    return PhotoAnalysis(
        width=decoded.info.width,
        height=decoded.info.height,
        analysis_scale=scale,
        face_count=len(counted) if main is not None or len(counted) > 1 else 0,
        ignored_faces=len(faces) - len(counted),
        face=main,
        phash=measures.perceptual_hash(gray),
        frame_mean=float(gray.mean()),
    )


def _main_face(
    rgb: NDArray[np.uint8],
    gray: NDArray[np.uint8],
    work: Image.Image,
    box: FaceBox,
    models: FaceModels,
    scale: float,
    *,
    embedding: bool,
) -> FaceAnalysis | None:
    geometry = face_mesh(rgb, box, models)
    if geometry is None:  # a detector hit the mesh cannot confirm: not a usable face
        return None
    height, width = gray.shape
    points = geometry.points[:468, :2]
    inside = (points[:, 0] >= 0) & (points[:, 0] < width) & (points[:, 1] >= 0)
    inside &= points[:, 1] < height
    span = points.max(axis=0) - points.min(axis=0)
    inner = measures.inner_face_box(geometry.points, width, height)
    exposure = measures.exposure(gray, inner)
    return FaceAnalysis(
        box=box,
        geometry=geometry,
        face_px=box.w / scale,
        extent=float(max(span[0] / width, span[1] / height)),
        outside=1.0 - float(inside.mean()),
        sharpness=_sharpness(work, inner, work.width / width, geometry.points),
        exposure=exposure,
        eye_dark_share=measures.eye_dark_share(gray, geometry.points, exposure.face_median),
        suitability=measure_suitability(rgb, geometry.points, geometry.yaw),
        embedding=embed(rgb, geometry.points, models) if embedding else (),
    )


def with_embedding(photo: PhotoAnalysis, embedding: tuple[float, ...]) -> PhotoAnalysis:
    """`photo` with its main face's embedding set (made by `identity.embed` on the pixels of
    `analysis_pixels` and the face's mesh points)."""
    if photo.face is None:
        return photo
    return replace(photo, face=replace(photo.face, embedding=embedding))


def _sharpness(
    work: Image.Image, inner: tuple[int, ...], ratio: float, points: NDArray[np.float64]
) -> float:
    """Sharpness on the decoded pixels (before the reduction for the models), inner face only."""
    x0, y0, x1, y1 = (round(v * ratio) for v in inner)
    face = np.asarray(work.crop((x0, y0, x1, y1)).convert("L"), dtype=np.uint8)
    eye_distance = float(np.linalg.norm(points[468, :2] - points[473, :2])) * ratio
    return measures.sharpness(face, eye_distance)
