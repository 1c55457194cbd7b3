"""Peak FLOPS of a node type, derived from its description, never measured.

CPU peak (double precision) = physical cores x clock x FLOPs per cycle per
core. A partition's configuration sets clock and FLOPs per cycle; the
embedded cluster reads both from this machine
(``clusters/embedded/host_cpu.py``), where FLOPs per cycle follows the
widest vector unit the CPU has, assuming two fused multiply-add pipes per
core (the usual server layout; a part with one AVX-512 pipe reaches half):

    avx512f + fma   2 pipes x 8 doubles x 2 (multiply and add) = 32
    avx2 + fma      2 pipes x 4 doubles x 2                    = 16
    avx             1 add + 1 multiply pipe x 4 doubles        =  8
    sse2            1 add + 1 multiply pipe x 2 doubles        =  4

Hardware threads share a core's pipes and add nothing. GPU peak comes from
the model table below (vendor FP64 figures for the vector units, without
tensor cores). Every figure carries the text of its derivation, so
``cnet capacity`` shows how it came about.
"""

from __future__ import annotations

from dataclasses import dataclass

from computenet.model import NodeType

#: GPU model (lower case) -> peak FP64 TFLOPS of its vector units (vendor data sheets)
GPU_FP64_TFLOPS: dict[str, float] = {
    "h100": 34.0,
    "h100-pcie": 26.0,
    "a100": 9.7,
    "v100": 7.8,
    "p100": 4.7,
    "mi300x": 81.7,
    "mi250x": 47.9,
    "mi250": 45.3,
    "mi100": 11.5,
    "l40s": 1.4,
    "a40": 0.58,
    "t4": 0.25,
}


@dataclass(frozen=True)
class Peak:
    """A node type's peak, in GFLOPS per node; None where it cannot be derived."""

    cpu_gflops: float | None
    gpu_gflops: float | None
    derivation: str

    @property
    def gflops(self) -> float | None:
        if self.cpu_gflops is None and self.gpu_gflops is None:
            return None
        return (self.cpu_gflops or 0.0) + (self.gpu_gflops or 0.0)


def node_peak(nt: NodeType) -> Peak:
    """Peak per node of ``nt``, with how it was derived (or what is missing)."""
    parts: list[str] = []
    cpu: float | None = None
    if nt.clock_ghz and nt.flops_per_cycle:
        cpu = nt.cores * nt.clock_ghz * nt.flops_per_cycle
        parts.append(
            f"{nt.cores} cores x {nt.clock_ghz:g} GHz x {nt.flops_per_cycle} FLOPs/cycle"
            f" = {cpu:.4g} GFLOPS"
        )
    else:
        missing = [
            name
            for name, value in (
                ("clock_ghz", nt.clock_ghz),
                ("flops_per_cycle", nt.flops_per_cycle),
            )
            if not value
        ]
        parts.append(f"CPU peak unknown (set {' and '.join(missing)} for the partition)")
    gpu: float | None = None
    if nt.gpus:
        model = (nt.gpu_model or "").lower()
        per = GPU_FP64_TFLOPS.get(model)
        if per is None:
            parts.append(f"GPU model {nt.gpu_model or 'unnamed'} is not in the peak table")
        else:
            gpu = nt.gpus * per * 1000.0
            parts.append(f"{nt.gpus} x {nt.gpu_model} at {per:g} TFLOPS FP64 = {gpu:.4g} GFLOPS")
    return Peak(cpu_gflops=cpu, gpu_gflops=gpu, derivation="; ".join(parts))
