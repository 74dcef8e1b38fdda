"""Degraded copies of real test photos with known ground truth: blur, noise, JPEG blocking,
exposure, resizing, crops, things in front of the mouth, a poster behind the person, beauty-mode
smoothing. Used by the check tests and by bench/calibration.py; nothing here is committed as an
image."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

from headshot.imaging.analysis import analyze_image
from headshot.imaging.decode import decode
from headshot.imaging.models import FaceModels


@dataclass(frozen=True)
class Face:
    """Where the face is in the original image's pixels."""

    points: NDArray[np.float64]  # (478, 2) mesh x, y
    eye_distance: float  # iris to iris

    @property
    def mouth(self) -> tuple[float, float]:
        x, y = (self.points[13] + self.points[14]) / 2
        return float(x), float(y)

    @property
    def width(self) -> float:
        return float(self.points[:468, 0].max() - self.points[:468, 0].min())


def jpeg_bytes(image: Image.Image, quality: int = 95) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def locate(image: Image.Image, models: FaceModels) -> Face:
    decoded = decode(jpeg_bytes(image), max_pixels=60_000_000, max_side=20_000)
    photo = analyze_image(decoded, models, long_side=1024, other_face_ratio=0.35, embedding=False)
    assert photo.face is not None, "the source photo must show a face"
    points = photo.face.geometry.points[:, :2] / photo.analysis_scale
    return Face(points, float(np.linalg.norm(points[468] - points[473])))


def gaussian_blur(image: Image.Image, sigma: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(sigma))


def motion_blur(image: Image.Image, length: float) -> Image.Image:
    import cv2

    size = max(3, round(length))
    kernel = np.full((1, size), 1.0 / size, dtype=np.float32)
    pixels = cv2.filter2D(np.asarray(image, dtype=np.float32), -1, kernel)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def noise(image: Image.Image, sigma: float, *, seed: int = 1234) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float32)
    noisy = pixels + np.random.default_rng(seed).normal(0.0, sigma, pixels.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    return Image.open(io.BytesIO(jpeg_bytes(image, quality))).convert("RGB")


def brightness(image: Image.Image, factor: float) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float32) * factor
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def rescale(image: Image.Image, factor: float) -> Image.Image:
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    method = Image.Resampling.LANCZOS if factor < 1 else Image.Resampling.BICUBIC
    return image.resize(size, method)


def fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Crop to the aspect ratio of `size` around the centre, then resize to exactly `size`."""
    width, height = size
    scale = min(image.width / width, image.height / height)
    w, h = round(width * scale), round(height * scale)
    left, top = (image.width - w) // 2, (image.height - h) // 2
    method = Image.Resampling.LANCZOS if scale > 1 else Image.Resampling.BICUBIC
    return image.crop((left, top, left + w, top + h)).resize(size, method)


def microphone(image: Image.Image, face: Face) -> Image.Image:
    """A hand-held microphone in front of the mouth: a dark handle from below and a grille head."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    x, y = face.mouth
    r = 0.42 * face.eye_distance
    handle = 0.16 * face.eye_distance
    draw.rectangle((x - handle, y, x + handle, image.height), fill=(28, 28, 30))
    draw.ellipse((x - r, y - r, x + r, y + r), fill=(52, 52, 56))
    step = max(2, round(r / 5))
    for gx in range(round(x - r), round(x + r), step):  # the grille's mesh
        draw.line((gx, y - r, gx, y + r), fill=(85, 85, 90), width=1)
    clipped = Image.new("L", out.size, 0)
    ImageDraw.Draw(clipped).ellipse((x - r, y - r, x + r, y + r), fill=255)
    clipped.paste(255, (round(x - handle), round(y), round(x + handle), image.height))
    return Image.composite(out, image, clipped)


def hand(image: Image.Image, face: Face) -> Image.Image:
    """A palm over the mouth, coloured like the person's own forehead (the same colour as the
    face, but no lips)."""
    d = face.eye_distance
    fx, fy = face.points[151]
    patch = image.crop(
        (round(fx - 0.35 * d), round(fy - 0.1 * d), round(fx + 0.35 * d), round(fy + 0.1 * d))
    )
    x, y = face.mouth
    w, h = round(1.3 * d), round(0.9 * d)
    cover = patch.resize((w, h), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(1))
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, w - 1, h - 1), radius=h // 3, fill=255)
    out = image.copy()
    out.paste(cover, (round(x - w / 2), round(y - h / 2)), mask.filter(ImageFilter.GaussianBlur(2)))
    return out


def poster(
    image: Image.Image, face: Face, other: Image.Image, other_face: Face, *, share: float
) -> Image.Image:
    """A printed copy of another photo on the wall behind, its face `share` of this face's
    width, placed in the top corner farthest from the face."""
    printed = rescale(other, share * face.width / other_face.width)
    x, _ = face.mouth
    left = 8 if x > image.width / 2 else image.width - printed.width - 8
    out = image.copy()
    out.paste(printed, (max(0, left), 8))
    return out


def beauty_filter(image: Image.Image, face: Face) -> Image.Image:
    """A phone's beauty mode: strong edge-preserving smoothing of the skin."""
    import cv2

    pixels = np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
    d = max(5, round(face.eye_distance / 8))
    for _ in range(3):
        pixels = np.asarray(cv2.bilateralFilter(pixels, d, 40, d), dtype=np.uint8)
    return Image.fromarray(pixels)
