"""No dead ends on a phone: each finding of the "web app without dead ends" review walked in real
Chromium against a real server, with every screen checked by axe-core, for 44 px tap targets and
for horizontal overflow."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from headshot.services.secrets import HASHING_BUSY
from tests.browser.conftest import Server, check_screen, shot
from tests.browser.test_journey import GOOD, PASSWORD, new_batch, sign_up

SIGN_IN = "Studio headshots from your selfies"


def register_without_consent(page: Any, server: Server, email: str) -> None:
    page.goto(server.url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Your photos, your say")).to_be_visible()


def download_export(page: Any, tmp_path: Path, email: str) -> None:
    with page.expect_download() as started:
        page.get_by_role("link", name="Download all my data").click()
    target = tmp_path / "export.zip"
    started.value.save_as(target)
    with zipfile.ZipFile(target) as archive:
        assert "data.json" in archive.namelist()
        assert email in archive.read("data.json").decode()


def no_route_names(page: Any) -> None:
    assert "/api/v1" not in page.locator("body").inner_text()


def test_without_consent_a_person_can_read_export_and_sign_out(
    server: Server, phone: Callable[[], Any], tmp_path: Path
) -> None:
    """Point 1, never consented: nothing traps the person on the consent form."""
    page = phone().new_page()
    register_without_consent(page, server, "never@example.com")
    page.get_by_role("link", name="Not now: my account").click()
    expect(page.get_by_role("heading", name="Account")).to_be_visible()
    expect(page.get_by_text("You have not given consent")).to_be_visible()
    check_screen(page, "account without consent")
    download_export(page, tmp_path, "never@example.com")
    page.get_by_role("link", name="Batches").click()
    expect(
        page.get_by_role("heading", name="Nothing is processed without your consent")
    ).to_be_visible()
    check_screen(page, "batches without consent")
    page.get_by_role("link", name="Read and give consent").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name=SIGN_IN)).to_be_visible()
    no_route_names(page)


def test_withdrawal_lands_on_export_and_erasure(
    server: Server, phone: Callable[[], Any], tmp_path: Path
) -> None:
    """Point 1: withdraw consent, export, erase, signed out, with no consent given in between."""
    page = phone().new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_up(page, server, "withdraw@example.com")
    page.get_by_role("link", name="Account").click()
    page.get_by_role("button", name="Withdraw consent").click()
    expect(page.get_by_role("heading", name="Consent withdrawn")).to_be_visible()
    shot(page, "8-consent-withdrawn")
    check_screen(page, "withdrawn")
    no_route_names(page)
    download_export(page, tmp_path, "withdraw@example.com")
    erase = page.get_by_role("button", name="Erase my account")
    page.get_by_label("Type your email to confirm").fill("withdraw@example.com")
    erase.click()
    expect(page.get_by_role("heading", name="Your account is erased")).to_be_visible()
    check_screen(page, "erased")
    page.goto(server.url + "/#/account")
    expect(page.get_by_role("heading", name=SIGN_IN)).to_be_visible()


def test_back_from_your_batches_never_shows_sign_in(
    server: Server, phone: Callable[[], Any]
) -> None:
    """Point 4: redirects replace history entries; a signed-in person never sees sign-in."""
    page = phone().new_page()
    sign_up(page, server, "back@example.com")
    new_batch(page, "Back and forth")
    page.get_by_role("link", name="Gallery").click()
    expect(page.get_by_role("heading", name="Gallery")).to_be_visible()
    page.get_by_role("link", name="Batches").click()
    expect(page.get_by_role("heading", name="Your batches")).to_be_visible()
    for _ in range(5):
        page.go_back()
        page.wait_for_timeout(300)
        assert not page.get_by_role("heading", name=SIGN_IN).is_visible()
        assert not page.get_by_role("heading", name="Your photos, your say").is_visible()
    # An old sign-in link sends a signed-in person into the app, without a new entry.
    page.goto(server.url + "/#/signin")
    expect(page.get_by_role("heading", name="Your batches")).to_be_visible()


def test_removing_another_persons_photo_and_dismissing_a_refused_one(
    server: Server, phone: Callable[[], Any], testdata: Path
) -> None:
    """Points 2, 5 and 6: the new cards come into view; the refused card leads with its
    blocking reason and can be dismissed; another person's photo goes with one tap and a receipt."""
    page = phone().new_page()
    sign_up(page, server, "remove@example.com")
    new_batch(page, "Someone else")
    page.get_by_label("Choose photos").set_input_files(
        [str(testdata / n) for n in (*GOOD, "pd_grace_hopper.jpg")]
    )
    expect(page.locator("article.photo").first).to_be_in_viewport()
    other = page.get_by_role("article", name="Photo pd_grace_hopper.jpg")
    expect(other.get_by_role("button", name="Remove")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Not ready yet")).to_be_visible()
    check_screen(page, "batch with someone else")
    other.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Ready to train")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Photo deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="Receipt")).to_have_attribute(
        "href", re.compile("/deletion-receipts/")
    )
    expect(other).to_have_count(0)
    expect(page.get_by_role("meter", name="Usable photos")).to_have_attribute("aria-valuenow", "3")

    page.get_by_label("Choose photos").set_input_files(
        [str(testdata / "d_two_faces_obama_biden.jpg")]
    )
    refused = page.get_by_role("article", name="Photo d_two_faces_obama_biden.jpg")
    expect(refused.get_by_text("Not usable")).to_be_visible(timeout=30_000)
    expect(refused.locator(".finding").first).to_contain_text(re.compile("face", re.I))
    expect(refused.locator(".finding").first).to_have_class(re.compile("is-error"))
    warning = page.locator(".finding.is-warning").first  # the congress photo's low resolution
    expect(warning).to_contain_text("Tip")
    colour = "e => getComputedStyle(e).borderLeftColor"
    assert warning.evaluate(colour) != refused.locator(".finding").first.evaluate(colour)
    check_screen(page, "refused card")
    refused.get_by_role("button", name="Dismiss").click()
    expect(refused).to_have_count(0)


