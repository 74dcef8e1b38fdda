"""Registration tells nobody whether an email has an account, and refuses guessable passwords."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from headshot.services.accounts import Accounts
from headshot.services.container import Services
from headshot.services.secrets import Passwords
from headshot.storage.records import User
from tests.api.conftest import PASSWORD
from tests.clock import SettableClock

API = "/api/v1"


class RecordingNotifierDouble:
    """Test double for the mail notifier: keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.delivered = threading.Event()

    def send(self, *, to: str, subject: str, body: str) -> bool:
        self.sent.append((to, subject + "\n" + body))
        self.delivered.set()
        return True


def _users(services: Services) -> int:
    with services.db.transaction() as db:
        return int(db.scalar(select(func.count(User.id))) or 0)


def test_known_and_unknown_emails_get_the_same_answer(
    client: TestClient, services: Services
) -> None:
    first = client.post(
        f"{API}/auth/register", json={"email": "a@example.com", "password": PASSWORD}
    )
    again = client.post(
        f"{API}/auth/register", json={"email": "A@example.com", "password": "another good phrase"}
    )
    fresh = client.post(
        f"{API}/auth/register", json={"email": "b@example.com", "password": PASSWORD}
    )
    assert first.status_code == again.status_code == fresh.status_code == 201
    assert set(again.json()) == set(fresh.json())
    assert again.json()["id"] != first.json()["id"]
    assert {k: v for k, v in again.json().items() if k not in {"id", "email", "created_at"}} == {
        k: v for k, v in fresh.json().items() if k not in {"id", "email", "created_at"}
    }
    assert _users(services) == 2  # nothing was created for the known email
    # The owner's password is unchanged: the second registration's password does not work.
    wrong = {"email": "a@example.com", "password": "another good phrase"}
    assert client.post(f"{API}/auth/login", json=wrong).status_code == 401
    right = {"email": "a@example.com", "password": PASSWORD}
    assert client.post(f"{API}/auth/login", json=right).status_code == 200


def test_the_owner_is_told_by_mail(services: Services, clock: SettableClock) -> None:
    notifier = RecordingNotifierDouble()
    accounts = Accounts(
        db=services.db,
        settings=services.settings.auth,
        passwords=Passwords(),
        audit=services.audit,
        clock=clock,
        notifier=notifier,
    )
    accounts.register(email="owner@example.com", password=PASSWORD)
    assert notifier.sent == []
    accounts.register(email="owner@example.com", password=PASSWORD)
    assert notifier.delivered.wait(10)
    (to, text), *rest = notifier.sent
    assert to == "owner@example.com" and not rest and "already has one" in text


@pytest.mark.parametrize("password", ["qwertyuiop", "password1234", "iloveyou2024", "1234567890"])
def test_common_passwords_are_refused(client: TestClient, password: str) -> None:
    body = {"email": "weak@example.com", "password": password}
    answer = client.post(f"{API}/auth/register", json=body)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "weak_password"
    assert "harder password" in answer.json()["error"]["message"]
