"""The object graph handed to `create_app` and the worker (built in `headshot.wiring`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from headshot.observability.metrics import Metrics
from headshot.services.accounts import Accounts
from headshot.services.api_tokens import ApiTokens
from headshot.services.audit import AuditLog
from headshot.services.blobs import UserBlobs
from headshot.services.data_export import Exporter
from headshot.services.datasets import DatasetLinks
from headshot.services.email_verification import EmailVerification
from headshot.services.engines import EngineSet, Likeness
from headshot.services.erasure import Erasure
from headshot.services.gallery import Gallery
from headshot.services.generation_runs import GenerationRuns
from headshot.services.generations import Generations
from headshot.services.invitations import Invitations
from headshot.services.job_leases import JobLeases
from headshot.services.job_notices import JobNotices
from headshot.services.key_schedule import ScheduledKeyRotation
from headshot.services.maintenance import Maintenance
from headshot.services.notify import Notifier
from headshot.services.password_reset import PasswordReset
from headshot.services.photos import Photos, UploadSpool
from headshot.services.product_metrics import ProductStats
from headshot.services.provider_keys import ProviderKeys
from headshot.services.queue import LateBoundQueue
from headshot.services.quotas import Quotas
from headshot.services.retention import Retention
from headshot.services.sessions import Sessions
from headshot.services.thumbnails import HeadshotThumbnails
from headshot.services.training_runs import TrainingRuns
from headshot.services.trainings import Trainings
from headshot.services.web_push import WebPush
from headshot.services.webhooks import FalWebhooks
from headshot.settings import Settings
from headshot.storage.db import Database

ReadinessCheck = Callable[[], None]


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Callable[[], datetime]
    audit: AuditLog
    accounts: Accounts
    invitations: Invitations
    api_tokens: ApiTokens
    sessions: Sessions
    photos: Photos
    upload_spool: UploadSpool
    trainings: Trainings
    generations: Generations
    quotas: Quotas
    gallery: Gallery
    engines: EngineSet
    blobs: UserBlobs
    likeness: Likeness
    queue: LateBoundQueue
    maintenance: Maintenance
    metrics: Metrics
    product_stats: ProductStats
    provider_keys: ProviderKeys
    erasure: Erasure
    exporter: Exporter
    retention: Retention
    password_reset: PasswordReset
    thumbnails: HeadshotThumbnails
    email_verification: EmailVerification
    notifier: Notifier
    training_runs: TrainingRuns
    generation_runs: GenerationRuns
    job_leases: JobLeases
    fal_webhooks: FalWebhooks | None = None
    key_rotation: ScheduledKeyRotation | None = None
    job_notices: JobNotices | None = None
    web_push: WebPush | None = None
    datasets: DatasetLinks | None = None
    readiness_checks: dict[str, ReadinessCheck] = field(default_factory=dict)
    on_startup: list[Callable[[], object]] = field(default_factory=list)
    on_shutdown: list[Callable[[], object]] = field(default_factory=list)
