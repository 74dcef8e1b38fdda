"""`/me`: the caller's profile and consent."""

from __future__ import annotations

from fastapi import APIRouter

from headshot.api.deps import CurrentUser, ServicesDep
from headshot.api.schemas import ConsentIn, ConsentTextOut, UserOut
from headshot.domain.consent import CONSENT_TEXT, CONSENT_VERSION

router = APIRouter(tags=["account"])


@router.get("/me")
def me(principal: CurrentUser, services: ServicesDep) -> UserOut:
    return UserOut.of(services.accounts.me(principal))


@router.get("/consent")
def consent_text() -> ConsentTextOut:
    """The consent text the person agrees to, with its version."""
    return ConsentTextOut(version=CONSENT_VERSION, text=CONSENT_TEXT)


@router.post("/me/consent")
def give_consent(body: ConsentIn, principal: CurrentUser, services: ServicesDep) -> UserOut:
    view = services.accounts.set_consent(principal, biometric_processing=body.biometric_processing)
    return UserOut.of(view)
