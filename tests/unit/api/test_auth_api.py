"""Password sign-in, sessions, whoami and logout: the contract the portal builds on."""

from __future__ import annotations

import httpx2
import pytest

from computenet.client import Client
from computenet.errors import AuthError, ForbiddenError, RateLimitError, SpecError

from .conftest import ClockedServer

PASSWORD = "correct horse battery"


def _user(server: ClockedServer, name: str, project: str = "chem", **fields: object) -> str:
    with server.client() as admin:
        return str(admin.add_user(name, project=project, password=PASSWORD, **fields)["token"])


def test_login_answers_the_contract(clocked: ClockedServer) -> None:
    _user(clocked, "alice", display_name="Alice A.")
    resp = httpx2.post(
        clocked.url + "/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}
    )
    assert resp.status_code == 201
    body = resp.json()
    assert set(body) == {"token", "expires_at", "user"}
    assert body["expires_at"] == clocked.clock.now() + 12 * 3600
    user = body["user"]
    assert user["name"] == "alice" and user["display_name"] == "Alice A."
    assert user["is_admin"] is False and user["default_project"] == "chem"
    assert user["projects"] == [{"name": "chem", "role": "member"}]
    assert user["scopes"] == ["read", "submit", "manage"]
    assert user["token_kind"] == "session" and user["expires_at"] == body["expires_at"]
    with clocked.client(body["token"]) as session:
        assert session.whoami() == user
        job = session.submit(options=["--wrap", "true", "--hold"])
        assert job["owner"] == "alice" and job["project"] == "chem"


def test_wrong_user_and_wrong_password_get_the_same_answer(clocked: ClockedServer) -> None:
    _user(clocked, "alice")
    url = clocked.url + "/api/v1/auth/login"
    wrong_pw = httpx2.post(url, json={"username": "alice", "password": "not the password"})
    no_user = httpx2.post(url, json={"username": "nobody", "password": PASSWORD})
    odd_name = httpx2.post(url, json={"username": "../../etc", "password": PASSWORD})
    for resp in (wrong_pw, no_user, odd_name):
        assert resp.status_code == 401
        assert resp.json()["error"]["message"] == "wrong user name or password"
    # A user with no password set cannot log in either.
    with clocked.client() as admin:
        admin.add_user("nopw", project="chem")
    assert httpx2.post(url, json={"username": "nopw", "password": PASSWORD}).status_code == 401


def test_failed_logins_are_limited_per_user_and_per_address(clocked: ClockedServer) -> None:
    _user(clocked, "alice")
    _user(clocked, "bob")
    url = clocked.url + "/api/v1/auth/login"
    for _ in range(5):
        assert (
            httpx2.post(url, json={"username": "alice", "password": "wrong!!!"}).status_code == 401
        )
    limited = httpx2.post(url, json={"username": "alice", "password": PASSWORD})
    assert limited.status_code == 429  # even the right password, until the window moves
    assert limited.json()["error"]["code"] == "rate_limited"
    retry = int(limited.headers["Retry-After"])
    assert 890 <= retry <= 900
    # The address has five failures too: another user from it waits as well.
    assert httpx2.post(url, json={"username": "bob", "password": PASSWORD}).status_code == 429
    with pytest.raises(RateLimitError):
        Client(clocked.url).login("bob", PASSWORD)
    clocked.clock.advance(901)
    assert httpx2.post(url, json={"username": "alice", "password": PASSWORD}).status_code == 201


def test_a_success_clears_the_user_count(clocked: ClockedServer) -> None:
    _user(clocked, "alice")
    client = Client(clocked.url)
    for _ in range(4):
        with pytest.raises(AuthError):
            client.login("alice", "wrong!!!")
    client.login("alice", PASSWORD)
    clocked.clock.advance(1)  # the address still counts its four; the user starts again
    for _ in range(1):
        with pytest.raises(AuthError):
            client.login("alice", "wrong!!!")
    with pytest.raises(RateLimitError):  # address: 5 failures in the window
        client.login("alice", PASSWORD)


