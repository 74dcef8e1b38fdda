"""`/sessions`: batches of one person's photos."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from headshot.api.deps import CurrentUser, ServicesDep
from headshot.api.routes.receipts import deleted
from headshot.api.schemas import SessionIn, SessionOut, SessionPatch, SessionsOut

router = APIRouter(prefix="/sessions", tags=["sessions"])


@router.get("")
def list_sessions(principal: CurrentUser, services: ServicesDep) -> SessionsOut:
    return SessionsOut(sessions=[SessionOut.of(s) for s in services.sessions.list(principal)])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_session(body: SessionIn, principal: CurrentUser, services: ServicesDep) -> SessionOut:
    return SessionOut.of(services.sessions.create(principal, name=body.name))


@router.get("/{session_id}")
def get_session(session_id: str, principal: CurrentUser, services: ServicesDep) -> SessionOut:
    return SessionOut.of(services.sessions.get(principal, session_id))


@router.patch("/{session_id}")
def rename_session(
    session_id: str, body: SessionPatch, principal: CurrentUser, services: ServicesDep
) -> SessionOut:
    return SessionOut.of(services.sessions.rename(principal, session_id, name=body.name))


@router.delete("/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_session(session_id: str, principal: CurrentUser, services: ServicesDep) -> Response:
    return deleted(services.erasure.delete_session(principal, session_id))
