"""Screens that need the server's side of the "no dead ends" work: password reset and email
verification through a real SMTP server on loopback, readiness that names photos with a one-tap
remove, leaving a photo out, per-engine looks, gallery thumbnails, and counts from GET /config."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from tests.browser.conftest import (
    Server,
    _free_port,
    check_screen,
    shot,
    start_server,
    stop_server,
)
from tests.browser.test_journey import GOOD, PASSWORD, new_batch, sign_up

NEW_PASSWORD = "a new and longer secret"


class Inbox:
    """An aiosmtpd handler that keeps the mail it receives."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        body = message.get_payload(decode=True)
        self.texts.append((str(message["To"]), body.decode() if isinstance(body, bytes) else ""))
        await asyncio.sleep(0)
        return "250 OK"

    def token(self, address: str, route: str) -> str:
        for to, text in reversed(self.texts):
            found = re.search(rf"/#/{route}\?token=([\w.~-]+)", text)
            if to == address and found:
                return found.group(1)
        raise AssertionError(f"no {route} mail to {address}")


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def mail_server(
    tmp_path_factory: pytest.TempPathFactory, inbox: tuple[Inbox, int], browser: Any
) -> Iterator[Server]:
    del browser  # requested first: skips (or fails under CI) without Chromium
    running = start_server(
        tmp_path_factory.mktemp("mail-server"),
        HEADSHOT_SMTP_URL=f"smtp://127.0.0.1:{inbox[1]}",
        HEADSHOT_EMAIL_VERIFICATION="optional",
    )
    yield running
    stop_server(running)


def wait_for_token(page: Any, mails: Inbox, address: str, route: str) -> str:
    for _ in range(50):
        try:
            return mails.token(address, route)
        except AssertionError:
            page.wait_for_timeout(200)
    return mails.token(address, route)


def test_verify_email_then_reset_a_forgotten_password(
    mail_server: Server, inbox: tuple[Inbox, int], phone: Callable[[], Any]
) -> None:
    mails, _ = inbox
    email = "forgetful@example.com"
    page = phone().new_page()
    sign_up(page, mail_server, email)
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_text("Your email address is not confirmed yet.")).to_be_visible()
    check_screen(page, "account, email not confirmed")
    page.goto(f"{mail_server.url}/#/verify?token={wait_for_token(page, mails, email, 'verify')}")
    expect(page.get_by_role("heading", name="Email address confirmed")).to_be_visible()
    check_screen(page, "email confirmed")
    page.get_by_role("link", name="Continue").click()
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_text("Your email address is not confirmed yet.")).to_be_hidden()
    page.get_by_role("button", name="Sign out").click()

    page.get_by_role("link", name="Forgot your password?").click()
    check_screen(page, "forgot password")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send me a reset link").click()
    expect(
        page.get_by_role("status").filter(has_text="If an account uses that address")
    ).to_be_visible()
    reset = f"{mail_server.url}/#/reset?token={wait_for_token(page, mails, email, 'reset')}"
    page.goto(reset)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    check_screen(page, "reset password")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()

    page.goto(reset)  # the link works once
    page.get_by_label("New password").fill("yet another new secret")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.goto(f"{mail_server.url}/#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your batches")).to_be_visible()

    page.get_by_role("link", name="Account").click()
    page.get_by_label("Current password").fill(NEW_PASSWORD)
    page.get_by_label(re.compile("^New password")).fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()


def test_readiness_names_the_photo_to_remove_and_looks_are_honest(
    mail_server: Server, phone: Callable[[], Any], testdata: Path
) -> None:
    page = phone().new_page()
    page.goto(mail_server.url)
    expect(page.get_by_text("Take 3 or more photos")).to_be_visible()  # GET /config
    sign_up(page, mail_server, "named@example.com")
    new_batch(page, "Who is this")
    page.get_by_label("Choose photos").set_input_files(
        [str(testdata / n) for n in (*GOOD, "pd_grace_hopper.jpg")]
    )
    other = page.get_by_role("article", name="Photo pd_grace_hopper.jpg")
    expect(other.get_by_text("Needs attention")).to_be_visible(timeout=30_000)
    readiness = page.get_by_role("region", name="Readiness")
    named = readiness.get_by_role("button", name="pd_grace_hopper.jpg", exact=True)
    expect(named).to_be_visible()
    named.click()
    expect(other).to_be_in_viewport()
    check_screen(page, "readiness naming a photo")
    page.evaluate(
        "document.getElementById('readiness-title').scrollIntoView(); window.scrollBy(0, -70)"
    )
    shot(page, "10-readiness-names-a-photo")
    expect(readiness.get_by_text("Not ready yet")).to_be_visible()
    readiness.get_by_role("button", name="Remove pd_grace_hopper.jpg").click()
    expect(other).to_have_count(0)
    expect(readiness.get_by_text("Ready to train")).to_be_visible()
    expect(readiness.locator(".findings")).to_have_count(0)

    first = page.get_by_role("article", name=f"Photo {GOOD[0]}")
    first.get_by_role("button", name="Leave out").click()
    expect(first.get_by_text("Left out", exact=True)).to_be_visible()
    expect(readiness.get_by_text("Not ready yet")).to_be_visible()
    expect(page.get_by_role("button", name="Train my model")).to_be_disabled()
    first.get_by_role("button", name="Include").click()
    expect(readiness.get_by_text("Ready to train")).to_be_visible()
    page.get_by_role("link", name="All batches").click()
    expect(page.get_by_text("3 of 3 usable photos")).to_be_visible()  # agrees with readiness
    page.get_by_role("link", name=re.compile("^Who is this")).click()

    page.get_by_role("button", name="Train my model").click()
    page.get_by_role("link", name="Create headshots with v1").click(timeout=60_000)
    attire = page.get_by_role("group", name="Attire")
    expect(attire.get_by_text("keeps the clothes from your photos")).to_be_visible()
    expect(attire.get_by_role("checkbox")).to_have_count(0)
    check_screen(page, "looks with the studio")
    page.get_by_label("Images per look").select_option("1")
    page.get_by_role("button", name="Generate headshots").click()
    page.get_by_role("link", name="See them in the gallery").click(timeout=60_000)
    made = page.get_by_role("article", name=re.compile("^Headshot"))
    expect(made).to_have_count(1)
    expect(made).to_have_attribute("aria-label", re.compile("As photographed"))
    image = made.get_by_role("img")
    expect(image).to_have_attribute("src", re.compile(r"size=thumb"))
    image.scroll_into_view_if_needed()
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("i => Math.max(i.naturalWidth, i.naturalHeight)") <= 384
    expect(page.get_by_label("Attire", exact=True)).to_have_count(0)  # no filter for it either
