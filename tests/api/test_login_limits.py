"""Login limiting that holds: counted before the password is checked, never cleared by
another person's success, per account and per address (behind trusted proxies only)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.domain.errors import AuthenticationError, RateLimitedError
from headshot.services.accounts import Accounts
from headshot.services.container import Services
from headshot.services.secrets import Passwords
from tests.api.conftest import PASSWORD
from tests.clock import SettableClock

API = "/api/v1"
WRONG = "not the password"


class CountingPasswordsDouble(Passwords):
    """Test double: the real hasher, counting how many passwords were actually checked."""

    def __init__(self) -> None:
        super().__init__()
        self.checked = 0
        self._lock = threading.Lock()

    def verify(self, password_hash: str | None, password: str) -> bool:
        with self._lock:
            self.checked += 1
        return super().verify(password_hash, password)


def _login(client: TestClient, email: str, password: str, **headers: str) -> int:
    body = {"email": email, "password": password}
    status: int = client.post(f"{API}/auth/login", json=body, headers=headers).status_code
    return status


def test_own_successful_logins_do_not_clear_the_address_limit(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(auth={"login_attempts": 5, "login_address_attempts": 5})
    with TestClient(create_app(services), base_url="https://testserver") as client:
        for email in ("victim@example.com", "attacker@example.com"):
            client.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD})
        answers = []
        for _ in range(12):
            answers.append(_login(client, "victim@example.com", WRONG))
            _login(client, "attacker@example.com", PASSWORD)
    assert answers.count(401) == 5
    assert answers[5:] == [429] * 7


def test_success_on_the_account_keeps_other_failures(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(auth={"login_attempts": 5, "login_address_attempts": 100})
    with TestClient(create_app(services), base_url="https://testserver") as client:
        client.post(f"{API}/auth/register", json={"email": "v@example.com", "password": PASSWORD})
        assert [_login(client, "v@example.com", WRONG) for _ in range(4)] == [401] * 4
        assert _login(client, "v@example.com", PASSWORD) == 200
        # The owner's success gives back only its own attempt: one more guess, then locked.
        assert _login(client, "v@example.com", WRONG) == 401
        assert _login(client, "v@example.com", WRONG) == 429


def test_parallel_wrong_guesses_evaluate_at_most_the_limit(
    services: Services, clock: SettableClock
) -> None:
    passwords = CountingPasswordsDouble()
    accounts = Accounts(
        db=services.db,
        settings=services.settings.auth,
        passwords=passwords,
        audit=services.audit,
        clock=clock,
    )
    accounts.register(email="p@example.com", password=PASSWORD)
    passwords.checked = 0
    start = threading.Barrier(20)

    def guess(n: int) -> str:
        start.wait()
        try:
            accounts.login(email="p@example.com", password=f"{WRONG} {n}", client="203.0.113.9")
        except AuthenticationError:
            return "denied"
        except RateLimitedError:
            return "limited"
        return "accepted"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(guess, range(20)))
    assert 1 <= passwords.checked <= services.settings.auth.login_attempts
    assert outcomes.count("denied") == passwords.checked
    assert outcomes.count("limited") == 20 - passwords.checked


def test_repeated_lockouts_back_off(services: Services, clock: SettableClock) -> None:
    accounts = services.accounts
    window = services.settings.auth.login_window_s
    waits = []
    for _ in range(3):
        for _ in range(5):
            with pytest.raises(AuthenticationError):
                accounts.login(email="b@example.com", password=WRONG, client="198.51.100.7")
        with pytest.raises(RateLimitedError) as refused:
            accounts.login(email="b@example.com", password=WRONG, client="198.51.100.7")
        waits.append(refused.value.retry_after_s)
        clock.advance(seconds=refused.value.retry_after_s + 1)
    assert waits == [window, 2 * window, 4 * window]


def test_behind_a_trusted_proxy_one_address_does_not_lock_out_another(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(trusted_proxies="10.0.0.0/8")
    app = create_app(services)
    with TestClient(app, base_url="https://testserver", client=("10.1.2.3", 4000)) as proxy:
        proxy.post(f"{API}/auth/register", json={"email": "u@example.com", "password": PASSWORD})
        attacker = {"X-Forwarded-For": "198.51.100.66"}
        guesses = [_login(proxy, f"n{n}@example.com", WRONG, **attacker) for n in range(25)]
        assert guesses[:20] == [401] * 20 and set(guesses[20:]) == {429}
        # The proxy's own hop is skipped: the right-most untrusted address is the client.
        someone_else = {"X-Forwarded-For": "203.0.113.5, 10.9.9.9"}
        assert _login(proxy, "u@example.com", PASSWORD, **someone_else) == 200


def test_forwarded_headers_from_untrusted_peers_are_ignored(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(trusted_proxies="10.0.0.0/8")
    app = create_app(services)
    with TestClient(app, base_url="https://testserver", client=("192.0.2.10", 4000)) as direct:
        spoofed = [
            _login(direct, f"s{n}@example.com", WRONG, **{"X-Forwarded-For": f"198.51.100.{n}"})
            for n in range(25)
        ]
    assert spoofed[:20] == [401] * 20 and set(spoofed[20:]) == {429}
