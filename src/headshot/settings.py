"""Effective configuration: `HEADSHOT_*` environment variables, then an optional TOML file
(`HEADSHOT_CONFIG_FILE`), then defaults.

Nothing here is read at import time; `load_settings()` is called by the wiring module and the CLI.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    IPvAnyNetwork,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from headshot.imaging.thresholds import ValidationThresholds

CONFIG_FILE_VARIABLE = "HEADSHOT_CONFIG_FILE"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("headshot", appauthor=False))


class UploadLimits(BaseModel):
    """Limits enforced while an upload streams in, before anything is decoded or stored."""

    max_file_bytes: int = Field(25 * 1024 * 1024, gt=0, description="Largest accepted file.")
    max_request_bytes: int = Field(
        200 * 1024 * 1024, gt=0, description="Largest accepted multipart request body."
    )
    max_files_per_request: int = Field(40, gt=0, description="Most files in one upload request.")
    max_pixels: int = Field(
        60_000_000, gt=0, description="Largest image, read from its header before decoding."
    )
    max_side: int = Field(20_000, gt=0, description="Longest accepted image side in pixels.")
    max_photos_per_session: int = Field(
        60, gt=0, description="Most photos one batch holds (refused uploads are not kept)."
    )
    max_inflight_bytes: int = Field(
        256 * 1024 * 1024,
        gt=0,
        description="Upload bytes held in memory by the whole server at once (files kept in "
        "memory while they arrive, files being checked); more waits (503).",
    )
    spool_memory_bytes: int = Field(
        1024 * 1024,
        ge=0,
        description="A file kept in memory while it arrives up to this size; a larger one waits "
        "for its check in an encrypted temporary file under the data directory.",
    )
    max_spool_bytes: int = Field(
        2 * 1024 * 1024 * 1024,
        gt=0,
        description="Upload bytes in encrypted temporary files of the whole server at once "
        "(with the size each upload declares reserved up front); more waits (503).",
    )
    check_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 2,
        gt=0,
        description="Photo checks run at once (about the number of cores).",
    )
    check_queue: int = Field(
        16, ge=0, description="Uploads that may wait for a check; beyond that they get 503."
    )
    check_max_wait_s: float = Field(
        1.5,
        gt=0,
        description="Longest expected wait for a check (from the recent checks' average) at "
        "which an upload is still let in; beyond it the upload gets 503 and is sent again.",
    )


class AuthSettings(BaseModel):
    session_ttl_s: int = Field(14 * 24 * 3600, gt=0, description="Lifetime of a login session.")
    api_token_max_ttl_s: int = Field(
        365 * 24 * 3600, gt=0, description="Longest lifetime of a personal API token."
    )
    login_attempts: int = Field(
        5, gt=0, description="Failed logins allowed per account in one window."
    )
    login_address_attempts: int = Field(
        20, gt=0, description="Failed logins allowed per client address in one window."
    )
    login_window_s: int = Field(300, gt=0, description="Length of the login rate-limit window.")
    cookie_name: str = Field("headshot_session", description="Name of the web session cookie.")
    min_password_length: int = Field(10, ge=8, description="Shortest accepted password.")
    password_reset_ttl_s: int = Field(
        1800, gt=0, description="Lifetime of a mailed password-reset link."
    )
    email_verification_ttl_s: int = Field(
        2 * 24 * 3600, gt=0, description="Lifetime of a mailed email-verification link."
    )
    password_hashes_at_once: int = Field(
        2,
        gt=0,
        description="Password hashes computed at once (each takes 64 MiB for a moment); more "
        "sign-ins wait, and after 10 s get 503 with Retry-After.",
    )


class JobSettings(BaseModel):
    """Timings of background jobs that wait on a provider."""

    first_poll_s: float = Field(5.0, gt=0, description="First status poll after a submit.")
    max_poll_s: float = Field(60.0, gt=0, description="Longest wait between status polls.")
    retry_s: float = Field(
        30.0,
        gt=0,
        description="Longest first wait before replaying a call the provider did not take; "
        "each further retry doubles it, with jitter, never sooner than the provider's Retry-After.",
    )
    retry_max_s: float = Field(
        900.0, gt=0, description="Longest wait between replays of a call the provider did not take."
    )
    reconcile_s: float = Field(
        60.0, gt=0, description="Wait between checks of a submit whose answer was lost."
    )
    reconcile_attempts: int = Field(
        30, gt=0, description="Checks before a lost submit is handed to an operator."
    )
    listing_lag_s: float = Field(
        120.0,
        ge=0,
        description="How long the provider's request listing may lag: a lost generation submit "
        "still absent from it this long after it was sent is submitted again.",
    )
    stale_after_s: float = Field(
        600.0,
        gt=0,
        description="An active job untouched this long, and not held by a live worker, is "
        "enqueued again (the net for a task lost from the queue itself).",
    )
    lease_s: float = Field(
        30.0,
        ge=3,
        description="How long a worker's claim on a running job step lasts without its heartbeat: "
        "another worker resumes a job within this (plus one heartbeat) of its worker dying.",
    )

    @property
    def heartbeat_s(self) -> float:
        """Renewal and expiry checks run this often: six beats per lease."""
        return self.lease_s / 6


class GenerationSettings(BaseModel):
    """How many candidates a generation makes for each headshot it shows (the rest are culled)."""

    overgenerate_studio: int = Field(
        3, ge=1, le=4, description="Candidates per shown headshot with the studio engine."
    )
    overgenerate_fal: int = Field(
        2,
        ge=1,
        le=4,
        description="Candidates per shown headshot with fal (each is billed: bounds the cost).",
    )

    def factor(self, engine: str) -> int:
        """Candidates per shown headshot for `engine` (1 for an engine without a setting)."""
        return {"studio": self.overgenerate_studio, "fal": self.overgenerate_fal}.get(engine, 1)


class RetentionSettings(BaseModel):
    """How long personal data is kept; the periodic retention task enforces each limit."""

    photo_days_after_training: int = Field(
        30, gt=0, description="Source photos go this many days after their session's last training."
    )
    inactive_warn_days: int = Field(
        365, gt=0, description="An account unused this long is warned that it will be erased."
    )
    inactive_erase_grace_days: int = Field(
        30, gt=0, description="Days between the inactivity warning and the account's erasure."
    )
    dataset_url_ttl_s: int = Field(
        6 * 3600, gt=0, description="Lifetime of the signed URL at which fal fetches a selfie zip."
    )
    provider_deletion_retry_s: float = Field(
        300.0, gt=0, description="First wait before asking the provider again to delete a payload."
    )
    orphan_grace_s: int = Field(
        3600,
        ge=60,
        description="A stored file no record names is deleted once it is this old (seconds).",
    )


SignupMode = Literal["open", "invite", "closed"]


def default_prices() -> dict[str, float]:
    # Estimates from fal's published prices (a LoRA training run; one generated image); adjust
    # them to your account's prices. Local engines cost nothing at a provider.
    return {"fal.training": 2.0, "fal.image": 0.035, "studio.training": 0.0, "studio.image": 0.0}


class QuotaSettings(BaseModel):
    """Limits on paid work, counted on the records so they hold across every process."""

    period_days: int = Field(30, gt=0, description="Length of a person's quota period in days.")
    trainings_per_period: int = Field(
        10, ge=0, description="Trainings one person may start per period (0: no limit)."
    )
    images_per_period: int = Field(
        400, ge=0, description="Headshots one person may ask for per period (0: no limit)."
    )
    daily_spend_cap_usd: float = Field(
        25.0, ge=0, description="Estimated provider spend per UTC day for everyone (0: no cap)."
    )
    prices_usd: dict[str, float] = Field(
        default_factory=default_prices,
        description="Estimated price per request kind, `<engine>.training` and `<engine>.image`.",
    )
    operator_email: str | None = Field(
        None, description="Where the one notice per day that the spend cap was reached goes."
    )


class Settings(BaseSettings):
    """Every setting of the service. `docs/configuration.md` lists each one (a test checks)."""

    model_config = SettingsConfigDict(
        env_prefix="HEADSHOT_",
        env_nested_delimiter="__",
        extra="ignore",
        populate_by_name=True,
    )

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the embedded defaults keep everything.",
    )
    database_url: str | None = Field(None, description="SQLAlchemy URL; SQLite in the data dir.")
    redis_url: str | None = Field(None, description="Huey on Redis when set; else Huey on SQLite.")
    blob_url: str | None = Field(
        None, description="`file:///path` or `s3://bucket/prefix`; files in the data dir."
    )
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint URL.")
    s3_region: str = Field("us-east-1", description="S3 region name.")
    engine: Literal["fal", "studio"] | None = Field(
        None, description="`fal` when a fal key is configured, else `studio`."
    )
    fal_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("HEADSHOT_FAL_KEY", "FAL_KEY", "fal_key"),
        description="The first fal provider key (`key_id:key_secret`).",
    )
    fal_admin_key: SecretStr | None = Field(
        None, description="Optional fal ADMIN key for payload deletion and key rotation."
    )
    fal_queue_url: str = Field("https://queue.fal.run", description="fal queue base URL.")
    fal_run_url: str = Field("https://fal.run", description="fal synchronous base URL.")
    fal_rest_url: str = Field("https://rest.fal.ai", description="fal REST base URL.")
    fal_cdn_url: str = Field("https://v3.fal.media", description="fal CDN base URL.")
    fal_api_url: str = Field(
        "https://api.fal.ai", description="fal Platform API base URL (payloads, request lists)."
    )
    public_url: str | None = Field(
        None, description="URL at which fal can reach this server (webhooks, signed URLs)."
    )
    master_key: SecretStr | None = Field(
        None,
        description="Base64 32-byte master key; else a generated 0600 key file in the data dir.",
    )
    previous_master_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Earlier master keys, kept until `headshot keys rotate-master` re-wraps.",
    )
    signup: SignupMode | None = Field(
        None,
        description="Who may register: `open`, `invite` or `closed`; "
        "`open` when bound to loopback only, else `invite`.",
    )
    invite_ttl_days: int = Field(14, gt=0, description="Default lifetime of an invitation.")
    fal_key_rotation_days: int = Field(
        0, ge=0, description="Rotate the fal API key this often with the ADMIN key (0: never)."
    )
    metrics_token: SecretStr | None = Field(
        None, description="Bearer token that Prometheus presents to scrape `/metrics`."
    )
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Proxies (CIDRs) whose X-Forwarded-For names the real client address.",
    )
    host: str = Field("127.0.0.1", description="Address `headshot serve` binds.")
    port: int = Field(8443, gt=0, lt=65536, description="Port `headshot serve` binds.")
    tls_cert_file: Path | None = Field(None, description="PEM certificate; self-signed if unset.")
    tls_key_file: Path | None = Field(None, description="PEM private key for the certificate.")
    in_process_worker: bool = Field(
        True, description="Run the Huey consumer inside `headshot serve` (embedded mode)."
    )
    worker_threads: int = Field(2, gt=0, description="Huey consumer worker threads.")
    worker_niceness: int = Field(
        10,
        ge=0,
        le=19,
        description="How much lower the scheduling priority of the in-process worker's threads "
        "is than the web server's (Linux), so photo checks win the cores over trainings; 0 "
        "keeps them equal.",
    )
    likeness_threshold: float = Field(
        0.36, ge=-1, le=1, description="Headshots less like the person than this are flagged."
    )
    smtp_url: SecretStr | None = Field(
        None,
        description="Mail server for notices, `smtp://user:password@host:port` or `smtps://…`.",
    )
    mail_from: str = Field("headshot@localhost", description="Sender address of notices.")
    email_verification: Literal["required", "optional", "off"] = Field(
        "optional",
        description="`required`: no sign-in before the address is confirmed; `optional`: a "
        "link is mailed and the account works meanwhile; `off`: no link is mailed.",
    )
    vapid_private_key: SecretStr | None = Field(
        None, description="Web Push VAPID private key (PEM); else a generated 0600 key file."
    )
    vapid_subject: str | None = Field(
        None, description="Contact the push services see (`mailto:` or https URL)."
    )
    push_hosts: list[str] = Field(
        default_factory=lambda: [
            "fcm.googleapis.com",
            "updates.push.services.mozilla.com",
            "push.apple.com",
            "notify.windows.com",
        ],
        description="Push services (and their subdomains) that Web Push endpoints may point at.",
    )
    log_level: str = Field("INFO", description="Logging level.")
    log_json: bool = Field(True, description="Structured JSON logs (else plain text).")
    uploads: UploadLimits = Field(default_factory=UploadLimits)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    validation: ValidationThresholds = Field(default_factory=ValidationThresholds)
    jobs: JobSettings = Field(default_factory=JobSettings)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    quotas: QuotaSettings = Field(default_factory=QuotaSettings)

    @field_validator("fal_queue_url", "fal_run_url", "fal_rest_url", "fal_cdn_url", "fal_api_url")
    @classmethod
    def _https_unless_loopback(cls, url: str) -> str:
        if url.startswith("https://") or url.startswith(
            ("http://127.", "http://localhost", "http://[::1]")
        ):
            return url.rstrip("/")
        raise ValueError("provider URLs must use https (plain http only for loopback)")

    @model_validator(mode="after")
    def _verification_needs_mail(self) -> Settings:
        if self.email_verification == "required" and self.smtp_url is None:
            raise ValueError("HEADSHOT_EMAIL_VERIFICATION=required needs HEADSHOT_SMTP_URL")
        return self

    @property
    def mail_link_base(self) -> str:
        """Where links in mail point: the public URL, else this server's own address."""
        return (self.public_url or f"https://{self.host}:{self.port}").rstrip("/")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return (
            [part.strip() for part in value.split(",") if part.strip()]
            if isinstance(value, str)
            else value
        )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Docker-style secret files and .env are honoured too, below the environment.
        sources = [init_settings, env_settings, dotenv_settings, file_secret_settings]
        config_file = os.environ.get(CONFIG_FILE_VARIABLE)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'headshot.db'}"

    @property
    def effective_blob_url(self) -> str:
        return self.blob_url or (self.data_dir / "blobs").as_uri()

    @property
    def effective_signup(self) -> SignupMode:
        """`open` for a server only this machine can reach, else `invite`: a public instance
        never starts open to anyone who finds it."""
        if self.signup:
            return self.signup
        return "open" if _is_loopback(self.host) else "invite"

    @property
    def effective_engine(self) -> Literal["fal", "studio"]:
        if self.engine:
            return self.engine
        return "fal" if self.fal_key else "studio"


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


def masked(settings: Settings) -> dict[str, Any]:
    """Settings as plain data with every secret replaced by a mask (for `headshot config`)."""
    data = settings.model_dump(mode="json")
    for name, value in settings:
        if isinstance(value, SecretStr) and value.get_secret_value():
            data[name] = "********"
    data["database_url"] = _mask_url_password(settings.effective_database_url)
    data["blob_url"] = settings.effective_blob_url
    data["engine"] = settings.effective_engine
    if settings.redis_url:
        data["redis_url"] = _mask_url_password(settings.redis_url)
    return data


def _mask_url_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a SQLAlchemy URL (e.g. redis://); mask conservatively
        if "@" in url and "://" in url:
            scheme, rest = url.split("://", 1)
            return f"{scheme}://***@{rest.split('@', 1)[1]}"
        return url
