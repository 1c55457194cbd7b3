"""Personal tokens: scopes, expiry and revocation, at once and across servers."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from computenet.clock import FakeClock
from computenet.core.runtime import Runtime
from computenet.errors import AuthError, ForbiddenError, NotFoundError
from tests.support.live import LiveServer

from .conftest import TOKEN, ClockedServer, clocked_settings


def test_a_read_token_reads_and_cannot_write(clocked: ClockedServer) -> None:
    with clocked.client() as admin:
        alice = admin.add_user("alice", project="chem")["token"]
    with clocked.client(alice) as a:
        made = a.create_token("ci-read", scopes=["read"])
        assert made["token"].startswith("cn_") and made["scopes"] == ["read"]
        job = a.submit(options=["--wrap", "true", "--hold"])
    with clocked.client(made["token"]) as ro:
        assert ro.job(job["id"])["id"] == job["id"]
        assert ro.whoami()["scopes"] == ["read"]
        with pytest.raises(ForbiddenError) as err:
            ro.submit(options=["--wrap", "true"])
        assert "submit scope" in err.value.message and "has: read" in err.value.message
        with pytest.raises(ForbiddenError):
            ro.cancel(job["id"])
        with pytest.raises(ForbiddenError):  # making tokens needs manage
            ro.create_token("more")
    with clocked.client(alice) as a:
        assert a.job(job["id"])["state"] == "PENDING"


def test_a_token_cannot_grant_more_than_its_maker(clocked: ClockedServer) -> None:
    with clocked.client() as admin:
        narrow = admin.create_token("narrow", scopes=["read", "manage"])["token"]
    with clocked.client(narrow) as n:
        with pytest.raises(ForbiddenError) as err:
            n.create_token("wide", scopes=["read", "submit"])
        assert "lacks submit" in err.value.message
        assert n.create_token("same")["scopes"] == ["read", "manage"]


def test_tokens_are_listed_without_their_secret_and_revoked_by_owner(
    clocked: ClockedServer,
) -> None:
    with clocked.client() as admin:
        alice = admin.add_user("alice", project="chem")["token"]
        bob = admin.add_user("bob", project="phys")["token"]
    with clocked.client(alice) as a, clocked.client(bob) as b:
        made = a.create_token("laptop", expires_in_s=86400)
        listed = a.tokens()
        assert [t["name"] for t in listed] == ["default", "laptop"]
        assert all("token" not in t and "token_hash" not in t for t in listed)
        assert [t["current"] for t in listed] == [True, False]
        assert listed[1]["expires_at"] == clocked.clock.now() + 86400
        with clocked.client(made["token"]) as laptop:
            laptop.whoami()  # now cached by the server
            with pytest.raises(NotFoundError):  # bob cannot see, let alone revoke, it
                b.revoke_token(made["id"])
            laptop.whoami()
            assert a.revoke_token(made["id"])["revoked_at"] == clocked.clock.now()
            with pytest.raises(AuthError) as err:
                laptop.whoami()  # at once, despite the cache
            assert "revoked" in err.value.message
        assert [t["name"] for t in a.tokens()] == ["default"]
        assert [t["name"] for t in a.tokens(revoked=True)] == ["default", "laptop"]
        with pytest.raises(ForbiddenError):
            b.tokens(user="alice")
    with clocked.client() as admin:
        assert {t["owner"] for t in admin.tokens(user="*")} == {"admin", "alice", "bob"}
        other = next(t for t in admin.tokens(user="bob"))
        admin.revoke_token(other["id"])
    with clocked.client(bob) as b, pytest.raises(AuthError):
        b.whoami()


def test_expiry_holds_even_for_a_cached_token(clocked: ClockedServer) -> None:
    with clocked.client() as admin:
        short = admin.create_token("short", expires_in_s=60)
    with clocked.client(short["token"]) as s:
        s.whoami()
        clocked.clock.advance(59)
        s.whoami()
        clocked.clock.advance(1)
        with pytest.raises(AuthError) as err:
            s.whoami()
    assert "expired" in err.value.message


def test_bad_tokens_get_401_without_the_token_in_the_answer(clocked: ClockedServer) -> None:
    url = clocked.url + "/api/v1/whoami"
    secret = "cn_" + "s3cret" * 7
    for headers in (
        {},
        {"Authorization": "Basic " + secret},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer " + secret},
        {"Authorization": "Bearer " + "x" * 10_000},
    ):
        resp = httpx2.get(url, headers=headers)
        assert resp.status_code == 401, headers
        assert secret not in resp.text and "xxxx" not in resp.text


def test_revocation_reaches_another_server_within_the_cache_ttl(tmp_path: Path) -> None:
    """Two servers on one database: what one revokes, the other refuses once
    its cached copy is ``auth_cache_ttl_s`` old (docs/tenancy.md)."""
    clock = FakeClock(1_800_000_000.0)
    settings = clocked_settings(tmp_path, auth_cache_ttl_s=5.0)
    first = LiveServer(Runtime(settings, clock=clock))
    second = LiveServer(Runtime(settings, clock=clock))
    try:
        with first.client(TOKEN) as admin:
            made = admin.create_token("shared")
        with second.client(made["token"]) as there:
            there.whoami()
            with first.client(made["token"]) as here:
                here.logout()
            clock.advance(4.9)
            assert there.whoami()["token_id"] == made["id"]  # still the cached copy
            clock.advance(0.2)
            with pytest.raises(AuthError):
                there.whoami()
    finally:
        second.stop()
        first.stop()
