"""Helpers for catalogue tests: write application files into a site folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

MINIMAL: dict[str, Any] = {
    "version": 1,
    "name": "echoer",
    "title": "Echo",
    "app_version": "1.0",
    "parameters": [
        {"name": "word", "type": "str", "pattern": "(?s).*", "max_length": 1000, "default": "hi"},
        {"name": "count", "type": "int", "min": 1, "max": 10, "default": 2},
    ],
    "install": {"*": {"path": "/usr/bin"}},
    "script": "printf '%s\\n' {{ word }}\n",
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "apps"
    folder.mkdir()
    return folder


@pytest.fixture
def write_app(site: Path) -> Callable[..., Path]:
    def write(name: str | None = None, text: str | None = None, **fields: Any) -> Path:
        data = {**MINIMAL, **fields}
        if name is not None:
            data["name"] = name
        path = site / f"{data['name']}.yaml"
        path.write_text(text if text is not None else yaml.safe_dump(data, sort_keys=False))
        return path

    return write
