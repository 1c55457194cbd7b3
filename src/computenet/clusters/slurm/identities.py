"""Who runs the Slurm commands of a submission: the project's identity at the cluster.

- an SSH cluster logs in as the identity's account with its key (each
  missing part taken from the cluster's own ``ssh`` and ``ssh_key``);
- a local cluster runs ``sbatch`` as the identity's Unix account, which
  needs the server to run as root (else a ``ClusterError`` saying so).

One transport is kept per (account, key). Jobs are later cancelled and
their output read as the account they run as (Slurm's ``UserId``), so the
server never reads a file the job itself could not.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping, Sequence

from computenet.clusters.transport import LocalTransport, Transport
from computenet.config import ClusterConfig
from computenet.errors import ClusterError
from computenet.model.tenancy import ClusterIdentity


def server_account() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


class IdentityTransports:
    """The transports of one cluster's identities, beside its own ``default``."""

    def __init__(self, config: ClusterConfig, default: Transport) -> None:
        self.config = config
        self.default = default
        self.by_project: dict[str, ClusterIdentity] = {}
        self._made: dict[tuple[str | None, str | None], Transport] = {}

    def use(self, identities: Sequence[ClusterIdentity]) -> None:
        self.by_project = {i.project: i for i in identities}

    @property
    def gated(self) -> bool:
        """Once a cluster lists identities, only their projects run there."""
        return bool(self.by_project)

    def for_submission(self, project: str | None, identity: ClusterIdentity | None) -> Transport:
        """The transport to submit with (``ClusterError`` when there is none)."""
        if identity is None:
            if self.gated:
                raise ClusterError(
                    f"project {project} has no identity at cluster {self.config.name}"
                )
            return self.default
        return self._transport(identity)

    def for_account(self, user: str | None) -> Transport:
        """The transport of the identity whose account is ``user`` (a job's
        owner at the cluster), else the cluster's own."""
        for identity in self.by_project.values():
            if user is not None and self._account(identity) == user:
                return self._transport(identity)
        return self.default

    def all(self) -> list[Transport]:
        """The cluster's own transport, then one per account that submits here
        (identities whose transport cannot be made are left out: nothing was
        ever submitted with them)."""
        out = [self.default]
        for identity in self.by_project.values():
            try:
                made = self._transport(identity)
            except ClusterError:
                continue
            if all(made is not t for t in out):
                out.append(made)
        return out

    def _account(self, identity: ClusterIdentity) -> str | None:
        if identity.user is not None:
            return identity.user
        if self.config.ssh:
            from computenet.clusters.slurm.ssh_transport import SshTarget

            return SshTarget.parse(self.config.ssh).user
        return None

    def _transport(self, identity: ClusterIdentity) -> Transport:
        key = (identity.user, identity.ssh_key)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = self._make(identity)
        return made

    def _make(self, identity: ClusterIdentity) -> Transport:
        config = self.config
        env: Mapping[str, str] = {"SLURM_CONF": config.slurm_conf} if config.slurm_conf else {}
        if config.ssh:
            from computenet.clusters.slurm.ssh_transport import SshTarget, SshTransport

            target = SshTarget.parse(config.ssh)
            return SshTransport(
                SshTarget(identity.user or target.user, target.host, target.port),
                key_path=identity.ssh_key or config.ssh_key,
                known_hosts=config.ssh_known_hosts,
                base_env=env,
            )
        if identity.user is None:
            raise ClusterError(
                f"cluster {config.name}: project {identity.project}'s identity has no Unix "
                "account, and a local cluster has no SSH login to use a key for"
            )
        me = server_account()
        if identity.user == me:
            return self.default
        if os.geteuid() != 0:
            raise ClusterError(
                f"cluster {config.name} submits for project {identity.project} as Unix account "
                f"{identity.user}: running sbatch as another account needs the computenet "
                f"server to run as root (it runs as {me})"
            )
        return LocalTransport(base_env=env, user=identity.user)

    async def close(self) -> None:
        for made in self._made.values():
            if made is not self.default:
                await made.close()
        self._made.clear()
