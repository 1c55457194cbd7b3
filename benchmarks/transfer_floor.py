"""The machine's own floor for moving data, measured in the same run as the copies.

Each rate is one core's (one thread, data in memory): BLAKE3, AES-256-GCM
encryption and decryption through ``cryptography`` (16 KiB records, as TLS
1.3 sends), a loopback TCP stream (sender and receiver in two threads: the
kernel's copy in and out of socket buffers), and ``cp`` of a file in the page
cache (read and write in the kernel). From them:

- ``local_floor_s``: ``cp`` itself (the kernel's copy is all a local copy must do).
- ``encrypted_floor_MB_per_s``: what 2 cores allow for a verified, encrypted
  copy to an agent when the CPU work alone counts: one read and one write
  (``cp``), BLAKE3 on both sides, encrypt and decrypt, the loopback copy,
  divided over the two cores.
- ``integrity_floor_MB_per_s``: the same without encryption.

Run alone it prints these for SIZE_MIB (default 2048) as its last line.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

MIB = 2**20
CORES = 2
RECORD = 16 * 2**10


def _best(fn: object, reps: int = 3) -> float:
    """Fastest of ``reps`` timings of ``fn()`` (the least disturbed by other load)."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def blake3_rate(nbytes: int = 256 * MIB) -> float:
    """Bytes/s of one thread's BLAKE3 over 8 MiB pieces."""
    import blake3

    buf = os.urandom(8 * MIB)

    def run() -> None:
        h = blake3.blake3(max_threads=1)
        for _ in range(nbytes // len(buf)):
            h.update(buf)
        h.digest()

    return nbytes / _best(run)


def aes_gcm_rates(nbytes: int = 128 * MIB) -> tuple[float, float]:
    """Bytes/s of one thread's AES-256-GCM (encrypt, decrypt) on 16 KiB records."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    nonce = os.urandom(12)
    record = os.urandom(RECORD)
    sealed = aead.encrypt(nonce, record, None)
    count = nbytes // RECORD

    def enc() -> None:
        for _ in range(count):
            aead.encrypt(nonce, record, None)

    def dec() -> None:
        for _ in range(count):
            aead.decrypt(nonce, sealed, None)

    return nbytes / _best(enc), nbytes / _best(dec)


def loopback_rate(nbytes: int = 512 * MIB) -> float:
    """Bytes per CPU-second of one TCP stream over loopback (blocking sockets, two
    threads; the sender's and the receiver's CPU time both count)."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    buf = os.urandom(4 * MIB)

    def receive() -> None:
        conn, _ = server.accept()
        sink = bytearray(4 * MIB)
        got = 0
        while got < nbytes:
            n = conn.recv_into(sink)
            if not n:
                break
            got += n
        conn.close()

    cpu: list[float] = []

    def run() -> None:
        before = _cpu_self()
        t = threading.Thread(target=receive)
        t.start()
        with socket.create_connection(("127.0.0.1", port)) as s:
            for _ in range(nbytes // len(buf)):
                s.sendall(buf)
        t.join()
        cpu.append(_cpu_self() - before)

    _best(run)
    server.close()
    return nbytes / min(cpu)


def _cpu_self() -> float:
    t = os.times()
    return t.user + t.system


def _cpu_children() -> float:
    t = os.times()
    return t.children_user + t.children_system


def make_file(path: Path, nbytes: int) -> None:
    with open(path, "wb") as fh:
        for _ in range(max(1, nbytes // (64 * MIB))):
            fh.write(os.urandom(min(nbytes, 64 * MIB)))


def cp_seconds(src: Path, dst_dir: Path, reps: int = 3) -> tuple[float, float]:
    """Fastest ``cp`` of ``src`` (in the page cache) into a fresh ``dst_dir``:
    (wall seconds, CPU seconds)."""
    times, cpu = [], []
    for _ in range(reps):
        shutil.rmtree(dst_dir, ignore_errors=True)
        dst_dir.mkdir()
        subprocess.run(["sync"], check=True)
        start, before = time.perf_counter(), _cpu_children()
        subprocess.run(["cp", str(src), str(dst_dir / src.name)], check=True)
        times.append(time.perf_counter() - start)
        cpu.append(_cpu_children() - before)
    shutil.rmtree(dst_dir, ignore_errors=True)
    return min(times), min(cpu)


def floor(nbytes: int, cp_s: float, cp_cpu_s: float) -> dict[str, float]:
    """The floor for ``nbytes`` given the same run's ``cp`` of that many bytes
    (wall and CPU seconds)."""
    b3 = blake3_rate()
    enc, dec = aes_gcm_rates()
    wire = loopback_rate()
    per_byte_cp = cp_cpu_s / nbytes
    integrity_cpu = per_byte_cp + 2 / b3 + 1 / wire  # seconds of CPU per byte
    encrypted_cpu = integrity_cpu + 1 / enc + 1 / dec
    return {
        "blake3_MB_per_s_1_core": round(b3 / 1e6),
        "aes_gcm_encrypt_MB_per_s_1_core": round(enc / 1e6),
        "aes_gcm_decrypt_MB_per_s_1_core": round(dec / 1e6),
        "loopback_tcp_MB_per_cpu_s": round(wire / 1e6),
        "cp_MB_per_s": round(nbytes / cp_s / 1e6),
        "local_floor_s": round(cp_s, 3),
        "integrity_floor_MB_per_s": round(CORES / integrity_cpu / 1e6),
        "encrypted_floor_MB_per_s": round(CORES / encrypted_cpu / 1e6),
    }


def main() -> None:
    size = int(sys.argv[1]) * MIB if len(sys.argv) > 1 else 2048 * MIB
    base = Path(tempfile.mkdtemp(prefix="cnet-floor-", dir=os.environ.get("BENCH_DIR")))
    try:
        src = base / "big.bin"
        make_file(src, size)
        out = floor(size, *cp_seconds(src, base / "dst"))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(
        json.dumps(
            {
                "figure": "transfer_floor",
                "value": out["encrypted_floor_MB_per_s"],
                "unit": "MB/s",
                "baseline": "cp",
                "baseline_value": out["cp_MB_per_s"],
                "ratio": round(out["encrypted_floor_MB_per_s"] / out["cp_MB_per_s"], 2),
                "goal": "a reference, not a goal: the copies are held against it",
                "bytes": size,
                **out,
                "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
            }
        )
    )


if __name__ == "__main__":
    main()
