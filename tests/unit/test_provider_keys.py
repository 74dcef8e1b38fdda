"""Provider keys (R5.3): sealed at rest, a state machine per scope, the fal engine's credentials,
and rotation through fal's key API (a `MockTransport` stands in for our own client's peer)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from headshot.domain.errors import ConflictError, InvalidInputError, NotFoundError
from headshot.engines.protocol import ProviderAuthError
from headshot.services.audit import AuditLog
from headshot.services.fal_keys import FalKeyRotation, SqlFalCredentials
from headshot.services.provider_keys import ProviderKeys, key_row_id
from headshot.storage.crypto import CryptoError, MasterKey, MasterKeyring
from headshot.storage.db import Database, make_engine
from headshot.storage.migrate import upgrade
from headshot.storage.records import AuditEntry, PhotoSession, ProviderKey, Training, User
from tests.clock import SettableClock

OLD_MASTER = MasterKey.of(bytes(range(32)))
NEW_MASTER = MasterKey.of(bytes(range(32, 64)))
RING = MasterKeyring(current=OLD_MASTER)
API_URL = "https://api.fal.test"


def fal_key(n: int) -> str:
    return f"4f1c9a2e-0000-4d3e-8f90-00000000000{n}:{n}123456789abcdef0123456789abcdef"


def key_id(key: str) -> str:
    return key.partition(":")[0]


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    engine = make_engine(database_url)
    upgrade(engine)
    database = Database(engine)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def keys(db: Database, clock: SettableClock) -> ProviderKeys:
    return ProviderKeys(db=db, keyring=RING, audit=AuditLog(clock=clock), clock=clock)


def other(db: Database, ring: MasterKeyring) -> ProviderKeys:
    clock = SettableClock()
    return ProviderKeys(db=db, keyring=ring, audit=AuditLog(clock=clock), clock=clock)


def states(keys: ProviderKeys) -> dict[str, str]:
    return {view.label: view.state for view in keys.list()}


def test_the_database_holds_only_ciphertext(keys: ProviderKeys, db: Database) -> None:
    view = keys.add(fal_key(1), label="one")
    with db.transaction() as session:
        row = session.get(ProviderKey, view.id)
        assert row is not None
        stored, master = bytes(row.secret_ciphertext), row.master_key_id
    secret = fal_key(1).partition(":")[2]
    assert secret.encode() not in stored and key_id(fal_key(1)).encode() not in stored
    assert master == OLD_MASTER.key_id and view.id == key_row_id(key_id(fal_key(1)))
    assert view.hint == "4f1c9a2e…cdef" and secret not in repr(view)
    assert keys.secret(key_id(fal_key(1))) == secret
    with pytest.raises(CryptoError):  # another master key cannot open it
        other(db, MasterKeyring(current=NEW_MASTER)).secret(key_id(fal_key(1)))


def test_a_ciphertext_moved_to_another_row_does_not_open(keys: ProviderKeys, db: Database) -> None:
    one, two = keys.add(fal_key(1), label="one"), keys.add(fal_key(2), label="two")
    with db.transaction() as session:
        rows = {r.id: r for r in session.scalars(select(ProviderKey))}
        rows[two.id].secret_ciphertext = rows[one.id].secret_ciphertext
    with pytest.raises(CryptoError):
        keys.secret(key_id(fal_key(2)))


def test_rewrap_moves_every_secret_to_the_new_master_key(keys: ProviderKeys, db: Database) -> None:
    keys.add(fal_key(1), label="one")
    keys.add(fal_key(2), label="two")
    keys.revoke(keys.add(fal_key(3), label="three").id)
    assert keys.rewrap(MasterKeyring(current=NEW_MASTER, previous=(OLD_MASTER,))) == 2
    assert keys.master_keys_in_use() == {NEW_MASTER.key_id}
    fresh = other(db, MasterKeyring(current=NEW_MASTER))
    assert fresh.secret(key_id(fal_key(1))) == fal_key(1).partition(":")[2]
    assert fresh.rewrap(MasterKeyring(current=NEW_MASTER)) == 0
    fresh.add(fal_key(4), label="four")  # new keys are sealed under the new master key
    assert fresh.master_keys_in_use() == {NEW_MASTER.key_id}


def test_a_new_key_takes_over_and_the_previous_one_retires(
    keys: ProviderKeys, clock: SettableClock
) -> None:
    one = keys.add(fal_key(1), label="one")
    clock.advance(minutes=1)
    two = keys.add(fal_key(2), label="two")
    assert states(keys) == {"one": "retiring", "two": "active"}
    assert keys.get(one.id).retired_at == clock.now and two.retired_at is None
    assert [v.label for v in keys.list()] == ["two", "one"]  # newest first
    usable = keys.usable("API")
    assert usable is not None and usable.key_id == key_id(fal_key(2))
    assert keys.secret(key_id(fal_key(1))) is not None  # in-flight work keeps its key


def test_retire_and_revoke(keys: ProviderKeys, db: Database, clock: SettableClock) -> None:
    one = keys.add(fal_key(1), label="one")
    clock.advance(minutes=1)
    keys.add(fal_key(2), label="two")
    assert keys.retire(one.id).state == "retiring"  # already retiring: no change
    revoked = keys.revoke(one.id)
    assert revoked.state == "revoked" and revoked.revoked_at == clock.now
    assert keys.revoke(one.id) == revoked  # idempotent
    assert keys.secret(key_id(fal_key(1))) is None
    with db.transaction() as session:
        row = session.get(ProviderKey, one.id)
        assert row is not None and row.secret_ciphertext == b""  # the secret is gone
    with pytest.raises(ConflictError):
        keys.retire(one.id)
    with pytest.raises(NotFoundError):
        keys.revoke("0" * 32)


def test_retiring_the_only_key_keeps_it_as_the_fail_over(keys: ProviderKeys) -> None:
    only = keys.add(fal_key(1), label="one")
    assert keys.retire(only.id).state == "retiring"
    usable = keys.usable("API")
    assert usable is not None and usable.key_id == key_id(fal_key(1))


@pytest.mark.parametrize(
    "bad", ["no-colon-here", "id:short", ":0123456789abcdef", "a b:0123456789abcdef", ""]
)
def test_malformed_keys_are_refused(keys: ProviderKeys, bad: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        keys.add(bad, label="bad")
    assert caught.value.code == "invalid_key" and "0123456789" not in caught.value.message


def test_a_key_is_stored_once_whatever_its_label(keys: ProviderKeys) -> None:
    keys.add(fal_key(1), label="one")
    with pytest.raises(ConflictError):
        keys.add(fal_key(1).replace(":1", ":9"), label="same id, other secret")


def test_a_401_moves_new_work_to_the_next_key(
    keys: ProviderKeys, db: Database, clock: SettableClock
) -> None:
    credentials = SqlFalCredentials(keys)
    keys.add(fal_key(1), label="one")
    clock.advance(minutes=1)
    keys.add(fal_key(2), label="two")
    assert credentials.active()[0] == key_id(fal_key(2))
    credentials.mark_unauthorized(key_id(fal_key(2)))
    assert states(keys) == {"one": "retiring", "two": "rejected"}
    assert credentials.active()[0] == key_id(fal_key(1))  # fail-over to the retiring key
    assert credentials.secret(key_id(fal_key(2)))  # in-flight work may still try its key
    credentials.mark_unauthorized(key_id(fal_key(1)))
    credentials.mark_unauthorized("never-stored")
    with pytest.raises(ProviderAuthError, match="no usable fal key"):
        credentials.active()
    with db.transaction() as session:
        audit = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [e.action for e in audit].count("provider_key.rejected") == 2
    assert all("0123456789" not in json.dumps(e.detail) for e in audit)


def test_revoked_keys_are_refused_even_to_work_in_flight(keys: ProviderKeys) -> None:
    credentials = SqlFalCredentials(keys)
    one = keys.add(fal_key(1), label="one")
    keys.add(fal_key(2), label="two")
    keys.revoke(one.id)
    with pytest.raises(ProviderAuthError):
        credentials.secret(key_id(fal_key(1)))
    with pytest.raises(ProviderAuthError):
        credentials.secret("unknown")


def test_configured_keys_are_stored_once_and_never_revived(keys: ProviderKeys) -> None:
    credentials = SqlFalCredentials(keys, configured=fal_key(1), configured_admin=fal_key(5))
    assert "0123456789" not in repr(credentials)
    assert credentials.active()[0] == key_id(fal_key(1))
    assert credentials.admin() == tuple(fal_key(5).split(":"))
    keys.revoke(key_row_id(key_id(fal_key(1))))
    keys.add(fal_key(2), label="two")
    # A restart with the same settings must not bring the revoked key back.
    assert SqlFalCredentials(keys, configured=fal_key(1)).active()[0] == key_id(fal_key(2))
    assert keys.import_from_settings(fal_key(1)) is False
    listed = sorted((v.label, v.scope, v.state) for v in keys.list())
    assert listed == [
        ("from settings", "ADMIN", "active"),
        ("from settings", "API", "revoked"),
        ("two", "API", "active"),
    ]


def test_admin_keys_are_kept_apart_from_api_keys(keys: ProviderKeys) -> None:
    credentials = SqlFalCredentials(keys)
    assert credentials.admin() is None
    keys.add(fal_key(1), label="api")
    keys.add(fal_key(2), label="admin", scope="ADMIN")
    assert states(keys) == {"api": "active", "admin": "active"}
    assert credentials.active()[0] == key_id(fal_key(1))
    assert credentials.admin() == tuple(fal_key(2).split(":"))


# -- rotation through fal's key API ----------------------------------------------------------


class FalKeysPeer:
    """Answers `POST /v1/keys` and `DELETE /v1/keys/{id}` as FAL.md §7.3 describes them."""

    def __init__(self, admin: str, *, create: str = fal_key(7), status: int = 201) -> None:
        self.admin, self.create, self.status = admin, create, status
        self.seen: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.seen.append((request.method, request.url.path, body))
        if request.headers.get("authorization") != f"Key {self.admin}":
            return httpx.Response(401, json={"detail": "No user found for Key ID and Secret"})
        if request.method == "POST":
            kid, _, secret = self.create.partition(":")
            answer = {"key_id": kid, "key_secret": secret, "key": self.create}
            return httpx.Response(self.status, json=answer)
        return httpx.Response(204)


@pytest.fixture
def rotation(
    keys: ProviderKeys, db: Database, clock: SettableClock
) -> Callable[[FalKeysPeer], FalKeyRotation]:
    def make(peer: FalKeysPeer) -> FalKeyRotation:
        http = httpx.Client(transport=httpx.MockTransport(peer))
        return FalKeyRotation(keys, db=db, http=http, api_url=API_URL, clock=clock)

    return make


def test_rotation_creates_a_key_at_fal_and_later_deletes_the_old_one(
    keys: ProviderKeys, rotation: Callable[[FalKeysPeer], FalKeyRotation], clock: SettableClock
) -> None:
    old = keys.add(fal_key(1), label="old")
    keys.add(fal_key(9), label="admin", scope="ADMIN")
    peer = FalKeysPeer(fal_key(9))
    clock.advance(minutes=1)
    new = rotation(peer).rotate()
    assert peer.seen == [("POST", "/v1/keys", {"alias": "headshot 2026-11-01"})]
    assert new.state == "active" and new.label == "headshot 2026-11-01"
    assert keys.get(old.id).state == "retiring"
    assert SqlFalCredentials(keys).active()[0] == key_id(fal_key(7))
    assert rotation(peer).finish(old.id).state == "revoked"
    assert peer.seen[-1][:2] == ("DELETE", f"/v1/keys/{key_id(fal_key(1))}")
    assert rotation(peer).finish(old.id).state == "revoked" and len(peer.seen) == 2


def test_rotation_needs_an_admin_key(
    keys: ProviderKeys, rotation: Callable[[FalKeysPeer], FalKeyRotation]
) -> None:
    keys.add(fal_key(1), label="api")
    with pytest.raises(ConflictError) as caught:
        rotation(FalKeysPeer(fal_key(9))).rotate()
    assert caught.value.code == "no_admin_key"


def test_a_refused_admin_key_is_marked_rejected(
    keys: ProviderKeys, rotation: Callable[[FalKeysPeer], FalKeyRotation]
) -> None:
    keys.add(fal_key(9), label="admin", scope="ADMIN")
    with pytest.raises(ProviderAuthError):
        rotation(FalKeysPeer(fal_key(8))).rotate()
    assert states(keys) == {"admin": "rejected"}


def test_a_created_key_that_cannot_be_stored_is_deleted_at_fal(
    keys: ProviderKeys, rotation: Callable[[FalKeysPeer], FalKeyRotation]
) -> None:
    keys.add(fal_key(7), label="api")
    keys.add(fal_key(9), label="admin", scope="ADMIN")
    peer = FalKeysPeer(fal_key(9), create=fal_key(7))  # fal hands back a key we hold already
    with pytest.raises(ConflictError):
        rotation(peer).rotate()
    assert [s[:2] for s in peer.seen][-1] == ("DELETE", f"/v1/keys/{key_id(fal_key(7))}")


def test_finishing_waits_for_work_that_holds_the_old_key(
    keys: ProviderKeys,
    db: Database,
    clock: SettableClock,
    rotation: Callable[[FalKeysPeer], FalKeyRotation],
) -> None:
    old = keys.add(fal_key(1), label="old")
    keys.add(fal_key(9), label="admin", scope="ADMIN")
    peer = FalKeysPeer(fal_key(9))
    with pytest.raises(ConflictError):  # still the key new work uses
        rotation(peer).finish(old.id)
    clock.advance(minutes=1)
    rotation(peer).rotate()
    with db.transaction() as session:
        user = User(email="a@example.com", password_hash="x")
        session.add(user)
        session.flush()
        photos = PhotoSession(user_id=user.id, name="s")
        session.add(photos)
        session.flush()
        handle = {"request_id": "r1", "key_id": key_id(fal_key(1))}
        session.add(
            Training(
                user_id=user.id,
                session_id=photos.id,
                version=1,
                engine="fal",
                status="running",
                provider_handle=handle,
            )
        )
    with pytest.raises(ConflictError) as caught:
        rotation(peer).finish(old.id)
    assert caught.value.details == {"jobs": 1} and peer.seen[-1][0] == "POST"
    with pytest.raises(InvalidInputError):  # ADMIN keys do not rotate this way
        rotation(peer).finish(key_row_id(key_id(fal_key(9))))
