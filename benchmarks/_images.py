"""The image the container benchmarks run in: the test suite's cached one,
built by mmdebstrap on first use (about a minute; needs root)."""

from __future__ import annotations

import os
from pathlib import Path

from computenet.containers import ImageStore, build_image

IMAGE = "mpi"
PACKAGES = ["openmpi-bin"]


def cached_image_store() -> ImageStore:
    root = Path(os.environ.get("CN_TEST_IMAGE_CACHE", "/tmp/computenet-test-images"))
    store = ImageStore(root / "local")
    record = store.find(IMAGE)
    if record is None or not store.has(record):
        build_image(store, IMAGE, PACKAGES)
    store.rootfs(IMAGE)
    return store
