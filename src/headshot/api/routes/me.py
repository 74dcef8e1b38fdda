"""`/me`: the caller's profile and consent."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from headshot.api.deps import CurrentUser, ServicesDep
from headshot.api.schemas import (
    ConsentIn,
    ConsentOut,
    ConsentSectionOut,
    ConsentTextOut,
    UserOut,
)
from headshot.api.schemas_privacy import AuditEntryOut, AuditPageOut, DeletionReceiptOut
from headshot.domain.consent import CONSENT_VERSION, consent_sections, consent_text

router = APIRouter(tags=["account"])


@router.get("/me")
def me(principal: CurrentUser, services: ServicesDep) -> UserOut:
    return UserOut.of(services.accounts.me(principal))


@router.get("/consent")
def consent(services: ServicesDep) -> ConsentTextOut:
    """The consent text the person agrees to, with its version and this server's periods."""
    retention = services.settings.retention
    sections = consent_sections(
        photo_days=retention.photo_days_after_training,
        inactive_days=retention.inactive_warn_days,
        grace_days=retention.inactive_erase_grace_days,
    )
    return ConsentTextOut(
        version=CONSENT_VERSION,
        text=consent_text(sections),
        sections=[ConsentSectionOut(title=s.title, text=s.text) for s in sections],
    )


@router.post("/me/consent")
def give_consent(body: ConsentIn, principal: CurrentUser, services: ServicesDep) -> ConsentOut:
    view = services.accounts.set_consent(principal, biometric_processing=body.biometric_processing)
    if view.consent_given:
        return ConsentOut(**view.__dict__)
    return ConsentOut(
        **view.__dict__,
        message=(
            "Consent withdrawn: we stopped processing your photos and cancelled your running "
            "jobs. Your photos and headshots are still stored: you can download a copy of "
            "everything, delete any part, or erase your whole account."
        ),
        erasure_url="/api/v1/me",
    )


@router.delete("/me")
def erase_me(principal: CurrentUser, services: ServicesDep) -> DeletionReceiptOut:
    """Erase the account and everything in it; the answer is the deletion receipt."""
    return DeletionReceiptOut.of(services.erasure.erase_account(principal.user_id, actor="user"))


@router.get("/me/audit")
def my_audit_log(
    principal: CurrentUser,
    services: ServicesDep,
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> AuditPageOut:
    """Every recorded access to the caller's personal data, newest first."""
    page, next_cursor = services.accounts.audit_page(principal, cursor=cursor, limit=limit)
    return AuditPageOut(items=[AuditEntryOut.of(e) for e in page], next_cursor=next_cursor)


@router.get(
    "/me/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
def export_me(principal: CurrentUser, services: ServicesDep) -> StreamingResponse:
    """A zip of every record and file about the caller, streamed as it is written."""
    chunks = services.exporter.export(principal.user_id, actor="user")
    name = f"headshot-export-{services.clock().date().isoformat()}.zip"
    return StreamingResponse(
        chunks,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
