"""A real image with OpenMPI, built by mmdebstrap once and reused.

The store lives in ``$CN_TEST_IMAGE_CACHE`` (default
/tmp/computenet-test-images), so the first session builds the image (about
a minute on the Debian mirror) and later ones find it. Tests that change a
store get their own and share the cached blob through a hard link.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from computenet.containers import ImageRecord, ImageStore, build_image

IMAGE = "mpi"
PACKAGES = ["openmpi-bin"]


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "building images here needs root (mmdebstrap --mode=root)"
    for tool in ("bwrap", "mmdebstrap", "mpirun", "mpicc"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


@pytest.fixture(scope="session")
def cached_store() -> ImageStore:
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    root = Path(os.environ.get("CN_TEST_IMAGE_CACHE", "/tmp/computenet-test-images"))
    store = ImageStore(root / "local")
    record = store.find(IMAGE)
    if record is None or not store.has(record):
        build_image(store, IMAGE, PACKAGES)
    store.rootfs(IMAGE)
    return store


def link_image(source: ImageStore, target: ImageStore, name: str = IMAGE) -> ImageRecord:
    """Put ``source``'s image ``name`` into ``target`` without copying its bytes."""
    record = source.get(name)
    blob = target.blob_path(record.digest)
    blob.parent.mkdir(parents=True, exist_ok=True)
    if not blob.exists():
        os.link(source.blob_path(record.digest), blob)
    return target.add(record)
