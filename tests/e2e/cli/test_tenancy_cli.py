"""cnet whoami, users, projects and tokens as an administrator and a user run them."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import _env

pytestmark = pytest.mark.slow


def js(proc: Any) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def as_token(home: Path, url: str, token: str, *args: str, input: str | None = None) -> Any:
    """``cnet ARGS`` as another user would run it: their token, the server's URL."""
    env = {**_env(home), "CN_SERVER_URL": url, "CN_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "computenet.cli.main", *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=home,
    )


def test_the_local_user_administers_with_no_setup(cnet: Any, cnet_home: Path) -> None:
    me = js(cnet("whoami", "--json"))
    assert me["is_admin"] is True and me["projects"] == [{"name": "default", "role": "manager"}]
    token_file = cnet_home / ".local/share/computenet/token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert "network admin" in cnet("whoami").stdout


def test_users_projects_and_tokens_from_the_command_line(cnet: Any, cnet_home: Path) -> None:
    url = js(cnet("server", "status", "--json"))["url"]
    js(cnet("projects", "add", "chem", "-d", "Chemistry", "--json"))
    alice = js(cnet("users", "add", "alice", "-A", "chem", "--json"))["token"]
    carol = js(cnet("users", "add", "carol", "-A", "chem", "--role", "manager", "--json"))
    assert carol["user"]["projects"] == [{"name": "chem", "role": "manager"}]
    listed = js(cnet("users", "ls", "--json"))
    assert {u["name"] for u in listed} >= {"alice", "carol"}
    shown = js(cnet("projects", "show", "chem", "--json"))
    assert {m["user"]: m["role"] for m in shown["members"]} == {
        "alice": "member",
        "carol": "manager",
    }

    # alice submits to her project, not to one she is not in
    job = js(as_token(cnet_home, url, alice, "submit", "--json", "--hold", "--wrap", "true"))
    assert job["project"] == "chem"
    refused = as_token(cnet_home, url, alice, "submit", "--hold", "-A", "default", "--wrap", "true")
    assert refused.returncode == 5
    assert refused.stderr.startswith("cnet: error: you are not a member of project default")

    # a read-only token reads and cannot submit; revoked, it stops at once
    ro = js(
        as_token(
            cnet_home,
            url,
            alice,
            "tokens",
            "create",
            "-n",
            "ro",
            "-s",
            "read",
            "-e",
            "1d",
            "--json",
        )
    )
    assert ro["scopes"] == ["read"] and ro["expires_at"] - ro["created_at"] == 86400
    assert as_token(cnet_home, url, ro["token"], "ls").returncode == 0
    no = as_token(cnet_home, url, ro["token"], "submit", "--hold", "--wrap", "true")
    assert no.returncode == 5 and "needs a token with the submit scope" in no.stderr
    tokens = js(as_token(cnet_home, url, alice, "tokens", "ls", "--json"))
    assert [t["name"] for t in tokens] == ["default", "ro"]
    assert all("token" not in t for t in tokens)
    done = as_token(cnet_home, url, alice, "tokens", "revoke", str(ro["id"]))
    assert done.returncode == 0 and "revoked" in done.stdout
    gone = as_token(cnet_home, url, ro["token"], "ls")
    assert gone.returncode == 5 and "was revoked" in gone.stderr and ro["token"] not in gone.stderr

    # passwords: an admin sets one from standard input; alice changes her own
    assert (
        cnet("users", "passwd", "alice", "--password-stdin", input="first password\n").returncode
        == 0
    )
    own = as_token(
        cnet_home,
        url,
        alice,
        "users",
        "passwd",
        "alice",
        "--password-stdin",
        input="second password\nfirst password\n",
    )
    assert own.returncode == 0, own.stderr
    from computenet.client import Client

    with Client(url) as c:
        assert c.login("alice", "second password")["user"]["name"] == "alice"

    # managers manage members; a viewer reads the project
    js(
        as_token(
            cnet_home,
            url,
            carol["token"],
            "projects",
            "members",
            "add",
            "chem",
            "alice",
            "--role",
            "viewer",
            "--json",
        )
    )
    assert js(as_token(cnet_home, url, alice, "whoami", "--json"))["projects"] == [
        {"name": "chem", "role": "viewer"}
    ]
    no = as_token(cnet_home, url, alice, "projects", "members", "add", "chem", "carol")
    assert no.returncode == 5 and "manager role in project chem" in no.stderr
    bad = cnet("projects", "identity", "set", "chem", "local-a", "--user", "chem01")
    assert bad.returncode == 2 and "identities are for Slurm clusters" in bad.stderr
    disabled = cnet("users", "disable", "alice")
    assert disabled.returncode == 0 and "disabled" in disabled.stdout
    assert as_token(cnet_home, url, alice, "whoami").returncode == 5


@pytest.mark.parametrize(
    "group",
    [("users",), ("projects",), ("projects", "members"), ("projects", "identity"), ("tokens",)],
)
def test_help_has_examples(cnet: Any, group: tuple[str, ...]) -> None:
    top = cnet(*group, "--help")
    assert top.returncode == 0
    commands = [
        m.group(1) for line in top.stdout.splitlines() if (m := re.match(r"^│ ([a-z]+)\s", line))
    ]
    assert commands, top.stdout
    for command in commands:
        if command in ("members", "identity"):
            continue
        text = cnet(*group, command, "--help").stdout
        assert "Example" in text or command == "enable", (group, command)


def test_a_wrong_duration_is_a_clear_error(cnet: Any) -> None:
    proc = cnet("tokens", "create", "--expires", "soon")
    assert proc.returncode == 2 and "want a duration like 30d" in proc.stderr
    assert os.environ.get("CN_TOKEN") is None
