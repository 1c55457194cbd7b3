"""A job's container image, copied to its cluster's site like an input.

Images are built into the store of ``settings.image_site``. A job placed on
a cluster at another site first has the image's blob copied into that
site's store by the transfer engine (a recorded, BLAKE3-checked, resumable
transfer with the job's id), then named there; the broker counts the copy
in the placement's staging time (``missing_bytes`` over the staging link).
An image no store knows is not staged: the cluster fails the job with
``no image named ...``.
"""

from __future__ import annotations

from computenet.config import Settings
from computenet.containers.store import ImageRecord, ImageStore, file_digest
from computenet.errors import IntegrityError
from computenet.model import JobSpec
from computenet.store.db import Store


def source_record(settings: Settings, spec: JobSpec) -> ImageRecord | None:
    """The build site's record of the job's image (None: no image, or unknown)."""
    if not spec.container_image:
        return None
    try:
        return ImageStore(settings.image_root(settings.image_site)).find(spec.container_image)
    except Exception:  # a bad name or a damaged record: the cluster says why
        return None


def missing_bytes(settings: Settings, spec: JobSpec, site: str) -> int:
    """Bytes to copy so that ``site``'s store holds the job's image (0: none)."""
    record = source_record(settings, spec)
    if record is None or site == settings.image_site:
        return 0
    return 0 if ImageStore(settings.image_root(site)).has(record) else record.size_bytes


async def stage_image(
    store: Store, settings: Settings, spec: JobSpec, *, job_id: str, site: str
) -> int:
    """Copy the job's image into ``site``'s store if it is missing; bytes moved.

    Raises TransferError (IntegrityError when the copy's digest differs);
    the name is written only after the blob checks out."""
    from computenet.core.staging import LOCAL_SITE, move

    record = source_record(settings, spec)
    if record is None or site == settings.image_site:
        return 0
    target = ImageStore(settings.image_root(site))
    if target.has(record):
        return 0
    source = ImageStore(settings.image_root(settings.image_site))
    blob = target.blob_path(record.digest)
    moved = 0
    if not target.has_blob(record.digest):
        blob.parent.mkdir(parents=True, exist_ok=True)
        partial = blob.with_suffix(".partial")
        moved = await move(
            store,
            job_id=job_id,
            direction="in",
            src_site=LOCAL_SITE,
            src_path=str(source.blob_path(record.digest)),
            dst_site=LOCAL_SITE,
            dst_path=str(partial),
        )
        if file_digest(partial) != record.digest:
            partial.unlink(missing_ok=True)
            raise IntegrityError(f"image {record.name}: the copy to {site} has another digest")
        partial.rename(blob)
    target.add(record)
    return moved
