"""Photos with hostile file names, chosen through the web app's own file input: every place the
name shows (the card while it uploads, the result card, the readiness list, a refusal that names
the file) shows it as text, sanitised the way the server's `display_filename` does, and nothing in
a name becomes markup or runs.

The files are real files on disk, so their names are what a Linux file chooser can hand over:
anything but `/` and NUL (which no Linux file name can hold). A `/` lookalike (U+2215) stands in
for the slash of a closing tag."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from headshot.domain.filenames import display_filename
from tests.browser.conftest import (
    Server,
    _require_chromium,
    check_screen,
    shot,
    start_server,
    stop_server,
)
from tests.browser.test_journey import GOOD, new_batch, sign_up

MAX_FILE_BYTES = 1_000_000  # above every test photo, below the file that is refused for size

# The raw names, each for one kind of upload. Bidi overrides and isolates, zero-width, C0 and C1
# controls (BEL, ESC with a colour and a title sequence, DEL, NEL), HTML that would inject an
# element or run a handler if it were ever parsed, entities that would decode, a `"` and a new
# line (which the browser escapes in the form part and the server reads back), and a name long
# enough to be capped.
NAMES = {
    "bidi": "x\u202egpj.php<img src=x onerror=window.__pwned=1>\a\x1b[31m.jpg",
    "script": "<script>window.__pwned=2<\u2215script>\x01\x7f\x85.jpg",
    "svg": '"><svg onload=window.__pwned=3>&lt;b&gt;bold&lt;\u2215b&gt;\u200b\u2066\t\n.jpg',
    "long": "\u202e" + "a very long name " * 13 + "&amp;<i>.jpg",
    "refused": "&lt;b&gt;not a photo\x1b]0;owned\x07<b onclick=window.__pwned=5>.jpg",
    "too_large": "big<img src=x onerror=window.__pwned=6>\u202e\x1b[2J.jpg",
}
SHOWN = {kind: display_filename(raw) for kind, raw in NAMES.items()}

# Characters that must never reach the page's text or attributes from a name.
HIDDEN = re.compile("[\u202e\u2066\u200b\x00-\x1f\x7f-\x9f]")

# Every text node (whitespace-only ones aside: the page's own indentation) and every attribute
# value on the page that holds a control, format, private-use or unassigned character.
INVISIBLES = """() => {
  const bad = /\\p{C}/u;
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!/^\\s*$/.test(node.data) && bad.test(node.data)) found.push(JSON.stringify(node.data));
  }
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      if (bad.test(attr.value)) found.push(el.tagName + " " + JSON.stringify(attr.value));
    }
  }
  return found;
}"""

# What a name would have injected had it been parsed as HTML. The page's content security policy
# refuses inline handlers, so `window.__pwned` would stay unset even then: the elements are what
# give an injection away, and the console would carry the policy's refusal.
INJECTED = """() => ({
  pwned: typeof window.__pwned,
  images: document.querySelectorAll("img[src='x'], img[onerror], [onload], [onclick]").length,
  scripts: [...document.scripts].map((s) => s.src),
  svgs: document.querySelectorAll("svg").length,
  bold: document.querySelectorAll("#view b, #view i").length,
})"""

OVERFLOWING = """() => [...document.querySelectorAll("#view .photo *")]
  .filter((el) => getComputedStyle(el).overflow === "visible")
  .filter((el) => el.scrollWidth > el.clientWidth + 1)
  .map((el) => el.className + ": " + el.textContent.slice(0, 40))"""


@pytest.fixture(scope="module")
def small_limit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose per-file limit sits between the test photos and a 1.2 MB file."""
    _require_chromium()
    running = start_server(
        tmp_path_factory.mktemp("server"), HEADSHOT_UPLOADS__MAX_FILE_BYTES=str(MAX_FILE_BYTES)
    )
    yield running
    stop_server(running)


