"""Tokens and passwords never reach a log, an error message or the database in
clear; the files that hold them are 0600."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx2
import pytest

from computenet.client import Client
from computenet.client.local import start_local, stop_local
from computenet.config import load_settings
from computenet.errors import AuthError, ComputeNetError, ForbiddenError

PASSWORD = "first-Secret-pw-1"
NEW_PASSWORD = "second-Secret-pw-2"
WRONG = ["wrong-Secret-pw-3", "wrong-Secret-pw-4"]
GARBAGE = "cn_garbage_Secret_token_0123456789abcdefghij"


def _files(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


@pytest.mark.slow
@pytest.mark.parametrize("level", ["info", "debug"])
def test_a_server_keeps_secrets_out_of_logs_errors_and_the_store(
    isolated_home: Path, level: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CN_LOG_LEVEL", level)  # the server started below inherits it
    settings = load_settings()
    info = start_local(settings)
    local = settings.token_file.read_text().strip()
    secrets = [PASSWORD, NEW_PASSWORD, *WRONG, GARBAGE]
    answers: list[str] = []
    try:
        with Client(info["url"], local) as admin:
            alice_token = admin.add_user("alice", project="chem", password=PASSWORD)["token"]
            secrets.append(alice_token)
            client = Client(info["url"])
            for wrong in WRONG:
                with pytest.raises(AuthError) as err:
                    client.login("alice", wrong)
                answers.append(err.value.message)
            with pytest.raises(AuthError) as err:
                client.login("nobody", PASSWORD)
            answers.append(err.value.message)
            session = client.login("alice", PASSWORD)["token"]
            secrets.append(session)
            made = client.create_token("laptop", scopes=["read"])
            secrets.append(made["token"])
            with Client(info["url"], made["token"]) as ro:
                ro.whoami()
                with pytest.raises(ForbiddenError) as denied:
                    ro.submit(options=["--wrap", "true"])
                answers.append(denied.value.message)
            client.revoke_token(made["id"])
            for bad in (made["token"], GARBAGE):
                resp = httpx2.get(
                    info["url"] + "/api/v1/whoami", headers={"Authorization": f"Bearer {bad}"}
                )
                assert resp.status_code == 401
                answers.append(resp.text)
            with pytest.raises(ComputeNetError) as err:  # a password that is too short
                client.set_password("alice", "short", current_password=PASSWORD)
            answers.append(err.value.message)
            client.set_password("alice", NEW_PASSWORD, current_password=PASSWORD)
            client.logout()
    finally:
        stop_local(settings)
    secrets.append(local)
    for text in answers:
        for secret in secrets:
            assert secret not in text, "an answer holds a secret"
    log = settings.state_dir / "server.log"
    assert log.exists() and log.stat().st_size > 0  # the server did write its log
    if level == "debug":  # each request was logged, with its path, and the database's work
        text = log.read_text(errors="replace")
        assert "/api/v1/auth/login" in text and "DEBUG" in text
    checked = 0
    for path in _files(settings.state_dir, settings.data_dir):
        data = path.read_bytes()
        for secret in secrets:
            if path == settings.token_file and secret == local:
                continue  # the token file's whole point
            assert secret.encode() not in data, f"{path} holds a secret"
        checked += 1
    assert checked >= 3  # the log, the database and the server file at least


def test_the_token_file_is_private(isolated_home: Path) -> None:
    from computenet.core.runtime import read_or_create_token

    path = isolated_home / "tokens" / "token"
    token = read_or_create_token(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # someone loosened it: it is tightened on the next read
    assert read_or_create_token(path) == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
