"""Client: typed calls over HTTP; API errors come back as computenet errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx2
import orjson

from computenet.client.accounting import AccountingCalls
from computenet.client.calls import Content
from computenet.client.files import FileCalls
from computenet.client.images import ImageCalls
from computenet.client.tenancy import TenancyCalls
from computenet.errors import ServerError, from_dict

TERMINAL = {
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "OUT_OF_MEMORY",
    "NODE_FAIL",
    "PREEMPTED",
}


#: the longest Retry-After a GET waits out by itself; past it the 429 is raised
MAX_RETRY_WAIT_S = 30.0


def _retry_after_s(resp: httpx2.Response) -> float | None:
    """The wait a 429 asks for: the error's ``retry_after_s`` (to the
    millisecond), else the Retry-After header (whole seconds), else None."""
    try:
        details = (resp.json().get("error") or {}).get("details") or {}
        return max(0.0, float(details["retry_after_s"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    header = resp.headers.get("Retry-After", "")
    return float(header) if header.isdigit() else None


class Client(TenancyCalls, AccountingCalls, FileCalls, ImageCalls):
    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout_s: float = 30.0,
        transport: httpx2.BaseTransport | None = None,
        socket_path: str | None = None,
        rate_limit_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``socket_path``: reach the server through this Unix socket instead
        of the URL's TCP port (the local server has one; see client/local.py).
        ``token`` None: only ``login`` (and public calls) work until one is set.
        ``rate_limit_retries``: how often a GET refused with 429 is sent again
        (see ``request``)."""
        self.url = url.rstrip("/")
        self.rate_limit_retries = rate_limit_retries
        self._sleep = sleep
        #: set for the local server: it sees this machine's files as this user does
        self.socket_path = socket_path
        if transport is None and socket_path:
            # Plain HTTP on a local socket: no certificates to load (70 ms).
            transport = httpx2.HTTPTransport(uds=socket_path, verify=False)
        self._http = httpx2.Client(
            base_url=self.url + "/api/v1",
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {token}"} if token else None,
            transport=transport,
            # Certificates matter only for https; building the verifying
            # context costs about 80 ms of every command's start-up.
            verify=self.url.startswith("https://"),
        )

    @classmethod
    def connect(cls, *, start: bool = True) -> Client:
        """The server named by settings (CN_SERVER_URL), else the local one,
        started in the background if it is not running."""
        from computenet.client.local import resolve_address

        address = resolve_address(start=start)
        return cls(address.url, address.token, socket_path=address.socket)

    def set_token(self, token: str | None) -> None:
        """Use ``token`` from now on (None: send none)."""
        if token:
            self._http.headers["Authorization"] = f"Bearer {token}"
        else:
            self._http.headers.pop("Authorization", None)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ----- generic -------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        timeout_s: float | None = None,
    ) -> Any:
        """One call; an API error is raised as its computenet error (see ``_send``)."""
        resp = self._send(method, path, params=params, json=json, timeout_s=timeout_s)
        # orjson: listings run to megabytes, which json.loads reads 3x slower.
        return orjson.loads(resp.content) if resp.content else None

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: Content | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
    ) -> httpx2.Response:
        """The answer to one call; an error answer raised as its computenet error.

        A ``GET`` refused by admission control (429) is sent again after the
        server's Retry-After, up to ``rate_limit_retries`` times and for at
        most ``MAX_RETRY_WAIT_S`` a wait: reading twice is safe. Other methods
        raise ``RateLimitError`` at once: the server did nothing, and whether
        to send a submission again is the caller's decision.
        """
        for retry in range(self.rate_limit_retries + 1):
            resp = self._transmit(method, path, params, json, content, headers, timeout_s)
            if resp.status_code != 429 or method != "GET" or retry == self.rate_limit_retries:
                break
            wait = _retry_after_s(resp)
            if wait is None or wait > MAX_RETRY_WAIT_S:
                break
            self._sleep(wait)
        if resp.status_code >= 400:
            try:
                err = resp.json().get("error") or {}
            except ValueError:
                err = {}
            if not err:
                raise ServerError(f"server answered {resp.status_code}: {resp.text[:200]}")
            raise from_dict(err)
        return resp

    def _transmit(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        content: Content | None,
        headers: Mapping[str, str] | None,
        timeout_s: float | None,
    ) -> httpx2.Response:
        extra: dict[str, Any] = {} if timeout_s is None else {"timeout": timeout_s}
        try:
            return self._http.request(
                method, path, params=params, json=json, content=content, headers=headers, **extra
            )
        except httpx2.TimeoutException as exc:
            raise ServerError(f"computenet server at {self.url} did not answer in time") from exc
        except httpx2.TransportError as exc:
            raise ServerError(f"cannot reach computenet server at {self.url}: {exc}") from exc

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None) -> Any:
        return self.request("POST", path, json=json)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def put(self, path: str, json: Any = None) -> Any:
        return self.request("PUT", path, json=json)

    def patch(self, path: str, json: Any = None) -> Any:
        return self.request("PATCH", path, json=json)

    # ----- jobs ------------------------------------------------------------
    def submit(
        self,
        *,
        script: str | None = None,
        options: Sequence[str] = (),
        args: Sequence[str] = (),
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        test_only: bool = False,
        script_name: str | None = None,
    ) -> Any:
        return self.post(
            "/jobs",
            {
                "script": script,
                "options": list(options),
                "args": list(args),
                "cwd": cwd,
                "env": dict(env or {}),
                "test_only": test_only,
                "script_name": script_name,
            },
        )

    def submit_many(self, jobs: Sequence[Mapping[str, Any]]) -> list[int]:
        return list(self.post("/jobs:bulk", {"jobs": [dict(j) for j in jobs]})["ids"])

    def job(self, job_id: int | str) -> Any:
        return self.get(f"/jobs/{job_id}")

    def jobs(
        self,
        *,
        all: bool = False,
        state: str | None = None,
        cluster: str | None = None,
        name: str | None = None,
        user: str | None = None,
        project: str | None = None,
        all_users: bool = False,
        fields: Sequence[str] | None = None,
        page_size: int = 10_000,
        newest_first: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Jobs in id order (``newest_first``: descending), page by page: the
        caller's own, or ``user``'s, ``project``'s or (``all_users``) every job
        the caller may see; ``fields`` limits each job to those keys (docs/cli.md)."""
        params: dict[str, Any] = {"all": all, "limit": page_size}
        if newest_first:
            params["order"] = "desc"
        if fields is not None:
            params["fields"] = ",".join(fields)
        if all_users:
            params["all_users"] = True
        for key, value in (
            ("state", state),
            ("cluster", cluster),
            ("name", name),
            ("user", user),
            ("project", project),
        ):
            if value is not None:
                params[key] = value
        cursor = 0
        while True:
            page = self.get("/jobs", {**params, "cursor": cursor})
            yield from page["jobs"]
            if page.get("next_cursor") is None:
                return
            cursor = page["next_cursor"]

    def cancel(self, job_id: int | str) -> Any:
        return self.post(f"/jobs/{job_id}/cancel")

    def events(self, job_id: int | str) -> list[dict[str, Any]]:
        return list(self.get(f"/jobs/{job_id}/events")["events"])

    def placement(self, job_id: int | str) -> Any:
        return self.get(f"/jobs/{job_id}/placement")

    def logs(self, job_id: int | str, stream: str = "stdout", offset: int = 0) -> Any:
        return self.get(f"/jobs/{job_id}/logs", {"stream": stream, "offset": offset})

    def clusters(self) -> list[dict[str, Any]]:
        return list(self.get("/clusters")["clusters"])

    def capacity(
        self,
        shapes: Sequence[str] = (),
        horizons: Sequence[str | float] = (),
        *,
        curve: bool = False,
    ) -> Any:
        """Total scale, derived peak, sustained benchmark figures and callable
        scale per cluster, partition and network (see docs/capacity.md).

        ``shapes``: ``node``, ``cpus=N`` or ``gpus=N`` with optional
        ``mem=SIZE`` and ``time=LIMIT``; ``horizons``: ``10m``, ``1h``, ``24h``
        or seconds (0 to 7 days); ``curve`` adds points from now to 24 h. A
        bad shape or horizon raises ``SpecError``."""
        params: dict[str, Any] = {
            "shape": list(shapes),
            "horizon": [str(h) for h in horizons],
            "curve": curve,
        }
        return self.get("/capacity", params)

    # ----- the application catalogue --------------------------------------
    def apps(self) -> list[dict[str, Any]]:
        """The catalogue's applications (one summary each)."""
        return list(self.get("/apps")["apps"])

    def app(self, name: str) -> Any:
        """One application with its form (fields, resources, install, figure)."""
        return self.get(f"/apps/{name}")

    def run_app(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        options: Sequence[str] = (),
        test_only: bool = False,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Any:
        """Submit a run of a catalogue application: the job (with ``app``), or
        with ``test_only`` the parsed spec, each cluster's estimates and the
        script. Bad values raise ``ParameterError`` (``details["fields"]``)."""
        return self.post(
            f"/apps/{name}/runs",
            {
                "params": dict(params or {}),
                "options": list(options),
                "test_only": test_only,
                "cwd": cwd,
                "env": dict(env or {}),
            },
        )

    def app_report(
        self, *, since: str | None = None, until: str | None = None, app: str | None = None
    ) -> Any:
        """Runs, median figure and costs per application, cluster and partition."""
        params = {k: v for k, v in (("since", since), ("until", until), ("app", app)) if v}
        return self.get("/reports/apps", params)

    # ----- benchmark runs -----------------------------------------------------
    def bench_run(
        self,
        benchmark: str,
        *,
        cluster: str | None = None,
        params: Mapping[str, Any] | None = None,
        options: Sequence[str] = (),
    ) -> Any:
        """Submit an ``hpl`` or ``stream`` benchmark job: ``{"run", "job"}``.
        An unknown benchmark raises ``SpecError``, an unknown cluster
        ``NotFoundError``; a cluster without the binary refuses it (embedded)
        or the run settles as failed."""
        body = {
            "benchmark": benchmark,
            "cluster": cluster,
            "params": dict(params or {}),
            "options": list(options),
        }
        return self.post("/bench/runs", body)

    def bench_runs(self, limit: int = 100) -> list[dict[str, Any]]:
        """Benchmark runs, newest first, each settled if its job has ended."""
        return list(self.get("/bench/runs", {"limit": limit})["runs"])

    def bench_run_status(self, run_id: int) -> Any:
        return self.get(f"/bench/runs/{run_id}")

    def pools(self) -> list[dict[str, Any]]:
        return list(self.get("/pools")["pools"])

    def pool_events(self, pool: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit} | ({"pool": pool} if pool else {})
        return list(self.get("/pools/events", params)["events"])

    def wait(
        self, job_id: int | str, *, timeout_s: float | None = None, poll_s: float = 0.2
    ) -> Any:
        """Poll until the job ends; returns the final job object."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            job = self.job(job_id)
            if job["state"] in TERMINAL:
                return job
            if deadline is not None and time.monotonic() > deadline:
                return job
            time.sleep(poll_s)
