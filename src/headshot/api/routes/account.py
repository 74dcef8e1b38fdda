"""Passwords and email verification: forgot, reset, change; confirm an address, resend the link.

Mail goes out after the answer (a background task), so an answer's timing never tells whether
an address has an account.
"""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Response, status

from headshot.api.deps import CurrentUser, ServicesDep
from headshot.api.schemas import UserOut
from headshot.api.schemas_account import (
    ChangePasswordIn,
    ForgotPasswordIn,
    MessageOut,
    ResetPasswordIn,
    VerifyEmailIn,
)
from headshot.services.account_tokens import deliver

router = APIRouter(tags=["auth"])


@router.post("/auth/password/forgot", status_code=status.HTTP_202_ACCEPTED)
def forgot_password(
    body: ForgotPasswordIn, services: ServicesDep, background: BackgroundTasks
) -> MessageOut:
    """Mail a single-use link to choose a new password; the same answer for any address."""
    mail = services.password_reset.forgot(body.email)
    if mail is not None:
        background.add_task(deliver, services.notifier, mail)
    return MessageOut(message=services.password_reset.forgot_answer)


@router.post("/auth/password/reset", status_code=status.HTTP_204_NO_CONTENT)
def reset_password(body: ResetPasswordIn, services: ServicesDep) -> Response:
    """Choose a new password with a mailed link; every session and API token ends."""
    services.password_reset.reset(body.token, body.password)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        services.settings.auth.cookie_name, secure=True, httponly=True, samesite="strict"
    )
    return response


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(body: ChangePasswordIn, principal: CurrentUser, services: ServicesDep) -> None:
    """Change the password; other sessions end, this one stays."""
    services.password_reset.change(principal, current=body.current_password, new=body.new_password)


@router.post("/auth/email/verify")
def verify_email(body: VerifyEmailIn, services: ServicesDep) -> UserOut:
    """Confirm the address with the token from a mailed link (no sign-in needed)."""
    user_id = services.email_verification.verify(body.token)
    return UserOut.of(services.accounts.view(user_id))


@router.post("/me/email/verification", status_code=status.HTTP_202_ACCEPTED)
def resend_verification(
    principal: CurrentUser, services: ServicesDep, background: BackgroundTasks
) -> MessageOut:
    """Mail a fresh confirmation link (the earlier ones stop working)."""
    mail = services.email_verification.resend(principal.user_id)
    background.add_task(deliver, services.notifier, mail)
    return MessageOut(message=f"We sent a new confirmation link to {mail.to}.")
