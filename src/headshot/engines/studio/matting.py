"""The two matting solvers the studio's edges need, in NumPy and SciPy: closed-form alpha
(Levin et al. 2008) and multi-level foreground colours (Germer et al. 2020).

Why not a matting package: the one that offers both compiles them with numba, whose LLVM
runtime keeps about 175 MB resident in every process that ever made a headshot (and 380 MB
more while compiling, on the first run after an install), which the web server's memory
bound cannot afford. Here the same equations are written as array operations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
F32 = NDArray[np.float32]

_WINDOW = 9  # pixels in a 3x3 window, the closed-form model's local neighbourhood
_WINDOW_OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
_CHUNK_WINDOWS = 4096  # windows whose 9x9 blocks are built at once (about 3 MB a chunk)
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
    # Summed chunk by chunk, so only one chunk's 81 entries per window exist at a time (all of
    # them at once took ~100 MB for a typical band; summed, a row holds about 25).
    system = diags(np.full(count, _RIDGE), format="csr")
    rhs = np.zeros(count)
    known_alpha = alpha.ravel()
    for members, weights in _laplacian_blocks(image, unknown, epsilon):
        member_slot = slot[members]
        row_slot = np.broadcast_to(member_slot[:, :, None], weights.shape)
        col_slot = np.broadcast_to(member_slot[:, None, :], weights.shape)
        row_unknown = row_slot >= 0
        both = row_unknown & (col_slot >= 0)
        block = coo_matrix((weights[both], (row_slot[both], col_slot[both])), shape=(count, count))
        system = system + block.tocsr()
        # A known neighbour's alpha moves to the right-hand side.
        fixed = row_unknown & (col_slot < 0)
        col_pixel = np.broadcast_to(members[:, None, :], weights.shape)
        rhs -= np.bincount(
            row_slot[fixed], weights=weights[fixed] * known_alpha[col_pixel[fixed]], minlength=count
        )
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
    image: NDArray[np.floating[Any]],
    alpha: NDArray[np.floating[Any]],
    *,
    regularization: float = 1e-5,
    gradient_weight: float = 1.0,
    small_iterations: int = 10,
    big_iterations: int = 2,
    small_size: int = 32,
) -> F32:
    """Foreground colours F (RGB, 0..1) with I = alpha F + (1 - alpha) B, F and B smooth except
    where alpha changes. Solved coarse to fine: each level starts from the one below, scaled up,
    and relaxes it a few times (red-black Gauss-Seidel: half the pixels from their neighbours,
    then the other half), each pixel solving its own 2x2 system per colour channel.

    Single precision and channels first (each per-pixel factor multiplies contiguous planes);
    F and B travel as one 6-plane array, and a level's buffers are allocated once."""
    height, width, _ = image.shape
    planes = np.ascontiguousarray(np.asarray(image, dtype=np.float32).transpose(2, 0, 1))
    opacity = np.asarray(alpha, dtype=np.float32)
    both = np.empty((6, 1, 1), np.float32)
    both[:3, 0, 0] = _mean_colour(planes, opacity > 0.9)
    both[3:, 0, 0] = _mean_colour(planes, opacity < 0.1)
    levels = max(1, int(np.ceil(np.log2(max(width, height)))))
    for level in range(levels + 1):
        size = (round(height ** (level / levels)), round(width ** (level / levels)))
        small = size[0] <= small_size and size[1] <= small_size
        both = _relax(
            _nearest(planes, size),
            _nearest(opacity[None], size)[0],
            _nearest(both, size),
            iterations=small_iterations if small else big_iterations,
            regularization=regularization,
            gradient_weight=gradient_weight,
        )
    return np.ascontiguousarray(both[:3].transpose(1, 2, 0))


def _relax(
    planes: F32,
    alpha: F32,
    both: F32,
    *,
    iterations: int,
    regularization: float,
    gradient_weight: float,
) -> F32:
    """`both` (F then B, 6 planes) relaxed `iterations` times in place, and returned."""
    neighbour = np.empty_like(alpha)
    pulls = []
    for direction in _DIRECTIONS:
        # How strongly each neighbour pulls on a pixel: little across an alpha edge, where the
        # colours may change.
        _shifted(alpha, direction, out=neighbour)
        pulls.append(regularization + gradient_weight * np.abs(alpha - neighbour))
    pull = sum(pulls)
    # Per pixel and channel, with a = alpha and w the pulls:
    # [[a00, a01], [a01, a11]] (F, B) = (a I + sum w F_n, (1 - a) I + sum w B_n).
    a00, a11, a01 = alpha * alpha + pull, (1 - alpha) * (1 - alpha) + pull, alpha * (1 - alpha)
    inverse_det = 1.0 / (a00 * a11 - a01 * a01)
    beta = 1 - alpha
    red = (np.arange(alpha.shape[0])[:, None] + np.arange(alpha.shape[1])[None, :]) % 2 == 0
    b = np.empty_like(both)
    term = np.empty_like(both)
    for _ in range(iterations):
        for half in (red, ~red):
            np.multiply(alpha, planes, out=b[:3])
            np.multiply(beta, planes, out=b[3:])
            for weight, direction in zip(pulls, _DIRECTIONS, strict=True):
                _shifted(both, direction, out=term)
                term *= weight
                b += term
            np.multiply(a11, b[:3], out=term[:3])
            term[:3] -= a01 * b[3:]
            np.multiply(a00, b[3:], out=term[3:])
            term[3:] -= a01 * b[:3]
            term *= inverse_det
            np.clip(term, 0.0, 1.0, out=term)
            np.copyto(both, term, where=half)
    return both


_DIRECTIONS = ("left", "right", "up", "down")


def _shifted(values: F32, direction: str, *, out: F32) -> F32:
    """Each pixel's neighbour to the `direction` (over the last two axes) written into `out`;
    at the border, where there is none, the pixel itself."""
    if direction == "left":
        out[..., 1:] = values[..., :-1]
        out[..., 0] = values[..., 0]
    elif direction == "right":
        out[..., :-1] = values[..., 1:]
        out[..., -1] = values[..., -1]
    elif direction == "up":
        out[..., 1:, :] = values[..., :-1, :]
        out[..., 0, :] = values[..., 0, :]
    else:
        out[..., :-1, :] = values[..., 1:, :]
        out[..., -1, :] = values[..., -1, :]
    return out


def _nearest(planes: F32, size: tuple[int, int]) -> F32:
    """`planes` (channels first) resampled to `size` (rows, columns) by nearest neighbour, in
    integer steps so that every level of the pyramid lines up with the one below."""
    rows = np.arange(size[0]) * planes.shape[1] // size[0]
    columns = np.arange(size[1]) * planes.shape[2] // size[1]
    return np.ascontiguousarray(planes[:, rows][:, :, columns], dtype=np.float32)


def _mean_colour(planes: F32, where: NDArray[np.bool_]) -> F32:
    """The mean colour over `where`, or mid-grey where it is empty."""
    if not where.any():
        return np.full(3, 0.5, np.float32)
    return np.asarray(planes[:, where].mean(axis=1), dtype=np.float32)
