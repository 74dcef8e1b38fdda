"""The consent a person gives before any face photo is processed (biometric data, GDPR Art. 9)."""

from __future__ import annotations

BIOMETRIC_PURPOSE = "biometric_processing"
CONSENT_VERSION = "2026-11-1"
CONSENT_TEXT = (
    "Headshot analyses your face photos to check their quality, trains a personal image model of "
    "your face and generates headshots from it. Your photos, model and headshots are stored "
    "encrypted on this server. When you use the AI engine, your training photos and prompts are "
    "sent to fal.ai, which processes them on our behalf and deletes them on request. Source photos "
    "are deleted a set number of days after training. You can export or erase everything at any "
    "time from your account page, and withdraw this consent, which stops all processing."
)
