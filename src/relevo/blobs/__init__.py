"""Where artifact files live: a blob store behind one small interface."""

from relevo.blobs.base import BlobStore, Staged
from relevo.blobs.local import LocalBlobStore

__all__ = ["BlobStore", "LocalBlobStore", "Staged"]