def hostile_files(folder: Path, testdata: Path) -> dict[str, Path]:
    """Real files under the hostile names: three good photos, another person's photo (which
    readiness names), a file that is not a photo and one over the size limit."""
    sources: dict[str, bytes] = {
        "bidi": (testdata / GOOD[0]).read_bytes(),
        "script": (testdata / GOOD[1]).read_bytes(),
        "svg": (testdata / GOOD[2]).read_bytes(),
        "long": (testdata / "pd_grace_hopper.jpg").read_bytes(),
        "refused": b"not a photo at all",
        "too_large": b"not a photo either " * 64_000,
    }
    assert len(sources["too_large"]) > MAX_FILE_BYTES
    files = {}
    for kind, data in sources.items():
        path = folder / NAMES[kind]
        assert len(path.name.encode()) <= 255  # the longest name Linux allows
        path.write_bytes(data)
        files[kind] = path
    return files


def card(page: Any, kind: str) -> Any:
    return page.get_by_role("article", name=f"Photo {SHOWN[kind]}", exact=True)


def names_are_text(page: Any, before: dict[str, Any]) -> None:
    """Nothing was injected or ran, and no hidden character reached the page."""
    after = page.evaluate(INJECTED)
    assert after == {**before, "pwned": "undefined"}, after
    assert page.evaluate(INVISIBLES) == []
    assert not HIDDEN.search(
        page.locator("body").inner_text().replace("\n", " ").replace("\t", " ")
    )


def watch(page: Any) -> tuple[list[str], list[str], list[Any]]:
    """What could betray an injection: page errors, console errors, dialogs, requests; and the
    batch's API answers, to read once the flow is done."""
    problems: list[str] = []
    requests: list[str] = []
    answers: list[Any] = []

    def on_console(message: Any) -> None:
        # Chromium notes each 4xx answer (401 before sign-in, the refusals' 413 and 422) as a
        # console error; those are the server's answers, not the page misbehaving.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console: {message.text}")

    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", on_console)
    page.on("dialog", on_dialog)
    page.on("request", lambda request: requests.append(request.url))
    page.on("response", lambda r: answers.append(r) if "/api/v1/sessions/" in r.url else None)
    return problems, requests, answers


