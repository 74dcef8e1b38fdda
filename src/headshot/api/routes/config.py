"""`GET /config`: the public settings the web app shows (counts, limits, what is switched on)."""

from __future__ import annotations

from fastapi import APIRouter

from headshot.api.deps import ServicesDep
from headshot.api.schemas_account import ConfigOut
from headshot.services.gallery import MAX_SHARE_S
from headshot.services.generations import MAX_IMAGES_PER_LOOK, MAX_LOOKS

router = APIRouter(tags=["config"])


@router.get("/config")
def public_config(services: ServicesDep) -> ConfigOut:
    """No sign-in needed: nothing here is personal or secret."""
    settings = services.settings
    return ConfigOut(
        min_photos=settings.validation.min_photos,
        max_photos=settings.uploads.max_photos_per_session,
        signup=settings.effective_signup,
        email_verification=services.email_verification.mode,
        password_reset=settings.smtp_url is not None,
        engine=services.trainings.default_engine,
        images_per_look_max=MAX_IMAGES_PER_LOOK,
        looks_max=MAX_LOOKS,
        min_password_length=settings.auth.min_password_length,
        max_file_bytes=settings.uploads.max_file_bytes,
        max_files_per_request=settings.uploads.max_files_per_request,
        share_max_s=MAX_SHARE_S,
    )
