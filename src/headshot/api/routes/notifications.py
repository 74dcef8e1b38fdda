"""`/me/notifications`: whether the person is told by mail when a model or headshots are ready."""

from __future__ import annotations

from fastapi import APIRouter

from headshot.api.deps import CurrentUser, ServicesDep
from headshot.api.schemas_operations import NotificationsIO
from headshot.domain.errors import NotFoundError

router = APIRouter(prefix="/me/notifications", tags=["me"])


@router.get("")
def get_notifications(principal: CurrentUser, services: ServicesDep) -> NotificationsIO:
    notices = services.job_notices
    if notices is None:
        raise NotFoundError("Nothing here.")
    return NotificationsIO(email=notices.preference(principal.user_id))


@router.put("")
def set_notifications(
    body: NotificationsIO, principal: CurrentUser, services: ServicesDep
) -> NotificationsIO:
    notices = services.job_notices
    if notices is None:
        raise NotFoundError("Nothing here.")
    return NotificationsIO(email=notices.set_preference(principal.user_id, email=body.email))
