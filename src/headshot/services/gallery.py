"""The gallery of headshots (filters, favourites, pagination) and expiring share links."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zipfile import ZIP_STORED

from sqlalchemy import Select, func, or_, select
from zipstream import ZipStream

from headshot.domain.errors import InvalidInputError, NotFoundError
from headshot.domain.models import HeadshotView, Principal, ShareView
from headshot.services.audit import AuditLog
from headshot.services.blobs import BlobJanitor, UserBlobs
from headshot.services.photos import ImageStream
from headshot.services.secrets import SHARE_PREFIX, digest, new_secret
from headshot.storage.db import Database
from headshot.storage.records import Headshot, Share
from headshot.storage.scope import OwnerScope

MAX_SHARE_S = 30 * 24 * 3600
PAGE = 50


@dataclass(frozen=True)
class GalleryFilter:
    session: str | None = None
    model: str | None = None
    background: str | None = None
    attire: str | None = None
    lighting: str | None = None
    favorite: bool | None = None
    min_likeness: float | None = None


@dataclass(frozen=True)
class GalleryPage:
    headshots: tuple[HeadshotView, ...]
    next_cursor: str | None
    total: int = 0  # every headshot the filters match, over all pages


@dataclass(frozen=True)
class ActiveShare:
    id: str
    created_at: datetime
    expires_at: datetime


class Gallery:
    def __init__(
        self,
        *,
        db: Database,
        blobs: UserBlobs,
        audit: AuditLog,
        public_url: str | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._blobs = blobs
        self._janitor = BlobJanitor(blobs)
        self._audit = audit
        self._public_url = (public_url or "").rstrip("/")
        self._clock = clock

    def list(
        self, principal: Principal, filters: GalleryFilter, *, cursor: str | None, limit: int = PAGE
    ) -> GalleryPage:
        with self._db.transaction() as db:
            query = _filtered(OwnerScope(db, principal.user_id).select(Headshot), filters)
            total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
            if cursor:
                created, last_id = _decode_cursor(cursor)
                query = query.where(
                    or_(
                        Headshot.created_at < created,
                        (Headshot.created_at == created) & (Headshot.id < last_id),
                    )
                )
            query = query.order_by(Headshot.created_at.desc(), Headshot.id.desc()).limit(limit + 1)
            rows = list(db.scalars(query))
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = _encode_cursor(rows[-1]) if more and rows else None
        return GalleryPage(tuple(headshot_view(r) for r in rows), next_cursor, total)

    def archive(self, principal: Principal, filters: GalleryFilter) -> Iterator[bytes]:
        """A zip of the chosen headshots, streamed: each image is decrypted into the archive as
        it is sent, so memory stays flat however many there are."""
        with self._db.transaction() as db:
            query = _filtered(OwnerScope(db, principal.user_id).select(Headshot), filters)
            rows = [
                (r.id, r.image_key, r.background, r.lighting)
                for r in db.scalars(query.order_by(Headshot.created_at, Headshot.id))
            ]
            if not rows:
                raise NotFoundError(
                    "There are no headshots to download with these filters.",
                    code="nothing_to_download",
                )
            self._audit.record(
                db,
                subject=principal.user_id,
                actor="user",
                action="headshot.download_all",
                detail={"count": len(rows)},
            )
        archive = ZipStream(sized=False)
        for headshot_id, key, background, lighting in rows:
            name = f"headshot-{background}-{lighting}-{headshot_id[:8]}.jpg"
            archive.add(self._lazy(principal.user_id, key), name, compress_type=ZIP_STORED)
        return iter(archive)

    def _lazy(self, user_id: str, key: str) -> Iterator[bytes]:
        yield from self._blobs.open(user_id, key)

    def get(self, principal: Principal, headshot_id: str) -> HeadshotView:
        with self._db.transaction() as db:
            return headshot_view(OwnerScope(db, principal.user_id).get(Headshot, headshot_id))

    def set_favorite(
        self, principal: Principal, headshot_id: str, *, favorite: bool
    ) -> HeadshotView:
        with self._db.transaction() as db:
            row = OwnerScope(db, principal.user_id).get(Headshot, headshot_id)
            row.favorite = favorite
            return headshot_view(row)

    def image(self, principal: Principal, headshot_id: str) -> ImageStream:
        with self._db.transaction() as db:
            row = OwnerScope(db, principal.user_id).get(Headshot, headshot_id)
            key = row.image_key
            self._audit.record(
                db,
                subject=principal.user_id,
                actor="user",
                action="headshot.read",
                resource=("headshot", headshot_id),
            )
        return ImageStream(self._blobs.open(principal.user_id, key), "image/jpeg")

    def share(self, principal: Principal, headshot_id: str, *, expires_in_s: int) -> ShareView:
        if not 60 <= expires_in_s <= MAX_SHARE_S:
            raise InvalidInputError(
                "A share link can last from one minute to 30 days.", code="invalid_expiry"
            )
        token = new_secret(SHARE_PREFIX)
        with self._db.transaction() as db:
            headshot = OwnerScope(db, principal.user_id).get(Headshot, headshot_id)
            row = Share(
                user_id=principal.user_id,
                headshot_id=headshot.id,
                token_hash=digest(token),
                created_at=self._clock(),
                expires_at=self._clock() + timedelta(seconds=expires_in_s),
            )
            db.add(row)
            db.flush()
            self._audit.record(
                db,
                subject=principal.user_id,
                actor="user",
                action="share.create",
                resource=("headshot", headshot.id),
            )
            return ShareView(row.id, headshot.id, f"{self._public_url}/s/{token}", row.expires_at)

    def active_shares(self, principal: Principal, headshot_id: str) -> tuple[ActiveShare, ...]:
        """The links of a headshot that still work (their URLs are not kept, only hashes)."""
        now = self._clock()
        with self._db.transaction() as db:
            headshot = OwnerScope(db, principal.user_id).get(Headshot, headshot_id)
            rows = OwnerScope(db, principal.user_id).all(
                Share,
                Share.headshot_id == headshot.id,
                Share.revoked_at.is_(None),
                Share.expires_at > now,
            )
            return tuple(ActiveShare(r.id, r.created_at, r.expires_at) for r in rows)

    def revoke(self, principal: Principal, share_id: str) -> None:
        with self._db.transaction() as db:
            row = OwnerScope(db, principal.user_id).get(Share, share_id)
            row.revoked_at = row.revoked_at or self._clock()

    def share_info(self, token: str) -> tuple[HeadshotView, datetime]:
        """The headshot behind a live share token and when the link expires."""
        view, _, _, expires_at = self._resolve(token)
        return view, expires_at

    def shared_image(self, token: str) -> ImageStream:
        view, owner, key, _ = self._resolve(token)
        with self._db.transaction() as db:
            # Someone opened the person's share link: their data was read by the public.
            self._audit.record(
                db,
                subject=owner,
                actor="public",
                action="share.view",
                resource=("headshot", view.id),
            )
        return ImageStream(self._blobs.open(owner, key), "image/jpeg")

    def _resolve(self, token: str) -> tuple[HeadshotView, str, str, datetime]:
        # Expired, revoked and unknown tokens answer alike: nothing about the owner leaks.
        gone = NotFoundError("This link has expired or was revoked.", code="not_found")
        with self._db.transaction() as db:
            share = db.scalars(select(Share).where(Share.token_hash == digest(token))).first()
            if share is None or share.revoked_at is not None or share.expires_at <= self._clock():
                raise gone
            headshot = db.get(Headshot, share.headshot_id)
            if headshot is None:
                raise gone
            return headshot_view(headshot), headshot.user_id, headshot.image_key, share.expires_at


def _filtered(query: Select[Headshot], filters: GalleryFilter) -> Select[Headshot]:
    equal = {
        Headshot.session_id: filters.session,
        Headshot.model_id: filters.model,
        Headshot.background: filters.background,
        Headshot.attire: filters.attire,
        Headshot.lighting: filters.lighting,
        Headshot.favorite: filters.favorite,
    }
    for column, value in equal.items():
        if value is not None:
            query = query.where(column == value)
    if filters.min_likeness is not None:
        query = query.where(Headshot.likeness >= filters.min_likeness)
    return query


def _encode_cursor(row: Headshot) -> str:
    return base64.urlsafe_b64encode(f"{row.created_at.isoformat()}|{row.id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, last_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(created), last_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError("That page cursor is not valid.", code="invalid_cursor") from exc


def headshot_view(row: Headshot) -> HeadshotView:
    return HeadshotView(
        id=row.id,
        generation_id=row.generation_id,
        model_id=row.model_id,
        session_id=row.session_id,
        background=row.background,
        attire=row.attire,
        lighting=row.lighting,
        seed=row.seed,
        likeness=row.likeness,
        flagged=row.flagged,
        favorite=row.favorite,
        width=row.width,
        height=row.height,
        effective_width=row.effective_width or row.width,
        effective_height=row.effective_height or row.height,
        upscaled=row.upscaled,
        created_at=row.created_at,
    )
