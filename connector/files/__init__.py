"""Setup files and case records: listed and downloaded by their own jobs, encrypted at rest
(a data key per blob, AES-256-GCM in fixed-size chunks; `vault.stream`), stored in the
filesystem or the database, deduplicated per account by a keyed hash, and served by the API."""

from connector.files.blobs import BlobStores, DatabaseBlobs, FilesystemBlobs
from connector.files.fetch import FilesServices, TurnResult, fetch_account
from connector.files.housekeeping import blob_remover, forget_account, sweep
from connector.files.loop import (
    FilesLoop,
    blob_stores,
    files_services,
    queue_eager_listings,
)
from connector.files.policy import FilePolicy
from connector.files.rotation import file_keys_not_on_primary, rewrap_file_keys

__all__ = [
    "BlobStores",
    "DatabaseBlobs",
    "FilePolicy",
    "FilesLoop",
    "FilesServices",
    "FilesystemBlobs",
    "TurnResult",
    "blob_remover",
    "blob_stores",
    "fetch_account",
    "file_keys_not_on_primary",
    "files_services",
    "forget_account",
    "queue_eager_listings",
    "rewrap_file_keys",
    "sweep",
]
