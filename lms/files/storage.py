"""The node's file storage (blob store, staging area, limits), built from its settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from lms.files.service import FileStorage
from lms.files.staging import Staging
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


def staging_dir(settings: Settings) -> Path:
    """Where this node stages uploads in progress."""
    return (settings.data_dir / "uploads").resolve()


def build_file_storage(settings: Settings) -> FileStorage:
    """Everything the files routes need from the node."""
    return FileStorage(
        blobs=open_blob_store(settings),
        staging=Staging(staging_dir(settings)),
        max_file_bytes=settings.upload_max_file_bytes,
        course_quota_bytes=settings.upload_course_quota_bytes,
        upload_expiry=timedelta(seconds=settings.upload_expiry_seconds),
        link_ttl=timedelta(seconds=settings.file_link_ttl_seconds),
        node_id=settings.node_id,
        secret=settings.secret_key,
    )
