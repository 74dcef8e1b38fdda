"""Telling people by mail and Web Push that their model or headshots are ready (a fal training
takes many minutes; the tab is closed by then).

A sweep run by every maintenance tick finds finished jobs nobody was told about, claims each
with a conditional update (so of several workers exactly one sends), and sends the notice. It
never touches the job itself: a notice that cannot be delivered is logged and the job stays as
it finished. People who turned mail off get none; push goes to the browsers they subscribed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update

from headshot.services.notify import Notifier
from headshot.services.web_push import WebPush
from headshot.storage.db import Database
from headshot.storage.records import Generation, Training, User

log = logging.getLogger(__name__)
# Jobs that finished before notices existed (or long ago) are not announced now.
LOOK_BACK = timedelta(days=1)
DONE = ("succeeded", "partial")

SUBJECTS = {
    "training": "Your Headshot model is ready",
    "generation": "Your headshots are ready",
}
BODIES = {
    "training": "Your personal model has finished training. You can now choose looks and "
    "generate your headshots.",
    "generation": "Your new headshots are ready to view and download in your gallery.",
}


class JobNotices:
    def __init__(
        self,
        *,
        db: Database,
        notifier: Notifier,
        clock: Callable[[], datetime],
        app_url: str | None,
        push: WebPush | None = None,
    ) -> None:
        self._db = db
        self._notifier = notifier
        self._push = push
        self._clock = clock
        self._app_url = app_url

    def run(self) -> int:
        """Send the notices owed now; how many were handed to the mail server."""
        sent = 0
        for kind, table in (("training", Training), ("generation", Generation)):
            for job_id in self._owed(table):
                sent += self._notify(kind, table, job_id)
        return sent

    def set_preference(self, user_id: str, *, email: bool) -> bool:
        with self._db.transaction() as db:
            user = db.get(User, user_id)
            if user is not None:
                user.notify_by_email = email
            return email

    def preference(self, user_id: str) -> bool:
        with self._db.transaction() as db:
            user = db.get(User, user_id)
            return bool(user and user.notify_by_email)

    def _owed(self, table: type[Training] | type[Generation]) -> list[str]:
        since = self._clock() - LOOK_BACK
        with self._db.transaction() as db:
            query = select(table.id).where(
                table.notified_at.is_(None), table.status.in_(DONE), table.finished_at >= since
            )
            return list(db.scalars(query))

    def _notify(self, kind: str, table: type[Training] | type[Generation], job_id: str) -> int:
        with self._db.transaction() as db:
            claimed = db.execute(
                update(table)
                .where(table.id == job_id, table.notified_at.is_(None))
                .values(notified_at=self._clock())
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]  # another worker has it
                return 0
            query = select(User.id, User.email, User.notify_by_email).join(
                table, table.user_id == User.id
            )
            user_id, email, wanted = db.execute(query.where(table.id == job_id)).one()
        if self._push is not None:  # the person chose these by subscribing a browser
            self._push.notify(user_id, title=SUBJECTS[kind], body=BODIES[kind])
        if not wanted:
            return 0
        body = BODIES[kind] + (f"\n\nOpen Headshot: {self._app_url}" if self._app_url else "")
        body += "\n\nYou can turn these emails off in your account settings."
        try:
            return int(self._notifier.send(to=email, subject=SUBJECTS[kind], body=body))
        except Exception:  # delivery problems never reach the job
            log.warning("could not send a %s notice", kind, exc_info=True)
            return 0
