"""The person's own operations settings: their quota, whether they are told by mail when a model
or headshots are ready, and the browsers (Web Push subscriptions) that are told too."""

from __future__ import annotations

from fastapi import APIRouter, status

from headshot.api.deps import CurrentUser, ServicesDep
from headshot.api.schemas_operations import (
    NotificationsIO,
    PushKeyOut,
    PushSubscriptionIn,
    PushSubscriptionOut,
    QuotaOut,
)
from headshot.domain.errors import NotFoundError
from headshot.services.container import Services
from headshot.services.job_notices import JobNotices
from headshot.services.web_push import WebPush

router = APIRouter(tags=["me"])


@router.get("/me/quota")
def my_quota(principal: CurrentUser, services: ServicesDep) -> QuotaOut:
    """What the person may still start in the current period."""
    return QuotaOut.of(services.quotas.own(principal.user_id))


@router.get("/me/notifications")
def get_notifications(principal: CurrentUser, services: ServicesDep) -> NotificationsIO:
    return NotificationsIO(email=_notices(services).preference(principal.user_id))


@router.put("/me/notifications")
def set_notifications(
    body: NotificationsIO, principal: CurrentUser, services: ServicesDep
) -> NotificationsIO:
    chosen = _notices(services).set_preference(principal.user_id, email=body.email)
    return NotificationsIO(email=chosen)


@router.get("/push/key")
def push_key(_: CurrentUser, services: ServicesDep) -> PushKeyOut:
    return PushKeyOut(public_key=_push(services).public_key())


@router.post("/me/push-subscriptions", status_code=status.HTTP_201_CREATED)
def subscribe(
    body: PushSubscriptionIn, principal: CurrentUser, services: ServicesDep
) -> PushSubscriptionOut:
    subscription_id = _push(services).subscribe(
        principal, endpoint=body.endpoint, p256dh=body.keys.p256dh, auth=body.keys.auth
    )
    return PushSubscriptionOut(id=subscription_id)


@router.delete("/me/push-subscriptions/{subscription_id}", status_code=204)
def unsubscribe(subscription_id: str, principal: CurrentUser, services: ServicesDep) -> None:
    _push(services).unsubscribe(principal, subscription_id)


def _notices(services: Services) -> JobNotices:
    if services.job_notices is None:
        raise NotFoundError("Nothing here.")
    return services.job_notices


def _push(services: Services) -> WebPush:
    if services.web_push is None:
        raise NotFoundError("Nothing here.")
    return services.web_push
