"""Container images (a site's store, built from Debian packages) and the
bubblewrap runtime that runs jobs in them. See docs/containers.md."""

from computenet.containers.build import build_image, host_suite
from computenet.containers.runtime import bwrap_argv, bwrap_path, check_mounts, check_starts
from computenet.containers.store import ImageRecord, ImageStore, check_name, file_digest

__all__ = [
    "ImageRecord",
    "ImageStore",
    "build_image",
    "bwrap_argv",
    "bwrap_path",
    "check_mounts",
    "check_name",
    "check_starts",
    "file_digest",
    "host_suite",
]
