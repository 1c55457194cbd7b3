"""Every request body is bounded: each field by the schema, the whole body by
the server, declared (Content-Length) or chunked."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from computenet.api import app as api_app
from computenet.api.schemas import MAX_ARG_CHARS
from computenet.config import Settings
from tests.support.clusters import fake_configs

from .conftest import TOKEN

#: bodies whose schema is free-form, and what bounds them instead
FREE_FORM = {
    # the route validates the dict with ClusterAddRequest (checked below) and
    # each partition with PartitionConfig, inside the body limit
    ("post", "/api/v1/clusters"),
}
#: an anchored pattern with no unbounded repeat bounds a string's length
_UNBOUNDED = re.compile(r"[*+]|\{\d+,\}")


def _bounded_pattern(pattern: str | None) -> bool:
    return bool(
        pattern and pattern.startswith("^") and pattern.endswith("$")
    ) and not _UNBOUNDED.search(pattern or "")


def unbounded(
    schema: dict[str, Any], where: str, comps: dict[str, Any], seen: set[str]
) -> list[str]:
    """Every string, list and map reachable from ``schema`` that has no upper bound."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return unbounded(comps[name], name, comps, seen)
    out: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            out += unbounded(sub, where, comps, seen)
    kind = schema.get("type")
    if kind == "string" and not (
        "maxLength" in schema
        or "enum" in schema
        or "const" in schema
        or _bounded_pattern(schema.get("pattern"))
    ):
        out.append(f"{where}: a string without maxLength")
    if kind == "array":
        if "maxItems" not in schema:
            out.append(f"{where}: a list without maxItems")
        out += unbounded(schema.get("items", {}), where + "[]", comps, seen)
    if kind == "object" or "properties" in schema:
        for name, sub in schema.get("properties", {}).items():
            out += unbounded(sub, f"{where}.{name}", comps, seen)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            if "maxProperties" not in schema:
                out.append(f"{where}: a map without maxProperties")
            out += unbounded(extra, where + "{}", comps, seen)
            out += unbounded(
                schema.get("propertyNames", {"type": "string"}), where + "<key>", comps, seen
            )
    return out


def _openapi(tmp_path: Path) -> dict[str, Any]:
    from computenet.core.runtime import Runtime

    settings = Settings(
        data_dir=tmp_path / "d", state_dir=tmp_path / "s", clusters=fake_configs(), token=TOKEN
    )
    return api_app.create_app(Runtime(settings)).openapi()


def test_every_request_body_field_has_an_upper_bound(tmp_path: Path) -> None:
    schema = _openapi(tmp_path)
    comps = schema["components"]["schemas"]
    problems: list[str] = []
    bodies = 0
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            for content in op.get("requestBody", {}).get("content", {}).values():
                bodies += 1
                if (method, path) in FREE_FORM:
                    continue
                problems += unbounded(content["schema"], f"{method.upper()} {path}", comps, set())
    from pydantic import TypeAdapter

    from computenet.api.routes.clusters import ClusterAddRequest

    cluster = TypeAdapter(ClusterAddRequest).json_schema()
    problems += unbounded(cluster, "ClusterAddRequest", cluster.get("$defs", {}), set())
    assert bodies >= 20  # the walk did find the API's bodies
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_walk_finds_an_unbounded_field() -> None:
    schema = {
        "type": "object",
        "properties": {
            "ok": {"type": "string", "maxLength": 3},
            "name": {"type": "string", "pattern": "^[a-z]{1,8}$"},
            "free": {"type": "string", "pattern": "^[a-z]+$"},
            "items": {"type": "array", "items": {"type": "string", "maxLength": 1}},
        },
    }
    assert unbounded(schema, "X", {}, set()) == [
        "X.free: a string without maxLength",
        "X.items: a list without maxItems",
    ]


@pytest.fixture
def small_limit(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    make_live_server: Callable[[Any], Any],
    fake_cluster_configs: list[Any],
) -> Iterator[Any]:
    monkeypatch.setattr(api_app, "MAX_BODY_BYTES", 64 * 1024)
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        clusters=fake_cluster_configs,
        token=TOKEN,
        user="admin",
        controller_interval_s=0.05,
    )
    yield make_live_server(settings)


def _chunks(body: bytes, size: int = 8192) -> Iterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i : i + size]


def _jobs(http: httpx2.Client) -> list[Any]:
    resp = http.get("/api/v1/jobs", params={"all": True})
    assert resp.status_code == 200
    return list(resp.json()["jobs"])


def test_bodies_over_the_limit_are_refused_declared_or_chunked(small_limit: Any) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    big = b'{"options": ["--wrap", "true"], "script": null, "args": ["' + b"x" * 70_000 + b'"]}'
    small = b'{"options": ["--wrap", "true", "--hold"]}'
    with httpx2.Client(base_url=small_limit.url, headers=headers, timeout=30) as http:
        declared = http.post("/api/v1/jobs", content=big)
        assert declared.status_code == 413, declared.text
        assert declared.json()["error"]["code"] == "limit"
        chunked = http.post("/api/v1/jobs", content=_chunks(big))
        assert chunked.request.headers.get("transfer-encoding") == "chunked"
        assert chunked.status_code == 413, chunked.text
        assert _jobs(http) == []  # nothing was submitted
        fine = http.post("/api/v1/jobs", content=_chunks(small))
        assert fine.status_code == 201, fine.text  # a chunked body under the limit works
        assert len(_jobs(http)) == 1


def test_an_over_long_field_is_a_clear_error_and_nothing_is_made(live: Any) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx2.Client(base_url=live.url, headers=headers, timeout=30) as http:
        long_arg = {"options": ["--wrap", "true"], "args": ["y" * (MAX_ARG_CHARS + 1)]}
        resp = http.post("/api/v1/jobs", json=long_arg)
        assert resp.status_code == 422
        error = resp.json()["error"]
        assert error["code"] == "invalid_request" and error["message"].startswith("args.0:")
        assert _jobs(http) == []
