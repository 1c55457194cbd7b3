"""What the API app mounts: the portal's routers and its static files."""

from __future__ import annotations

from fastapi import APIRouter

from computenet.web import admin, apps, capacity, files, jobs, logs, pages, usage


def routers() -> list[APIRouter]:
    return [
        pages.router,
        jobs.router,
        logs.router,
        apps.router,
        usage.router,
        capacity.router,
        admin.router,
        files.router,
    ]
