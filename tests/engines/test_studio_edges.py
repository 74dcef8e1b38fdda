"""The edge score: a clean composite of a person colour over a backdrop scores near zero; the
same composite with a bright crescent along the outline (an old backdrop left in the edge)
scores clearly worse."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from headshot.engines.studio.edges import edge_deviation

WIDTH, HEIGHT = 400, 500


def disc_matte() -> NDArray[np.float32]:
    """A soft-edged head-like disc: alpha ramps over 3 pixels."""
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    distance = np.sqrt((xs - 200) ** 2 + (ys - 230) ** 2)
    return np.asarray(np.clip((130 - distance) / 3.0 + 0.5, 0.0, 1.0), dtype=np.float32)


def composite(alpha: NDArray[np.float32], person: float, backdrop: float) -> NDArray[np.uint8]:
    rng = np.random.default_rng(3)
    image = alpha * person + (1.0 - alpha) * backdrop
    image = image + rng.normal(0.0, 2.0, image.shape)  # sensor noise, like any photo
    rgb = np.repeat(image[..., None], 3, axis=2)
    return np.asarray(np.clip(rgb, 0, 255), dtype=np.uint8)


def test_a_clean_edge_scores_near_zero() -> None:
    alpha = disc_matte()
    assert edge_deviation(composite(alpha, 60.0, 120.0), alpha) < 2.0


def test_a_crescent_along_the_edge_scores_worse() -> None:
    alpha = disc_matte()
    clean = composite(alpha, 60.0, 120.0)
    haloed = clean.astype(np.float32)
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    distance = np.sqrt((xs - 200) ** 2 + (ys - 230) ** 2)
    crescent = (np.abs(distance - 128) < 3) & (xs > 200)  # a bright rim on one side
    haloed[crescent] = 235.0
    score = edge_deviation(np.asarray(haloed, dtype=np.uint8), alpha)
    assert score > edge_deviation(clean, alpha) + 5.0


def test_no_outline_scores_zero() -> None:
    empty = np.zeros((HEIGHT, WIDTH), dtype=np.float32)
    assert edge_deviation(composite(empty, 60.0, 120.0), empty) == 0.0
