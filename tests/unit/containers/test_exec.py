"""cn-container's options and the one-line reasons it gives before bwrap runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from computenet.containers import ImageStore
from computenet.containers.exec import CANNOT_START, container_command, main, parse


def test_options_then_the_command() -> None:
    given, command = parse(
        ["--container-image=mpi", "--container-workdir", "/w", "--", "./app", "--flag"]
    )
    assert given == {"container-image": "mpi", "container-workdir": "/w"}
    assert command == ["./app", "--flag"]
    with pytest.raises(ValueError, match="unknown option --nope"):
        parse(["--nope=1", "x"])


def test_a_rank_runs_in_the_image_with_its_mounts(tmp_path: Path, tarball: Path) -> None:
    store = ImageStore(tmp_path / "site")
    store.add_tarball("tiny", tarball)
    (tmp_path / "data").mkdir()
    env = {
        "CN_IMAGE_STORE": str(store.root),
        "CN_CONTAINER_MOUNT_ROOTS": str(tmp_path),
        "CN_JOB_DIR": "/tmp/job",
    }
    argv = container_command(
        {"container-image": "tiny", "container-mounts": f"{tmp_path / 'data'}:/d:ro"},
        ["/bin/sh", "-c", "true"],
        env,
    )
    assert f"--ro-bind {tmp_path / 'data'} /d" in " ".join(argv)
    assert argv[-4:] == ["--", "/bin/sh", "-c", "true"]


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["./app"], {}, "--container-image is required"),
        (["--container-image=tiny"], {}, "no command given"),
        (["--container-image=tiny", "./app"], {}, "no CN_IMAGE_STORE"),
        (["--container-image=other", "./app"], None, "no image named 'other'"),
        (["--container-image=tiny", "--container-mounts=/etc:/e", "./a"], None, "outside"),
        (["--container-image=tiny", "/usr/bin/python3"], None, "has no /usr/bin/python3"),
    ],
)
def test_failures_exit_125_with_the_reason(
    tmp_path: Path,
    tarball: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    env: dict[str, str] | None,
    message: str,
) -> None:
    store = ImageStore(tmp_path / "site")
    store.add_tarball("tiny", tarball)
    for name in ("CN_IMAGE_STORE", "CN_CONTAINER_MOUNT_ROOTS"):
        monkeypatch.delenv(name, raising=False)
    if env is None:
        monkeypatch.setenv("CN_IMAGE_STORE", str(store.root))
        monkeypatch.setenv("CN_CONTAINER_MOUNT_ROOTS", str(tmp_path))
    assert main(argv) == CANNOT_START
    err = capsys.readouterr().err
    assert err.startswith("cn-container: error: ") and message in err
