"""`SqlDataKeyStore`: users' wrapped data keys in the `data_keys` table."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from headshot.storage.crypto import WrappedKey
from headshot.storage.db import Database
from headshot.storage.records import DataKey
from headshot.storage.vault import StoredDataKey


class SqlDataKeyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, user_id: str) -> StoredDataKey | None:
        with self._db.transaction() as session:
            row = session.get(DataKey, user_id)
            return _stored(row) if row else None

    def create(self, user_id: str, wrapped: WrappedKey) -> StoredDataKey:
        try:
            with self._db.transaction() as session:
                session.add(
                    DataKey(
                        user_id=user_id,
                        master_key_id=wrapped.master_key_id,
                        wrapped=wrapped.ciphertext,
                    )
                )
        except IntegrityError:
            pass  # another request created it first: everyone uses that one
        stored = self.get(user_id)
        if stored is None:
            raise LookupError("the data key vanished while it was created")
        return stored

    def list_all(self) -> Iterator[StoredDataKey]:
        with self._db.transaction() as session:
            rows = list(session.scalars(select(DataKey)))
        return iter([_stored(r) for r in rows])

    def replace_wrapping(self, user_id: str, wrapped: WrappedKey) -> None:
        with self._db.transaction() as session:
            row = session.get(DataKey, user_id, with_for_update=True)
            if row is not None:
                row.master_key_id = wrapped.master_key_id
                row.wrapped = wrapped.ciphertext

    def destroy(self, user_id: str) -> None:
        with self._db.transaction() as session:
            session.execute(delete(DataKey).where(DataKey.user_id == user_id))


def _stored(row: DataKey) -> StoredDataKey:
    return StoredDataKey(user_id=row.user_id, wrapped=WrappedKey(row.master_key_id, row.wrapped))