def test_logout_revokes_the_session_at_once(clocked: ClockedServer) -> None:
    _user(clocked, "alice")
    client = Client(clocked.url)
    body = client.login("alice", PASSWORD)
    assert client.whoami()["name"] == "alice"  # cached now
    assert client.logout() == {"revoked": body["user"]["token_id"]}
    with clocked.client(body["token"]) as old, pytest.raises(AuthError) as err:
        old.whoami()
    assert "revoked" in err.value.message and body["token"] not in err.value.message


def test_sessions_expire_after_the_session_ttl(clocked: ClockedServer) -> None:
    _user(clocked, "alice")
    client = Client(clocked.url)
    client.login("alice", PASSWORD)
    client.whoami()
    clocked.clock.advance(12 * 3600 - 1)
    client.whoami()
    clocked.clock.advance(2)
    with pytest.raises(AuthError) as err:
        client.whoami()
    assert "expired" in err.value.message


def test_disabled_users_can_neither_log_in_nor_use_tokens(clocked: ClockedServer) -> None:
    token = _user(clocked, "alice")
    with clocked.client(token) as alice, clocked.client() as admin:
        alice.whoami()
        admin.set_user("alice", disabled=True)
        with pytest.raises(AuthError) as err:
            alice.whoami()
        assert "disabled" in err.value.message
        with pytest.raises(AuthError):
            Client(clocked.url).login("alice", PASSWORD)
        admin.set_user("alice", disabled=False)
        assert alice.whoami()["name"] == "alice"


def test_passwords_users_set_their_own_admins_anyones(clocked: ClockedServer) -> None:
    token = _user(clocked, "alice")
    bob = _user(clocked, "bob")
    other = Client(clocked.url)
    session = other.login("alice", PASSWORD)["token"]
    with clocked.client(token) as alice, clocked.client(bob) as b, clocked.client() as admin:
        with pytest.raises(ForbiddenError):  # the current password is needed, and checked
            alice.set_password("alice", "a new long password")
        with pytest.raises(ForbiddenError):
            alice.set_password("alice", "a new long password", current_password="nope nope")
        with pytest.raises(SpecError):
            alice.set_password("alice", "short", current_password=PASSWORD)
        done = alice.set_password("alice", "a new long password", current_password=PASSWORD)
        assert done["sessions_ended"] == 1  # the other session ends; this token stays
        with pytest.raises(AuthError):
            clocked.client(session).whoami()
        with pytest.raises(ForbiddenError):
            b.set_password("alice", "bob was here!!")
        admin.set_password("alice", "set by the admin")
    assert Client(clocked.url).login("alice", "set by the admin")["user"]["name"] == "alice"


def test_whoami_of_the_local_user(clocked: ClockedServer) -> None:
    with clocked.client() as admin:
        me = admin.whoami()
    assert me["name"] == "admin" and me["is_admin"] is True
    assert me["projects"] == [{"name": "default", "role": "manager"}]
    assert me["token_kind"] == "personal" and me["expires_at"] is None


def test_bad_login_bodies_are_refused(clocked: ClockedServer) -> None:
    url = clocked.url + "/api/v1/auth/login"
    for body in ({}, {"username": "a"}, {"username": "a", "password": 5}, {"x": 1}):
        assert httpx2.post(url, json=body).status_code == 422
    huge = {"username": "alice", "password": "x" * 5000}
    assert httpx2.post(url, json=huge).status_code == 422


def test_password_hash_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    """What is stored: argon2id at argon2-cffi's defaults (RFC 9106 low-memory)."""
    from computenet.store import users

    monkeypatch.undo()  # the production hasher, not the cheap one of the other tests
    users._dummy_hash.cache_clear()
    stored = users.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and PASSWORD not in stored
    assert users.verify_password(stored, PASSWORD)
    assert not users.verify_password(stored, PASSWORD + "x")
    assert not users.verify_password(None, PASSWORD)
