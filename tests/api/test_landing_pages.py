"""Pages for people who arrive from a link: a share page that previews well in chats and social
networks, and HTML (not JSON) for gone shares and deletion receipts when a browser asks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.services.container import Services
from tests.api.conftest import sign_up
from tests.api.pipeline_helpers import API, SMALL_SET, generation, ready_session, trained_model

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
LOOK = {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"}


class Tags(HTMLParser):
    """The meta tags (by property or name) and the h1 text of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.h1 = ""
        self._in_h1 = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and (values.get("property") or values.get("name")):
            self.meta[str(values.get("property") or values.get("name"))] = str(values["content"])
        self._in_h1 = tag == "h1"

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.h1 += data

    def handle_endtag(self, tag: str) -> None:
        self._in_h1 = self._in_h1 and tag != "h1"


@pytest.fixture
def client(make_services: Callable[..., Services]) -> Iterator[TestClient]:
    services = make_services(**SMALL_SET, public_url="https://headshots.example")
    with TestClient(create_app(services), base_url="https://testserver") as test_client:
        yield test_client


def test_share_page_previews_and_gone_links_answer_a_page(
    client: TestClient, testdata: Path
) -> None:
    headers = sign_up(client, "share@example.com")
    model = trained_model(client, headers, ready_session(client, headers, testdata))
    headshot_id = generation(client, headers, model["id"], [LOOK], per_look=1)["headshot_ids"][0]
    share = client.post(f"{API}/headshots/{headshot_id}/shares", json={}, headers=headers).json()
    path = share["url"].removeprefix("https://headshots.example")
    client.cookies.clear()

    page = client.get(path, headers=BROWSER)

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    tags = Tags(page.text)
    assert tags.h1 == "A professional headshot"
    assert tags.meta["og:title"] and tags.meta["twitter:card"] == "summary_large_image"
    assert tags.meta["og:url"] == share["url"]
    assert tags.meta["og:image"] == f"{share['url']}/image"
    image = client.get(f"{path}/image")  # logged out, as a link preview fetches it
    assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"

    assert client.delete(f"{API}/shares/{share['id']}", headers=headers).status_code == 204
    gone = client.get(path, headers=BROWSER)
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("text/html")
    assert Tags(gone.text).h1 == "This link no longer works"
    assert "{" not in gone.text
    as_json = client.get(path, headers={"Accept": "application/json"})
    assert as_json.status_code == 404 and as_json.json()["error"]["code"] == "not_found"
    assert client.get(f"{path}/image", headers=BROWSER).status_code == 404

    receipt_url = client.delete(f"{API}/headshots/{headshot_id}", headers=headers).headers[
        "Deletion-Receipt"
    ]
    receipt = client.get(receipt_url, headers=BROWSER)
    assert receipt.status_code == 200 and receipt.headers["content-type"].startswith("text/html")
    assert "<li>1 headshot</li>" in receipt.text and "1 headshots" not in receipt.text
    assert Tags(receipt.text).h1 == "Deletion complete"
    assert client.get(receipt_url).json()["summary"][0] == "1 headshot"


def test_account_receipt_page_counts_in_plain_words(client: TestClient, testdata: Path) -> None:
    headers = sign_up(client, "gone@example.com")
    model = trained_model(client, headers, ready_session(client, headers, testdata))
    generation(client, headers, model["id"], [LOOK], per_look=2)
    receipt = client.delete(f"{API}/me", headers=headers).json()

    page = client.get(receipt["status_url"], headers=BROWSER)

    assert page.status_code == 200
    for phrase in ("1 account", "1 batch", "3 photos", "1 model version", "1 generation"):
        assert f"<li>{phrase}</li>" in page.text, phrase
    assert "<li>2 headshots</li>" in page.text
    assert "generations</li>" not in page.text
    missing = client.get(f"{API}/deletion-receipts/{'x' * 40}", headers=BROWSER)
    assert missing.status_code == 404 and "<h1>" in missing.text
    assert client.get(f"{API}/deletion-receipts/{'x' * 40}").json()["error"]["code"] == (
        "not_found"
    )
