"""One big file over loopback: cnet cp (agent, integrity-only, site to site, SFTP,
local) against cp, rsync, scp, and against the machine's floor in the same run.

Run: python benchmarks/transfer_bigfile.py [SIZE_MIB]   (default 2048: 2 GiB)
The last line is the figure's JSON: cnet cp through the agent (encrypted,
verified) against rsync -e ssh, with the other goals beside it.
"""

from __future__ import annotations

import json
import os
import sys

from transfer_floor import cp_seconds, floor, make_file
from transfer_setup import MIB, bench_env, cnet_cmd, load_average, ratio, selected

AGENT = "cnet cp -> agent (TLS, BLAKE3)"
PLAIN = "cnet cp --no-encrypt -> agent (BLAKE3)"
SITES = "cnet cp agent2 -> agent1 (site to site)"
LOCAL = "cnet cp local"
SFTP = "cnet cp -> SFTP"
RSYNC = "rsync -e ssh"


def main() -> None:
    size = int(sys.argv[1]) * MIB if len(sys.argv) > 1 else 2048 * MIB
    with bench_env() as b:
        src = b.base / "big.bin"
        make_file(src, size)
        os.link(src, b.agent2_root / "big.bin")  # site to site reads it at agent2
        print(f"load average before: {load_average()} (2 cores)", flush=True)
        ref = floor(size, *cp_seconds(src, b.base / "floor-dst"))
        print(f"floor: {json.dumps(ref)}", flush=True)
        runs = {
            AGENT: cnet_cmd("cp", str(src), "agent1:big.bin"),
            PLAIN: cnet_cmd("cp", "--no-encrypt", str(src), "agent1:big.bin"),
            SITES: cnet_cmd("cp", "agent2:big.bin", "agent1:big.bin"),
            SFTP: cnet_cmd("cp", str(src), "ssh1:big.bin"),
            LOCAL: cnet_cmd("cp", str(src), str(b.local_dst / "big.bin")),
            "cp": ["cp", str(src), str(b.local_dst / "big.bin")],
            "rsync (local)": ["rsync", "-a", str(src), str(b.local_dst) + "/"],
            RSYNC: [
                "rsync",
                "-a",
                "-e",
                b.ssh_cmd,
                str(src),
                f"root@127.0.0.1:{b.ssh_root}/",
            ],
            "scp": b.scp(str(src), f"root@127.0.0.1:{b.ssh_root}/"),
        }
        reps = int(os.environ.get("BENCH_REPS", "3"))
        medians = b.medians(selected(runs), reps)
        print(f"load average after: {load_average()}", flush=True)
        rates = {}
        for name, seconds in medians.items():
            rates[name] = size / seconds / 1e6
            print(f"{name:42s} {seconds:7.2f} s {rates[name]:8.0f} MB/s", flush=True)
    floor_rate = {"floor": ref["encrypted_floor_MB_per_s"]}
    goals = {
        "agent_vs_rsync_ssh (>= 2)": ratio(rates, AGENT, RSYNC),
        "agent_vs_encrypted_floor (>= 0.6)": ratio({**rates, **floor_rate}, AGENT, "floor"),
        "no_encrypt_vs_rsync_ssh (>= 3)": ratio(rates, PLAIN, RSYNC),
        "site_to_site_vs_agent (>= 1)": ratio(rates, SITES, AGENT),
        "local_vs_cp (>= 0.85)": ratio(rates, LOCAL, "cp"),
        "sftp_vs_scp (>= 1)": ratio(rates, SFTP, "scp"),
    }
    # the headline: the agent against rsync -e ssh; a run left to local legs
    # (BENCH_ONLY) gives the local copy against cp instead
    head, base = (AGENT, RSYNC) if AGENT in rates and RSYNC in rates else (LOCAL, "cp")
    for name, value in goals.items():
        print(f"{name:38s} {value}")
    print(
        json.dumps(
            {
                "figure": "transfer_bigfile",
                "value": round(rates[head]),
                "unit": "MB/s",
                "baseline": base,
                "baseline_value": round(rates[base]),
                "ratio": ratio(rates, head, base),
                "goal": ">= 2x rsync -e ssh and >= 60% of the encrypted floor"
                if head == AGENT
                else ">= 0.85 of cp",
                "bytes": size,
                "goals": goals,
                "floor": ref,
                "all_MB_per_s": {k: round(v) for k, v in rates.items()},
                "load_average": load_average(),
            }
        )
    )


if __name__ == "__main__":
    main()
