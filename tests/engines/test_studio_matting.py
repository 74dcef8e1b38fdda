"""The matting solvers on composites whose answer is known: a person colour over a backdrop
colour through a soft alpha. Closed-form matting recovers such an alpha exactly (its colour
model holds in every window), and the foreground estimate recovers the person's colour under a
partial alpha, without the backdrop mixed in."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from headshot.engines.studio.matting import closed_form_alpha, multilevel_foreground

HEIGHT, WIDTH = 120, 100
PERSON = np.array([0.75, 0.55, 0.45])
BACKDROP = np.array([0.20, 0.35, 0.70])


def soft_disc(ramp: float = 6.0) -> NDArray[np.float64]:
    """A head-like disc whose alpha ramps from 0 to 1 over `ramp` pixels."""
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    distance = np.hypot(xs - 50, ys - 55)
    return np.asarray(np.clip((35.0 - distance) / ramp + 0.5, 0.0, 1.0), dtype=np.float64)


def composite(alpha: NDArray[np.float64], person: NDArray[np.float64]) -> NDArray[np.float64]:
    mixed = alpha[..., None] * person + (1.0 - alpha[..., None]) * BACKDROP
    return np.asarray(mixed, dtype=np.float64)


def band_trimap(alpha: NDArray[np.float64], width: float = 8.0) -> NDArray[np.float64]:
    """1 well inside, 0 well outside, 0.5 in a band along the edge, as the studio makes it."""
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    distance = np.hypot(xs - 50, ys - 55)
    trimap = np.full(alpha.shape, 0.5)
    trimap[distance < 35.0 - width] = 1.0
    trimap[distance > 35.0 + width] = 0.0
    return trimap


def test_closed_form_alpha_recovers_a_soft_edge_between_two_colours() -> None:
    alpha = soft_disc()
    trimap = band_trimap(alpha)
    solved = closed_form_alpha(composite(alpha, PERSON), trimap)
    band = trimap == 0.5
    assert np.abs(solved - alpha)[band].max() < 0.02
    assert np.abs(solved - alpha)[band].mean() < 0.005


def test_closed_form_alpha_keeps_the_known_pixels_and_stays_in_range() -> None:
    alpha = soft_disc()
    trimap = band_trimap(alpha)
    rng = np.random.default_rng(5)
    noisy = np.clip(composite(alpha, PERSON) + rng.normal(0.0, 0.03, (HEIGHT, WIDTH, 3)), 0, 1)
    solved = closed_form_alpha(noisy, trimap)
    assert (solved[trimap == 1.0] == 1.0).all()
    assert (solved[trimap == 0.0] == 0.0).all()
    assert solved.min() >= 0.0 and solved.max() <= 1.0
    assert np.abs(solved - alpha)[trimap == 0.5].mean() < 0.05


def test_closed_form_alpha_with_nothing_unknown_is_the_trimap() -> None:
    trimap = (soft_disc() > 0.5).astype(np.float64)
    solved = closed_form_alpha(composite(soft_disc(), PERSON), trimap)
    assert np.array_equal(solved, trimap)


def test_closed_form_alpha_follows_the_photo_not_the_trimap() -> None:
    """The band is off-centre (the coarse mask was wrong by 4 pixels): the edge still lands
    where the colours change."""
    alpha = soft_disc(ramp=2.0)
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    distance = np.hypot(xs - 54, ys - 55)  # the band's centre is shifted right
    trimap = np.full(alpha.shape, 0.5)
    trimap[distance < 25.0] = 1.0
    trimap[distance > 45.0] = 0.0
    solved = closed_form_alpha(composite(alpha, PERSON), trimap)
    assert np.abs(solved - alpha).max() < 0.03


def test_foreground_under_a_partial_alpha_is_the_person_colour() -> None:
    alpha = soft_disc()
    image = composite(alpha, PERSON)
    foreground = multilevel_foreground(image, alpha)
    assert foreground.shape == image.shape
    edge = (alpha > 0.1) & (alpha < 0.9)
    error = np.abs(foreground - PERSON)[edge]
    assert error.max() < 0.04
    # The photo's own colour there is far off: the backdrop is mixed into it.
    assert np.abs(image - PERSON)[edge].max() > 0.25


def test_foreground_follows_a_person_whose_colour_varies() -> None:
    """Hair darker on the left than on the right: each side keeps its own colour."""
    alpha = soft_disc()
    shade = np.linspace(0.3, 0.9, WIDTH)[None, :, None] * np.ones((HEIGHT, 1, 1))
    person = shade * np.array([1.0, 0.8, 0.6])
    image = alpha[..., None] * person + (1.0 - alpha[..., None]) * BACKDROP
    foreground = multilevel_foreground(image, alpha)
    edge = (alpha > 0.2) & (alpha < 0.8)
    assert np.abs(foreground - person)[edge].mean() < 0.02


def test_foreground_of_an_image_with_no_solid_person_stays_in_range() -> None:
    alpha = np.full((HEIGHT, WIDTH), 0.5)
    image = np.random.default_rng(2).random((HEIGHT, WIDTH, 3))
    foreground = multilevel_foreground(image, alpha)
    assert foreground.min() >= 0.0 and foreground.max() <= 1.0
    assert np.isfinite(foreground).all()
