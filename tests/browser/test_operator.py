"""The operator's side in a real browser, on a server where registration is by invitation: the
operator page shows the success targets and makes an invitation, a new person registers with it
from its link, a second use of the same code is refused in plain words, and a closed server says
so instead of offering a form that would fail."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server, check_screen, start_server, stop_server
from tests.browser.test_journey import PASSWORD

OPERATOR = "operator@example.org"


class InviteServer:
    """A server in `invite` mode, with the environment its operator commands need."""

    def __init__(self, server: Server, env: dict[str, str]) -> None:
        self.server = server
        self.env = env

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "headshot", *args],
            env={**os.environ, **self.env},
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()


@pytest.fixture(scope="module")
def invite_server(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[InviteServer]:
    del browser  # requested first: skips (or fails under CI) without Chromium
    data_dir = tmp_path_factory.mktemp("invite-server")
    env = {
        "HEADSHOT_DATA_DIR": str(data_dir),
        "HEADSHOT_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "HEADSHOT_SIGNUP": "invite",
    }
    running = start_server(Path(data_dir), **env)
    yield InviteServer(running, env)
    stop_server(running)


def register_with_link(page: Any, url: str, code: str, email: str) -> None:
    page.goto(f"{url}/#/signup?invite={code}")
    expect(page.get_by_label("Invitation code (to create an account)")).to_have_value(code)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()


def test_operator_invites_a_person_who_registers_once(
    invite_server: InviteServer, phone: Callable[[], Any]
) -> None:
    url = invite_server.server.url
    first_code = invite_server.cli("invites", "create", "--note", "the operator")

    operator = phone().new_page()
    operator.goto(url)
    expect(operator.get_by_label("Invitation code (to create an account)")).to_be_visible()
    check_screen(operator, "sign-in by invitation")
    operator.get_by_label("Email").fill(OPERATOR)
    operator.get_by_label("Password").fill(PASSWORD)
    operator.get_by_role("button", name="Create account").click()
    expect(operator.get_by_role("alert")).to_have_text(
        "Please enter the invitation code the operator gave you."
    )
    register_with_link(operator, url, first_code, OPERATOR)
    expect(operator.get_by_role("heading", name="Your photos, your say")).to_be_visible()
    invite_server.cli("users", "grant-operator", OPERATOR)

    operator.goto(f"{url}/#/account")
    operator.reload()
    expect(operator.get_by_role("heading", name="Notifications")).to_be_visible()
    email_box = operator.get_by_label("Email me when my model or headshots are ready")
    expect(email_box).to_be_checked()
    email_box.uncheck()
    expect(operator.get_by_role("status").filter(has_text="No more emails")).to_be_visible()
    operator.reload()
    expect(
        operator.get_by_label("Email me when my model or headshots are ready")
    ).not_to_be_checked()
    expect(operator.get_by_role("button", name="Notify me on this device")).to_be_visible()
    check_screen(operator, "account of an operator")

    operator.get_by_role("link", name="Run this server").click()
    expect(operator.get_by_role("heading", name="Running this server")).to_be_visible()
    targets = operator.locator("li.target")
    expect(targets).to_have_count(3)
    expect(targets.filter(has_text="Trainings that fail")).to_contain_text("Goal: under 3 %")
    expect(targets.filter(has_text="Photo check time")).to_contain_text("Goal: under 2 s")
    expect(targets.filter(has_text="come back within 30 days")).to_contain_text("No data yet")
    expect(operator.get_by_text("used", exact=True)).to_be_visible()  # the operator's own
    check_screen(operator, "operator page")

    operator.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    operator.get_by_label("Who it is for (optional)").fill("Ada")
    operator.get_by_label("Only addresses at this domain (optional)").fill("example.com")
    operator.get_by_label("Days until it expires (optional)").fill("7")
    operator.get_by_role("button", name="Create invitation").click()
    code_box = operator.locator("#invite-code")
    expect(code_box).to_be_visible()
    code = code_box.inner_text()
    operator.get_by_role("button", name="Copy link").click()
    link = operator.evaluate("navigator.clipboard.readText()")
    assert link == f"{url}/#/signup?invite={code}"
    expect(operator.get_by_text("Ada · only @example.com")).to_be_visible()
    check_screen(operator, "operator page with a new invitation")

    newcomer = phone().new_page()
    register_with_link(newcomer, url, code, "ada@example.com")
    expect(newcomer.get_by_role("heading", name="Your photos, your say")).to_be_visible()

    latecomer = phone().new_page()
    register_with_link(latecomer, url, code, "bob@example.com")
    expect(latecomer.get_by_role("alert")).to_have_text("This invitation has already been used.")
    check_screen(latecomer, "sign-in with a used invitation")

    operator.reload()
    expect(operator.locator("li", has_text="Ada")).to_contain_text("used")

    operator.get_by_label("Who it is for (optional)").fill("Temp")
    operator.get_by_role("button", name="Create invitation").click()
    operator.get_by_role("button", name="Revoke invitation Temp").click()
    expect(operator.locator("li", has_text="Temp")).to_contain_text("revoked")
    expect(operator.get_by_role("button", name="Revoke invitation Temp")).to_have_count(0)

    operator.get_by_label("Their email").fill("ada@example.com")
    operator.get_by_role("button", name="Look up").click()
    expect(operator.get_by_text("(the defaults).")).to_be_visible()
    operator.get_by_label("Trainings per period").fill("2")
    operator.get_by_role("button", name="Save limits").click()
    expect(operator.get_by_text("trainings 0 used of 2")).to_contain_text("(set for this person).")
    check_screen(operator, "operator page with a person's limits")


def test_a_closed_server_says_so_instead_of_offering_a_form(
    invite_server: InviteServer, phone: Callable[[], Any]
) -> None:
    page = phone().new_page()

    def closed(route: Any) -> None:
        answer = route.fetch()
        route.fulfill(response=answer, json={**answer.json(), "signup": "closed"})

    page.route("**/api/v1/config", closed)
    page.goto(invite_server.server.url)
    expect(page.get_by_text("Registration is closed on this server.")).to_be_visible()
    expect(page.get_by_role("button", name="Create account")).to_be_hidden()
    expect(page.get_by_label("Invitation code (to create an account)")).to_have_count(0)
    check_screen(page, "sign-in, registration closed")


def test_the_service_worker_shows_a_push_and_keeps_its_cache(
    invite_server: InviteServer, phone: Callable[[], Any]
) -> None:
    """A Web Push message delivered to the service worker (through the DevTools protocol, as a
    push service would) becomes a notification with the server's title and body."""
    url = invite_server.server.url
    context = phone()
    context.grant_permissions(["notifications"], origin=url)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(r["registrationId"] for r in event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    page.goto(url)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    assert registrations, "no service worker registered"
    message = '{"title": "Your headshots are ready", "body": "12 headshots in 3 looks."}'
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": url, "registrationId": registrations[-1], "data": message},
    )
    page.wait_for_function(
        "navigator.serviceWorker.ready.then((r) => r.getNotifications())"
        ".then((shown) => shown.length === 1)"
    )
    shown = page.evaluate(
        "navigator.serviceWorker.ready.then((r) => r.getNotifications())"
        ".then((shown) => shown.map((n) => [n.title, n.body]))"
    )
    assert shown == [["Your headshots are ready", "12 headshots in 3 looks."]]
    # The shell cache is filled as before, the operator page's module with it.
    cached = page.evaluate(
        "caches.keys().then((names) => caches.open(names[0])).then((c) => c.keys())"
        ".then((requests) => requests.map((r) => new URL(r.url).pathname))"
    )
    assert "/" in cached
    assert any(path.endswith("/js/views/operator.js") for path in cached), cached