def test_sign_up_speaks_plainly_and_a_long_email_fits(
    server: Server, phone: Callable[[], Any]
) -> None:
    """Point 8 (sign-up errors) and no horizontal overflow with a 60-character email."""
    page = phone().new_page()
    page.goto(server.url)
    page.get_by_label("Email").fill("bob@")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("does not look like an email address")
    page.get_by_label("Email").fill("a@b")  # the browser takes it; the server does not
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("email address"))
    expect(page.get_by_role("alert")).not_to_contain_text(re.compile("value is not|@-sign"))
    check_screen(page, "sign-in with an error")

    email = "a.very.long.address.for.checking.that.it.wraps.well"[:48] + "@example.com"
    assert len(email) == 60
    sign_up(page, server, email)
    check_screen(page, "batches with a long email")
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_text(email)).to_be_visible()
    check_screen(page, "account with a long email")


def test_an_empty_gallery_offers_nothing_to_download(
    server: Server, phone: Callable[[], Any]
) -> None:
    """Point 9: filters folded away, and "Download all" says there is nothing."""
    page = phone().new_page()
    sign_up(page, server, "empty-gallery@example.com")
    page.get_by_role("link", name="Gallery").click()
    expect(page.get_by_role("button", name="Nothing to download")).to_be_disabled()
    expect(page.get_by_label("Background", exact=True)).to_be_hidden()
    check_screen(page, "empty gallery")
    page.locator("summary", has_text="Filters").click()
    expect(page.get_by_label("Background", exact=True)).to_be_visible()
    check_screen(page, "gallery filters open")


def test_busy_server_keeps_the_photo_queued_until_it_is_accepted(
    server: Server, phone: Callable[[], Any], testdata: Path
) -> None:
    """Point 10: 503, then 429 with Retry-After, then accepted: the photo arrives once."""
    page = phone().new_page()
    sign_up(page, server, "busy@example.com")
    new_batch(page, "Busy server")
    answers = [
        {"status": 503, "json": {"error": {"code": "unavailable", "message": "Busy."}}},
        {
            "status": 429,
            "headers": {"Retry-After": "2"},
            "json": {"error": {"code": "rate_limited", "message": "Too many."}},
        },
    ]
    seen: list[str] = []

    def upload(route: Any) -> None:
        seen.append(route.request.method)
        if route.request.method == "POST" and answers:
            route.fulfill(**answers.pop(0))
        else:
            route.continue_()

    page.route(re.compile(r"/api/v1/sessions/[\w-]+/photos$"), upload)
    page.get_by_label("Choose photos").set_input_files([str(testdata / GOOD[0])])
    card = page.get_by_role("article", name=f"Photo {GOOD[0]}")
    expect(page.get_by_text(re.compile(r"^The server is busy. Trying again"))).to_be_visible()
    expect(card.get_by_text("Waiting", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Retry now")).to_be_visible()
    shot(page, "9-busy-server")
    check_screen(page, "busy server")
    expect(card.get_by_text("Usable", exact=True)).to_be_visible(timeout=30_000)
    assert seen.count("POST") == 3
    expect(page.get_by_role("button", name="Retry now")).to_be_hidden()
    page.reload()
    expect(page.get_by_role("article", name=re.compile("^Photo "))).to_have_count(1)


def test_a_busy_sign_up_says_why_and_the_next_try_goes_through(
    server: Server, phone: Callable[[], Any]
) -> None:
    """Password hashing is bounded, so many sign-ins at once get 503 "busy": the person reads the
    server's own sentence (not "the server had a problem"), and tapping again works."""
    page = phone().new_page()
    page.goto(server.url)
    busy = {"error": {"code": "busy", "message": HASHING_BUSY, "details": {"retry_after_s": 2}}}
    register = re.compile(r"/api/v1/auth/register$")
    page.route(
        register,
        lambda route: route.fulfill(status=503, headers={"Retry-After": "2"}, json=busy),
        times=1,
    )
    page.get_by_label("Email").fill("busy-sign-up@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text(HASHING_BUSY)
    expect(page.get_by_role("alert")).not_to_contain_text("had a problem")
    check_screen(page, "sign-up while busy")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Your photos, your say")).to_be_visible()
