"""Import every table module so the metadata knows them all."""

from __future__ import annotations

import importlib

from computenet.store import tables  # noqa: F401

for _name in (
    "tables_transfer",
    "tables_telemetry",
    "tables_accounting",
    "tables_apps",
    "tables_tenancy",
    "tables_pools",
    "tables_bench",
):
    try:
        importlib.import_module(f"computenet.store.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"computenet.store.{_name}":
            raise
