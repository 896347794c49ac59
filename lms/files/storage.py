"""The node's file storage (blob store, staging area, limits), built from its settings."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from lms.files.s3_staging import StoreStaging
from lms.files.service import FileStorage
from lms.files.staging import Staging
from persistence.blobs import BlobStore, LocalBlobStore, S3BlobStore, S3Settings
from persistence.blobs.s3_multipart import MultipartClient, MultipartError
from settings import Settings

logger = logging.getLogger("liveclass.files")


def s3_settings(settings: Settings) -> S3Settings:
    """The configured S3-compatible bucket."""
    return S3Settings(
        bucket=settings.s3_bucket,
        endpoint=settings.s3_endpoint,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
        prefix=settings.s3_prefix,
    )


def open_blob_store(settings: Settings) -> BlobStore:
    """The data directory's ``blobs/`` or the configured S3-compatible bucket."""
    if settings.blob_store == "s3":
        return S3BlobStore(s3_settings(settings))
    return LocalBlobStore(settings.resolved_blobs_dir)


def store_staging(settings: Settings, blobs: BlobStore) -> StoreStaging | None:
    """With the S3-compatible store, uploads are staged in the bucket (any node continues
    any upload); with the local one, in the node's ``<data_dir>/uploads``."""
    if not isinstance(blobs, S3BlobStore):
        return None
    try:
        client = MultipartClient(s3_settings(settings))
    except MultipartError as exc:
        logger.warning("uploads are staged on each node's disk: %s", exc)
        return None
    return StoreStaging(blobs, client, part_size=settings.s3_upload_part_bytes)


def staging_dir(settings: Settings) -> Path:
    """Where this node stages uploads in progress."""
    return (settings.data_dir / "uploads").resolve()


def build_file_storage(settings: Settings) -> FileStorage:
    """Everything the files routes need from the node."""
    blobs = open_blob_store(settings)
    return FileStorage(
        blobs=blobs,
        staging=Staging(staging_dir(settings)),
        in_store=store_staging(settings, blobs),
        max_file_bytes=settings.upload_max_file_bytes,
        course_quota_bytes=settings.upload_course_quota_bytes,
        upload_expiry=timedelta(seconds=settings.upload_expiry_seconds),
        link_ttl=timedelta(seconds=settings.file_link_ttl_seconds),
        node_id=settings.node_id,
        secret=settings.secret_key,
    )
