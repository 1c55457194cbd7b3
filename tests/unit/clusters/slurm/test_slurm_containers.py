"""The batch script a Slurm cluster without pyxis gets for a containerised job."""

from __future__ import annotations

import subprocess
from pathlib import Path

from computenet.clusters.slurm.containers import (
    pyxis_args,
    without_container_directives,
    wrapped_script,
)
from computenet.containers import ImageStore
from computenet.model import JobSpec, Mount
from tests.unit.containers.conftest import make_tarball

SCRIPT = (
    "#!/bin/bash\n#SBATCH --job-name=x\n#SBATCH --container-image=tiny\n"
    "#SBATCH -N 1\necho 'it''s' \"$1\"\n"
)


def test_pyxis_gets_the_options_as_given() -> None:
    spec = JobSpec(
        container_image="tiny",
        container_mounts=(Mount("/a", "/b", read_only=True), Mount("/c", "/c")),
        container_workdir="/b",
    )
    assert pyxis_args(spec) == [
        "--container-image=tiny",
        "--container-mounts=/a:/b:ro,/c:/c",
        "--container-workdir=/b",
    ]
    assert without_container_directives(SCRIPT).count("--container") == 0


def test_the_wrapper_keeps_the_directives_and_embeds_the_script(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "site")
    store.add_tarball("tiny", make_tarball(tmp_path / "t.tar"))
    spec = JobSpec(script=SCRIPT, container_image="tiny")
    text = wrapped_script(spec, store, ())
    lines = text.splitlines()
    assert lines[:3] == ["#!/bin/sh", "#SBATCH --job-name=x", "#SBATCH -N 1"]
    assert "--container-image" not in text.split("<<")[0]  # sbatch reads only the head
    assert SCRIPT.rstrip("\n") in text  # the user's script, byte for byte
    assert '--chdir "$PWD"' in text and '-- "$cn_script" "$@"' in text
    subprocess.run(["sh", "-n"], input=text, text=True, check=True)  # valid shell
