"""Owner scoping: the one place that restricts lookups of user-owned rows to their owner.

Another user's id and a missing id are indistinguishable (both `NotFoundError`), so nobody learns
whether a resource exists.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from headshot.domain.errors import NotFoundError


class Owned(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def user_id(self) -> str: ...


RowT = TypeVar("RowT", bound=Owned)

# In the words the app uses with people (a session is a "batch", a training a "model version").
_NOUNS = {
    "photo_sessions": "This batch",
    "photos": "This photo",
    "trainings": "This model version",
    "generations": "This generation",
    "headshots": "This headshot",
    "shares": "This share link",
    "api_tokens": "This API token",
}


class OwnerScope:
    def __init__(self, db: Session, user_id: str) -> None:
        self.db = db
        self.user_id = user_id

    def get(self, model: type[RowT], row_id: str, *, for_update: bool = False) -> RowT:
        query = self.select(model).where(_column(model, "id") == row_id)
        if for_update:
            query = query.with_for_update()
        row = self.db.scalars(query).first()
        if row is None:
            noun = _NOUNS.get(str(getattr(model, "__tablename__", "")), "This item")
            raise NotFoundError(f"{noun} does not exist or was deleted.", code="not_found")
        return row

    def select(self, model: type[RowT]) -> Select[RowT]:
        return select(model).where(_column(model, "user_id") == self.user_id)

    def all(self, model: type[RowT], *criteria: Any) -> list[RowT]:
        return list(self.db.scalars(self.select(model).where(*criteria)))


def _column(model: type[Owned], name: str) -> InstrumentedAttribute[str]:
    # The protocol describes instances; the mapped class attribute is the column.
    column: InstrumentedAttribute[str] = getattr(model, name)
    return column
