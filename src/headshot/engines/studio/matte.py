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
_DISTINCT = 0.3  # colour distance (0..1 RGB) at which person and backdrop count as distinct
_HEAD_HALF_WIDTH = 0.85  # in face widths: hair up to about 1.7 times the face's width
_RESIDUAL = 0.15  # colour distance from that line beyond which a pixel is no mix of the two
_EDGE_TINT = 0.12  # how far an edge colour may stray from the person's nearby colour
_SOLID = 0.96
_EMPTY = 0.04

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
    mask; `valid` is 0 where the frame was padded beyond the photo, and nothing there above the
    shoulders is person."""
    import cv2

    coarse = _only_subject(coarse, face=face)
    rows = np.arange(rgb.shape[0], dtype=np.float32)[:, None]
    below = np.clip((rows - face.chin_y) / (0.3 * face.width), 0.0, 1.0)
    coarse *= np.maximum(valid, below)
    image = rgb.astype(np.float32) / 255.0
    estimate = _colour_estimate(image, coarse)
    refined = guided_filter(
        image, estimate, width=_GUIDE_WIDTH, radius=_GUIDE_RADIUS, eps=_GUIDE_EPS
    )
    # Firm up the inside and the far background, keeping the soft band the filter found.
    alpha = _smoothstep(np.clip(refined, 0.0, 1.0), 0.2, 0.95) * _attached(refined, face=face)
    smooth = cv2.GaussianBlur(alpha, (0, 0), 0.6)  # anti-alias the last hard steps
    return np.asarray(np.clip(smooth, 0.0, 1.0), dtype=np.float32)


def _colour_estimate(image: F32, coarse: F32) -> F32:
    """Alpha in the uncertain band along the coarse edge from colour: each pixel is projected on
    the line between the nearby person colour and the nearby backdrop colour. Where those two are
    alike the projection means nothing, and the coarse mask is kept."""
    import cv2

    height, width = coarse.shape
    size = (_GUIDE_WIDTH, max(1, round(height * _GUIDE_WIDTH / width)))
    small = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.float32)
    solid = (cv2.resize(coarse, size, interpolation=cv2.INTER_AREA) > 0.5).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * _BAND + 1, 2 * _BAND + 1))
    sure_fg = np.asarray(cv2.erode(solid, kernel), dtype=np.float32)
    sure_bg = 1.0 - np.asarray(cv2.dilate(solid, kernel), dtype=np.float32)
    full = (width, height)
    near_fg = cv2.resize(_spread(small, sure_fg), full, interpolation=cv2.INTER_LINEAR)
    near_bg = cv2.resize(_spread(small, sure_bg), full, interpolation=cv2.INTER_LINEAR)
    band = 1.0 - cv2.resize(sure_fg + sure_bg, full, interpolation=cv2.INTER_LINEAR)
    span = near_fg - near_bg
    reach = (span * span).sum(axis=2)
    projected = np.clip(((image - near_bg) * span).sum(axis=2) / (reach + 1e-4), 0.0, 1.0)
    # A colour far from the line between the two (window frames, patterns) is no mix of them.
    mix = near_bg + projected[..., None] * span
    residual = np.sqrt(((image - mix) ** 2).sum(axis=2))
    trust = np.clip(np.sqrt(reach) / _DISTINCT, 0.0, 1.0) * np.clip(band, 0.0, 1.0)
    trust *= np.clip(1.0 - residual / _RESIDUAL, 0.0, 1.0)
    # The coarse mask's wide ramp would leave a smudge; its mid-line is where the edge is.
    firm = _smoothstep(coarse, 0.35, 0.65)
    return np.asarray(trust * projected + (1.0 - trust) * firm, dtype=np.float32)


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
    """The person's colours under a partial alpha: where the photo mixes person and old backdrop,
    solve I = aF + (1 - a)B with B spread in from the clear backdrop, and fade to the person's
    colours spread out from the solid inside where alpha is too small to solve reliably."""
    image = rgb.astype(np.float32) / 255.0
    inside = _spread_at(image, (alpha >= _SOLID).astype(np.float32), width=_GUIDE_WIDTH * 2)
    behind = _spread_at(image, (alpha <= _EMPTY).astype(np.float32), width=_GUIDE_WIDTH * 2)
    a = alpha[..., None]
    solved = (image - (1.0 - a) * behind) / np.maximum(a, 0.05)
    edge = inside + np.clip(solved - inside, -_EDGE_TINT, _EDGE_TINT)
    keep = _smoothstep(alpha, 0.85, 0.99)[..., None]
    out = np.clip(keep * image + (1.0 - keep) * edge, 0.0, 1.0)
    return np.asarray(np.round(out * 255.0), dtype=np.uint8)


def _spread_at(image: F32, weight: F32, *, width: int) -> F32:
    """`_spread` computed at `width` (colours spread smoothly, so a coarse grid is enough)."""
    import cv2

    full = (image.shape[1], image.shape[0])
    scale = min(1.0, width / full[0])
    size = (max(1, round(full[0] * scale)), max(1, round(full[1] * scale)))
    small_image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.float32)
    small_weight = np.asarray(cv2.resize(weight, size, interpolation=cv2.INTER_AREA), np.float32)
    spread = _spread(small_image, small_weight)
    return np.asarray(cv2.resize(spread, full, interpolation=cv2.INTER_LINEAR), dtype=np.float32)


def _spread(image: F32, weight: F32) -> F32:
    """Colours of the weighted pixels pushed outwards into the rest (push-pull: a weighted image
    pyramid, then each level filled from the coarser one where it has no weight of its own)."""
    import cv2

    levels = [(image * weight[..., None], weight)]
    while min(levels[-1][1].shape) > 8:
        colour, w = levels[-1]
        levels.append((np.asarray(cv2.pyrDown(colour), np.float32), _f32(cv2.pyrDown(w))))
    colour, w = levels[-1]
    out = colour / np.maximum(w, 1e-6)[..., None]
    for colour, w in reversed(levels[:-1]):
        size = (w.shape[1], w.shape[0])
        coarse = np.asarray(cv2.pyrUp(out, dstsize=size), dtype=np.float32)
        own = np.clip(w * 4.0, 0.0, 1.0)[..., None]
        out = own * colour / np.maximum(w, 1e-6)[..., None] + (1.0 - own) * coarse
    return np.asarray(out, dtype=np.float32)


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


def _f32(array: object) -> F32:
    return np.asarray(array, dtype=np.float32)


def _smoothstep(x: F32, low: float, high: float) -> F32:
    t = np.clip((x - low) / (high - low), 0.0, 1.0)
    return np.asarray(t * t * (3.0 - 2.0 * t), dtype=np.float32)
