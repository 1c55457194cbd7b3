"""pyxis's container options on cnet submit and in #SBATCH lines."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from computenet.errors import SpecError
from computenet.model import JobSpec, Mount
from computenet.spec import parse_sbatch, slurm_passthrough_args

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC).timestamp()


def parse(argv: list[str], script: str = "#!/bin/bash\ntrue\n") -> JobSpec:
    return parse_sbatch(argv, script, now=NOW, tz=UTC)


def test_command_line_options_fill_the_spec() -> None:
    spec = parse(
        [
            "--container-image=mpi:1",
            "--container-mounts=/scratch/in:/in:ro,/scratch/out",
            "--container-workdir=/in/../out",
        ]
    )
    assert spec.container_image == "mpi:1"
    assert spec.container_mounts == (
        Mount("/scratch/in", "/in", read_only=True),
        Mount("/scratch/out", "/scratch/out"),
    )
    assert spec.container_workdir == "/out"


def test_directives_and_the_command_line_override_them() -> None:
    script = "#!/bin/bash\n#SBATCH --container-image=base\n#SBATCH --container-workdir=/w\ntrue\n"
    assert parse([], script).container_image == "base"
    spec = parse(["--container-image=other"], script)
    assert (spec.container_image, spec.container_workdir) == ("other", "/w")


def test_pyxis_flags_are_read() -> None:
    (mount,) = parse(["--container-mounts=/a:/b:ro+rprivate"]).container_mounts
    assert mount == Mount("/a", "/b", read_only=True)
    (mount,) = parse(["--container-mounts=/a:/b:rw"]).container_mounts
    assert not mount.read_only


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--container-image=../x y"], "not an image name"),
        (["--container-mounts=data:/data"], "not an absolute path"),
        (["--container-mounts=/a:b"], "not an absolute path"),
        (["--container-mounts=/a:/b:rx"], "unknown flag 'rx'"),
        (["--container-mounts=/a:/b:ro:x"], "not SRC[:DST[:FLAGS]]"),
        (["--container-mounts=,"], "no mount given"),
        (["--container-workdir=rel"], "absolute path"),
    ],
)
def test_bad_values_are_refused(argv: list[str], message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        parse(argv)


def test_the_spec_round_trips_and_old_specs_still_load() -> None:
    spec = parse(["--container-image=mpi", "--container-mounts=/a:/b:ro"])
    assert JobSpec.from_dict(spec.to_dict()) == spec
    old = {k: v for k, v in spec.to_dict().items() if not k.startswith("container")}
    loaded = JobSpec.from_dict(old)
    assert loaded.container_image is None and loaded.container_mounts == ()


def test_slurm_never_receives_them_verbatim() -> None:
    """A Slurm cluster without pyxis would refuse them; its adapter decides."""
    spec = parse(["--container-image=mpi", "-N1", "--container-workdir=/w"])
    assert slurm_passthrough_args(spec) == ["-N1"]
