"""`/auth`: register, login, logout, personal API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response, status

from headshot.api.deps import CurrentUser, ServicesDep, client_address
from headshot.api.schemas import (
    ApiTokenIn,
    ApiTokenIssuedOut,
    ApiTokenOut,
    ApiTokensOut,
    ErrorOut,
    LoginIn,
    LoginOut,
    RegisterIn,
    UserOut,
)
from headshot.domain.errors import PermissionDeniedError
from headshot.domain.models import IssuedApiToken
from headshot.services.account_tokens import deliver
from headshot.services.email_verification import UNVERIFIED_MESSAGE

router = APIRouter(prefix="/auth", tags=["auth"])
ClientAddress = Annotated[str, Depends(client_address)]


@router.post("/register", status_code=status.HTTP_201_CREATED)
def register(body: RegisterIn, services: ServicesDep, background: BackgroundTasks) -> UserOut:
    """Create an account (an invitation is needed when sign-up is by invitation); a confirmation
    link is mailed unless verification is off."""
    user = services.accounts.register(email=body.email, password=body.password, invite=body.invite)
    mail = services.email_verification.mail_for(user.id)
    if mail is not None:
        background.add_task(deliver, services.notifier, mail)
    return UserOut.of(user)


@router.post("/login", responses={403: {"model": ErrorOut}})
def login(
    body: LoginIn, response: Response, services: ServicesDep, client: ClientAddress
) -> LoginOut:
    """Sign in. With required email verification, an unconfirmed address is refused (403
    `email_unverified`) and a fresh link is mailed."""
    result = services.accounts.login(email=body.email, password=body.password, client=client)
    if services.email_verification.refuses(result):
        mail = services.email_verification.undo_login(result)
        if mail is not None:  # the password was right: sending now reveals nothing
            deliver(services.notifier, mail)
        raise PermissionDeniedError(UNVERIFIED_MESSAGE, code="email_unverified")
    response.set_cookie(
        services.settings.auth.cookie_name,
        result.access_token,
        max_age=services.settings.auth.session_ttl_s,
        httponly=True,
        secure=True,
        samesite="strict",
        path="/",
    )
    return LoginOut(
        access_token=result.access_token,
        expires_at=result.expires_at,
        user=UserOut.of(result.user),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: CurrentUser, services: ServicesDep, request: Request) -> Response:
    services.accounts.logout(principal)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if request.cookies.get(services.settings.auth.cookie_name):
        response.delete_cookie(
            services.settings.auth.cookie_name, secure=True, httponly=True, samesite="strict"
        )
    return response


@router.get("/tokens")
def list_tokens(principal: CurrentUser, services: ServicesDep) -> ApiTokensOut:
    return ApiTokensOut(tokens=[ApiTokenOut.of(v) for v in services.api_tokens.list(principal)])


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
def create_token(
    body: ApiTokenIn, principal: CurrentUser, services: ServicesDep
) -> ApiTokenIssuedOut:
    issued = services.api_tokens.create(
        principal, name=body.name, scopes=body.scopes, expires_in_s=body.expires_in_s
    )
    return _issued(issued)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: str, principal: CurrentUser, services: ServicesDep) -> None:
    services.api_tokens.revoke(principal, token_id)


@router.post("/tokens/{token_id}/rotate", status_code=status.HTTP_201_CREATED)
def rotate_token(token_id: str, principal: CurrentUser, services: ServicesDep) -> ApiTokenIssuedOut:
    return _issued(services.api_tokens.rotate(principal, token_id))


def _issued(issued: IssuedApiToken) -> ApiTokenIssuedOut:
    base = issued.view
    return ApiTokenIssuedOut(**{**base.__dict__, "scopes": list(base.scopes)}, token=issued.token)
