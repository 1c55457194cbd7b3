"""/bench/runs: HPL and STREAM benchmark jobs (``cnet bench``), submitted as
catalogue runs and settled into ``bench_runs`` when they end (core/bench.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from computenet.api.deps import current_user, get_runtime
from computenet.api.routes import jobs
from computenet.api.routes.apps import AppRunRequest, ParamValue, app_spec, catalogue
from computenet.api.schemas import EnvName, Word
from computenet.core import bench
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.errors import NotFoundError
from computenet.store.tables_bench import BenchRunRow

router = APIRouter(tags=["bench"])


class BenchRunRequest(BaseModel):
    """A benchmark run (v1): which, where (None: wherever the broker places
    it), the application's parameters and sbatch options over its defaults."""

    model_config = ConfigDict(strict=True, extra="forbid")
    benchmark: str = Field(max_length=16)
    cluster: str | None = Field(default=None, max_length=64)
    params: dict[EnvName, ParamValue] = Field(default_factory=dict, max_length=50)
    options: list[Word] = Field(default_factory=list, max_length=50)


def settled(runtime: Runtime) -> None:
    with runtime.store.session() as s:
        bench.settle(s, runtime.controller.clusters.infos(), runtime.clock.now())


@router.post("/bench/runs", status_code=201)
async def run(
    req: BenchRunRequest,
    who: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    name = bench.check_benchmark(req.benchmark)
    bench.check_cluster(req.cluster, runtime.controller.clusters.infos())
    options = [*req.options]
    if req.cluster is not None:
        options.append(f"--clusters={req.cluster}")
    spec, _ = app_spec(
        catalogue(runtime).get(name), AppRunRequest(params=req.params, options=options), runtime
    )
    body = jobs.store_spec(spec, who, runtime)
    with runtime.store.session() as s:
        row = bench.record(s, name, int(body["id"]), who.name, req.cluster, runtime.clock.now())
        out = bench.to_dict(row)
    runtime.controller.wake()
    return JSONResponse({"run": out, "job": body}, status_code=201)


@router.get("/bench/runs")
def runs(
    limit: int = Query(100, ge=1, le=10_000),
    _: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    settled(runtime)
    with runtime.store.session() as s:
        return {"runs": bench.runs(s, limit)}


@router.get("/bench/runs/{run_id}")
def one(
    run_id: int,
    _: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    settled(runtime)
    with runtime.store.session() as s:
        row = s.get(BenchRunRow, run_id)
        if row is None:
            raise NotFoundError(f"no benchmark run {run_id}")
        return bench.to_dict(row)
