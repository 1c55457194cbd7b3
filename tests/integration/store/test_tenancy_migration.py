"""Upgrading a 0003 database (users with one token each, jobs) to tenancy loses nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from computenet.store import projects
from computenet.store.db import MIGRATIONS_DIR, Store
from computenet.store.users import authenticate, hash_token

pytestmark = pytest.mark.integration

ALICE_TOKEN = "cn_alice_token_from_before"
BOB_TOKEN = "cn_bob_token_from_before"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return str(request.getfixturevalue("postgres_url"))


def _at_0003(store: Store) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = store.engine
    command.upgrade(cfg, "0003")
    users = [
        {"n": "alice", "h": hash_token(ALICE_TOKEN), "p": "chem", "a": False},
        {"n": "bob", "h": hash_token(BOB_TOKEN), "p": "default", "a": True},
    ]
    jobs: list[dict[str, Any]] = [
        {"owner": "alice", "project": "chem", "name": "a1"},
        {"owner": "alice", "project": "bio", "name": "a2"},  # a project no user names
        {"owner": "bob", "project": "default", "name": "b1"},
        {"owner": "ghost", "project": "gone", "name": "g1"},  # an owner with no user row
    ]
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (name, token_hash, is_admin, project, created_at) "
                "VALUES (:n, :h, :a, :p, 100.0)"
            ),
            users,
        )
        for i, job in enumerate(jobs, start=1):
            conn.execute(
                sa.text(
                    "INSERT INTO jobs (id, owner, project, name, state, version, spec, summary, "
                    "submit_time, attempt_count, cancel_requested, updated_at) VALUES "
                    "(:id, :owner, :project, :name, 'COMPLETED', 3, '{}', '{}', 1.0, 1, :f, 2.0)"
                ),
                {"id": i, "f": False, **job},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO job_events (job_id, time, from_state, to_state) "
                    "VALUES (:id, 1.0, NULL, 'PENDING')"
                ),
                {"id": i},
            )


def test_upgrade_keeps_jobs_users_and_tokens(url: str) -> None:
    store = Store(url)
    _at_0003(store)
    store.migrate()
    with store.session() as s:
        jobs = s.execute(sa.text("SELECT id, owner, project FROM jobs ORDER BY id")).all()
        assert [tuple(j) for j in jobs] == [
            (1, "alice", "chem"),
            (2, "alice", "bio"),
            (3, "bob", "default"),
            (4, "ghost", "gone"),
        ]
        assert s.execute(sa.text("SELECT count(*) FROM job_events")).scalar() == 4
        alice = authenticate(s, ALICE_TOKEN, now=200.0)
        assert alice.user.name == "alice" and alice.user.default_project == "chem"
        assert alice.token.kind == "personal" and alice.token.name == "default"
        assert set(alice.token.scopes) == {"read", "submit", "manage"}
        assert alice.token.expires_at is None and alice.token.revoked_at is None
        assert alice.roles == {"chem": "member", "bio": "member"}
        bob = authenticate(s, BOB_TOKEN, now=200.0)
        assert bob.user.is_admin and bob.roles == {"default": "member"}
        assert [p.name for p in projects.list_projects(s)] == ["bio", "chem", "default", "gone"]
        assert projects.members(s, "gone") == []  # ghost has no user row to be a member
    store.migrate()  # idempotent
    store.close()


def test_upgraded_server_answers_old_tokens(url: str, tmp_path: Path) -> None:
    from computenet.client import Client
    from computenet.config import Settings
    from computenet.core.runtime import Runtime
    from tests.support.clusters import fake_configs
    from tests.support.live import LiveServer

    store = Store(url)
    _at_0003(store)
    store.close()
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        database_url=url,
        clusters=fake_configs(),
        token="cn_the_local_admin",
        user="admin",
    )
    server = LiveServer(Runtime(settings))
    try:
        with Client(server.url, ALICE_TOKEN) as alice:
            me = alice.whoami()
            assert me["default_project"] == "chem" and me["token_kind"] == "personal"
            assert [j["name"] for j in alice.jobs(all=True)] == ["a1", "a2"]
            assert alice.job(1)["state"] == "COMPLETED"
        with Client(server.url, BOB_TOKEN) as bob:
            assert len(list(bob.jobs(all=True, all_users=True))) == 4  # an admin sees all
    finally:
        server.stop()
