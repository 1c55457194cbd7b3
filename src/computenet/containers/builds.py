"""Image builds in the background: an id at once, a log, a state.

A build is checked first (name, packages, mmdebstrap, apt-cache: a second)
and refused then with nothing recorded. Otherwise it is recorded in its
store and runs in the server's build thread, one build at a time (mmdebstrap
uses the machine's cores and the mirror's bandwidth)::

    builds/<id>.json    name, packages, suite, state, times, message, digest
    builds/<id>.log     mmdebstrap's output, appended as it runs

States: ``building`` -> ``ready`` (the image is named in the store) or
``failed`` (the message says why; the log stays until the build is
forgotten). A build whose server stopped is reported failed as soon as
someone looks at it: the record names the process that ran it.
"""

from __future__ import annotations

import builtins
import json
import logging
import secrets
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from computenet import runners
from computenet.containers.build import DEFAULT_TIMEOUT_S, build_image, check_build
from computenet.containers.store import ImageStore, write_atomic
from computenet.errors import ComputeNetError, ConflictError, NotFoundError, SpecError

log = logging.getLogger("computenet.containers.builds")

BUILD_VERSION = 1
STATES = ("building", "ready", "failed")
INTERRUPTED = "interrupted: the server building it stopped; build it again"
STOPPED = "stopped: the server was shut down during the build; build it again"
_ID_CHARS = set("0123456789abcdef")
#: how long a stopping server waits for mmdebstrap to end after TERM
STOP_WAIT_S = 20.0


@dataclass(frozen=True)
class BuildRecord:
    id: str
    name: str
    packages: tuple[str, ...]
    suite: str
    state: str
    runner: str  # host:pid of the server process running it
    started_at: float
    ended_at: float | None = None
    message: str | None = None
    digest: str | None = None

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["packages"] = list(self.packages)
        data["version"] = BUILD_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> BuildRecord:
        packages = data.get("packages") or []
        assert isinstance(packages, list)
        ended = data.get("ended_at")
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            packages=tuple(str(p) for p in packages),
            suite=str(data.get("suite", "")),
            state=str(data["state"]),
            runner=str(data.get("runner", "")),
            started_at=float(str(data["started_at"])),
            ended_at=None if ended is None else float(str(ended)),
            message=None if data.get("message") is None else str(data["message"]),
            digest=None if data.get("digest") is None else str(data["digest"]),
        )


def check_build_id(build_id: str) -> str:
    if len(build_id) != 12 or not set(build_id) <= _ID_CHARS:
        raise SpecError(f"{build_id!r} is not an image build id (12 hex digits)", option="id")
    return build_id


