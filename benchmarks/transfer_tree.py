"""A tree of 20,000 files of 4 KiB over loopback: cnet cp against rsync, scp, cp -r.

Run: python benchmarks/transfer_tree.py [FILES]
The last line is the figure's JSON: cnet cp through the agent against rsync -e ssh.
"""

from __future__ import annotations

import json
import os
import sys

from transfer_setup import bench_env, cnet_cmd, load_average


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with bench_env() as b:
        src = b.base / "tree"
        for i in range(count):
            d = src / f"d{i // 200:03d}"
            if i % 200 == 0:
                d.mkdir(parents=True)
            (d / f"f{i:05d}").write_bytes(os.urandom(4096))
        runs = {
            "cnet cp -r -> agent": cnet_cmd("cp", "-r", str(src), "agent1:tree"),
            "cnet cp -r -> SFTP": cnet_cmd("cp", "-r", str(src), "ssh1:tree"),
            "cnet cp -r local": cnet_cmd("cp", "-r", str(src), str(b.local_dst / "tree")),
            "cp -r (floor)": ["cp", "-r", str(src), str(b.local_dst / "tree")],
            "rsync (local)": ["rsync", "-a", str(src), str(b.local_dst) + "/"],
            "rsync -e ssh": [
                "rsync",
                "-a",
                "-e",
                b.ssh_cmd,
                str(src),
                f"root@127.0.0.1:{b.ssh_root}/",
            ],
            "scp -r": b.scp("-r", str(src), f"root@127.0.0.1:{b.ssh_root}/"),
        }
        reps = int(os.environ.get("BENCH_REPS", "3"))
        print(f"load average before: {load_average()} (2 cores)", flush=True)
        medians = b.medians(runs, reps, set_aside=True)
        print(f"load average after: {load_average()}", flush=True)
        rates = {}
        for name, seconds in medians.items():
            rates[name] = count / seconds
            print(f"{name:24s} {seconds:7.2f} s {rates[name]:8.0f} files/s", flush=True)
    agent, base = rates["cnet cp -r -> agent"], rates["rsync -e ssh"]
    print(f"agent vs floor (cp -r): {rates['cp -r (floor)'] / agent:.2f}x slower")
    print(f"local: cnet cp -r / cp -r = {rates['cnet cp -r local'] / rates['cp -r (floor)']:.2f}")
    print(
        json.dumps(
            {
                "figure": "transfer_tree",
                "value": round(agent),
                "unit": "files/s",
                "baseline": "rsync -e ssh",
                "baseline_value": round(base),
                "ratio": round(agent / base, 2),
                "goal": ">= rsync -e ssh and within 1.5x of cp -r",
                "all_files_per_s": {k: round(v) for k, v in rates.items()},
                "load_average": load_average(),
            }
        )
    )


if __name__ == "__main__":
    main()
