"""Prediction error reports: per-cluster bias, mean and median absolute error."""

from __future__ import annotations

import pytest

from computenet.network.predictions import PredictionRecord, error_stats, prediction_report


def test_error_stats_sign_means_pessimistic() -> None:
    s = error_stats([110.0, 90.0, 400.0], [100.0, 100.0, 100.0])
    assert s is not None
    assert (s.count, s.mean_abs_error_s, s.median_abs_error_s) == (3, 320 / 3, 10.0)
    assert s.mean_error_s == pytest.approx(100.0)
    assert error_stats([], []) is None
    with pytest.raises(ValueError):
        error_stats([1.0], [])


def test_report_per_cluster_skips_missing_halves() -> None:
    records = [
        PredictionRecord("b", 10.0, 20.0, 100.0, 50.0),
        PredictionRecord("a", 0.0, 5.0),
        PredictionRecord("a", 0.0, None, 60.0, 60.0),
    ]
    report = prediction_report(records)
    assert [r.cluster for r in report] == ["a", "b"]
    a, b = report
    assert a.start is not None and a.start.count == 1 and a.start.mean_error_s == -5.0
    assert a.runtime is not None and a.runtime.mean_abs_error_s == 0.0
    assert b.runtime is not None and b.runtime.mean_error_s == 50.0
