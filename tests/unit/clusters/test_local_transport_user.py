"""LocalTransport as another Unix account: commands and file reads with its rights."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from computenet.clusters.transport import LocalTransport
from computenet.errors import ClusterError

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="switching accounts needs root")


async def test_commands_run_as_the_account() -> None:
    t = LocalTransport(user="nobody")
    done = await t.run(["sh", "-c", 'id -un; echo "$HOME $USER"'])
    assert done.returncode == 0, done.err
    assert done.out.splitlines() == ["nobody", "/nonexistent nobody"]


async def test_files_are_read_with_the_accounts_rights() -> None:
    tmp_path = Path(tempfile.mkdtemp(prefix="cn-transport-"))  # pytest's own is 0700
    os.chmod(tmp_path, 0o755)
    try:
        await _reads(tmp_path)
    finally:
        shutil.rmtree(tmp_path)


async def _reads(tmp_path: Path) -> None:
    public = tmp_path / "public.out"
    public.write_bytes(b"0123456789")
    public.chmod(0o644)
    secret = tmp_path / "secret.out"
    secret.write_bytes(b"root only")
    secret.chmod(0o600)
    t = LocalTransport(user="nobody")
    assert await t.read_file(str(public), offset=2, limit=5) == b"23456"
    assert await t.read_file(str(tmp_path / "missing.out")) == b""
    with pytest.raises(ClusterError) as err:
        await t.read_file(str(secret))
    assert "as nobody" in err.value.message and "root only" not in err.value.message
    assert await LocalTransport().read_file(str(secret)) == b"root only"


def test_an_unknown_account_is_a_clear_error() -> None:
    with pytest.raises(ClusterError, match="no Unix account 'no-such-user-x'"):
        LocalTransport(user="no-such-user-x")
