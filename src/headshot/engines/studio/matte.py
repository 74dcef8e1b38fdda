"""The alpha matte: mediapipe's coarse person mask refined against the photo so hair and
shoulders get soft, true edges, and the person's own colours at those edges (without the old
background mixed in), so that a new backdrop shows no halo."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

_GUIDE_WIDTH = 384  # the guided filter's coefficients are solved at this width, then upsampled
_GUIDE_RADIUS = 6  # at _GUIDE_WIDTH: about the width of a soft hair edge
_GUIDE_EPS = 2e-3  # lower follows the photo's edges more closely (and its noise)
_BAND = 10  # at _GUIDE_WIDTH: half-width of the uncertain band along the coarse edge
_CG_ITERATIONS = 400  # the band's system converges in well under this; a bound on a bad photo
_HEAD_HALF_WIDTH = 0.85  # in face widths: hair up to about 1.7 times the face's width
_FOREGROUND_WIDTH = 512  # edge colours are solved at this width
_BUMP = 0.08  # in face widths: half the width of the narrowest bump the head keeps
_PADDING_REACH = 0.15  # in face widths: how far clothing may continue into padding

F32 = NDArray[np.float32]


@dataclass(frozen=True)
class FaceRegion:
    """Where the face is in the portrait, in pixels."""

    centre_x: float
    eye_y: float
    chin_y: float
    width: float


def person_matte(rgb: NDArray[np.uint8], *, coarse: F32, valid: F32, face: FaceRegion) -> F32:
    """Alpha (0..1) of the person whose face is `face`, refined from the segmenter's `coarse`
    mask; `valid` is 0 where the frame was padded beyond the photo. Padding is person only in a
    sliver below the chin (stretched edge pixels would show as bars further out)."""
    import cv2

    coarse = _only_subject(coarse, face=face) * _person_may_be(valid, face=face)
    image = rgb.astype(np.float32) / 255.0
    estimate = _closed_form_estimate(image, coarse)
    refined = guided_filter(
        image, estimate, width=_GUIDE_WIDTH, radius=_GUIDE_RADIUS, eps=_GUIDE_EPS
    )
    # Firm up the inside and the far background, keeping the soft band the filter found.
    alpha = _smoothstep(np.clip(refined, 0.0, 1.0), 0.1, 0.95) * _attached(refined, face=face)
    alpha *= _without_bumps(alpha, face=face)
    smooth = cv2.GaussianBlur(alpha, (0, 0), 0.6)  # anti-alias the last hard steps
    return np.asarray(np.clip(smooth, 0.0, 1.0), dtype=np.float32)


def _closed_form_estimate(image: F32, coarse: F32) -> F32:
    """Alpha solved by closed-form matting (Levin et al., `matting.closed_form_alpha`) in the
    uncertain band along the coarse edge, at `_GUIDE_WIDTH`: inside and outside the band the
    coarse mask decides. Each pixel's alpha follows the local colour model of its
    neighbourhood, so hair and jaw edges take the photo's own edges and the old backdrop is left
    out."""
    import cv2

    from headshot.engines.studio.matting import closed_form_alpha

    height, width = coarse.shape
    size = (_GUIDE_WIDTH, max(1, round(height * _GUIDE_WIDTH / width)))
    # Resampling can overshoot 1.0 by a rounding error.
    resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    small = np.asarray(np.clip(resized, 0.0, 1.0), dtype=np.float64)
    # The coarse mask's wide ramp would leave a smudge; its mid-line is where the edge is.
    firm = _smoothstep(
        np.asarray(cv2.resize(coarse, size, interpolation=cv2.INTER_AREA)), 0.35, 0.65
    )
    solid = (firm > 0.5).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * _BAND + 1, 2 * _BAND + 1))
    trimap = np.full(solid.shape, 0.5, dtype=np.float64)
    trimap[cv2.erode(solid, kernel) > 0] = 1.0
    trimap[cv2.dilate(solid, kernel) == 0] = 0.0
    if not (trimap == 1.0).any() or not (trimap == 0.0).any():
        return np.asarray(cv2.resize(firm, (width, height)), dtype=np.float32)
    solved = closed_form_alpha(small, trimap, max_iterations=_CG_ITERATIONS)
    alpha = np.clip(np.asarray(solved, dtype=np.float32), 0.0, 1.0)
    return np.asarray(
        cv2.resize(alpha, (width, height), interpolation=cv2.INTER_LINEAR), np.float32
    )


def guided_filter(image: F32, guide_target: F32, *, width: int, radius: int, eps: float) -> F32:
    """He et al.'s colour guided filter, solved at `width` and applied at full size (fast guided
    filter): the output follows `guide_target` but takes its edges from `image`."""
    import cv2

    height_full, width_full = guide_target.shape
    scale = min(1.0, width / width_full)
    size = (max(1, round(width_full * scale)), max(1, round(height_full * scale)))
    small = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.float32)
    target = np.asarray(
        cv2.resize(guide_target, size, interpolation=cv2.INTER_AREA), dtype=np.float32
    )
    a, b = _coefficients(small, target, radius=radius, eps=eps)
    full = (width_full, height_full)
    a_full = cv2.resize(a, full, interpolation=cv2.INTER_LINEAR)
    b_full = cv2.resize(b, full, interpolation=cv2.INTER_LINEAR)
    return np.asarray((a_full * image).sum(axis=2) + b_full, dtype=np.float32)


def _coefficients(image: F32, target: F32, *, radius: int, eps: float) -> tuple[F32, F32]:
    import cv2

    def box(x: F32) -> F32:
        return np.asarray(cv2.blur(x, (2 * radius + 1, 2 * radius + 1)), dtype=np.float32)

    mean_i = box(image)
    mean_p = box(target)
    cov_ip = box(image * target[..., None]) - mean_i * mean_p[..., None]
    # The 3x3 colour covariance of each window, regularised, inverted in closed form.
    pairs = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]
    var = {
        (i, j): box(image[..., i] * image[..., j]) - mean_i[..., i] * mean_i[..., j]
        for i, j in pairs
    }
    rr, rg, rb = var[0, 0] + eps, var[0, 1], var[0, 2]
    gg, gb, bb = var[1, 1] + eps, var[1, 2], var[2, 2] + eps
    inv = np.stack(
        [gg * bb - gb * gb, gb * rb - rg * bb, rg * gb - gg * rb,
         rr * bb - rb * rb, rg * rb - rr * gb, rr * gg - rg * rg],
        axis=-1,
    )  # fmt: skip
    det = rr * inv[..., 0] + rg * inv[..., 1] + rb * inv[..., 2]
    m = [[0, 1, 2], [1, 3, 4], [2, 4, 5]]
    a = np.stack([sum(inv[..., m[r][c]] * cov_ip[..., c] for c in range(3)) for r in range(3)], -1)
    a = a / det[..., None]
    b = mean_p - (a * mean_i).sum(axis=2)
    return box(a.astype(np.float32)), box(b.astype(np.float32))


def foreground_colours(rgb: NDArray[np.uint8], alpha: F32) -> NDArray[np.uint8]:
    """The person's colours under a partial alpha, freed of the old backdrop: multi-level
    foreground estimation (Germer et al., `matting.multilevel_foreground`) solves
    I = aF + (1 - a)B with smooth F and B. Edge colours are smooth, so it runs at up to
    `_FOREGROUND_WIDTH`; solid pixels keep the photo's own colours at full detail."""
    import cv2

    from headshot.engines.studio.matting import multilevel_foreground

    image = rgb.astype(np.float32) / 255.0
    height, width = alpha.shape
    scale = min(1.0, _FOREGROUND_WIDTH / width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small_image = np.clip(cv2.resize(image, size, interpolation=cv2.INTER_AREA), 0.0, 1.0)
    small_alpha = np.clip(cv2.resize(alpha, size, interpolation=cv2.INTER_AREA), 0.0, 1.0)
    solved = multilevel_foreground(
        np.asarray(small_image, np.float32), np.asarray(small_alpha, np.float32)
    )
    edge = np.asarray(cv2.resize(solved, (width, height), interpolation=cv2.INTER_LINEAR))
    keep = _smoothstep(alpha, 0.9, 0.995)[..., None]
    # keep * image + (1 - keep) * edge, in place: at full size each temporary is ~16 MB.
    image -= edge
    image *= keep
    image += edge
    np.clip(image, 0.0, 1.0, out=image)
    image *= 255.0
    return np.asarray(np.round(image), dtype=np.uint8)


def _without_bumps(alpha: F32, *, face: FaceRegion) -> F32:
    """1 on the head's outline, 0 on narrow bumps sticking out of it above the eyes (a lamp, a
    garland or a frame behind the head that the matte joined to the hair): a morphological
    opening at a tenth of the face's width keeps the head's round shape and drops what is
    narrower."""
    import cv2

    solid = (alpha > 0.5).astype(np.uint8)
    radius = max(1, round(_BUMP * face.width))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    opened = cv2.morphologyEx(solid, cv2.MORPH_OPEN, disc)
    # A margin, so the opening never eats into the soft edge of the head itself.
    keep = cv2.dilate(opened, np.ones((5, 5), np.uint8)).astype(np.float32)
    above = np.arange(alpha.shape[0], dtype=np.float32)[:, None] < face.eye_y
    keep = np.where(above, keep, 1.0).astype(np.float32)
    return np.asarray(cv2.GaussianBlur(keep, (0, 0), 1.5), dtype=np.float32)


def _person_may_be(valid: F32, *, face: FaceRegion) -> F32:
    """1 inside the photo; in the padding beyond it, 1 only below the chin and close to the
    photo's edge (a sliver of replicated clothing in a bottom corner reads as clothing), fading
    to 0 further out, where stretched edge pixels would show as bars."""
    import cv2

    outside = (valid < 0.5).astype(np.uint8)
    if not outside.any():
        return valid
    distance = np.asarray(cv2.distanceTransform(outside, cv2.DIST_L2, 5), dtype=np.float32)
    near = 1.0 - _smoothstep(distance / (_PADDING_REACH * face.width), 0.0, 1.0)
    rows = np.arange(valid.shape[0], dtype=np.float32)[:, None]
    below = np.clip((rows - face.chin_y) / (0.3 * face.width), 0.0, 1.0)
    return np.asarray(np.maximum(valid, below * near), dtype=np.float32)


def _only_subject(mask: F32, *, face: FaceRegion) -> F32:
    """Only the person whose face is `face`: above the shoulders nothing outside a generous head
    shape (hair included) is theirs, and parts not joined to the face (stray blobs) go."""
    import cv2

    mask = mask * subject_prior(mask.shape, face=face)
    solid = (mask > 0.5).astype(np.uint8)
    count, labels = cv2.connectedComponents(solid, connectivity=8)
    x = int(np.clip(face.centre_x, 0, mask.shape[1] - 1))
    y = int(np.clip(face.eye_y, 0, mask.shape[0] - 1))
    label = labels[y, x]
    if count <= 2 or label == 0:
        return mask
    keep = ((labels == label) | (labels == 0)).astype(np.uint8)
    keep = cv2.erode(keep, np.ones((9, 9), np.uint8)).astype(np.float32)
    return np.asarray(mask * cv2.GaussianBlur(keep, (0, 0), 4.0), dtype=np.float32)


def _attached(alpha: F32, *, face: FaceRegion) -> F32:
    """1 on the part of the matte joined to the face, fading to 0 on detached specks (bits of
    the old backdrop that the edge refinement half-kept)."""
    import cv2

    solid = (alpha > 0.2).astype(np.uint8)
    count, labels = cv2.connectedComponents(solid, connectivity=8)
    x = int(np.clip(face.centre_x, 0, alpha.shape[1] - 1))
    y = int(np.clip(face.eye_y, 0, alpha.shape[0] - 1))
    label = labels[y, x]
    if count <= 2 or label == 0:
        return np.ones_like(alpha)
    keep = (labels == label).astype(np.uint8)
    keep = cv2.dilate(keep, np.ones((3, 3), np.uint8)).astype(np.float32)
    return np.asarray(cv2.GaussianBlur(keep, (0, 0), 1.0), dtype=np.float32)


def subject_prior(shape: tuple[int, ...], *, face: FaceRegion) -> F32:
    """1 where the subject can be: a head shape wide enough for big hair, and everything below
    a shoulder line that drops away from the neck; 0 elsewhere, with a soft edge."""
    height, width = shape[:2]
    fw = face.width
    xs = (np.arange(width, dtype=np.float32) - face.centre_x) / fw
    ys = (np.arange(height, dtype=np.float32) - face.eye_y) / fw
    head = 1.0 - np.sqrt((xs[None, :] / _HEAD_HALF_WIDTH) ** 2 + (ys[:, None] / 1.45) ** 2)
    shoulder = (face.chin_y - face.eye_y) / fw + 0.35 * np.clip(np.abs(xs) / 0.8 - 0.4, 0.0, 1.0)
    body = ys[:, None] - shoulder[None, :]
    inside = np.maximum(head / 0.08, body / 0.08)
    return np.asarray(np.clip(inside + 0.5, 0.0, 1.0), dtype=np.float32)


def _smoothstep(x: F32, low: float, high: float) -> F32:
    t = np.clip((x - low) / (high - low), 0.0, 1.0)
    return np.asarray(t * t * (3.0 - 2.0 * t), dtype=np.float32)
