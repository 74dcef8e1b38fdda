"""The fal.ai engine: a thin HTTP client, `FalEngine`, webhook verification."""

from headshot.engines.fal.client import FalKey, FalSubmitOutcomeUnknownError
from headshot.engines.fal.credentials import FalCredentials, StaticFalCredentials
from headshot.engines.fal.engine import FalEngine, FalPrivacy
from headshot.engines.fal.payloads import DEFAULT_TRAINING_STEPS
from headshot.engines.fal.reconcile import Reconciliation
from headshot.engines.fal.webhooks import (
    FalWebhookEvent,
    FalWebhookVerifier,
    WebhookError,
    WebhookKeysUnavailableError,
    WebhookRejectedError,
    webhook_token,
)

__all__ = [
    "DEFAULT_TRAINING_STEPS",
    "FalCredentials",
    "FalEngine",
    "FalKey",
    "FalPrivacy",
    "FalSubmitOutcomeUnknownError",
    "FalWebhookEvent",
    "FalWebhookVerifier",
    "Reconciliation",
    "StaticFalCredentials",
    "WebhookError",
    "WebhookKeysUnavailableError",
    "WebhookRejectedError",
    "webhook_token",
]
