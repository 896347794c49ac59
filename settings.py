"""Settings read from the environment (prefix ``LIVECLASS_``), validated once at start.

Every field is documented in ``docs/operations.md``; keep the two in step.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_FILE = "secret_key"
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """All knobs of a liveclass node, grouped by purpose."""

    model_config = SettingsConfigDict(env_prefix="LIVECLASS_", extra="ignore", frozen=True)

    # Storage and transport
    data_dir: Path = Path("data")
    database_url: str = ""
    redis_url: str | None = None
    node_id: str = Field(default_factory=lambda: f"node-{secrets.token_hex(4)}")
    public_url: str = ""

    # Security
    secret_key: str = ""
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=86_400)
    refresh_token_ttl_seconds: int = Field(default=30 * 86_400, ge=300, le=365 * 86_400)
    # Sign-in throttling (lms/accounts/throttle.py): growing delays per account and address,
    # a ceiling per account that only slows addresses that failed, a limit per address.
    login_failures_before_delay: int = Field(default=5, ge=1, le=1000)
    login_delay_base_seconds: float = Field(default=1.0, ge=0.1, le=3600.0)
    login_delay_max_seconds: float = Field(default=900.0, ge=1.0, le=86_400.0)
    login_delay_window_seconds: int = Field(default=86_400, ge=60, le=30 * 86_400)
    login_max_failures_per_account: int = Field(default=50, ge=1, le=100_000)
    login_max_failures_per_ip: int = Field(default=20, ge=1, le=10_000)
    login_failure_window_seconds: int = Field(default=900, ge=1, le=86_400)
    password_min_length: int = Field(default=8, ge=6, le=128)
    # Tests only: argon2id at its cheapest parameters (lms/accounts/passwords.py). Never in
    # production: such hashes give a stolen database's passwords away cheaply.
    insecure_test_password_hashing: bool = False

    # HTTP
    forwarded_allow_ips: str = "127.0.0.1"
    shutdown_delay_seconds: float = Field(default=0.0, ge=0.0, le=120.0)
    max_request_bytes: int = Field(default=1_048_576, ge=1024, le=1_073_741_824)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "text"] = "json"

    # Realtime
    room_max_message_bytes: int = Field(default=16_384, ge=1024, le=1_048_576)
    send_queue_bytes: int = Field(default=1_048_576, ge=65_536, le=67_108_864)
    room_history_size: int = Field(default=1000, ge=10, le=100_000)
    presence_ttl_seconds: float = Field(default=20.0, ge=1.0, le=300.0)
    group_commit_delay_ms: float = Field(default=2.0, ge=0.0, le=100.0)

    # Collaborative documents (Yjs)
    yjs_max_update_bytes: int = Field(default=1_048_576, ge=1024, le=67_108_864)
    yjs_max_document_bytes: int = Field(default=33_554_432, ge=65_536, le=1_073_741_824)
    yjs_max_awareness_bytes: int = Field(default=262_144, ge=1024, le=16_777_216)
    yjs_compact_threshold: int = Field(default=500, ge=2, le=1_000_000)
    yjs_idle_unload_seconds: float = Field(default=30.0, ge=0.0, le=86_400.0)
    yjs_settle_timeout_seconds: float = Field(default=5.0, ge=0.1, le=120.0)
    yjs_messages_per_second: float = Field(default=500.0, gt=0.0, le=1_000_000.0)
    yjs_message_burst: int = Field(default=2000, ge=1, le=100_000_000)
    yjs_bytes_per_second: int = Field(default=4_194_304, ge=1024, le=1_073_741_824)
    yjs_max_nesting_depth: int = Field(default=64, ge=4, le=1024)
    yjs_max_update_elements: int = Field(default=1_000_000, ge=1000, le=100_000_000)
    documents_durable: bool = True

    # Media (the SFU)
    media_enabled: bool = True
    media_public_ip: str = ""
    media_stun_urls: str = ""
    media_turn_urls: str = ""
    media_turn_username: str = ""
    media_turn_credential: str = ""
    media_max_tracks_per_room: int = Field(default=50, ge=1, le=10_000)
    media_ice_timeout_seconds: float = Field(default=20.0, ge=1.0, le=300.0)
    # Media placement across nodes (with Redis): registry TTL, this node's share, relay wait
    media_placement_ttl_seconds: float = Field(default=10.0, ge=1.0, le=300.0)
    media_placement_capacity: float = Field(default=1.0, ge=0.0, le=1000.0)
    media_relay_timeout_seconds: float = Field(default=10.0, ge=0.5, le=120.0)
    recordings_dir: Path | None = None  # default: <data_dir>/recordings

    # Automatic captions (media/captions/, rooms/auto_captions.py): available to every room,
    # on in a room only when a host turns them on; the engine loads on first use.
    captions_enabled: bool = True
    captions_engine: str = "whisper"
    captions_model_path: Path | None = None  # default: the bundled Whisper tiny.en
    captions_compute_type: Literal[
        "int8", "int8_float32", "int16", "float32", "default", "auto"
    ] = "int8"
    captions_threads: int = Field(default=1, ge=1, le=64)
    captions_workers: int = Field(default=1, ge=1, le=64)
    captions_beam_size: int = Field(default=1, ge=1, le=10)
    captions_partial_interval_seconds: float = Field(default=0.0, ge=0.0, le=30.0)
    captions_endpoint_silence_seconds: float = Field(default=0.5, ge=0.1, le=5.0)
    captions_max_pending_seconds: float = Field(default=5.0, ge=0.5, le=60.0)

    # Background jobs and domain events (jobs/): where they run, how long a run may be held
    jobs_embedded: bool = True  # run jobs inside `liveclass serve`; false: `liveclass worker`
    jobs_concurrency: int = Field(default=8, ge=1, le=1000)
    jobs_lease_seconds: float = Field(default=30.0, ge=1.0, le=3600.0)
    jobs_poll_seconds: float = Field(default=5.0, ge=0.1, le=300.0)
    jobs_shutdown_grace_seconds: float = Field(default=20.0, ge=0.0, le=3600.0)
    jobs_retention_days: float = Field(default=14.0, ge=0.01, le=3650.0)
    jobs_modules: str = ""  # comma-separated modules whose register_jobs(registry) adds jobs

    # Outgoing webhooks (lms/webhooks/): retry delays after the first attempt, timeouts of one
    # attempt, which receivers' addresses may be called, how long a rotated secret still signs
    webhooks_retry_schedule: str = "5s,5m,30m,2h,5h,10h,10h"
    webhooks_connect_timeout_seconds: float = Field(default=5.0, gt=0.0, le=60.0)
    webhooks_timeout_seconds: float = Field(default=15.0, gt=0.0, le=120.0)
    webhooks_allow_private: bool = False  # loopback and private networks (tests, intranets)
    webhooks_allow_http: bool = False  # plain http receivers (https otherwise)
    webhooks_rotation_grace_seconds: float = Field(default=86_400.0, ge=0.0, le=30 * 86_400.0)

    # Notifications and account e-mails (lms/notifications/): SMTP (no host: e-mails are
    # written to the log, not sent), Web Push (off unless both VAPID keys are set), tokens.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65_535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_tls: bool = False  # implicit TLS (port 465) instead of STARTTLS
    smtp_timeout_seconds: float = Field(default=30.0, ge=1.0, le=600.0)
    smtp_from: str = "liveclass <no-reply@localhost>"
    vapid_public_key: str = ""
    vapid_private_key: str = ""
    vapid_subject: str = "mailto:admin@localhost"
    email_verification_ttl_seconds: int = Field(default=3 * 86_400, ge=300, le=30 * 86_400)
    password_reset_ttl_seconds: int = Field(default=3600, ge=300, le=86_400)
    password_reset_max_per_address: int = Field(default=5, ge=1, le=1000)
    password_reset_max_per_ip: int = Field(default=20, ge=1, le=10_000)
    password_reset_window_seconds: int = Field(default=3600, ge=60, le=86_400)
    notifications_digest_schedule: str = "0 7 * * *"  # cron, UTC
    # Workshops (lms/workshops/reminders.py): how often reminders 24 h and 1 h before a
    # session are looked for (cron or "@every 30s")
    workshops_reminder_schedule: str = "@every 1m"
    # Workshops (lms/workshops/closing.py): how long the people still in a session's room at
    # its end are warned (``room.closing``) before the room ends for them
    workshops_close_grace_seconds: float = Field(default=120.0, ge=0, le=3600)

    # Payments (lms/payments/): the provider ("offline": the embedded one with its own checkout
    # page; "stripe": Stripe Checkout), webhook secrets as comma-separated lists (the first signs,
    # every one verifies: two during a rotation), the signed timestamp's tolerance, how long a
    # checkout (and the seat it reserves) stays open, and the nightly reconciliation (cron, UTC)
    payments_provider: Literal["offline", "stripe"] = "offline"
    payments_webhook_secrets: str = ""  # offline provider; empty: derived from the secret key
    payments_webhook_tolerance_seconds: int = Field(default=300, ge=10, le=86_400)
    payments_checkout_minutes: int = Field(default=30, ge=1, le=24 * 60)
    payments_reconcile_schedule: str = "0 3 * * *"
    stripe_api_key: str = ""
    stripe_webhook_secrets: str = ""
    stripe_api_base: str = ""  # empty: Stripe's API; tests point it at a local fake

    # File storage and uploads (persistence/blobs/, lms/files/): where blobs live (the data
    # directory, or an S3-compatible bucket), the upload limits and the signed links' lifetime
    blob_store: Literal["local", "s3"] = "local"
    blobs_dir: Path | None = None  # default: <data_dir>/blobs
    s3_bucket: str = ""
    s3_endpoint: str = ""  # empty: AWS's regional endpoint
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""  # empty: the environment's AWS credentials
    s3_secret_access_key: str = ""
    s3_prefix: str = ""
    s3_upload_part_bytes: int = Field(default=8 << 20, ge=5 << 20, le=1 << 30)
    upload_max_file_bytes: int = Field(default=4 << 30, ge=1024, le=1 << 40)
    upload_course_quota_bytes: int = Field(default=5 << 30, ge=1024, le=1 << 44)
    upload_expiry_seconds: int = Field(default=86_400, ge=60, le=30 * 86_400)
    file_link_ttl_seconds: int = Field(default=300, ge=10, le=7 * 86_400)
    # Signed /blobs and /media downloads of a local store answered by the HTTP protocol
    # with sendfile (ops/fastpath.py); false: every download goes through the ASGI routes
    fast_serving: bool = True

    # Video (lms/video/): the longest a transcode may run before it is stopped
    video_transcode_max_seconds: int = Field(default=4 * 3600, ge=60, le=48 * 3600)

    # Graded code (lms/assessments/sandbox/): worker processes running WASI CPython, the
    # waiting line in front of them, the CPU budget per ms of a question's time limit, and
    # students' practice runs (visible tests only) per person
    sandbox_workers: int = Field(default=2, ge=1, le=256)
    sandbox_max_queue: int = Field(default=200, ge=0, le=100_000)
    sandbox_queue_timeout_seconds: float = Field(default=30.0, gt=0.0, le=600.0)
    sandbox_fuel_per_ms: int = Field(default=10_000_000, ge=100_000, le=1_000_000_000)
    sandbox_cache_dir: Path | None = None  # default: <data_dir>/sandbox
    sandbox_practice_runs_per_minute: float = Field(default=10.0, gt=0.0, le=6000.0)
    sandbox_practice_burst: int = Field(default=5, ge=1, le=1000)

    # Quizzes under exam load (lms/assessments/load.py): beyond these, a quick 503
    quiz_read_slots: int = Field(default=8, ge=1, le=200)
    quiz_write_slots: int = Field(default=6, ge=1, le=200)
    quiz_queue: int = Field(default=200, ge=0, le=100_000)
    quiz_wait_seconds: float = Field(default=5.0, gt=0.0, le=600.0)
    quiz_autosave_max_pending: int = Field(default=2000, ge=1, le=1_000_000)

    # Database
    db_pool_size: int = Field(default=10, ge=1, le=200)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000)

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @field_validator("webhooks_retry_schedule")
    @classmethod
    def _schedule_parses(cls, value: str) -> str:
        delay = r"\s*\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)?\s*"
        if value.strip() and not re.fullmatch(rf"{delay}(?:,{delay})*", value):
            raise ValueError("must be delays separated by commas, e.g. 5s,5m,30m,2h")
        return value

    @field_validator("captions_partial_interval_seconds")
    @classmethod
    def _partials_off_or_spaced(cls, value: float) -> float:
        if value and value < 0.5:
            raise ValueError("must be 0 (finals only) or at least 0.5")
        return value

    @field_validator("captions_engine")
    @classmethod
    def _engine_named(cls, value: str) -> str:
        if value != "whisper" and ":" not in value:
            raise ValueError('must be "whisper" or "module:factory"')
        return value

    @model_validator(mode="after")
    def _s3_has_a_bucket(self) -> Settings:
        if self.blob_store == "s3" and not self.s3_bucket:
            raise ValueError("LIVECLASS_BLOB_STORE=s3 needs LIVECLASS_S3_BUCKET")
        return self

    @model_validator(mode="after")
    def _stripe_has_keys(self) -> Settings:
        if self.payments_provider == "stripe" and not (
            self.stripe_api_key and self.stripe_webhook_secrets.strip(" ,")
        ):
            raise ValueError(
                "LIVECLASS_PAYMENTS_PROVIDER=stripe needs LIVECLASS_STRIPE_API_KEY and "
                "LIVECLASS_STRIPE_WEBHOOK_SECRETS"
            )
        return self

    @model_validator(mode="after")
    def _refresh_outlives_access(self) -> Settings:
        if self.refresh_token_ttl_seconds <= self.access_token_ttl_seconds:
            raise ValueError(
                "LIVECLASS_REFRESH_TOKEN_TTL_SECONDS must exceed LIVECLASS_ACCESS_TOKEN_TTL_SECONDS"
            )
        return self

    @model_validator(mode="after")
    def _login_delays_fit_their_window(self) -> Settings:
        # A delay longer than the memory of failures would end early, when they are forgotten.
        if self.login_delay_max_seconds > self.login_delay_window_seconds:
            raise ValueError(
                "LIVECLASS_LOGIN_DELAY_MAX_SECONDS must not exceed "
                "LIVECLASS_LOGIN_DELAY_WINDOW_SECONDS"
            )
        if self.login_delay_base_seconds > self.login_delay_max_seconds:
            raise ValueError(
                "LIVECLASS_LOGIN_DELAY_BASE_SECONDS must not exceed "
                "LIVECLASS_LOGIN_DELAY_MAX_SECONDS"
            )
        return self

    @property
    def web_push_enabled(self) -> bool:
        """Whether Web Push is configured (both VAPID keys set)."""
        return bool(self.vapid_public_key and self.vapid_private_key)

    @property
    def resolved_database_url(self) -> str:
        """The configured database, or the embedded SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'liveclass.db').resolve()}"

    @property
    def resolved_recordings_dir(self) -> Path:
        """Where room recordings are written: the configured directory or <data_dir>/recordings."""
        return (self.recordings_dir or self.data_dir / "recordings").resolve()

    @property
    def resolved_blobs_dir(self) -> Path:
        """Where the local blob store keeps files: the configured directory or
        <data_dir>/blobs."""
        return (self.blobs_dir or self.data_dir / "blobs").resolve()

    @property
    def resolved_sandbox_cache_dir(self) -> Path:
        """Where the sandbox keeps the compiled interpreter: the configured directory or
        <data_dir>/sandbox."""
        return (self.sandbox_cache_dir or self.data_dir / "sandbox").resolve()

    def with_secret(self) -> Settings:
        """Return settings whose secret key is set, generating one kept in the data dir."""
        if self.secret_key:
            return self
        return self.model_copy(update={"secret_key": load_or_create_secret(self.data_dir)})


def load_or_create_secret(data_dir: Path) -> str:
    """Read the node's secret from the data directory, creating it (mode 0600) once."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_FILE
    if path.exists():
        secret = path.read_text().strip()
        if len(secret) >= MIN_SECRET_LENGTH:
            return secret
    secret = secrets.token_urlsafe(48)
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    # Created 0600 from the start: never readable by others, not even for a moment.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secret)
    tmp.replace(path)
    return secret
