"""Two servers on one PostgreSQL database: a revocation or a disabled user on one
is refused by the other within ``auth_cache_ttl_s`` (the bound in docs/tenancy.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from computenet.client import Client
from computenet.config import Settings
from computenet.errors import AuthError
from tests.support.clusters import fake_configs
from tests.support.live import TOKEN

pytestmark = pytest.mark.integration

TTL_S = 2.0


def _refused_after(client: Client, start: float, limit_s: float) -> float:
    """Seconds from ``start`` until ``client`` is refused (polling every 50 ms)."""
    while time.monotonic() - start < limit_s:
        try:
            client.whoami()
        except AuthError:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"still accepted {limit_s} s after the change")


def test_revocation_and_disabling_reach_the_other_server_within_the_ttl(
    postgres_url: str, tmp_path: Path, make_live_server: Callable[[Any], Any]
) -> None:
    servers = [
        make_live_server(
            Settings(
                data_dir=tmp_path / name / "data",
                state_dir=tmp_path / name / "state",
                database_url=postgres_url,
                clusters=fake_configs(),
                token=TOKEN,
                user="admin",
                auth_cache_ttl_s=TTL_S,
            )
        )
        for name in ("a", "b")
    ]
    first, second = servers
    with first.client(TOKEN) as admin:
        alice = admin.add_user("alice", project="chem")["token"]
        made = admin.create_token("shared")
    with second.client(made["token"]) as there, second.client(alice) as alice_there:
        there.whoami()
        alice_there.whoami()  # both cached on the second server now
        start = time.monotonic()
        with first.client(TOKEN) as admin:
            admin.revoke_token(made["id"])
            with first.client(made["token"]) as here, pytest.raises(AuthError):
                here.whoami()  # at once where it was revoked
        took = _refused_after(there, start, TTL_S + 3)
        assert took <= TTL_S + 0.5, f"took {took:.2f} s"
        print(f"revoked token refused by the other server after {took:.2f} s (TTL {TTL_S} s)")
        start = time.monotonic()
        with first.client(TOKEN) as admin:
            admin.set_user("alice", disabled=True)
        took = _refused_after(alice_there, start, TTL_S + 3)
        assert took <= TTL_S + 0.5, f"took {took:.2f} s"
        print(f"disabled user refused by the other server after {took:.2f} s (TTL {TTL_S} s)")
