"""Blob storage: a ``BlobStore`` protocol with a local-directory and an S3 implementation."""

from persistence.blobs.local import LocalBlobStore
from persistence.blobs.s3 import S3BlobStore, S3Settings
from persistence.blobs.store import (
    BlobError,
    BlobInfo,
    BlobNotFound,
    BlobStore,
    InvalidKey,
    Written,
    check_key,
)

__all__ = [
    "BlobError",
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "InvalidKey",
    "LocalBlobStore",
    "S3BlobStore",
    "S3Settings",
    "Written",
    "check_key",
]