def test_hostile_file_names_are_shown_as_sanitised_text(
    small_limit_server: Server, phone: Callable[[], Any], testdata: Path, tmp_path: Path
) -> None:
    server = small_limit_server
    assert len(set(SHOWN.values())) == len(SHOWN)  # each card can be told apart by its name
    files = hostile_files(tmp_path, testdata)
    page = phone().new_page()
    problems, requests, answers = watch(page)
    sign_up(page, server, "names@example.com")
    new_batch(page, "Hostile names")
    before = page.evaluate(INJECTED)

    # The web app names a photo still on the phone the way the server will.
    raw_names = [*NAMES.values(), *PARITY]
    shown_here = page.evaluate(
        """async (names) => {
          const { displayName } = await import("/app/js/filenames.js");
          return names.map((name) => displayName(name));
        }""",
        raw_names,
    )
    assert shown_here == [display_filename(raw) for raw in raw_names]

    sent: list[bytes] = []

    def upload(route: Any) -> None:
        if route.request.method == "POST":
            sent.append(route.request.post_data_buffer or b"")
        route.continue_()

    page.route(re.compile(r"/api/v1/sessions/[\w-]+/photos$"), upload)
    page.get_by_label("Choose photos").set_input_files([str(path) for path in files.values()])

    # While they wait and upload, the cards already carry the display names.
    expect(card(page, "too_large")).to_be_visible()
    names_are_text(page, before)

    for kind in ("bidi", "script", "svg"):
        expect(card(page, kind).get_by_text("Usable", exact=True)).to_be_visible(timeout=60_000)
    expect(card(page, "long").get_by_text("Needs attention")).to_be_visible(timeout=60_000)
    refused = card(page, "refused")
    expect(refused.get_by_text("Not usable")).to_be_visible(timeout=60_000)
    expect(refused.locator(".finding").first).to_contain_text("not a photo we can read")
    too_large = card(page, "too_large")
    expect(too_large.get_by_text("Not usable")).to_be_visible(timeout=60_000)
    # The server's refusal names the file: by its display name, as text.
    expect(too_large.locator(".finding strong")).to_have_text(
        re.compile("^" + re.escape(SHOWN["too_large"]) + " is larger than")
    )
    expect(page.locator("article[data-upload]")).to_have_count(0)
    for refusal in (refused, too_large):  # not pictures: a blank square, not a broken image
        expect(refusal.locator("div.thumb")).to_have_count(1)
        expect(refusal.locator("img")).to_have_count(0)

    for kind in NAMES:
        expect(card(page, kind).locator(".name")).to_have_text(SHOWN[kind], use_inner_text=False)
    # Readiness names another person's photo, in its list and on its Remove button.
    readiness = page.get_by_role("region", name="Readiness")
    expect(readiness.get_by_role("button", name=SHOWN["long"], exact=True)).to_have_text(
        SHOWN["long"], use_inner_text=False
    )
    remove = readiness.get_by_role("button", name=f"Remove {SHOWN['long']}", exact=True)
    expect(remove).to_be_visible()
    assert len(SHOWN["long"]) == 120 and SHOWN["long"].endswith(".jpg")
    names_are_text(page, before)
    check_screen(page, "hostile file names")
    # A long unbroken name in a refusal wraps inside its card instead of running out of it.
    assert page.evaluate(OVERFLOWING) == []
    page.evaluate("document.querySelector('.photos').scrollIntoView(); window.scrollBy(0, -110)")
    shot(page, "11-hostile-file-names")

    # The names went up as the files had them (the browser escapes only `"`, LF and CR), so the
    # server's sanitising was what made them safe.
    parts = b"".join(sent)
    assert len(sent) >= len(NAMES)  # one request per file (more if the server asked to wait)
    assert 'filename="x\u202egpj.php<img src=x onerror=window.__pwned=1>\a\x1b'.encode() in parts
    assert b'filename="%22><svg onload=' in parts and b"\t%0A.jpg" in parts

    # Every answer so far named the files by their display names only.
    assert names_in_answers(answers) == set(SHOWN.values())

    # After a reload the names come from the server's list alone.
    answers.clear()
    page.reload()
    kept = ("bidi", "script", "svg", "long")  # a refused file is not kept
    for kind in kept:
        expect(card(page, kind).locator(".name")).to_have_text(SHOWN[kind], use_inner_text=False)
    expect(page.get_by_role("article", name=re.compile("^Photo "))).to_have_count(len(kept))
    names_are_text(page, before)
    assert names_in_answers(answers) == {SHOWN[kind] for kind in kept}

    assert not [url for url in requests if url.rstrip("/").endswith("/x")], "an image was injected"
    assert problems == []


def names_in_answers(answers: list[Any]) -> set[str]:
    """The file names in the batch's JSON answers, each answer checked for anything hidden."""
    named: set[str] = set()
    for response in answers:
        if "json" in (response.headers.get("content-type") or ""):
            text = response.text()
            assert not HIDDEN.search(text) and "<" not in text, (response.url, text[:300])
            named |= set(filenames_in(json.loads(text)))
    return named


def filenames_in(value: Any) -> Iterator[str]:
    """Every `filename` field in a JSON answer, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "filename" and isinstance(item, str):
                yield item
            else:
                yield from filenames_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from filenames_in(item)


# More names for the check of the web app's copy of the rule: folders, normalisation, white space
# of every kind, dots, private use, the cap with and without a short extension and with dots and
# spaces at the cut, characters beyond the Basic Multilingual Plane (one each, as Python counts).
PARITY = [
    "../../etc/passwd",
    "C:\\Users\\ana\\Pictures\\me.jpg",
    "Cafe\u0301 \u200b selfie\t\n .jpeg",
    "...hidden.jpg..",
    "\x00\u202e\u2066",
    "résumé 日本.HEIC",
    "wide\u3000space\u00a0and\u2028lines\u2029.png",
    "private\ue000use.jpg",
    "a" * 1000 + ".jpg",
    "a" * 1000,
    "a" * 200 + ".extension-too-long",
    "b" * 114 + " . . . .jpg",
    "\U0001f600" * 200 + ".jpg",
]
