"""Benchmark speeds on the configured scale, and the broker taking them in
place of the configured factor (and saying so)."""

from __future__ import annotations

import pytest

from computenet.model import JobSpec
from computenet.network import ClusterView
from computenet.network.bench_speed import BenchSample, bench_speeds
from computenet.network.estimates import runtime
from computenet.network.feasibility import fit

from .conftest import cluster


def hpl(c: str, gflops: float, cpus: int = 4) -> BenchSample:
    return BenchSample(c, "batch", "hpl", gflops, "GFLOPS", cpus)


def test_measured_partitions_are_placed_on_the_configured_scale() -> None:
    configured = {("a", "batch"): 1.0, ("b", "batch"): 1.0, ("c", "batch"): 1.0}
    # a sustains 10 GFLOPS per CPU, b 20, c 5: the median ratio (10) is speed 1
    got = bench_speeds([hpl("a", 40), hpl("b", 80), hpl("c", 20)], configured)
    assert {k[0]: round(v.factor, 6) for k, v in got.items()} == {"a": 1.0, "b": 2.0, "c": 0.5}
    assert got[("b", "batch")].per_cpu == 20 and got[("b", "batch")].runs == 1


def test_one_measured_partition_keeps_its_configured_factor() -> None:
    got = bench_speeds([hpl("a", 40), hpl("a", 44)], {("a", "batch"): 0.8})
    assert got[("a", "batch")].factor == pytest.approx(0.8)
    assert got[("a", "batch")].runs == 2


def test_hpl_is_preferred_to_stream_and_unknown_or_bad_samples_are_left_out() -> None:
    configured = {("a", "batch"): 1.0, ("b", "batch"): 1.0}
    samples = [
        BenchSample("a", "batch", "stream", 10.0, "GB/s", 2),
        hpl("a", 8.0, 2),
        BenchSample("b", "batch", "stream", 10.0, "GB/s", 2),
        hpl("b", 0.0),  # a zero is no measurement
        hpl("gone", 9.0),  # not a partition the network knows
    ]
    got = bench_speeds(samples, configured)
    assert got[("a", "batch")].benchmark == "hpl"
    assert got[("b", "batch")].benchmark == "stream"
    assert ("gone", "batch") not in got


def test_the_broker_uses_the_benchmark_speed_before_the_configured_one() -> None:
    info = cluster("a", cores=4, nodes=2, speed=1.0)
    spec = JobSpec(command="true", time_limit_s=3600)
    f = fit(spec, info, info.partitions[0])
    assert not isinstance(f, str)
    plain = ClusterView(info, None)
    assert runtime(spec, plain, f) == (3600.0, "configured speed 1")
    speed = bench_speeds([hpl("a", 80), hpl("b", 40)], {("a", "batch"): 1.0, ("b", "batch"): 1.0})[
        ("a", "batch")
    ]
    seconds, source = runtime(spec, ClusterView(info, None, bench_speed={"batch": speed}), f)
    assert seconds == pytest.approx(3600 / speed.factor)
    assert source.startswith("benchmark: hpl 20 GFLOPS per CPU") and "speed 1.33" in source
