"""Fixtures for transfer tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helpers module beside this file
from transfer_helpers import Agent, start_agent


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    root = tmp_path / "site"
    root.mkdir()
    a = start_agent(root, tmp_path / "agent.json")
    yield a
    a.stop()
