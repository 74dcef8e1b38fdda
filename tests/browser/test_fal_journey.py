"""Training and generation on the fal engine from the phone, against the fal HTTP double on
loopback: live progress (percent, stage) while fal trains, then headshots in the gallery."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server, shot, start_server, stop_server
from tests.browser.test_journey import GOOD, new_batch, sign_up
from tests.fal_double.core import API_KEY
from tests.fal_double.server import FalDouble
from tests.fal_double.state import Pace

TRAINER = "fal-ai/flux-lora-portrait-trainer"


@pytest.fixture(scope="module")
def double() -> Iterator[FalDouble]:
    # fal's queue advances only when the test says so, so progress can be watched.
    started = FalDouble.start(seed=17, pace=Pace(queue_ticks=1, run_ticks=4, advance_per_poll=0))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def fal_server(
    tmp_path_factory: pytest.TempPathFactory, double: FalDouble, browser: Any
) -> Iterator[Server]:
    del browser  # requested first: skips (or fails under CI) without Chromium
    running = start_server(
        tmp_path_factory.mktemp("fal-server"),
        HEADSHOT_FAL_KEY=API_KEY,
        HEADSHOT_FAL_QUEUE_URL=double.queue_url,
        HEADSHOT_FAL_REST_URL=double.rest_url,
        HEADSHOT_FAL_CDN_URL=double.cdn_url,
        HEADSHOT_FAL_API_URL=double.api_url,
        HEADSHOT_JOBS__FIRST_POLL_S="0.3",
        HEADSHOT_JOBS__MAX_POLL_S="0.5",
    )
    yield running
    stop_server(running)


def test_training_and_generation_on_fal(
    fal_server: Server, double: FalDouble, phone: Callable[[], Any], testdata: Path
) -> None:
    page = phone().new_page()
    sign_up(page, fal_server, "fal-phone@example.com")
    new_batch(page, "Studio day")
    page.get_by_label("Choose photos").set_input_files([str(testdata / n) for n in GOOD])
    expect(page.get_by_text("Ready to train")).to_be_visible()

    page.get_by_role("button", name="Train my model").click()
    model = page.get_by_role("article", name="Model v1")
    expect(model.get_by_role("button", name="Cancel training")).to_be_visible()
    expect(model.get_by_text(re.compile("queued at the provider"))).to_be_visible()  # submitted
    double.advance(2)  # out of the queue and half-way through training at fal
    progress = model.get_by_role("progressbar", name="Training progress v1")
    expect(progress).not_to_have_attribute("value", "0")
    expect(model.get_by_text(re.compile(r"^training"))).to_be_visible()
    expect(progress).to_be_in_viewport()
    shot(page, "4-training")
    assert double.billable_submits(TRAINER) == 1

    double.complete_all()
    page.get_by_role("link", name="Create headshots with v1").click()
    page.get_by_role("checkbox", name="Navy gradient").check()
    page.get_by_role("checkbox", name="Studio grey").uncheck()
    page.get_by_label("Images per look").select_option("2")
    page.get_by_role("button", name="Generate headshots").click()
    expect(page.get_by_role("progressbar", name="Generation progress")).to_be_visible()
    gallery = page.get_by_role("link", name="See them in the gallery")
    for _ in range(60):  # each advance moves fal's queue one tick; the page follows by SSE
        if gallery.is_visible():
            break
        double.complete_all()
        page.wait_for_timeout(500)
    gallery.click()
    shots = page.get_by_role("article", name=re.compile("^Headshot"))
    expect(shots).to_have_count(2)
    expect(shots.first.get_by_text(re.compile(r"likeness \d+%"))).to_be_visible()
