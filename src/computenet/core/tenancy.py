"""Tenancy as one server sees it: callers by token, projects' access, identities.

What is read from the database is kept for ``auth_cache_ttl_s`` (default
5 s), so a request costs no query on the hot path:

- a token's caller (``principal``): a revocation, a disabled user or a role
  change made through this server takes effect at once (the entries are
  dropped); made through another server sharing the database, within the
  TTL. Expiry is checked on every request against the clock. While the
  database is unreachable, a caller read before is still known (nothing can
  revoke a token then), so reads that need no query keep working.
- a project's allowed clusters and partitions and the identities of every
  cluster (``access``), which the broker reads at submission and placement.

``logins`` counts failed logins per user name and per client address (in
this server's memory: servers sharing a database count apart).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from computenet.clock import Clock
from computenet.config import ClusterConfig
from computenet.core.service import Principal
from computenet.errors import AuthError, StoreError
from computenet.model.tenancy import ClusterIdentity
from computenet.network.access import ProjectAccess
from computenet.store import projects as project_repo
from computenet.store.db import Store
from computenet.store.tables_tenancy import ProjectRow
from computenet.store.users import Credentials, authenticate, hash_token

log = logging.getLogger("computenet.tenancy")

MAX_CACHED = 20_000  # cached callers before stale entries are swept


@dataclass
class _Cached:
    principal: Principal
    checked_at: float


def principal_of(creds: Credentials) -> Principal:
    user, token = creds.user, creds.token
    return Principal(
        name=user.name,
        is_admin=user.is_admin,
        project=user.default_project,
        roles=dict(creds.roles),
        scopes=frozenset(token.scopes),
        expires_at=token.expires_at,
        token_id=token.id,
        token_kind=token.kind,
        display_name=user.display_name,
    )


class Tenancy:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        cluster_configs: Callable[[], Iterable[ClusterConfig]],
        *,
        ttl_s: float = 5.0,
        login_max_failures: int = 5,
        login_window_s: float = 900.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.ttl_s = ttl_s
        self.logins = LoginLimiter(clock, login_max_failures, login_window_s)
        self._configs = cluster_configs
        self._callers: dict[str, _Cached] = {}
        self._access: dict[str, tuple[ProjectAccess | None, float]] = {}
        self._identities: tuple[list[ClusterIdentity], float] | None = None
        self._lock = threading.Lock()

    # ----- callers -----------------------------------------------------------
    def principal(self, token: str | None) -> Principal:
        """The caller behind ``token``; ``AuthError`` if there is none."""
        if not token:
            raise AuthError("missing bearer token (Authorization: Bearer ...)")
        key = hash_token(token)
        now = self.clock.now()
        hit = self._callers.get(key)
        if hit is not None and now - hit.checked_at < self.ttl_s:
            p = hit.principal
            if p.expires_at is not None and p.expires_at <= now:
                self._callers.pop(key, None)
                kind = "session" if p.token_kind == "session" else "token"  # nosec B105
                raise AuthError(f"{kind} {p.token_id} has expired")
            return p
        try:
            with self.store.session() as session:
                principal = principal_of(authenticate(session, token, now=now))
        except StoreError:
            if hit is None or (hit.principal.expires_at or float("inf")) <= now:
                raise
            # The database is unreachable: nothing can revoke the token or change
            # the user's roles until it is back, so what was read last still holds.
            return hit.principal
        if len(self._callers) >= MAX_CACHED:
            self._sweep(now)
        self._callers[key] = _Cached(principal, now)
        return principal

    def _sweep(self, now: float) -> None:
        with self._lock:
            for key, hit in list(self._callers.items()):
                if now - hit.checked_at >= self.ttl_s:
                    self._callers.pop(key, None)

    def forget_user(self, name: str) -> None:
        """Drop what is cached about ``name``'s tokens (roles, disabled, password)."""
        with self._lock:
            for key, hit in list(self._callers.items()):
                if hit.principal.name == name:
                    self._callers.pop(key, None)

    def forget_token(self, token_id: int) -> None:
        with self._lock:
            for key, hit in list(self._callers.items()):
                if hit.principal.token_id == token_id:
                    self._callers.pop(key, None)

    def forget_all(self) -> None:
        with self._lock:
            self._callers.clear()
            self._access.clear()
            self._identities = None

    # ----- projects and identities ------------------------------------------
    def identities(self) -> list[ClusterIdentity]:
        """Every cluster's identities: the configuration file's, then the
        stored ones for (cluster, project) pairs the file does not name."""
        now = self.clock.now()
        cached = self._identities
        if cached is not None and now - cached[1] < self.ttl_s:
            return cached[0]
        out = config_identities(self._configs())
        named = {(i.cluster, i.project) for i in out}
        with self.store.session() as session:
            out += [
                i
                for i in project_repo.stored_identities(session)
                if (i.cluster, i.project) not in named
            ]
        self._identities = (out, now)
        return out

    def identity(self, cluster: str, project: str) -> ClusterIdentity | None:
        for i in self.identities():
            if i.cluster == cluster and i.project == project:
                return i
        return None

    def access(self, project: str) -> ProjectAccess | None:
        """What ``project`` may use; None when nothing restricts it (no such
        row and no identities anywhere), so the broker's views stay as they are."""
        now = self.clock.now()
        hit = self._access.get(project)
        if hit is not None and now - hit[1] < self.ttl_s:
            return hit[0]
        pairs = [(i.cluster, i.project) for i in self.identities()]
        with self.store.session() as session:
            row = session.get(ProjectRow, project)
            clusters = list(row.clusters) if row is not None else []
            partitions = list(row.partitions) if row is not None else []
        access: ProjectAccess | None = None
        if clusters or partitions or pairs:
            access = ProjectAccess.build(project, clusters, partitions, pairs)
        self._access[project] = (access, now)
        return access

    def forget_project(self, name: str | None = None) -> None:
        """Drop cached access (of one project, or all) and the identities."""
        with self._lock:
            if name is None:
                self._access.clear()
            else:
                self._access.pop(name, None)
            self._identities = None


class LoginLimiter:
    """At most ``max_failures`` failed logins per key (``user:NAME``,
    ``addr:HOST``) in any ``window_s``; then every attempt on that key,
    right or wrong, waits until the oldest failure leaves the window."""

    MAX_KEYS = 100_000

    def __init__(self, clock: Clock, max_failures: int, window_s: float) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def retry_after(self, keys: Sequence[str]) -> float | None:
        """Seconds until an attempt on ``keys`` is allowed, or None if it is now."""
        now = self.clock.now()
        waits = []
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.max_failures:
                    waits.append(times[0] + self.window_s - now)
        return max(waits) if waits else None

    def failed(self, keys: Sequence[str]) -> None:
        now = self.clock.now()
        with self._lock:
            if len(self._failures) >= self.MAX_KEYS:
                for key in list(self._failures):
                    self._recent(key, now)
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


def config_identities(configs: Iterable[ClusterConfig]) -> list[ClusterIdentity]:
    out = []
    for config in configs:
        for project, ident in sorted(config.identities.items()):
            try:
                out.append(
                    ClusterIdentity(
                        cluster=config.name,
                        project=project,
                        user=ident.user,
                        ssh_key=ident.ssh_key,
                        source="config",
                    )
                )
            except ValueError as exc:
                log.error("cluster %s, identity of project %s: %s", config.name, project, exc)
    return out
