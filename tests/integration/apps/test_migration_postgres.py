"""Migration 0005 on a real PostgreSQL server, from a database made by 0003."""

from __future__ import annotations

import pytest

from tests.unit.apps.test_migration import check_upgrade_keeps_jobs

pytestmark = pytest.mark.integration


def test_upgrade_from_0003_on_postgresql(postgres_url: str) -> None:
    check_upgrade_keeps_jobs(postgres_url)
