"""A portal upload does not hold the file in the server's memory.

A private server (a subprocess: uvicorn over a runtime, ``max_upload_bytes``
1 GiB) with a path site. A signed-in browser session posts the files page's
form with a file of ``--mib`` MiB (streamed from disk by the HTTP client);
the server's resident memory (``VmRSS``) is sampled every 5 ms during the
uploads and its highest value set against its value just before. The
figure is that growth over the file's size (goal: at most a quarter;
a page that read the file whole would be 1 or more). The time is set
beside the same file sent straight to the site's upload route by the SDK
(what ``cnet``-side code does), in the same run: the form costs one more
copy on disk (its spool).

    python benchmarks/portal_upload.py [--mib 256] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2

TOKEN = "cn_bench_upload_admin_token"
PASSWORD = "bench password 1"


def serve(root: Path, port_file: Path) -> None:
    import socket

    import uvicorn

    from computenet.api.app import create_app
    from computenet.config import Settings
    from computenet.core.runtime import Runtime

    settings = Settings(
        data_dir=root / "data",
        state_dir=root / "state",
        clusters=[],
        token=TOKEN,
        user="admin",
        max_upload_bytes=1 << 30,
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port_file.write_text(str(sock.getsockname()[1]))
    config = uvicorn.Config(create_app(Runtime(settings)), log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Sampler(threading.Thread):
    """The highest resident memory of ``pid`` while it runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.005):
            self.peak = max(self.peak, rss_mib(self.pid))


def sign_in(url: str) -> tuple[httpx2.Client, str]:
    browser = httpx2.Client(base_url=url, follow_redirects=False, timeout=600)
    form = browser.get("/portal/login")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found
    resp = browser.post(
        "/portal/login", data={"username": "admin", "password": PASSWORD, "csrf": found.group(1)}
    )
    assert resp.status_code == 303, resp.text
    files = browser.get("/portal/files?site=store")
    found = re.search(r'name="csrf" value="([^"]+)"', files.text)
    assert found
    return browser, found.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve), Path(args.serve) / "port")
        return
    from computenet.client import Client

    root = Path(tempfile.mkdtemp(prefix="cn-bench-upload-"))
    site = root / "site"
    site.mkdir()
    source = root / "input.bin"
    with source.open("wb") as f:
        for _ in range(args.mib):
            f.write(os.urandom(1 << 20))
    size = source.stat().st_size
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(root)])
    try:
        deadline = time.monotonic() + 60
        while not (root / "port").exists() or not (root / "port").read_text():
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        url = f"http://127.0.0.1:{(root / 'port').read_text()}"
        while True:
            try:
                httpx2.get(url + "/healthz", timeout=2)
                break
            except httpx2.TransportError:
                assert time.monotonic() < deadline, "server did not answer"
                time.sleep(0.1)
        with Client(url, TOKEN, timeout_s=600) as admin:
            admin.set_password("admin", PASSWORD)
            admin.post("/sites", {"name": "store", "kind": "path", "config": {"root": str(site)}})
            browser, csrf = sign_in(url)
            before = rss_mib(proc.pid)
            sampler = Sampler(proc.pid)
            sampler.start()
            form_s: list[float] = []
            sdk_s: list[float] = []
            for r in range(args.rounds):
                with source.open("rb") as f:
                    t0 = time.perf_counter()
                    resp = browser.post(
                        "/portal/files/upload",
                        data={"csrf": csrf, "site": "store", "path": ""},
                        files={"file": (f"form{r}.bin", f)},
                    )
                    form_s.append(time.perf_counter() - t0)
                assert resp.status_code == 303, resp.text[:300]
                assert (site / f"form{r}.bin").stat().st_size == size
                with source.open("rb") as f:
                    t0 = time.perf_counter()
                    admin.upload("store", f"sdk{r}.bin", f)
                    sdk_s.append(time.perf_counter() - t0)
                assert (site / f"sdk{r}.bin").stat().st_size == size
            sampler.stop.set()
            sampler.join()
            after = sampler.peak
    finally:
        proc.terminate()
        proc.wait(30)
        subprocess.run(["rm", "-rf", str(root)], check=False)
    growth = after - before
    load = os.getloadavg()[0]
    form_mean, sdk_mean = sum(form_s) / len(form_s), sum(sdk_s) / len(sdk_s)
    sys.stderr.write(
        f"file {size >> 20} MiB, {args.rounds} rounds, load {load:.2f}\n"
        f"server RSS {before:.0f} MiB before, {after:.0f} MiB at most (+{growth:.1f} MiB)\n"
        f"form upload {form_mean:.2f} s ({size / form_mean / 2**20:.0f} MiB/s), "
        f"SDK straight to the route {sdk_mean:.2f} s ({size / sdk_mean / 2**20:.0f} MiB/s), "
        f"ratio {form_mean / sdk_mean:.2f}\n"
    )
    mib = size / 2**20
    print(
        json.dumps(
            {
                "figure": "portal_upload_rss_growth",
                "value": round(growth, 1),
                "unit": "MiB of server RSS growth during a form upload",
                "baseline": "the uploaded file's size",
                "baseline_value": round(mib, 1),
                "ratio": round(growth / mib, 3),
                "goal": "<= 0.25",
            }
        )
    )


if __name__ == "__main__":
    main()
