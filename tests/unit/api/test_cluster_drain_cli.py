"""cnet clusters drain/resume against a real server: the broker leaves a
drained cluster out, with the reason, until it is resumed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from computenet.cli import context
from computenet.cli.main import app
from computenet.client import Client
from computenet.errors import NotFoundError

from .conftest import TOKEN


@pytest.fixture
def runner(live: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("CN_SERVER_URL", live.url)
    monkeypatch.setenv("CN_TOKEN", TOKEN)
    monkeypatch.setattr(context, "_client", None)
    yield CliRunner()
    monkeypatch.setattr(context, "_client", None)


def _why_not(admin: Client) -> dict[str, Any]:
    plan = admin.submit(script="#!/bin/sh\ntrue\n", options=["--time=5"], test_only=True)
    return {c["cluster"]: c["why_not"] for c in plan["placement"]["candidates"]}


def test_drain_and_resume(runner: CliRunner, admin: Client) -> None:
    out = runner.invoke(app, ["clusters", "drain", "alpha"])
    assert out.exit_code == 0 and "drained cluster alpha" in out.output
    assert _why_not(admin)["alpha"] == "alpha is drained"
    listed = runner.invoke(app, ["clusters", "--json"])
    rows = {c["name"]: c for c in json.loads(listed.output)["clusters"]}
    assert rows["alpha"]["drained"] is True and rows["beta"]["drained"] is False
    back = runner.invoke(app, ["clusters", "resume", "alpha", "--json"])
    assert json.loads(back.output) == {"name": "alpha", "drained": False}
    assert _why_not(admin)["alpha"] is None


def test_drain_of_an_unknown_cluster_fails_cleanly(runner: CliRunner) -> None:
    out = runner.invoke(app, ["clusters", "drain", "nowhere"])
    # cnet's entry point prints this error as one line (exit code of NotFoundError)
    assert isinstance(out.exception, NotFoundError)
    assert out.exception.message == "no cluster nowhere"
