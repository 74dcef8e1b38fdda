"""Forgotten and changed passwords and email verification, with mail through a real SMTP server
on loopback: single-use links that expire, no account enumeration, sign-out everywhere on reset."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.services.container import Services
from tests.api.conftest import PASSWORD, sign_up
from tests.api.mail_helpers import Inbox
from tests.clock import SettableClock

API = "/api/v1"
NEW_PASSWORD = "a much newer passphrase"


@pytest.fixture
def mail_client(
    make_services: Callable[..., Services], inbox: tuple[Inbox, int]
) -> Iterator[TestClient]:
    _, port = inbox
    services = make_services(
        smtp_url=f"smtp://127.0.0.1:{port}", public_url="https://headshots.example"
    )
    with TestClient(create_app(services), base_url="https://testserver") as client:
        yield client


def _login(client: TestClient, email: str, password: str) -> dict[str, str]:
    answer = client.post(f"{API}/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_reset_by_mail_is_single_use_and_signs_out_everywhere(
    mail_client: TestClient, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    client = mail_client
    first = sign_up(client, "reset@example.com")
    second = _login(client, "reset@example.com", PASSWORD)
    api_token = client.post(f"{API}/auth/tokens", json={"name": "cli"}, headers=first).json()
    token_headers = {"Authorization": f"Bearer {api_token['token']}"}

    known = client.post(f"{API}/auth/password/forgot", json={"email": "Reset@Example.com"})
    unknown = client.post(f"{API}/auth/password/forgot", json={"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert "30 minutes" in known.json()["message"]
    assert len(mails.to("reset@example.com", route="reset")) == 1
    assert mails.to("nobody@example.com") == []
    body = mails.to("reset@example.com", route="reset")[0].get_payload(decode=True).decode()
    assert "https://headshots.example/#/reset?token=" in body
    token = mails.link_token("reset@example.com", "reset")

    reset = client.post(
        f"{API}/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )

    assert reset.status_code == 204
    for headers in (first, second, token_headers):
        assert client.get(f"{API}/me", headers=headers).status_code == 401
    refused = client.post(
        f"{API}/auth/login", json={"email": "reset@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 401
    _login(client, "reset@example.com", NEW_PASSWORD)
    again = client.post(f"{API}/auth/password/reset", json={"token": token, "password": PASSWORD})
    assert again.status_code == 422 and again.json()["error"]["code"] == "invalid_token"
    assert "/api" not in again.json()["error"]["message"]


def test_a_reset_link_expires_after_30_minutes(
    mail_client: TestClient, inbox: tuple[Inbox, int], clock: SettableClock
) -> None:
    mails, _ = inbox
    sign_up(mail_client, "late@example.com")
    mail_client.post(f"{API}/auth/password/forgot", json={"email": "late@example.com"})
    token = mails.link_token("late@example.com", "reset")

    clock.advance(minutes=31)
    late = mail_client.post(
        f"{API}/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )

    assert late.status_code == 422 and late.json()["error"]["code"] == "invalid_token"
    _login(mail_client, "late@example.com", PASSWORD)  # the old password still works
    short = mail_client.post(f"{API}/auth/password/reset", json={"token": token, "password": "x"})
    assert short.json()["error"]["code"] == "weak_password"


def test_only_the_latest_reset_link_works(
    mail_client: TestClient, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    sign_up(mail_client, "twice@example.com")
    mail_client.post(f"{API}/auth/password/forgot", json={"email": "twice@example.com"})
    older = mails.link_token("twice@example.com", "reset")
    mail_client.post(f"{API}/auth/password/forgot", json={"email": "twice@example.com"})
    newer = mails.link_token("twice@example.com", "reset")
    body = {"password": NEW_PASSWORD}
    stale = mail_client.post(f"{API}/auth/password/reset", json={**body, "token": older})
    assert stale.status_code == 422
    assert (
        mail_client.post(f"{API}/auth/password/reset", json={**body, "token": newer}).status_code
        == 204
    )


def test_change_password_keeps_this_session_and_ends_the_others(client: TestClient) -> None:
    here = sign_up(client, "change@example.com")
    elsewhere = _login(client, "change@example.com", PASSWORD)
    wrong = client.post(
        f"{API}/me/password",
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
        headers=here,
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "wrong_password"

    changed = client.post(
        f"{API}/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=here,
    )

    assert changed.status_code == 204
    assert client.get(f"{API}/me", headers=here).status_code == 200
    assert client.get(f"{API}/me", headers=elsewhere).status_code == 401
    _login(client, "change@example.com", NEW_PASSWORD)


def test_reset_and_change_refuse_a_guessable_password_as_sign_up_does(
    mail_client: TestClient, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    here = sign_up(mail_client, "guessable@example.com")
    guessable = ["password1234", "guessable@example.com"]
    for new in guessable:
        changed = mail_client.post(
            f"{API}/me/password",
            json={"current_password": PASSWORD, "new_password": new},
            headers=here,
        )
        assert changed.status_code == 422 and changed.json()["error"]["code"] == "weak_password"
    mail_client.post(f"{API}/auth/password/forgot", json={"email": "guessable@example.com"})
    token = mails.link_token("guessable@example.com", "reset")
    for new in guessable:
        body = {"token": token, "password": new}
        refused = mail_client.post(f"{API}/auth/password/reset", json=body)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "weak_password"
    # The refusals did not spend the link.
    body = {"token": token, "password": NEW_PASSWORD}
    assert mail_client.post(f"{API}/auth/password/reset", json=body).status_code == 204


def test_email_verification_optional_by_default(
    mail_client: TestClient, inbox: tuple[Inbox, int], clock: SettableClock
) -> None:
    mails, _ = inbox
    assert mail_client.get(f"{API}/config").json()["email_verification"] == "optional"
    headers = sign_up(mail_client, "verify@example.com")
    assert mail_client.get(f"{API}/me", headers=headers).json()["email_verified"] is False
    first = mails.link_token("verify@example.com", "verify")
    assert mail_client.post(f"{API}/me/email/verification", headers=headers).status_code == 202
    second = mails.link_token("verify@example.com", "verify")

    stale = mail_client.post(f"{API}/auth/email/verify", json={"token": first})
    assert stale.status_code == 422 and stale.json()["error"]["code"] == "invalid_token"
    clock.advance(hours=47)
    verified = mail_client.post(f"{API}/auth/email/verify", json={"token": second})

    assert verified.status_code == 200 and verified.json()["email_verified"] is True
    assert mail_client.get(f"{API}/me", headers=headers).json()["email_verified"] is True
    reused = mail_client.post(f"{API}/auth/email/verify", json={"token": second})
    assert reused.status_code == 422
    nothing = mail_client.post(f"{API}/me/email/verification", headers=headers)
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "nothing_to_verify"


def test_required_verification_refuses_sign_in_until_confirmed(
    make_services: Callable[..., Services], inbox: tuple[Inbox, int], clock: SettableClock
) -> None:
    mails, port = inbox
    services = make_services(smtp_url=f"smtp://127.0.0.1:{port}", email_verification="required")
    with TestClient(create_app(services), base_url="https://testserver") as client:
        login = {"email": "strict@example.com", "password": PASSWORD}
        assert client.post(f"{API}/auth/register", json=login).status_code == 201
        assert client.get(f"{API}/config").json()["email_verification"] == "required"
        superseded = mails.link_token("strict@example.com", "verify")

        refused = client.post(f"{API}/auth/login", json=login)

        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "email_unverified"
        assert len(mails.to("strict@example.com", route="verify")) == 2  # a fresh link
        fresh = mails.link_token("strict@example.com", "verify")
        clock.advance(days=3)
        late = client.post(f"{API}/auth/email/verify", json={"token": fresh})
        assert late.status_code == 422
        assert (
            client.post(f"{API}/auth/email/verify", json={"token": superseded}).status_code == 422
        )
        client.post(f"{API}/auth/login", json=login)  # mails a link that is still fresh
        current = mails.link_token("strict@example.com", "verify")
        assert client.post(f"{API}/auth/email/verify", json={"token": current}).status_code == 200
        assert client.post(f"{API}/auth/login", json=login).status_code == 200


def test_sign_up_errors_in_plain_language(client: TestClient) -> None:
    answer = client.post(
        f"{API}/auth/register", json={"email": "ada at example", "password": PASSWORD}
    )
    assert answer.status_code == 422
    message = answer.json()["error"]["message"]
    assert message == "Please enter a valid email address, like name@example.com."
    weak = client.post(f"{API}/auth/register", json={"email": "ada@example.com", "password": "x"})
    assert weak.json()["error"]["message"] == "Choose a password of at least 10 characters."


def test_closed_sign_up_and_public_config(make_services: Callable[..., Services]) -> None:
    services = make_services(signup="closed", validation={"min_photos": 12})
    with TestClient(create_app(services), base_url="https://testserver") as client:
        config = client.get(f"{API}/config")
        assert config.status_code == 200
        body = config.json()
        assert body["min_photos"] == 12 and body["signup"] == "closed"
        assert body["engine"] == "studio" and body["password_reset"] is False
        # No mail server: no confirmation link could arrive, so none is asked for.
        assert body["email_verification"] == "off" and body["images_per_look_max"] >= 1
        closed = client.post(
            f"{API}/auth/register", json={"email": "new@example.com", "password": PASSWORD}
        )
        assert closed.status_code == 403 and closed.json()["error"]["code"] == "signup_closed"


def test_reset_mails_are_limited_per_address_without_saying_so(
    mail_client: TestClient, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    sign_up(mail_client, "flood@example.com")
    answers = [
        mail_client.post(f"{API}/auth/password/forgot", json={"email": "flood@example.com"})
        for _ in range(5)
    ]
    assert {a.status_code for a in answers} == {202}
    assert len({a.text for a in answers}) == 1
    assert len(mails.to("flood@example.com", route="reset")) == 3


def test_confirmation_links_are_resent_a_few_times_per_window(
    mail_client: TestClient, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    headers = sign_up(mail_client, "resend@example.com")
    answers = [
        mail_client.post(f"{API}/me/email/verification", headers=headers).status_code
        for _ in range(4)
    ]
    assert answers == [202, 202, 202, 429]
    assert len(mails.to("resend@example.com", route="verify")) == 4  # sign-up and three resends
