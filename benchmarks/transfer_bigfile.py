"""One 2 GiB file over loopback: cnet cp (agent, SFTP, local) against cp, rsync, scp.

Run: python benchmarks/transfer_bigfile.py [SIZE_MIB]
The last line is the figure's JSON: cnet cp through the agent against rsync -e ssh.
"""

from __future__ import annotations

import json
import os
import sys

from transfer_setup import MIB, bench_env, cnet_cmd, load_average


def main() -> None:
    size = int(sys.argv[1]) * MIB if len(sys.argv) > 1 else 2048 * MIB
    with bench_env() as b:
        src = b.base / "big.bin"
        with open(src, "wb") as fh:
            for _ in range(size // (64 * MIB)):
                fh.write(os.urandom(64 * MIB))
        runs = {
            "cnet cp -> agent (TLS, BLAKE3)": cnet_cmd("cp", str(src), "agent1:big.bin"),
            "cnet cp -> SFTP": cnet_cmd("cp", str(src), "ssh1:big.bin"),
            "cnet cp local": cnet_cmd("cp", str(src), str(b.local_dst / "big.bin")),
            "cp": ["cp", str(src), str(b.local_dst / "big.bin")],
            "rsync (local)": ["rsync", "-a", str(src), str(b.local_dst) + "/"],
            "rsync -e ssh": [
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
        print(f"load average before: {load_average()} (2 cores)", flush=True)
        medians = b.medians(runs, reps)
        print(f"load average after: {load_average()}", flush=True)
        rates = {}
        for name, seconds in medians.items():
            rates[name] = size / seconds / 1e6
            print(f"{name:34s} {seconds:7.2f} s {rates[name]:8.0f} MB/s", flush=True)
    agent, base = rates["cnet cp -> agent (TLS, BLAKE3)"], rates["rsync -e ssh"]
    print(f"local: cnet cp / cp = {rates['cnet cp local'] / rates['cp']:.2f}")
    print(
        json.dumps(
            {
                "figure": "transfer_bigfile",
                "value": round(agent),
                "unit": "MB/s",
                "baseline": "rsync -e ssh",
                "baseline_value": round(base),
                "ratio": round(agent / base, 2),
                "goal": ">= 3x rsync -e ssh",
                "all_MB_per_s": {k: round(v) for k, v in rates.items()},
                "load_average": load_average(),
            }
        )
    )


if __name__ == "__main__":
    main()
