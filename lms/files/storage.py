"""The node's blob store, opened from its settings."""

from __future__ import annotations

from persistence.blobs import BlobStore, LocalBlobStore, S3BlobStore, S3Settings
from settings import Settings


def open_blob_store(settings: Settings) -> BlobStore:
    """The data directory's ``blobs/`` or the configured S3-compatible bucket."""
    if settings.blob_store == "s3":
        return S3BlobStore(
            S3Settings(
                bucket=settings.s3_bucket,
                endpoint=settings.s3_endpoint,
                region=settings.s3_region,
                access_key_id=settings.s3_access_key_id,
                secret_access_key=settings.s3_secret_access_key,
                prefix=settings.s3_prefix,
            )
        )
    return LocalBlobStore(settings.resolved_blobs_dir)
