"""sbatch command lines and scripts to JobSpecs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from computenet.errors import LimitError, SpecError, UnsupportedOption
from computenet.model.spec import CpuMode, Dependency, DependencyType, Signal, Staging
from computenet.spec import parse_sbatch, parse_submit, split_submit_argv

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC).timestamp()
SCRIPT = "#!/bin/bash\nsrun hostname\n"


def parse(argv: list[str], script: str | None = SCRIPT, **kw: object):  # type: ignore[no-untyped-def]
    return parse_sbatch(argv, script, now=NOW, tz=UTC, **kw)  # type: ignore[arg-type]


def test_wrap_job() -> None:
    spec = parse(["-N", "2", "--ntasks-per-node=4", "--wrap", "hostname"], None)
    assert (spec.command, spec.script, spec.name) == ("hostname", None, "wrap")
    assert (spec.nodes, spec.ntasks_per_node, spec.tasks) == (2, 4, 8)
    assert spec.sbatch_args == ("-N", "2", "--ntasks-per-node=4", "--wrap", "hostname")


def test_long_short_attached_and_clustered_forms_agree() -> None:
    forms = [
        ["--nodes=3", "--job-name=x", "--hold"],
        ["--nodes", "3", "--job-name", "x", "--hold"],
        ["-N3", "-Jx", "-H"],
        ["-N", "3", "-J", "x", "-H"],
        ["-HN3", "-Jx"],
        ["--nodes=3", "--job=x", "--ho"],  # unambiguous prefixes, as getopt allows
    ]
    specs = [parse(f) for f in forms]
    for spec in specs:
        assert (spec.nodes, spec.name, spec.hold) == (3, "x", True)


def test_script_name_is_the_default_name() -> None:
    assert parse([], script_name="/home/u/run.sh").name == "run.sh"
    assert parse([]).name == "sbatch"


def test_command_line_overrides_directives() -> None:
    script = "#!/bin/sh\n#SBATCH -N 4 -p batch\n#SBATCH --time=10\nsrun x\n"
    spec = parse(["-N", "2", "--time=1:00:00"], script)
    assert (spec.nodes, spec.partition, spec.time_limit_s) == (2, "batch", 3600)


def test_directives_after_the_first_command_mean_nothing() -> None:
    script = "#!/bin/sh\n#SBATCH -N 4\nhostname\n#SBATCH -N 9\n#SBATCH --bogus\n"
    assert parse([], script).nodes == 4


def test_unknown_option_names_it_with_a_hint() -> None:
    with pytest.raises(SpecError, match="unrecognized option '--foo'"):
        parse(["--foo"])
    with pytest.raises(
        SpecError, match=r"unrecognized option '--parition'.*did you mean '--partition'"
    ):
        parse(["--parition=x"])
    with pytest.raises(SpecError, match="invalid option -- 'Z'"):
        parse(["-Z"])
    with pytest.raises(SpecError, match="unrecognized option '--bogus'"):
        parse([], "#!/bin/sh\n#SBATCH --bogus\n")


def test_getopt_errors() -> None:
    with pytest.raises(SpecError, match="option '--nodes' requires an argument"):
        parse(["--nodes"])
    with pytest.raises(SpecError, match="option '--hold' doesn't allow an argument"):
        parse(["--hold=yes"])
    with pytest.raises(SpecError, match="option requires an argument -- 'N'"):
        parse(["-N"])
    with pytest.raises(SpecError, match="option '--nt' is ambiguous"):
        parse(["--nt=2"])


def test_resources() -> None:
    spec = parse(["-n", "8", "-c", "2", "--mem=16G", "-N", "2-4", "--ntasks-per-core=1"])
    assert (spec.ntasks, spec.cpus_per_task, spec.cpus) == (8, 2, 16)
    assert spec.mem_per_node_bytes == 16 * 2**30
    assert (spec.nodes, spec.max_nodes) == (2, 4)
    assert spec.cpu_mode is CpuMode.CORE
    assert parse(["--mem-per-cpu=2000"]).mem_per_cpu_bytes == 2000 * 2**20
    assert parse(["--mem=0"]).mem_per_node_bytes == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-n", "0"], "invalid value '0' for --ntasks"),
        (["-c", "abc"], "invalid value 'abc' for --cpus-per-task"),
        (["-N", "0"], "--nodes"),
        (["-N", "-1"], "--nodes"),
        (["--mem=1.5G"], "invalid memory size '1.5G'"),
        (["--mem=4G", "--mem-per-cpu=1G"], "--mem, --mem-per-cpu are mutually exclusive"),
        (["-n", "10", "-N", "2", "--ntasks-per-node=4"], "--ntasks=10 does not fit"),
        (["-t", "1.5"], "invalid time '1.5'"),
        (["--exclusive=all"], "invalid --exclusive=all"),
        (["--hint=fast"], "invalid --hint=fast"),
        (["--hint=multithread", "--ntasks-per-core=1"], "mutually exclusive"),
        (["--open-mode=x"], "invalid --open-mode"),
        (["--signal=FOO@10"], "unknown signal 'FOO'"),
        (["--signal=USR1@99999"], "at most 65535 seconds"),
        (["--policy=random"], "invalid --policy=random"),
        (["--max-cost=-3"], "invalid --max-cost"),
        (["--max-cost=nan"], "invalid --max-cost"),
        (["--hedge=0"], "--hedge"),
        (["--cpu-mode=ht"], "invalid --cpu-mode"),
        (["--gres=gpu:a100:x:2"], "invalid --gres"),
        (["--gpus=a100"], "invalid --gpus=a100"),
        (["--input-stage=nosite"], "SITE:PATH"),
        (["--output-stage=a:b"], "PATH:SITE:DEST"),
        (["--begin=someday"], "invalid --begin=someday"),
        (["--export=NIL,A=1"], "NIL cannot be combined"),
        (["--export=ALL,NONE"], "only one of ALL, NONE and NIL"),
        (["--export==x"], "not NAME or NAME=value"),
    ],
)
def test_invalid_values(argv: list[str], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse(argv)


def test_mem_on_the_command_line_replaces_mem_per_cpu_of_the_script() -> None:
    script = "#!/bin/sh\n#SBATCH --mem-per-cpu=1G\nsrun x\n"
    spec = parse(["--mem=8G"], script)
    assert (spec.mem_per_node_bytes, spec.mem_per_cpu_bytes) == (8 * 2**30, None)


def test_ntasks_fitting_per_node_is_fine() -> None:
    spec = parse(["-n", "4", "-N", "2", "--ntasks-per-node=4"])
    assert spec.tasks == 4


def test_gpus() -> None:
    spec = parse(["--gres=gpu:a100:2,craynetwork:1"])
    assert (spec.gpus_per_node, spec.gpu_type, spec.gres) == (2, "a100", "gpu:a100:2,craynetwork:1")
    assert parse(["--gres=gpu:3"]).gpus_per_node == 3
    assert parse(["--gres=gpu"]).gpus_per_node == 1
    spec = parse(["-G", "v100:4", "-N", "2"])
    assert (spec.gpus, spec.gpu_type, spec.total_gpus) == (4, "v100", 4)
    spec = parse(["--gpus-per-node=2", "-N", "3"])
    assert spec.total_gpus == 6
    spec = parse(["--gpus-per-task=1", "-n", "5"])
    assert (spec.gpus_per_task, spec.total_gpus) == (1, 5)


def test_cpu_modes() -> None:
    assert parse(["--hint=nomultithread"]).cpu_mode is CpuMode.CORE
    assert parse(["--hint=multithread"]).cpu_mode is CpuMode.SMT
    assert parse(["--hint=compute_bound"]).cpu_mode is None
    assert parse(["--threads-per-core=2"]).cpu_mode is CpuMode.SMT
    assert parse(["--cpu-mode=smt", "--ntasks-per-core=1"]).cpu_mode is CpuMode.SMT
    assert parse([]).cpu_mode is None


def test_export_and_environment() -> None:
    env = {"HOME": "/home/u", "EDITOR": "vi"}
    spec = parse([], environment=env)
    assert (spec.export, spec.environment) == ("ALL", env)
    spec = parse(["--export=ALL,EDITOR=emacs,X=1,2"], environment=env)
    assert spec.environment == {"HOME": "/home/u", "EDITOR": "emacs", "X": "1,2"}
    spec = parse(["--export=NONE"], environment=env)
    assert (spec.export, spec.environment) == ("NONE", {})
    spec = parse(["--export=EDITOR,A=b,MISSING"], environment=env)
    assert (spec.export, spec.environment) == ("NONE", {"EDITOR": "vi", "A": "b"})
    assert parse(["--export=NIL"], environment=env).environment == {}


def test_workdir_and_files() -> None:
    spec = parse(
        [
            "-D",
            "sub/dir",
            "-o",
            "out-%j.txt",
            "-e",
            "err-%A_%a",
            "-i",
            "in.txt",
            "--open-mode=append",
        ],
        cwd="/home/u",
    )
    assert spec.workdir == "/home/u/sub/dir"
    assert (spec.output, spec.error, spec.input, spec.open_mode) == (
        "out-%j.txt",
        "err-%A_%a",
        "in.txt",
        "append",
    )
    assert parse([], cwd="/tmp/x").workdir == "/tmp/x"
    spec = parse(["-o", "none", "-e", "NONE"])
    assert (spec.output, spec.error) == ("/dev/null", "/dev/null")
    assert parse(["--chdir=/abs"], cwd="/tmp/x").workdir == "/abs"


def test_scheduling_fields() -> None:
    spec = parse(
        [
            "-p",
            "gpu",
            "-A",
            "proj",
            "-q",
            "high",
            "--exclusive",
            "-C",
            "a100&ib",
            "--reservation=r1",
            "-a",
            "1-5%2",
            "-d",
            "afterok:1:2",
            "--signal=B:USR1@120",
            "--begin=now+1hour",
            "--comment=hello",
            "-t",
            "2-00:00:00",
            "--deadline=2030-06-02T00:00",
        ]
    )
    assert (spec.partition, spec.account, spec.qos, spec.exclusive) == ("gpu", "proj", "high", True)
    assert (spec.constraint, spec.reservation, spec.comment) == ("a100&ib", "r1", "hello")
    assert spec.array is not None and spec.array.indices == (1, 2, 3, 4, 5)
    assert spec.array.max_running == 2
    assert spec.dependency == (Dependency(DependencyType.AFTEROK, ("1", "2")),)
    assert spec.signal == Signal("USR1", 120, batch_only=True)
    assert spec.begin_time == NOW + 3600
    assert spec.deadline == NOW + 12 * 3600
    assert spec.time_limit_s == 2 * 86400
    assert parse(["--signal=10"]).signal == Signal("USR1", 60)
    assert parse(["-t", "UNLIMITED"]).time_limit_s is None


def test_array_limit_is_a_keyword() -> None:
    with pytest.raises(SpecError, match="index 20000 is over the limit"):
        parse(["--array=0-20000"])
    with pytest.raises(SpecError, match="below 10"):
        parse(["--array=0-10"], max_array_size=10)


def test_network_options() -> None:
    spec = parse(
        [
            "-M",
            "c1,c2",
            "--policy=cheapest",
            "--max-cost=12.5",
            "--site=s1",
            "--region=eu",
            "--hedge",
            "2",
            "--app=gromacs",
            "--input-stage=s1:/data/in.tpr",
            "--input-stage=s2:/x/y:z",
            "--output-stage=out/:s1:/results/",
        ]
    )
    assert spec.clusters == ("c1", "c2")
    assert (spec.policy, spec.max_cost, spec.site, spec.region, spec.hedge, spec.app) == (
        "cheapest",
        12.5,
        "s1",
        "eu",
        2,
        "gromacs",
    )
    assert spec.inputs == (Staging("s1", "/data/in.tpr", "in.tpr"), Staging("s2", "/x/y", "z"))
    assert spec.outputs == (Staging("s1", "/results/", "out/"),)  # far side, job side
    assert parse(["--cluster=c3"]).clusters == ("c3",)


def test_staging_from_script_and_command_line_accumulate() -> None:
    script = "#!/bin/sh\n#SBATCH --input-stage=a:/p\nrun\n"
    spec = parse(["--input-stage=b:/q"], script)
    assert [s.site for s in spec.inputs] == ["a", "b"]


def test_submit_flags() -> None:
    spec, flags = parse_submit(
        ["-N2", "--test-only", "--parsable", "-W", "-vv", "-Q"], SCRIPT, now=NOW, tz=UTC
    )
    assert (flags.test_only, flags.parsable, flags.wait, flags.verbose, flags.quiet) == (
        True,
        True,
        True,
        2,
        True,
    )
    assert spec.nodes == 2  # the flags do not disturb the job
    _, flags = parse_submit([], "#!/bin/sh\n#SBATCH --wait\nx\n", now=NOW, tz=UTC)
    assert flags.wait and not flags.parsable


def test_every_sbatch_option_parses() -> None:
    """One valid value for each option in the table: none is refused."""
    from computenet.spec.options import OPTIONS, Arg

    samples = {
        "array": "1-3",
        "begin": "now",
        "deadline": "now+1day",
        "dependency": "afterok:1",
        "exclusive": "user",
        "export": "ALL",
        "gpus": "1",
        "gpus-per-node": "1",
        "gpus-per-task": "1",
        "gres": "gpu:1",
        "hint": "compute_bound",
        "mem": "1G",
        "mem-per-cpu": "1G",
        "nodes": "1",
        "open-mode": "append",
        "signal": "USR1",
        "time": "10",
        "cpu-mode": "core",
        "policy": "fastest",
        "max-cost": "1",
        "input-stage": "s:/p",
        "output-stage": "p:s:/d",
        "threads-per-core": "1",
        "container-mounts": "/data",
        "container-workdir": "/work",
    }
    for opt in OPTIONS:
        if opt.name == "wrap":
            continue
        if opt.arg is Arg.NONE:
            argv = [f"--{opt.name}"]
        else:
            argv = [f"--{opt.name}={samples.get(opt.name, '1')}"]
        parse(argv)
        if opt.short and opt.arg is not Arg.OPTIONAL:
            short = [f"-{opt.short}"] + (
                [] if opt.arg is Arg.NONE else [samples.get(opt.name, "1")]
            )
            parse(short)


def test_script_problems() -> None:
    with pytest.raises(SpecError, match="does not look like a batch script"):
        parse([], "echo hi\n")
    with pytest.raises(LimitError):
        parse([], "#!/bin/sh\n" + "x" * 2000, max_script_bytes=1000)
    with pytest.raises(SpecError, match="no batch script"):
        parse([], None)
    with pytest.raises(SpecError, match="--wrap cannot be used with a batch script"):
        parse(["--wrap=hostname"])
    with pytest.raises(SpecError, match="not permitted with --wrap"):
        parse(["--wrap=hostname"], None, args=["a"])
    with pytest.raises(UnsupportedOption, match="heterogeneous"):
        parse(["-N1", ":", "-N2"])


def test_split_submit_argv() -> None:
    assert split_submit_argv(["-N", "2", "job.sh", "-N", "x"]) == (
        ["-N", "2"],
        "job.sh",
        ["-N", "x"],
    )
    assert split_submit_argv(["-J", "job.sh", "run.sh"]) == (["-J", "job.sh"], "run.sh", [])
    assert split_submit_argv(["--exclusive", "run.sh", "a"]) == (["--exclusive"], "run.sh", ["a"])
    assert split_submit_argv(["-H", "--", "-weird.sh", "b"]) == (["-H"], "-weird.sh", ["b"])
    assert split_submit_argv(["--wrap", "hostname"]) == (["--wrap", "hostname"], None, [])
    assert split_submit_argv(["-HN2", "s.sh"]) == (["-HN2"], "s.sh", [])
    assert split_submit_argv([]) == ([], None, [])
    with pytest.raises(SpecError, match="unrecognized option '--nope'"):
        split_submit_argv(["--nope", "s.sh"])


def test_spec_round_trips_through_dict() -> None:
    from computenet.model.spec import JobSpec

    spec = parse(
        [
            "-d",
            "after:1+5?afterok:2",
            "-a",
            "0-3",
            "--signal=B:TERM@30",
            "--input-stage=s:/p",
            "--hint=multithread",
        ]
    )
    assert spec.dependency_any
    assert JobSpec.from_dict(spec.to_dict()) == spec


def test_prefixes_sbatch_accepts_keep_their_sbatch_meaning() -> None:
    # "--si" is --signal to sbatch, though --site shares the prefix here.
    assert parse(["--si=USR1"]).signal == Signal("USR1", 60)
    assert parse(["--part=debug"]).partition == "debug"
    with pytest.raises(
        SpecError, match="'--pa' is ambiguous; possibilities: '--parsable' '--partition'"
    ):
        parse(["--pa=debug"])
