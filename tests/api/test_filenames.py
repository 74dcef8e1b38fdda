"""Filenames come back as sanitised display names in every answer, never as sent."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.api.uploads import form_data_name
from headshot.services.container import Services
from tests.api.conftest import sign_up
from tests.api.photo_helpers import portrait_bytes

API = "/api/v1"
HOSTILE = "x\u202egpj.php<img src=x onerror=alert(1)>\a\x1b[31m.jpg"
SHOWN = "xgpj.phpimg src=x onerror=alert(1)[31m.jpg"


def _clean(text: str) -> None:
    for bad in ("\u202e", "\x1b", "\\u001b", "\\u202e", "<img", "\a", "\\u0007"):
        assert bad not in text, bad


def _upload(
    client: TestClient,
    headers: dict[str, str],
    session_id: str,
    data: bytes,
    filename: str = HOSTILE,
) -> str:
    # Built by hand: HTTP clients would percent-encode the control characters themselves.
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="files"; filename="'
        + filename.encode()
        + b'"\r\nContent-Type: image/jpeg\r\n\r\n'
        + data
        + b"\r\n--b0undary--\r\n"
    )
    multipart = {"Content-Type": "multipart/form-data; boundary=b0undary"}
    url = f"{API}/sessions/{session_id}/photos"
    response = client.post(url, content=body, headers={**headers, **multipart})
    text: str = response.text
    _clean(text)
    return text


def test_every_answer_shows_the_display_name(
    make_services: Callable[..., Services], testdata: Path
) -> None:
    services = make_services(uploads={"max_file_bytes": 400_000})
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "names@example.com")
        session_id = client.post(f"{API}/sessions", json={}, headers=headers).json()["id"]
        accepted = _upload(client, headers, session_id, portrait_bytes(testdata))
        assert SHOWN in accepted
        no_face = _upload(client, headers, session_id, (testdata / "cc0_coffee.jpg").read_bytes())
        assert SHOWN in no_face
        not_a_photo = _upload(client, headers, session_id, b"just text")
        assert '"invalid' in not_a_photo or "format" in not_a_photo
        assert SHOWN in not_a_photo
        too_large = _upload(client, headers, session_id, b"\xff\xd8\xff" + b"\0" * 500_000)
        assert "too_large" in too_large and SHOWN in too_large
        for path in (f"/sessions/{session_id}/photos", f"/sessions/{session_id}/readiness"):
            answer = client.get(f"{API}{path}", headers=headers)
            assert answer.status_code == 200
            _clean(answer.text)
        listed = client.get(f"{API}/sessions/{session_id}/photos", headers=headers).json()
        assert {p["filename"] for p in listed["photos"]} == {SHOWN}
        exported = client.get(f"{API}/me/export", headers=headers)
        assert exported.status_code == 200
        with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
            for name in archive.namelist():
                _clean(name)
                if name.endswith((".json", ".txt", ".csv")):
                    _clean(archive.read(name).decode())


def test_a_browsers_form_escapes_are_read_back(
    make_services: Callable[..., Services], testdata: Path
) -> None:
    """A browser sends `"`, LF and CR in a file name as %22, %0A and %0D; only those are
    decoded (so the name is the one the person chose), then the display rules apply."""
    assert form_data_name("a%22b%0Ac%0Dd %25 %3C %0a.jpg") == 'a"b\nc\rd %25 %3C %0a.jpg'
    services = make_services()
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "escapes@example.com")
        session_id = client.post(f"{API}/sessions", json={}, headers=headers).json()["id"]
        sent = "%22%3E%3Csvg%22 me%0Aand%0D%0Aus %2522.jpg"
        _upload(client, headers, session_id, portrait_bytes(testdata), filename=sent)
        listed = client.get(f"{API}/sessions/{session_id}/photos", headers=headers).json()
        assert [p["filename"] for p in listed["photos"]] == ["%3E%3Csvg meandus %2522.jpg"]
