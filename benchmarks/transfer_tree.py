"""A tree of 20,000 files of 4 KiB over loopback: cnet cp (agent, integrity-only,
site to site, SFTP, local) against rsync, scp and cp -r in the same run.

Run: python benchmarks/transfer_tree.py [FILES]
The last line is the figure's JSON: cnet cp through the agent against rsync -e ssh,
with the other goals beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from transfer_setup import bench_env, cnet_cmd, load_average, ratio, selected

AGENT = "cnet cp -r -> agent"
PLAIN = "cnet cp -r --no-encrypt -> agent"
SITES = "cnet cp -r agent2 -> agent1"
LOCAL = "cnet cp -r local"
FLOOR = "cp -r (floor)"
SFTP = "cnet cp -r -> SFTP"
RSYNC = "rsync -e ssh"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with bench_env() as b:
        src = b.base / "tree"
        for i in range(count):
            d = src / f"d{i // 200:03d}"
            if i % 200 == 0:
                d.mkdir(parents=True)
            (d / f"f{i:05d}").write_bytes(os.urandom(4096))
        # site to site reads the tree at agent2 (hard links: no second copy of the data)
        subprocess.run(["cp", "-al", str(src), str(b.agent2_root / "tree")], check=True)
        runs = {
            AGENT: cnet_cmd("cp", "-r", str(src), "agent1:tree"),
            PLAIN: cnet_cmd("cp", "-r", "--no-encrypt", str(src), "agent1:tree"),
            SITES: cnet_cmd("cp", "-r", "agent2:tree", "agent1:tree"),
            SFTP: cnet_cmd("cp", "-r", str(src), "ssh1:tree"),
            LOCAL: cnet_cmd("cp", "-r", str(src), str(b.local_dst / "tree")),
            FLOOR: ["cp", "-r", str(src), str(b.local_dst / "tree")],
            "rsync (local)": ["rsync", "-a", str(src), str(b.local_dst) + "/"],
            RSYNC: [
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
        medians = b.medians(selected(runs), reps, set_aside=True)
        print(f"load average after: {load_average()}", flush=True)
        rates = {}
        for name, seconds in medians.items():
            rates[name] = count / seconds
            print(f"{name:34s} {seconds:7.2f} s {rates[name]:8.0f} files/s", flush=True)
    goals = {
        "agent_vs_rsync_ssh (>= 2)": ratio(rates, AGENT, RSYNC),
        "agent_slower_than_cp_r (<= 2)": ratio(rates, FLOOR, AGENT),
        "no_encrypt_vs_rsync_ssh": ratio(rates, PLAIN, RSYNC),
        "site_to_site_vs_agent": ratio(rates, SITES, AGENT),
        "local_vs_cp_r (>= 0.7)": ratio(rates, LOCAL, FLOOR),
        "sftp_vs_scp (>= 1)": ratio(rates, SFTP, "scp -r"),
    }
    # the headline: the agent against rsync -e ssh; a run left to local legs
    # (BENCH_ONLY) gives the local copy against cp -r instead
    head, base = (AGENT, RSYNC) if AGENT in rates and RSYNC in rates else (LOCAL, FLOOR)
    for name, value in goals.items():
        print(f"{name:34s} {value}")
    print(
        json.dumps(
            {
                "figure": "transfer_tree",
                "value": round(rates[head]),
                "unit": "files/s",
                "baseline": base,
                "baseline_value": round(rates[base]),
                "ratio": ratio(rates, head, base),
                "goal": ">= 2x rsync -e ssh and within 2x of cp -r"
                if head == AGENT
                else ">= 0.7 of cp -r",
                "files": count,
                "goals": goals,
                "all_files_per_s": {k: round(v) for k, v in rates.items()},
                "load_average": load_average(),
            }
        )
    )


if __name__ == "__main__":
    main()
