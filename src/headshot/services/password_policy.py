"""What a new password must be: long enough, and not easy to guess.

"Easy to guess" is zxcvbn's estimate (its shipped lists of common passwords, words, names and
keyboard patterns, plus the person's own email): a score below `MIN_SCORE` means fewer than about
10^6 guesses, i.e. a common password or a small variation of one.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

from headshot.domain.errors import InvalidInputError

MIN_SCORE = 2
# zxcvbn's matching grows quickly with length; the first characters decide a weak password.
_ANALYSED_LENGTH = 64


def check_new_password(password: str, *, email: str, min_length: int) -> None:
    """Raise `InvalidInputError(code="weak_password")` with a reason a person can act on."""
    if len(password) < min_length:
        raise InvalidInputError(
            f"Choose a password of at least {min_length} characters.", code="weak_password"
        )
    local_part = email.split("@", 1)[0]
    verdict = zxcvbn(password[:_ANALYSED_LENGTH], user_inputs=[email, local_part])
    if int(verdict["score"]) < MIN_SCORE:
        warning = str(verdict["feedback"].get("warning") or "It is too easy to guess.")
        raise InvalidInputError(
            f"Choose a harder password. {warning.rstrip('.')}. A few unrelated words together "
            "make a strong password that is easy to remember.",
            code="weak_password",
        )
