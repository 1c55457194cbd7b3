"""Shared set-up for the transfer benchmarks: data, two site agents, a loopback
sshd, a private computenet server with sites ``agent1`` (which also allows
integrity-only copies: ``--data-listen``, ``--allow-no-encrypt``), ``agent2``,
``ssh1`` and timing helpers.

Everything lives under one temporary directory and every daemon is stopped by
its PID at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

MIB = 2**20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("daemon exited") from None
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


class Bench:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.procs: list[subprocess.Popen[bytes]] = []
        self.env = dict(
            os.environ,
            CN_DATA_DIR=str(base / "cn/data"),
            CN_STATE_DIR=str(base / "cn/state"),
            CN_CONFIG=str(base / "cn/none.toml"),
        )
        self.agent_root = base / "agent-root"
        self.agent2_root = base / "agent2-root"
        self.ssh_root = base / "ssh-root"
        self.local_dst = base / "local-dst"
        self.trash = base / "trash"
        for d in (self.agent_root, self.agent2_root, self.ssh_root, self.local_dst):
            d.mkdir()

    def start_agent(self, name: str = "agent1", root: Path | None = None) -> None:
        """An agent; ``agent1`` also runs the plain data listener and allows
        integrity-only copies."""
        info = self.base / f"{name}.json"
        plain = name == "agent1"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "computenet.cli.main",
                "agent",
                "--root",
                str(root or self.agent_root),
                "--listen",
                "127.0.0.1:0",
                "--info-file",
                str(info),
                *(["--data-listen", "127.0.0.1:0"] if plain else []),
            ],
            env=self.env,
        )
        self.procs.append(proc)
        while not info.exists():
            time.sleep(0.05)
        wait_port(int(json.loads(info.read_text())["url"].rsplit(":", 1)[1]), proc)
        extra = ["--allow-no-encrypt"] if plain else []
        self.cnet("sites", "add", name, "--agent-info", str(info), *extra)

    def start_sshd(self) -> None:
        d = self.base / "sshd"
        d.mkdir(mode=0o700)
        for name in ("host", "user"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True
            )
        shutil.copy(d / "user.pub", d / "authorized_keys")
        self.ssh_port = free_port()
        self.ssh_key = d / "user"
        (d / "sshd_config").write_text(
            f"Port {self.ssh_port}\nListenAddress 127.0.0.1\nHostKey {d / 'host'}\n"
            f"AuthorizedKeysFile {d / 'authorized_keys'}\nPasswordAuthentication no\n"
            "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
            f"PidFile {d / 'pid'}\nSubsystem sftp internal-sftp\n"
        )
        Path("/run/sshd").mkdir(exist_ok=True)
        proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", str(d / "sshd_config")])
        self.procs.append(proc)
        wait_port(self.ssh_port, proc)
        self.cnet(
            "sites",
            "add",
            "ssh1",
            "--sftp",
            f"root@127.0.0.1:{self.ssh_port}:{self.ssh_root}",
            "--key",
            str(self.ssh_key),
        )

    @property
    def ssh_cmd(self) -> str:
        return (
            f"ssh -p {self.ssh_port} -i {self.ssh_key} -o StrictHostKeyChecking=no "
            "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
        )

    def scp(self, *args: str) -> list[str]:
        return [
            "scp",
            "-q",
            "-P",
            str(self.ssh_port),
            "-i",
            str(self.ssh_key),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            *args,
        ]

    def cnet(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "computenet.cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
        )
        if out.returncode:
            raise RuntimeError(f"cnet {' '.join(args)}: {out.stderr.strip()}")
        return out.stdout

    def clean(self, *, set_aside: bool = False) -> None:
        """Empty the destinations. ``set_aside`` moves the old copies away instead of
        deleting them: ext4 skips inodes freed in the last ~30 s when it allocates
        new ones, and creating 20,000 files right after deleting 20,000 costs several
        times more (whichever tool comes next), so tree runs keep theirs until the end."""
        for d in (self.agent_root, self.ssh_root, self.local_dst):  # agent2 holds sources
            if set_aside:
                self.trash.mkdir(exist_ok=True)
                for child in d.iterdir():
                    child.rename(self.trash / f"{len(list(self.trash.iterdir()))}")
            else:
                shutil.rmtree(d)
                d.mkdir()

    def timed(self, cmd: list[str], *, set_aside: bool = False) -> float:
        """Seconds for one run of ``cmd`` (destinations emptied first)."""
        self.clean(set_aside=set_aside)
        subprocess.run(["sync"], check=True)
        start = time.monotonic()
        subprocess.run(cmd, env=self.env, check=True, stdout=subprocess.DEVNULL)
        return time.monotonic() - start

    def medians(
        self, runs: dict[str, list[str]], reps: int, *, set_aside: bool = False
    ) -> dict[str, float]:
        """Median seconds of each command over ``reps`` rounds (the commands
        interleaved, so a burst of load on the shared machine hits all of them)."""
        samples: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(reps):
            for name, cmd in runs.items():
                samples[name].append(self.timed(cmd, set_aside=set_aside))
        for name, ts in samples.items():
            print(f"  {name:34s} runs: {' '.join(f'{t:.2f}' for t in ts)} s", flush=True)
        return {name: statistics.median(ts) for name, ts in samples.items()}

    def stop(self) -> None:
        with suppress(RuntimeError):
            self.cnet("server", "stop")
        for p in self.procs:
            p.terminate()
            p.wait(10)


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def selected(runs: dict[str, list[str]]) -> dict[str, list[str]]:
    """The runs named in ``BENCH_ONLY`` (separated by ``;``, as some names hold commas:
    ``cnet cp local;cp``);
    all of them when it is unset."""
    only = [n.strip() for n in os.environ.get("BENCH_ONLY", "").split(";") if n.strip()]
    unknown = [n for n in only if n not in runs]
    if unknown:
        raise SystemExit(f"BENCH_ONLY names no run {unknown}; runs are {list(runs)}")
    return {k: v for k, v in runs.items() if not only or k in only}


def ratio(rates: dict[str, float], num: str, den: str) -> float | None:
    """rates[num] / rates[den], or None when either run was left out (BENCH_ONLY)."""
    if num not in rates or den not in rates:
        return None
    return round(rates[num] / rates[den], 2)


def cnet_cmd(*args: str) -> list[str]:
    """The console script beside this interpreter, as a virtualenv puts it on PATH."""
    beside = Path(sys.executable).parent / "cnet"
    if beside.exists():
        return [str(beside), *args]
    return [sys.executable, "-m", "computenet.cli.quick", *args]


@contextmanager
def bench_env() -> Iterator[Bench]:
    base = Path(tempfile.mkdtemp(prefix="cnet-bench-", dir=os.environ.get("BENCH_DIR")))
    bench = Bench(base)
    try:
        bench.cnet("sites")  # start the local server outside the timings
        bench.start_agent()
        bench.start_agent("agent2", bench.agent2_root)
        bench.start_sshd()
        yield bench
    finally:
        bench.stop()
        shutil.rmtree(base, ignore_errors=True)
