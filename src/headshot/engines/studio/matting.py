"""The two matting solvers the studio's edges need, in NumPy and SciPy: closed-form alpha
(Levin et al. 2008) and multi-level foreground colours (Germer et al. 2020).

Why not a matting package: the one that offers both compiles them with numba, whose LLVM
runtime keeps about 175 MB resident in every process that ever made a headshot (and 380 MB
more while compiling, on the first run after an install), which the web server's memory
bound cannot afford. Here the same equations are written as array operations."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
F32 = NDArray[np.float32]

_WINDOW = 9  # pixels in a 3x3 window, the closed-form model's local neighbourhood
_WINDOW_OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
_CHUNK_WINDOWS = 16384  # windows whose 9x9 blocks are built at once (about 11 MB each chunk)
_RIDGE = 1e-9  # keeps the system definite should a region of unknowns touch no known pixel


def closed_form_alpha(
    image: F64, trimap: F64, *, epsilon: float = 1e-7, max_iterations: int = 400
) -> F64:
    """Alpha (0..1) where `trimap` is neither 0 nor 1, from the matting Laplacian of `image`
    (RGB, 0..1): within every 3x3 window alpha is an affine function of colour, so the solution
    follows the photo's own edges. The known pixels fix the rest; only the Laplacian's rows of
    unknown pixels are built, so the cost follows the uncertain band, not the image."""
    from scipy.sparse import coo_matrix, diags
    from scipy.sparse.linalg import cg

    height, width = trimap.shape
    unknown = (trimap > 0.0) & (trimap < 1.0)
    alpha = np.where(trimap >= 1.0, 1.0, 0.0)
    if not unknown.any():
        return alpha
    # Pixel number -> position among the unknowns (-1 for a known pixel).
    count = int(unknown.sum())
    slot = np.full(height * width, -1, dtype=np.int32)
    slot[unknown.ravel()] = np.arange(count, dtype=np.int32)
    rows: list[NDArray[np.int32]] = []
    cols: list[NDArray[np.int32]] = []
    values: list[F64] = []
    rhs = np.zeros(count)
    known_alpha = alpha.ravel()
    for members, weights in _laplacian_blocks(image, unknown, epsilon):
        row_slot = np.broadcast_to(slot[members][:, :, None], weights.shape)
        col_slot = np.broadcast_to(slot[members][:, None, :], weights.shape)
        col_pixel = np.broadcast_to(members[:, None, :], weights.shape)
        row_unknown = row_slot >= 0
        both = row_unknown & (col_slot >= 0)
        rows.append(row_slot[both])
        cols.append(col_slot[both])
        values.append(weights[both])
        # A known neighbour's alpha moves to the right-hand side.
        fixed = row_unknown & (col_slot < 0)
        rhs -= np.bincount(
            row_slot[fixed], weights=weights[fixed] * known_alpha[col_pixel[fixed]], minlength=count
        )
    system = coo_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=(count, count),
    ).tocsr()
    system = system + _RIDGE * diags(np.ones(count))
    jacobi = diags(1.0 / system.diagonal())
    start = np.clip(trimap.ravel()[unknown.ravel()], 0.0, 1.0)
    solved, _ = cg(system, rhs, x0=start, rtol=1e-7, atol=0.0, maxiter=max_iterations, M=jacobi)
    flat = alpha.ravel()
    flat[unknown.ravel()] = np.clip(solved, 0.0, 1.0)
    return flat.reshape(height, width)


def _laplacian_blocks(
    image: F64, unknown: NDArray[np.bool_], epsilon: float
) -> Iterator[tuple[NDArray[np.int64], F64]]:
    """For every 3x3 window that holds an unknown pixel, in chunks: the window's 9 pixel
    numbers and its 9x9 block of the matting Laplacian,
    delta_ij - (1 + (I_i - mu)^T (Sigma + epsilon/9 I)^-1 (I_j - mu)) / 9."""
    import cv2

    width = image.shape[1]
    touched = cv2.dilate(unknown.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    touched[[0, -1], :] = False  # a window's centre needs a full 3x3 around it
    touched[:, [0, -1]] = False
    centres_y, centres_x = np.nonzero(touched)
    colours = image.reshape(-1, 3)
    identity = np.eye(3)
    for start in range(0, len(centres_y), _CHUNK_WINDOWS):
        ys = centres_y[start : start + _CHUNK_WINDOWS]
        xs = centres_x[start : start + _CHUNK_WINDOWS]
        members = np.stack([(ys + dy) * width + (xs + dx) for dy, dx in _WINDOW_OFFSETS], axis=1)
        window = colours[members]  # (n, 9, 3)
        mean = window.mean(axis=1, keepdims=True)
        centred = window - mean
        transposed = centred.transpose(0, 2, 1)
        covariance = transposed @ centred / _WINDOW
        inverse = np.linalg.inv(covariance + (epsilon / _WINDOW) * identity)
        weights = np.eye(_WINDOW) - (1.0 + (centred @ inverse) @ transposed) / _WINDOW
        yield members, weights


def multilevel_foreground(
    image: F64,
    alpha: F64,
    *,
    regularization: float = 1e-5,
    gradient_weight: float = 1.0,
    small_iterations: int = 10,
    big_iterations: int = 2,
    small_size: int = 32,
) -> F64:
    """Foreground colours F (RGB, 0..1) with I = alpha F + (1 - alpha) B, F and B smooth except
    where alpha changes. Solved coarse to fine: each level starts from the one below, scaled up,
    and relaxes it a few times (red-black Gauss-Seidel: half the pixels from their neighbours,
    then the other half), each pixel solving its own 2x2 system per colour channel."""
    height, width, _ = image.shape
    # Single precision: edge colours need no more, and it halves the memory traffic.
    pixels = np.asarray(image, dtype=np.float32)
    opacity = np.asarray(alpha, dtype=np.float32)
    fore = np.empty((1, 1, 3), np.float32)
    back = np.empty((1, 1, 3), np.float32)
    fore[:] = _mean_colour(pixels, opacity > 0.9)
    back[:] = _mean_colour(pixels, opacity < 0.1)
    levels = max(1, int(np.ceil(np.log2(max(width, height)))))
    for level in range(levels + 1):
        size = (round(height ** (level / levels)), round(width ** (level / levels)))
        level_image = _nearest(pixels, size)
        level_alpha = _nearest(opacity, size)
        fore, back = _nearest(fore, size), _nearest(back, size)
        small = size[0] <= small_size and size[1] <= small_size
        iterations = small_iterations if small else big_iterations
        fore, back = _relax(
            level_image,
            level_alpha,
            fore,
            back,
            iterations=iterations,
            regularization=regularization,
            gradient_weight=gradient_weight,
        )
    return np.asarray(fore, dtype=np.float64)


def _relax(
    image: F32,
    alpha: F32,
    fore: F32,
    back: F32,
    *,
    iterations: int,
    regularization: float,
    gradient_weight: float,
) -> tuple[F32, F32]:
    # Channels first, so that every per-pixel factor broadcasts over contiguous planes.
    height, width = alpha.shape
    padded = np.empty((6, height + 2, width + 2), np.float32)
    padded_alpha = _replicate_border(alpha[None], np.empty((1, height + 2, width + 2), np.float32))
    # How strongly each of a pixel's four neighbours pulls on it (an edge pixel's missing
    # neighbour is itself): little across an alpha edge, where the colours may change.
    pulls = [
        regularization + gradient_weight * np.abs(alpha - padded_alpha[0][rows, columns])
        for rows, columns in _NEIGHBOURS
    ]
    pull = sum(pulls)
    # Per pixel and channel, with a = alpha and w the pulls:
    # [[a00, a01], [a01, a11]] (F, B) = (a I + sum w F_n, (1 - a) I + sum w B_n).
    a00, a11, a01 = alpha * alpha + pull, (1 - alpha) * (1 - alpha) + pull, alpha * (1 - alpha)
    inverse_det = 1.0 / (a00 * a11 - a01 * a01)
    planes = image.transpose(2, 0, 1)
    data = np.concatenate([alpha * planes, (1 - alpha) * planes])
    both = np.ascontiguousarray(np.concatenate([fore, back], axis=2).transpose(2, 0, 1))
    red = np.add.outer(np.arange(height), np.arange(width)) % 2 == 0
    for _ in range(iterations):
        for half in (red, ~red):
            _replicate_border(both, padded)
            b = data.copy()
            for weight, (rows, columns) in zip(pulls, _NEIGHBOURS, strict=True):
                b += weight * padded[:, rows, columns]
            b0, b1 = b[:3], b[3:]
            solved = np.concatenate([a11 * b0 - a01 * b1, a00 * b1 - a01 * b0])
            both = np.where(half, np.clip(solved * inverse_det, 0.0, 1.0), both)
    out = both.transpose(1, 2, 0)
    return out[..., :3], out[..., 3:]


def _replicate_border(planes: F32, padded: F32) -> F32:
    """`planes` (channels first) into `padded`, one pixel larger all round, edges repeated."""
    padded[:, 1:-1, 1:-1] = planes
    padded[:, 0, 1:-1] = planes[:, 0]
    padded[:, -1, 1:-1] = planes[:, -1]
    padded[:, :, 0] = padded[:, :, 1]
    padded[:, :, -1] = padded[:, :, -2]
    return padded


# Slices of a once-padded image giving each pixel's left, right, upper and lower neighbour.
_NEIGHBOURS = [
    (slice(1, -1), slice(0, -2)),
    (slice(1, -1), slice(2, None)),
    (slice(0, -2), slice(1, -1)),
    (slice(2, None), slice(1, -1)),
]


def _nearest(values: F32, size: tuple[int, int]) -> F32:
    """`values` resampled to `size` (rows, columns) by nearest neighbour, in integer steps so
    that every level of the pyramid lines up with the one below."""
    rows = np.arange(size[0]) * values.shape[0] // size[0]
    columns = np.arange(size[1]) * values.shape[1] // size[1]
    return np.asarray(values[rows][:, columns], dtype=np.float32)


def _mean_colour(image: F32, where: NDArray[np.bool_]) -> F32:
    """The mean colour over `where`, or mid-grey where it is empty."""
    if not where.any():
        return np.full(3, 0.5, np.float32)
    return np.asarray(image[where].mean(axis=0), dtype=np.float32)
