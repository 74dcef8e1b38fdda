"""The one place that reads settings and picks implementations.

`build_services(settings)` makes the object graph that `create_app` and the worker receive.
Nothing here runs at import time.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from headshot.observability.metrics import Metrics
from headshot.services.accounts import Accounts
from headshot.services.api_tokens import ApiTokens
from headshot.services.audit import AuditLog
from headshot.services.blobs import BlobJanitor, UserBlobs
from headshot.services.container import Services
from headshot.services.data_export import Exporter
from headshot.services.email_verification import EmailVerification
from headshot.services.engines import EngineSet, Likeness
from headshot.services.gallery import Gallery
from headshot.services.generation_runs import GenerationRuns
from headshot.services.generation_store import GenerationStore
from headshot.services.generations import Generations
from headshot.services.invitations import Invitations
from headshot.services.job_leases import JobLeases
from headshot.services.job_notices import JobNotices
from headshot.services.maintenance import Maintenance
from headshot.services.notify import LogNotifier, Notifier, SmtpNotifier
from headshot.services.password_reset import PasswordReset
from headshot.services.photos import Photos
from headshot.services.product_metrics import ProductStats
from headshot.services.provider_keys import ProviderKeys
from headshot.services.queue import JobQueue, LateBoundQueue
from headshot.services.quotas import Quotas
from headshot.services.ratelimit import longest_window_s
from headshot.services.remote_generation import RemoteGeneration
from headshot.services.remote_training import RemoteTraining
from headshot.services.secrets import Passwords
from headshot.services.sessions import Sessions
from headshot.services.thumbnails import HeadshotThumbnails
from headshot.services.training_runs import TrainingRuns
from headshot.services.training_store import TrainingStore
from headshot.services.trainings import Trainings
from headshot.settings import Settings
from headshot.storage.blobs import BlobStore
from headshot.storage.db import Database
from headshot.storage.spool import UploadSpool
from headshot.storage.vault import Vault

if TYPE_CHECKING:
    from huey import Huey

    from headshot.engines.protocol import RemoteEngine
    from headshot.engines.studio import StudioEngine
    from headshot.imaging.models import FaceModels
    from headshot.imaging.pipeline import PhotoValidator
    from headshot.jobs import BoundTasks
    from headshot.jobs.lease_keeper import LeaseKeeper
    from headshot.services.datasets import DatasetLinks
    from headshot.services.erasure import Erasure
    from headshot.services.fal_keys import FalKeyRotation
    from headshot.services.key_schedule import ScheduledKeyRotation
    from headshot.services.notify import Notifier
    from headshot.services.retention import Retention
    from headshot.services.web_push import WebPush
    from headshot.services.webhooks import FalWebhooks
    from headshot.storage.crypto import MasterKeyring
    from headshot.storage.data_keys import SqlDataKeyStore


def system_clock() -> datetime:
    return datetime.now(UTC)


def prepare_data_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def make_blob_store(settings: Settings) -> BlobStore:
    url = urlsplit(settings.effective_blob_url)
    if url.scheme == "file":
        from headshot.storage.blobs_fs import FsBlobStore

        return FsBlobStore(Path(url.path))
    if url.scheme == "s3":
        from headshot.storage.blobs_s3 import S3BlobStore

        return S3BlobStore.from_url(
            settings.effective_blob_url,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
        )
    raise ValueError("HEADSHOT_BLOB_URL must start with file:// or s3://")


def load_keyring(settings: Settings) -> MasterKeyring:
    from headshot.storage.keyring import load_master_keyring

    return load_master_keyring(
        configured=settings.master_key.get_secret_value() if settings.master_key else None,
        previous=[k.get_secret_value() for k in settings.previous_master_keys],
        key_file=settings.data_dir / "master.key",
    )


def make_data_key_store(db: Database) -> SqlDataKeyStore:
    from headshot.storage.data_keys import SqlDataKeyStore

    return SqlDataKeyStore(db)


def make_vault(
    settings: Settings,
    db: Database,
    keyring: MasterKeyring | None = None,
    *,
    blobs: BlobStore | None = None,
) -> Vault:
    keyring = keyring or load_keyring(settings)
    return Vault(
        blobs=blobs or make_blob_store(settings),
        keyring=keyring,
        data_keys=make_data_key_store(db),
    )


def make_validator(settings: Settings, models: FaceModels | None = None) -> PhotoValidator:
    from headshot.imaging.pipeline import PhotoValidator

    return PhotoValidator(
        settings.validation,
        models=models,
        max_pixels=settings.uploads.max_pixels,
        max_side=settings.uploads.max_side,
    )


def make_engines(
    settings: Settings,
    validator: PhotoValidator,
    provider_keys: ProviderKeys | None = None,
    *,
    webhook_secret: bytes | None = None,
    publish: Callable[[bytes, str], str] | None = None,
) -> EngineSet:
    # One set of face models per process: the studio shares the validator's.
    studio = make_studio_engine(validator.models)
    remote: dict[str, RemoteEngine] = {}
    # Keys stored with `headshot keys add` count as configured when the engine is chosen.
    if settings.fal_key or (provider_keys is not None and settings.engine == "fal"):
        remote["fal"] = make_fal_engine(
            settings, provider_keys, webhook_secret=webhook_secret, publish=publish
        )
    return EngineSet(default=settings.effective_engine, local={"studio": studio}, remote=remote)


def make_studio_engine(faces: FaceModels) -> StudioEngine:
    from headshot.engines.studio import StudioEngine, StudioModels

    return StudioEngine(models=StudioModels(faces=faces))


def make_fal_engine(
    settings: Settings,
    provider_keys: ProviderKeys | None = None,
    *,
    webhook_secret: bytes | None = None,
    publish: Callable[[bytes, str], str] | None = None,
) -> RemoteEngine:
    """The fal engine over the stored keys, or over the configured ones alone without a database
    (provider_keys None)."""
    from headshot.engines.fal import FalCredentials, FalEngine, StaticFalCredentials
    from headshot.services.fal_keys import SqlFalCredentials

    configured = settings.fal_key.get_secret_value() if settings.fal_key else None
    admin = settings.fal_admin_key.get_secret_value() if settings.fal_admin_key else None
    credentials: FalCredentials
    if provider_keys is not None:
        credentials = SqlFalCredentials(
            provider_keys, configured=configured, configured_admin=admin
        )
    else:
        assert configured is not None
        credentials = StaticFalCredentials([configured], admin_key=admin)
    return FalEngine(
        credentials,
        queue_url=settings.fal_queue_url,
        rest_url=settings.fal_rest_url,
        cdn_url=settings.fal_cdn_url,
        api_url=settings.fal_api_url,
        webhook_url=webhook_url(settings) if webhook_secret else None,
        webhook_secret=webhook_secret,
        publish=publish,
    )


def webhook_url(settings: Settings) -> str:
    return f"{(settings.public_url or '').rstrip('/')}/api/v1/fal/webhook"


def make_dataset_links(
    settings: Settings,
    keyring: MasterKeyring,
    *,
    db: Database,
    vault: Vault,
    clock: Callable[[], datetime],
) -> DatasetLinks | None:
    """Signed URLs of ours for selfie zips, when fal can reach this server."""
    import hashlib
    import hmac

    from headshot.services.datasets import DatasetLinks

    if not settings.public_url:
        return None
    secret = hmac.new(keyring.current.material, b"headshot dataset links", hashlib.sha256)
    return DatasetLinks(
        db=db,
        blobs=vault,
        secret=secret.digest(),
        public_url=settings.public_url,
        ttl_s=settings.retention.dataset_url_ttl_s,
        clock=clock,
    )


def webhook_secret(keyring: MasterKeyring) -> bytes:
    """The key of the job tokens in our webhook URLs, the same in every process. It follows the
    master key: after a rotation, notices for older jobs fail their token and polling finishes
    those jobs instead."""
    import hashlib
    import hmac

    return hmac.new(
        keyring.current.material, b"headshot fal webhook tokens", hashlib.sha256
    ).digest()


def build_services(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = system_clock,
    face_models: FaceModels | None = None,
) -> Services:
    from headshot.services.analysis import ImagingAnalyzer, ImagingLikeness

    prepare_data_dir(settings.data_dir)
    validator = make_validator(settings, face_models)
    db = Database.from_url(settings.effective_database_url)
    keyring = load_keyring(settings)
    blob_store = make_blob_store(settings)  # one store: the vault's and the orphan sweep's
    vault = make_vault(settings, db, keyring, blobs=blob_store)
    audit = AuditLog(clock=clock)
    provider_keys = ProviderKeys(db=db, keyring=keyring, audit=audit, clock=clock)
    queue = LateBoundQueue()
    janitor = BlobJanitor(vault)
    secret = webhook_secret(keyring) if settings.public_url else None
    datasets = make_dataset_links(settings, keyring, db=db, vault=vault, clock=clock)
    engines = make_engines(
        settings,
        validator,
        provider_keys,
        webhook_secret=secret,
        publish=datasets.publish if datasets else None,
    )
    passwords = Passwords(at_once=settings.auth.password_hashes_at_once)
    invitations = Invitations(
        db=db, audit=audit, clock=clock, default_ttl_days=settings.invite_ttl_days
    )
    notifier = make_notifier(settings)
    accounts = Accounts(
        db=db,
        settings=settings.auth,
        passwords=passwords,
        audit=audit,
        clock=clock,
        queue=queue,
        signup=settings.effective_signup,
        invitations=invitations,
        notifier=notifier,
    )
    analyzer = ImagingAnalyzer(validator)
    photos = Photos(
        db=db,
        blobs=vault,
        analyzer=analyzer,
        accounts=accounts,
        audit=audit,
        clock=clock,
        max_photos=settings.uploads.max_photos_per_session,
    )
    upload_spool = make_upload_spool(settings)
    erasure = make_erasure(
        settings, engines, db=db, vault=vault, janitor=janitor, audit=audit, clock=clock
    )
    quotas = Quotas(
        db=db, limits=settings.quotas, audit=audit, notifier=make_notifier(settings), clock=clock
    )
    product_stats = ProductStats(db=db, limits=settings.quotas, clock=clock)
    likeness = ImagingLikeness(validator)
    training_runs, generation_runs = make_job_runs(
        settings,
        engines,
        db=db,
        blobs=vault,
        likeness=likeness,
        audit=audit,
        queue=queue,
        clock=clock,
        discard_dataset=datasets.discard if datasets else None,
    )
    services = Services(
        settings=settings,
        maintenance=Maintenance(
            db=db, clock=clock, rate_window_s=longest_window_s(settings.auth.login_window_s)
        ),
        metrics=make_metrics(product_stats),
        product_stats=product_stats,
        provider_keys=provider_keys,
        db=db,
        clock=clock,
        audit=audit,
        accounts=accounts,
        invitations=invitations,
        api_tokens=ApiTokens(
            db=db, audit=audit, max_ttl_s=settings.auth.api_token_max_ttl_s, clock=clock
        ),
        sessions=Sessions(db=db, analyzer=analyzer, clock=clock),
        photos=photos,
        upload_spool=upload_spool,
        trainings=Trainings(
            db=db,
            photos=photos,
            queue=queue,
            janitor=janitor,
            audit=audit,
            engines=engines.names,
            default_engine=engines.default if engines.default in engines.names else "studio",
            validation=settings.validation,
            clock=clock,
            quotas=quotas,
        ),
        generations=Generations(
            db=db,
            queue=queue,
            audit=audit,
            clock=clock,
            quotas=quotas,
            candidates_per_image=settings.generation.factor,
        ),
        quotas=quotas,
        gallery=Gallery(
            db=db, blobs=vault, audit=audit, public_url=settings.public_url, clock=clock
        ),
        engines=engines,
        blobs=vault,
        likeness=likeness,
        queue=queue,
        erasure=erasure,
        notifier=notifier,
        thumbnails=HeadshotThumbnails(db=db, blobs=vault, audit=audit, render=_headshot_thumbnail),
        password_reset=PasswordReset(
            db=db,
            passwords=passwords,
            audit=audit,
            settings=settings.auth,
            link_base=settings.mail_link_base,
            clock=clock,
        ),
        email_verification=EmailVerification(
            db=db,
            audit=audit,
            # Without a mail server no link can arrive: nothing to ask the person for.
            mode=settings.email_verification if settings.smtp_url else "off",
            ttl_s=settings.auth.email_verification_ttl_s,
            link_base=settings.mail_link_base,
            clock=clock,
            resend_window_s=settings.auth.login_window_s,
        ),
        retention=make_retention(
            settings,
            notifier,
            db=db,
            blobs=blob_store,
            janitor=janitor,
            erasure=erasure,
            audit=audit,
            clock=clock,
            discard_dataset=datasets.discard if datasets else None,
        ),
        datasets=datasets,
        exporter=Exporter(db=db, blobs=vault, audit=audit, clock=clock),
        training_runs=training_runs,
        generation_runs=generation_runs,
        job_leases=JobLeases(db=db, clock=clock, lease_s=settings.jobs.lease_s),
    )
    services.web_push = make_web_push(settings, db=db, clock=clock)
    services.job_notices = JobNotices(
        db=db,
        notifier=make_notifier(settings),
        push=services.web_push,
        clock=clock,
        app_url=settings.public_url,
    )
    services.key_rotation = make_key_rotation(
        settings, provider_keys, db=db, audit=audit, clock=clock
    )
    services.readiness_checks["database"] = lambda: _ping_database(db)
    services.on_startup.append(lambda: _import_configured_keys(settings, provider_keys))
    # Only the server runs the startup hooks: workers and operator commands receive no uploads.
    services.on_startup.append(upload_spool.sweep)
    services.on_shutdown.append(db.dispose)
    if secret is not None and "fal" in engines.remote:
        services.fal_webhooks = make_fal_webhooks(settings, secret, db=db, queue=queue)
    return services


def make_upload_spool(settings: Settings) -> UploadSpool:
    """Uploads wait for their check in memory, or encrypted under `spool/` in the data dir."""
    return UploadSpool(
        settings.data_dir / "spool", memory_bytes=settings.uploads.spool_memory_bytes
    )


def make_notifier(settings: Settings) -> Notifier:
    if settings.smtp_url is None:
        return LogNotifier()
    return SmtpNotifier(settings.smtp_url.get_secret_value(), sender=settings.mail_from)


def make_job_runs(
    settings: Settings,
    engines: EngineSet,
    *,
    db: Database,
    blobs: UserBlobs,
    likeness: Likeness,
    audit: AuditLog,
    queue: JobQueue,
    clock: Callable[[], datetime],
    discard_dataset: Callable[[str], object] | None = None,
    draw: Callable[[], float] = random.random,
) -> tuple[TrainingRuns, GenerationRuns]:
    """The training and generation use cases the workers run (`draw` jitters retry waits)."""
    trainings = TrainingStore(db=db, blobs=blobs, audit=audit, clock=clock)
    generations = GenerationStore(
        db=db,
        blobs=blobs,
        likeness=likeness,
        likeness_threshold=settings.likeness_threshold,
        audit=audit,
        clock=clock,
        overgenerate=settings.generation,
    )
    timing = settings.jobs
    return (
        TrainingRuns(
            store=trainings,
            engines=engines,
            remote=RemoteTraining(
                store=trainings, queue=queue, timing=timing, clock=clock, draw=draw
            ),
            discard_dataset=discard_dataset,
        ),
        GenerationRuns(
            store=generations,
            engines=engines,
            remote=RemoteGeneration(
                store=generations, queue=queue, timing=timing, clock=clock, draw=draw
            ),
        ),
    )


def make_retention(
    settings: Settings,
    notifier: Notifier,
    *,
    db: Database,
    blobs: BlobStore,
    janitor: BlobJanitor,
    erasure: Erasure,
    audit: AuditLog,
    clock: Callable[[], datetime],
    discard_dataset: Callable[[str], bool] | None = None,
) -> Retention:
    from headshot.services.orphans import OrphanSweep
    from headshot.services.retention import Retention

    orphans = OrphanSweep(
        db=db,
        blobs=blobs,
        clock=clock,
        grace=timedelta(seconds=settings.retention.orphan_grace_s),
    )
    return Retention(
        db=db,
        janitor=janitor,
        erasure=erasure,
        notifier=notifier,
        audit=audit,
        clock=clock,
        limits=settings.retention,
        orphans=orphans,
        discard_dataset=discard_dataset,
    )


def make_key_rotation(
    settings: Settings,
    provider_keys: ProviderKeys,
    *,
    db: Database,
    audit: AuditLog,
    clock: Callable[[], datetime],
) -> ScheduledKeyRotation | None:
    """Scheduled fal key rotation when a period is set (it acts only with an ADMIN key)."""
    from contextlib import contextmanager

    import httpx

    from headshot.engines.fal.client import DEFAULT_TIMEOUT
    from headshot.services.fal_keys import FalKeyRotation
    from headshot.services.key_schedule import ScheduledKeyRotation

    if not settings.fal_key_rotation_days:
        return None

    @contextmanager
    def rotation() -> Iterator[FalKeyRotation]:
        with httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=False) as http:
            yield FalKeyRotation(
                provider_keys, db=db, http=http, api_url=settings.fal_api_url, clock=clock
            )

    return ScheduledKeyRotation(
        keys=provider_keys,
        rotation=rotation,
        every_days=settings.fal_key_rotation_days,
        db=db,
        audit=audit,
        clock=clock,
    )


def make_web_push(settings: Settings, *, db: Database, clock: Callable[[], datetime]) -> WebPush:
    from headshot.services.web_push import WebPush
    from headshot.storage.vapid import load_vapid

    configured = settings.vapid_private_key
    vapid = load_vapid(
        configured=configured.get_secret_value() if configured else None,
        key_file=settings.data_dir / "vapid.pem",
    )
    return WebPush(
        db=db,
        vapid=vapid,
        subject=settings.vapid_subject or f"mailto:{settings.mail_from}",
        allowed_hosts=settings.push_hosts,
        clock=clock,
    )


def make_metrics(product_stats: ProductStats) -> Metrics:
    """HTTP metrics, plus the product metrics read from the records at each scrape."""
    from headshot.observability.product import ProductCollector

    metrics = Metrics()
    metrics.registry.register(ProductCollector(product_stats.snapshot))
    return metrics


def make_erasure(
    settings: Settings,
    engines: EngineSet,
    *,
    db: Database,
    vault: Vault,
    janitor: BlobJanitor,
    audit: AuditLog,
    clock: Callable[[], datetime] = system_clock,
) -> Erasure:
    from headshot.services.erasure import Erasure, ProviderPayloads

    # Only engines that keep payloads at a provider owe deletions there.
    providers: dict[str, ProviderPayloads] = {
        name: engine
        for name, engine in engines.remote.items()
        if isinstance(engine, ProviderPayloads)
    }
    return Erasure(
        db=db,
        blobs=vault,
        janitor=janitor,
        audit=audit,
        clock=clock,
        providers=providers,
        retry_s=settings.retention.provider_deletion_retry_s,
    )


def make_fal_webhooks(
    settings: Settings, secret: bytes, *, db: Database, queue: LateBoundQueue
) -> FalWebhooks:
    from headshot.engines.fal.webhooks import FalWebhookVerifier
    from headshot.services.webhooks import FalWebhooks

    verifier = FalWebhookVerifier(rest_url=settings.fal_rest_url, token_secret=secret)
    return FalWebhooks(verifier=verifier, db=db, queue=queue)


def _import_configured_keys(settings: Settings, provider_keys: ProviderKeys) -> None:
    # Workers import them on first use (SqlFalCredentials); the server does it at once, so
    # `GET /admin/provider-keys` shows them from the start.
    if settings.fal_key:
        provider_keys.import_from_settings(settings.fal_key.get_secret_value())
    if settings.fal_admin_key:
        provider_keys.import_from_settings(settings.fal_admin_key.get_secret_value(), scope="ADMIN")


def _headshot_thumbnail(image: bytes) -> bytes:
    from headshot.imaging.renditions import headshot_thumbnail

    return headshot_thumbnail(image)


def make_provider_keys(db: Database, keyring: MasterKeyring) -> ProviderKeys:
    """The stored provider keys, for operator commands (the server builds its own)."""
    return ProviderKeys(
        db=db, keyring=keyring, audit=AuditLog(clock=system_clock), clock=system_clock
    )


@contextmanager
def open_provider_keys(settings: Settings) -> Iterator[tuple[ProviderKeys, Database]]:
    """The stored keys over the configured database and master key; closed on exit."""
    with open_database(settings) as db:
        yield make_provider_keys(db, load_keyring(settings)), db


@contextmanager
def open_fal_key_rotation(
    settings: Settings, keys: ProviderKeys, db: Database
) -> Iterator[FalKeyRotation]:
    """fal's key API with the stored ADMIN key; its HTTP client closed on exit."""
    import httpx

    from headshot.engines.fal.client import DEFAULT_TIMEOUT
    from headshot.services.fal_keys import FalKeyRotation

    with httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=False) as http:
        yield FalKeyRotation(
            keys, db=db, http=http, api_url=settings.fal_api_url, clock=system_clock
        )


