"""Settings from the TOML file and CN_* variables; broken ones are clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from computenet.config import load_settings
from computenet.errors import ConfigError


def test_defaults_are_two_embedded_clusters(isolated_home: Path) -> None:
    s = load_settings()
    assert [c.name for c in s.clusters] == ["local-a", "local-b"]
    assert {c.kind for c in s.clusters} == {"embedded"}
    a, b = (c.partitions[0] for c in s.clusters)
    assert a.price_per_core_hour != b.price_per_core_hour
    assert (a.threads_per_core, b.threads_per_core) == (1, 2)
    assert s.effective_database_url.startswith(f"sqlite:///{isolated_home}")


def test_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "cn.toml"
    cfg.write_text(
        'default_policy = "cheapest"\nport = 7000\n\n[[clusters]]\nname = "hpc"\n'
        'kind = "slurm"\nslurm_conf = "/etc/slurm/slurm.conf"\n'
        '[[clusters.partitions]]\nname = "batch"\nnodes = 10\ncores = 64\n'
    )
    monkeypatch.setenv("CN_CONFIG", str(cfg))
    monkeypatch.setenv("CN_PORT", "7100")
    s = load_settings()
    assert s.default_policy == "cheapest"
    assert s.port == 7100  # the variable wins over the file
    (hpc,) = s.clusters
    assert hpc.kind == "slurm" and hpc.partitions[0].cores == 64


@pytest.mark.parametrize(
    "text",
    [
        "port = 'many'\n",
        "[[clusters]]\nname = 'bad name!'\n",
        "[[clusters]]\nname = 'x'\nkind = 'kubernetes'\n",
        "no_such_setting = 1\n",
        "request_rate_per_s = -1\n",
        "request_burst = 0\n",
        "this is not toml",
    ],
)
def test_broken_configuration_is_a_config_error(
    tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "cn.toml"
    cfg.write_text(text)
    monkeypatch.setenv("CN_CONFIG", str(cfg))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(cfg) in info.value.message or "configuration" in info.value.message


def test_admission_settings_from_the_environment(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings().request_rate_per_s > 0  # on unless turned off
    monkeypatch.setenv("CN_REQUEST_RATE_PER_S", "0")
    monkeypatch.setenv("CN_REQUEST_BURST", "7")
    s = load_settings()
    assert (s.request_rate_per_s, s.request_burst) == (0.0, 7)
    monkeypatch.setenv("CN_REQUEST_BURST", "0")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "request_burst" in info.value.message
