"""The whole journey on a phone with the offline studio engine: sign up, consent, a batch, photos
with one rejected, readiness, training with progress, looks, generation, the gallery, a share
link opened by a stranger, the offline upload queue, and erasure."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Server, check_screen, shot

GOOD = ("pd_obama_portrait_2012.jpg", "pd_obama_blueroom_2010.jpg", "pd_obama_congress_2009.jpg")
PASSWORD = "correct horse battery"


def sign_up(page: Any, server: Server, email: str) -> None:
    page.goto(server.url)
    expect(page.get_by_role("heading", name="Studio headshots from your selfies")).to_be_visible()
    shot(page, "1-sign-in")
    check_screen(page, "sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Your photos, your say")).to_be_visible()
    expect(page.get_by_role("heading", name="Where it goes")).to_be_visible()
    check_screen(page, "consent")
    page.get_by_label("I agree that Headshot processes my face photos").check()
    page.get_by_role("button", name="Agree and continue").click()
    expect(page.get_by_role("heading", name="Your batches")).to_be_visible()


def new_batch(page: Any, name: str) -> None:
    page.get_by_label("Batch name").fill(name)
    page.get_by_role("button", name="New batch").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def shows_a_partial_generation_as_finished(page: Any) -> None:
    """A generation with one failed look (the server's `partial`, injected here) reads as done,
    with its headshots and a note on the look that failed."""
    generation = {
        "id": "generation-double",
        "model_id": "m",
        "engine": "studio",
        "looks": [],
        "images_per_look": 1,
        "seed": None,
        "notes": [],
        "error": None,
        "created_at": "2026-01-01T00:00:00Z",
        "finished_at": None,
    }
    failed = {"background": "office", "attire": "as-is", "lighting": "rembrandt"}

    def answer(route: Any) -> None:
        if route.request.method == "POST":
            route.fulfill(
                status=202,
                json={**generation, "status": "queued", "progress": 0, "headshot_ids": []},
            )
        else:
            route.fulfill(
                json={
                    **generation,
                    "status": "partial",
                    "progress": 1,
                    "headshot_ids": ["a"],
                    "failed_looks": [{**failed, "reason": "The look failed."}],
                }
            )

    pattern = re.compile(r"/api/v1/generations(/generation-double)?$")
    page.route(pattern, answer)
    page.get_by_role("button", name="Generate headshots").click()
    expect(page.get_by_text("1 headshot is ready.")).to_be_visible()
    expect(page.get_by_text("1 look could not be made: The look failed.")).to_be_visible()
    page.unroute(pattern)


def test_the_whole_journey_with_the_studio(
    server: Server, phone: Callable[[], Any], testdata: Path
) -> None:
    context = phone()
    page = context.new_page()
    sign_up(page, server, "journey@example.com")
    expect(page.get_by_text("No batches yet")).to_be_visible()
    check_screen(page, "batches")
    new_batch(page, "Office 2026")

    page.get_by_label("Choose photos").set_input_files(
        [str(testdata / name) for name in (*GOOD, "d_obama_blur_r4.jpg")]
    )
    rejected = page.get_by_role("article", name="Photo d_obama_blur_r4.jpg")
    expect(rejected.get_by_text("Not usable")).to_be_visible()
    expect(rejected.locator(".tip").first).not_to_be_empty()
    rejected.scroll_into_view_if_needed()
    for name in GOOD:
        expect(
            page.get_by_role("article", name=f"Photo {name}").get_by_text("Usable")
        ).to_be_visible()
    expect(page.get_by_text("Ready to train")).to_be_visible()
    expect(page.get_by_role("meter", name="Usable photos")).to_have_attribute("aria-valuenow", "3")
    shot(page, "2-photo-results")
    check_screen(page, "batch")
    page.evaluate(
        "document.getElementById('readiness-title').scrollIntoView(); window.scrollBy(0, -80)"
    )
    shot(page, "3-readiness")

    page.get_by_role("button", name="Train my model").click()
    expect(page.get_by_role("article", name="Model v1")).to_be_visible()
    create = page.get_by_role("link", name="Create headshots with v1")
    expect(create).to_be_visible(timeout=60_000)
    create.click()

    expect(page.get_by_role("heading", name="Choose your looks")).to_be_visible()
    # The first choice of each axis is picked: one tap more on a background makes two looks.
    page.get_by_role("checkbox", name="Office").check()
    page.get_by_role("checkbox", name="Soft studio").uncheck()
    expect(page.get_by_text("Pick at least one lighting.")).to_be_visible()
    expect(page.get_by_role("button", name="Generate headshots")).to_be_disabled()
    page.get_by_role("checkbox", name="Rembrandt").check()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "5-look-picker")
    check_screen(page, "looks")
    page.get_by_label("Images per look").select_option("1")
    expect(page.get_by_text("2 looks \u00d7 1 = 2 headshots.")).to_be_visible()
    page.get_by_role("button", name="Generate headshots").click()
    expect(page.get_by_role("progressbar", name="Generation progress")).to_be_in_viewport()
    gallery_link = page.get_by_role("link", name="See them in the gallery")
    expect(gallery_link).to_be_visible(timeout=60_000)
    expect(gallery_link).to_be_in_viewport(ratio=1)
    check_screen(page, "looks with progress")
    shows_a_partial_generation_as_finished(page)
    gallery_link.click()

    expect(page.get_by_role("heading", name="Gallery")).to_be_visible()
    shots = page.get_by_role("article", name=re.compile("^Headshot"))
    expect(shots).to_have_count(2)
    expect(shots.first.get_by_text(re.compile(r"likeness \d+%"))).to_be_visible()
    expect(page.get_by_role("button", name="Download 2 headshots")).to_be_enabled()
    check_screen(page, "gallery")
    shots.first.get_by_role("button", name="Favourite").click()
    expect(shots.first.get_by_role("button", name="Unfavourite")).to_be_visible()
    page.locator("summary", has_text="Filters").click()
    page.get_by_label("Favourites only").check()
    expect(shots).to_have_count(1)
    expect(page.get_by_role("button", name="Download 1 headshot")).to_be_visible()
    page.get_by_label("Favourites only").uncheck()
    page.get_by_label("Background", exact=True).select_option(label="Studio grey")
    expect(shots).to_have_count(1)
    page.get_by_label("Background", exact=True).select_option(label="All")
    expect(shots).to_have_count(2)
    page.get_by_label("Model version", exact=True).select_option(label="Office 2026 · v1")
    expect(shots).to_have_count(2)
    check_screen(page, "gallery filters")
    page.locator("summary", has_text="Filters").click()
    page.evaluate("document.querySelector('.gallery').scrollIntoView(); window.scrollBy(0, -70)")
    shot(page, "6-gallery")

    context.grant_permissions(["clipboard-read", "clipboard-write"])
    shots.first.get_by_role("button", name="More actions").click()
    check_screen(page, "gallery menu")
    shots.first.get_by_role("menuitem", name="Share").click()
    link = shots.first.get_by_label(re.compile("^Share link"))
    expect(link).to_have_value(re.compile(r"/s/"))
    url = link.input_value()

    stranger = phone().new_page()
    stranger.goto(url)
    expect(stranger.get_by_role("img")).to_have_count(1)
    expect(stranger.get_by_role("link")).to_have_count(0)
    assert "journey@example.com" not in stranger.content()
    shot(stranger, "7-share-page")

    shots.first.get_by_role("button", name="More actions").click()
    shots.first.get_by_role("menuitem", name="Active links").click()
    links = shots.first.get_by_role("list", name="Active links")
    expect(links.get_by_role("listitem")).to_have_count(1)
    links.get_by_role("button", name="Revoke").click()
    expect(shots.first.get_by_text("No active links.")).to_be_visible()
    assert stranger.goto(url).status == 404

    # Every part can be deleted from the UI, each with its receipt: a headshot, a model version,
    # the batch.
    page.on("dialog", lambda dialog: dialog.accept())
    receipt = page.get_by_role("link", name="Receipt")
    shots.first.get_by_role("button", name="More actions").click()
    shots.first.get_by_role("menuitem", name="Delete").click()
    expect(page.get_by_text("Headshot deleted.")).to_be_visible()
    expect(receipt).to_have_attribute("href", re.compile("/deletion-receipts/"))
    expect(shots).to_have_count(1)
    page.get_by_role("link", name="Batches").click()
    page.get_by_role("link", name=re.compile("^Office 2026")).click()
    page.get_by_role("button", name="Delete model v1").click()
    expect(page.get_by_text("Model v1 deleted.")).to_be_visible()
    expect(page.get_by_role("article", name="Model v1")).to_have_count(0)
    page.get_by_role("link", name="All batches").click()
    page.get_by_role("button", name="Delete batch Office 2026").click()
    expect(page.get_by_text("Batch deleted.")).to_be_visible()
    expect(page.get_by_text("No batches yet")).to_be_visible()


def test_photos_added_offline_upload_when_the_connection_returns(
    server: Server, phone: Callable[[], Any], testdata: Path
) -> None:
    context = phone()
    page = context.new_page()
    sign_up(page, server, "offline@example.com")
    new_batch(page, "Train journey")
    page.evaluate("navigator.serviceWorker.ready")  # the shell is cached from here on
    batch_url = page.url

    context.set_offline(True)
    expect(page.get_by_text("Offline", exact=True)).to_be_visible()
    page.get_by_label("Choose photos").set_input_files([str(testdata / GOOD[0])])
    card = page.get_by_role("article", name=f"Photo {GOOD[0]}")
    expect(card.get_by_text("uploads when you are back online")).to_be_visible()
    expect(card.get_by_text("Queued", exact=True)).to_be_visible()  # not "Uploading" while offline
    expect(page.get_by_text("Offline: 1 photo waits on this phone.")).to_be_visible()
    page.reload()
    expect(page.get_by_text("1 photo is kept on this phone")).to_be_visible()
    page.get_by_role("button", name="Try again").click()  # still offline: the same page
    expect(page.get_by_text("1 photo is kept on this phone")).to_be_visible()
    check_screen(page, "offline")

    context.set_offline(False)
    page.goto(batch_url)
    expect(card.get_by_text("Usable")).to_be_visible(timeout=30_000)
    assert (
        page.evaluate(
            "new Promise(r => indexedDB.open('headshot').onsuccess = e => "
            "e.target.result.transaction('uploads').objectStore('uploads').count().onsuccess = "
            "c => r(c.target.result))"
        )
        == 0
    )


def test_erasure_leaves_the_account_unusable(server: Server, phone: Callable[[], Any]) -> None:
    page = phone().new_page()
    sign_up(page, server, "erase@example.com")
    page.get_by_role("link", name="Account").click()
    erase = page.get_by_role("button", name="Erase my account")
    expect(erase).to_be_disabled()
    page.get_by_label("Type your email to confirm").fill("erase@example.com")
    erase.click()

    expect(page.get_by_role("heading", name="Your account is erased")).to_be_visible()
    expect(page.get_by_text("Status: complete")).to_be_visible()
    receipt = page.locator("code.receipt").inner_text()
    assert len(receipt) >= 40
    page.get_by_role("link", name="Done").click()
    page.get_by_label("Email").fill("erase@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