def migrate_database(settings: Settings) -> None:
    """Create or upgrade the schema of the configured database."""
    from headshot.storage.db import make_engine
    from headshot.storage.migrate import upgrade

    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


@contextmanager
def open_database(settings: Settings) -> Iterator[Database]:
    """The database alone, for operator commands that need nothing else; disposed on exit."""
    db = Database.from_url(settings.effective_database_url)
    try:
        yield db
    finally:
        db.dispose()


def _ping_database(db: Database) -> None:
    from headshot.storage.migrate import ensure_current

    # Reachable is not enough: a schema behind this release would fail every request.
    ensure_current(db.engine)


class Runtime:
    """Services bound to their job queue: what a server, worker or operator command runs.

    A context manager: leaving it closes what the wiring opened, in reverse order of opening
    (the queue, the engines' connections, the database), once. (`services.on_shutdown` is what
    the web app's lifespan runs; a server puts `close` there too, after its consumer stops.)

        with build_runtime(load_settings()) as runtime:
            runtime.services.retention.run()
    """

    def __init__(
        self,
        services: Services,
        huey: Huey,
        tasks: BoundTasks[Services],
        closers: list[Callable[[], object]],
    ) -> None:
        self.services = services
        self.huey = huey
        self.tasks = tasks
        self._closers = closers

    def lease_keeper(self) -> LeaseKeeper:
        """The heartbeat of a process that runs job steps (start it beside the consumer)."""
        from headshot.jobs.lease_keeper import LeaseKeeper

        queue = self.services.queue
        return LeaseKeeper(
            self.services.job_leases,
            enqueue={"training": queue.run_training, "generation": queue.run_generation},
            every_s=self.services.settings.jobs.heartbeat_s,
        )

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def build_runtime(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = system_clock,
    face_models: FaceModels | None = None,
    immediate: bool = False,
) -> Runtime:
    """Services bound to their job queue; `immediate` runs tasks inline (tests)."""
    from headshot.jobs import close_huey, make_huey
    from headshot.jobs.tasks import bind_jobs

    services = build_services(settings, clock=clock, face_models=face_models)
    huey = make_huey(
        name="headshot",
        data_dir=settings.data_dir,
        redis_url=settings.redis_url,
        immediate=immediate,
    )
    # In the order they were opened; closed in reverse.
    closers: list[Callable[[], object]] = [
        services.db.dispose,
        *(engine.close for engine in services.engines.remote.values()),
        lambda: close_huey(huey),
    ]
    tasks = bind_jobs(huey, services)
    services.readiness_checks["queue"] = lambda: _ping_queue(huey)
    return Runtime(services, huey, tasks, closers)


def _ping_queue(huey: Huey) -> None:
    huey.pending_count()