# A stand-in for the browser's push service (headless Chromium has none to reach): subscribe()
# answers a subscription with a real P-256 key and records the application server key it got.
PUSH_SERVICE_DOUBLE = """
(() => {
  const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  let current = null;
  PushManager.prototype.getSubscription = async function () { return current; };
  PushManager.prototype.subscribe = async function (options) {
    window.pushServiceDouble = { serverKey: b64(options.applicationServerKey) };
    const pair = await crypto.subtle.generateKey(
      { name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    const p256dh = b64(await crypto.subtle.exportKey("raw", pair.publicKey));
    const auth = b64(crypto.getRandomValues(new Uint8Array(16)));
    current = {
      toJSON: () => ({
        endpoint: "https://fcm.googleapis.com/fcm/send/double-1", keys: { p256dh, auth } }),
      unsubscribe: async () => { current = null; return true; },
    };
    return current;
  };
})();
"""


def test_notify_me_on_this_device_subscribes_with_the_servers_key(
    invite_server: InviteServer, phone: Callable[[], Any]
) -> None:
    url = invite_server.server.url
    context = phone()
    context.grant_permissions(["notifications"], origin=url)
    context.add_init_script(PUSH_SERVICE_DOUBLE)
    page = context.new_page()
    register_with_link(page, url, invite_server.cli("invites", "create"), "push@example.org")
    expect(page.get_by_role("heading", name="Your photos, your say")).to_be_visible()

    page.goto(f"{url}/#/account")
    page.get_by_role("button", name="Notify me on this device").click()
    expect(page.get_by_role("button", name="Stop notifying this device")).to_be_visible()
    expect(page.get_by_text("This device is told when your headshots are ready.")).to_be_visible()
    server_key = page.evaluate("fetch('/api/v1/push/key').then((r) => r.json())")["public_key"]
    assert page.evaluate("window.pushServiceDouble.serverKey") == server_key.rstrip("=")
    assert page.evaluate("localStorage.getItem('headshot-push-subscription')")
    check_screen(page, "account, notified on this device")

    page.get_by_role("button", name="Stop notifying this device").click()
    expect(page.get_by_role("button", name="Notify me on this device")).to_be_visible()
    assert page.evaluate("localStorage.getItem('headshot-push-subscription')") is None
