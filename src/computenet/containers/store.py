"""A site's image store: content-addressed image tarballs and their names.

Layout under the site's directory::

    blobs/blake3-<hex>.tar      an image: a root filesystem as a tarball
    names/<name>.json           a name -> the blob's digest, packages, size
    rootfs/blake3-<hex>/        the tarball unpacked, made on first use

A name is written last (after its blob is complete), and each write is an
atomic rename, so a reader never sees a name without its blob and a crash
leaves at most an unreferenced blob behind. Several processes may share one
store; unpacking the same image twice at once is harmless (one rename wins).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

import blake3

from computenet.errors import ImageError, NotFoundError, SpecError

IMAGE_VERSION = 1
#: a local image name, optionally with a tag: ``mpi``, ``mpi:bookworm``
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}(?::[A-Za-z0-9._-]{1,64})?$")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ImageRecord:
    name: str
    digest: str  # "blake3-<hex>" of the tarball
    size_bytes: int
    packages: tuple[str, ...] = ()
    suite: str = ""
    created_at: float = 0.0

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["packages"] = list(self.packages)
        data["version"] = IMAGE_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ImageRecord:
        packages = data.get("packages") or []
        assert isinstance(packages, list)
        return cls(
            name=str(data["name"]),
            digest=str(data["digest"]),
            size_bytes=int(str(data["size_bytes"])),
            packages=tuple(str(p) for p in packages),
            suite=str(data.get("suite", "")),
            created_at=float(str(data.get("created_at", 0.0))),
        )


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise SpecError(
            f"image name {name!r}: use lower-case letters, digits and ._- "
            "(at most 63), optionally :TAG",
            option="name",
        )
    return name


def file_digest(path: Path) -> str:
    h = blake3.blake3()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return f"blake3-{h.hexdigest()}"


class ImageStore:
    """The images of one site, in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # ----- paths ---------------------------------------------------------
    def blob_path(self, digest: str) -> Path:
        if not re.fullmatch(r"blake3-[0-9a-f]{64}", digest):
            raise ImageError(f"not an image digest: {digest!r}")
        return self.root / "blobs" / f"{digest}.tar"

    def _name_path(self, name: str) -> Path:
        return self.root / "names" / f"{quote(check_name(name), safe='')}.json"

    # ----- names ---------------------------------------------------------
    def list(self) -> list[ImageRecord]:
        names = self.root / "names"
        if not names.is_dir():
            return []
        out = []
        for path in sorted(names.glob("*.json")):
            try:
                out.append(ImageRecord.from_dict(json.loads(path.read_text())))
            except (OSError, ValueError, KeyError):
                continue  # being replaced right now, or damaged: not listed
        return sorted(out, key=lambda r: r.name)

    def find(self, name: str) -> ImageRecord | None:
        try:
            data = json.loads(self._name_path(name).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ImageError(f"image {name}: unreadable record: {exc}") from exc
        return ImageRecord.from_dict(data)

    def get(self, name: str) -> ImageRecord:
        record = self.find(name)
        if record is None:
            raise NotFoundError(f"no image named {name!r} (see cnet image ls)", image=name)
        return record

    def has(self, record: ImageRecord) -> bool:
        """Whether this store holds ``record``'s blob under its name."""
        mine = self.find(record.name)
        return mine is not None and mine.digest == record.digest and self.has_blob(record.digest)

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def add(self, record: ImageRecord) -> ImageRecord:
        """Name ``record`` (its blob must be here already)."""
        if not self.has_blob(record.digest):
            raise ImageError(f"image {record.name}: blob {record.digest} is not in the store")
        path = self._name_path(record.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(record.to_dict(), indent=1).encode())
        return record

    def add_tarball(
        self, name: str, tarball: Path, *, packages: tuple[str, ...] = (), suite: str = ""
    ) -> ImageRecord:
        """Move ``tarball`` into the store under its digest and name it."""
        check_name(name)
        digest = file_digest(tarball)
        blob = self.blob_path(digest)
        blob.parent.mkdir(parents=True, exist_ok=True)
        if not blob.exists():
            os.replace(tarball, blob)
        record = ImageRecord(
            name=name,
            digest=digest,
            size_bytes=blob.stat().st_size,
            packages=packages,
            suite=suite,
            created_at=time.time(),
        )
        return self.add(record)

    def remove(self, name: str) -> ImageRecord:
        """Forget ``name``; its blob and root filesystem go once no name uses them."""
        record = self.get(name)
        self._name_path(name).unlink(missing_ok=True)
        if all(r.digest != record.digest for r in self.list()):
            self.blob_path(record.digest).unlink(missing_ok=True)
            shutil.rmtree(self.root / "rootfs" / record.digest, ignore_errors=True)
        return record

    # ----- use -----------------------------------------------------------
    def rootfs(self, name: str) -> Path:
        """The image's root filesystem, unpacked from its blob on first use."""
        record = self.get(name)
        target = self.root / "rootfs" / record.digest
        if target.is_dir():
            return target
        blob = self.blob_path(record.digest)
        if not blob.is_file():
            raise ImageError(f"image {name}: its blob {record.digest} is missing from the store")
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
        try:
            # GNU tar keeps what a root filesystem holds (device nodes as root,
            # absolute symlinks inside the tree) exactly as mmdebstrap wrote it
            proc = subprocess.run(  # nosec B607
                ["tar", "-C", str(work), "--numeric-owner", "-xf", str(blob)],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                raise ImageError(f"image {name}: cannot unpack: {proc.stderr.strip()[-300:]}")
            try:
                os.rename(work, target)
            except OSError:
                if not target.is_dir():
                    raise
        except OSError as exc:
            raise ImageError(f"image {name}: cannot unpack: {exc}") from exc
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
        return target


def write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
