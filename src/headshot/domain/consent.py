"""The consent a person gives before any face photo is processed (biometric data, GDPR Art. 9).

The text is versioned: a consent record keeps the version it was given under. Change the wording
and the version together. The periods come from the server's retention settings, so the person
reads the numbers this server actually enforces.
"""

from __future__ import annotations

from dataclasses import dataclass

BIOMETRIC_PURPOSE = "biometric_processing"
CONSENT_VERSION = "2026-11-2"


@dataclass(frozen=True)
class ConsentSection:
    title: str
    text: str


def consent_sections(
    *, photo_days: int, inactive_days: int, grace_days: int
) -> tuple[ConsentSection, ...]:
    """The consent text in plain words: what is stored, for how long, where it goes, and how to
    delete it."""
    return (
        ConsentSection(
            "What we do with your photos",
            "Headshot analyses your face photos to check their quality, trains a personal image "
            "model of your face and makes headshots with it. Face photos are biometric data: we "
            "process them only with this consent.",
        ),
        ConsentSection(
            "What we store",
            "Your photos, the checks on them, your personal model and your headshots, encrypted "
            "with a key that belongs to your account alone.",
        ),
        ConsentSection(
            "For how long",
            f"Your source photos are deleted {photo_days} days after the last training of their "
            "batch. Models and headshots stay until you delete them. An account unused for "
            f"{inactive_days} days gets a warning and is erased {grace_days} days later.",
        ),
        ConsentSection(
            "Where it goes",
            "With the AI engine, your training photos and prompts go to fal.ai, which trains and "
            "runs your model on our behalf. We ask fal.ai not to keep request data, and to delete "
            "its copies when you erase your data. The offline studio engine sends nothing out.",
        ),
        ConsentSection(
            "How to delete it",
            "From your account page you can download everything we hold about you, delete any "
            "batch, photo, model or headshot, or erase your account. Withdrawing this consent "
            "stops all processing of your photos at once.",
        ),
    )


def consent_text(sections: tuple[ConsentSection, ...]) -> str:
    return "\n\n".join(f"{s.title}\n{s.text}" for s in sections)