class ImageBuilds:
    """The builds of one server process; ``start`` one, then look it up by id."""

    def __init__(self, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="cnet-image-build")
        self._lock = threading.RLock()
        self._running: dict[str, subprocess.Popen[bytes] | None] = {}
        self._stopping = False

    # ----- records ----------------------------------------------------------
    @staticmethod
    def _dir(store: ImageStore) -> Path:
        return store.root / "builds"

    def _write(self, store: ImageStore, record: BuildRecord) -> None:
        path = self._dir(store) / f"{record.id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(record.to_dict(), indent=1).encode())

    def log_path(self, store: ImageStore, build_id: str) -> Path:
        return self._dir(store) / f"{check_build_id(build_id)}.log"

    def get(self, store: ImageStore, build_id: str) -> BuildRecord:
        path = self._dir(store) / f"{check_build_id(build_id)}.json"
        try:
            record = BuildRecord.from_dict(json.loads(path.read_text()))
        except FileNotFoundError:
            raise NotFoundError(f"no image build {build_id}", build=build_id) from None
        return self._settled(store, record)

    def list(self, store: ImageStore) -> builtins.list[BuildRecord]:
        """Every recorded build of ``store``, oldest first."""
        folder = self._dir(store)
        if not folder.is_dir():
            return []
        out = []
        for path in folder.glob("*.json"):
            try:
                record = BuildRecord.from_dict(json.loads(path.read_text()))
            except (OSError, ValueError, KeyError):
                continue  # being replaced right now, or damaged: not listed
            out.append(self._settled(store, record))
        return sorted(out, key=lambda r: (r.started_at, r.id))

    def log(self, store: ImageStore, build_id: str, offset: int = 0, limit: int = 1 << 20) -> bytes:
        """Up to ``limit`` bytes of the build's log from ``offset``."""
        self.get(store, build_id)
        try:
            with self.log_path(store, build_id).open("rb") as f:
                f.seek(offset)
                return f.read(limit)
        except FileNotFoundError:
            return b""

    def forget(self, store: ImageStore, name: str) -> builtins.list[BuildRecord]:
        """Drop the ended builds of ``name`` with their logs; those dropped."""
        gone = [r for r in self.list(store) if r.name == name and r.state != "building"]
        for r in gone:
            (self._dir(store) / f"{r.id}.json").unlink(missing_ok=True)
            self.log_path(store, r.id).unlink(missing_ok=True)
        return gone

    def _settled(self, store: ImageStore, record: BuildRecord) -> BuildRecord:
        """``record``, failed if it says building but its server process is gone."""
        if record.state != "building" or not _lost(record.runner, self._is_running(record.id)):
            return record
        ended = replace(record, state="failed", ended_at=time.time(), message=INTERRUPTED)
        self._write(store, ended)
        return ended

    def _is_running(self, build_id: str) -> bool:
        with self._lock:
            return build_id in self._running

    # ----- running ----------------------------------------------------------
    def start(
        self,
        store: ImageStore,
        name: str,
        packages: builtins.list[str],
        *,
        suite: str | None = None,
        mirror: str | None = None,
    ) -> BuildRecord:
        """Check the build, record it and queue it; the record, state ``building``.

        Raises SpecError or ImageError (bad input, no mmdebstrap, an unknown
        package) or ConflictError (``name`` is being built, or the server is
        stopping): nothing is recorded then."""
        wanted, chosen = check_build(name, packages, suite)
        with self._lock:
            if self._stopping:
                raise ConflictError("the server is stopping; build the image again")
            for other in self.list(store):
                if other.name == name and other.state == "building":
                    raise ConflictError(
                        f"image {name} is being built (build {other.id})", build=other.id
                    )
            record = BuildRecord(
                id=secrets.token_hex(6),
                name=name,
                packages=wanted,
                suite=chosen,
                state="building",
                runner=runners.this_process(),
                started_at=time.time(),
            )
            self._write(store, record)
            self._running[record.id] = None
        self._pool.submit(self._run, store, record, mirror)
        return record

    def _run(self, store: ImageStore, record: BuildRecord, mirror: str | None) -> None:
        def started(proc: subprocess.Popen[bytes]) -> None:
            with self._lock:
                self._running[record.id] = proc
                if self._stopping:
                    proc.terminate()

        try:
            image = build_image(
                store,
                record.name,
                record.packages,
                suite=record.suite,
                mirror=mirror,
                timeout_s=self.timeout_s,
                log_path=self.log_path(store, record.id),
                started=started,
            )
            ended = replace(record, state="ready", digest=image.digest)
        except ComputeNetError as exc:
            message = STOPPED if self._stopping else exc.message
            ended = replace(record, state="failed", message=message)
        except Exception:  # a bug: the record must not stay building
            log.exception("image build %s", record.id)
            ended = replace(record, state="failed", message="internal error; see the server log")
        try:
            # written while still counted as running here, so that no reader
            # in between takes the build for one whose server went away
            self._write(store, replace(ended, ended_at=time.time()))
        finally:
            with self._lock:
                self._running.pop(record.id, None)

    def shutdown(self) -> None:
        """End the running build (it is recorded failed, with its log) and drop queued ones."""
        with self._lock:
            self._stopping = True
            procs = [p for p in self._running.values() if p is not None and p.poll() is None]
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                proc.kill()  # mmdebstrap cleans up on TERM; one that does not is not waited for
        self._pool.shutdown(wait=True, cancel_futures=True)


def _lost(runner: str, running_here: bool) -> bool:
    """Whether the server process named ``runner`` no longer runs the build."""
    if runner == runners.this_process():
        return not running_here
    return bool(runners.gone(runner))
