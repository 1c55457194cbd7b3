"""Rendered scripts run in a real shell: values are one literal word each,
template syntax in a value is data, and the install table picks the setup."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from computenet.apps.catalogue import App, load
from computenet.apps.params import check_values
from computenet.apps.script import render_run
from computenet.errors import ConfigError

BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="bash not installed")

HOSTILE = [
    "; rm -rf ~",
    "$(touch PWNED)",
    "`touch PWNED`",
    "a\nb; touch PWNED\n",
    'it\'s "quoted" \\ back',
    "$HOME ${PATH} $0",
    "*",
    "-n",
    "",
    "{{ 7*7 }}",
    "{% for x in range(3) %}x{% endfor %}",
    "{# comment #}",
    "\t tab and trailing space ",
]


def _run(
    script: str, cwd: Path, cluster: str = "here", **env: str
) -> subprocess.CompletedProcess[str]:
    path = cwd / "job.sh"
    path.write_text(script)
    assert BASH is not None
    return subprocess.run(
        [BASH, str(path)],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "CN_CLUSTER": cluster, "SLURM_JOB_ID": "42", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def _site_app(site: Path, write_app: Callable[..., Path], **fields: Any) -> App:
    write_app(**fields)
    return load(site).get(fields.get("name", "echoer"))


@pytest.mark.parametrize("value", HOSTILE)
def test_a_value_reaches_the_program_as_one_literal_argument(
    site: Path, write_app: Callable[..., Path], tmp_path: Path, value: str
) -> None:
    app = _site_app(site, write_app, script="printf '[%s]' {{ word }} {{ count }}\n")
    rendered = render_run(app, check_values(app.spec, {"word": value}), {})
    result = _run(rendered.script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"[{value}][2]"
    assert not list(tmp_path.rglob("PWNED"))


def test_template_syntax_inside_a_value_is_never_evaluated(
    site: Path, write_app: Callable[..., Path]
) -> None:
    app = _site_app(site, write_app)
    script = render_run(app, check_values(app.spec, {"word": "{{ 7*7 }}"}), {}).script
    assert "'{{ 7*7 }}'" in script and "49" not in script


def test_raw_is_refused_for_a_parameter_and_allowed_for_template_text(
    site: Path, write_app: Callable[..., Path], tmp_path: Path
) -> None:
    app = _site_app(site, write_app, script="echo {{ word | raw }}\n")
    with pytest.raises(ConfigError, match="raw' refused for a parameter"):
        render_run(app, check_values(app.spec, {"word": "$(id)"}), {})
    app = _site_app(site, write_app, script="{{ '>&2' | raw }} echo {{ 'a b' }}\n")
    result = _run(render_run(app, check_values(app.spec, {}), {}).script, tmp_path)
    assert result.stderr == "a b\n" and result.stdout == ""  # raw: a redirection, not a word


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("echo {{ wrod }}\n", "'wrod' is undefined"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}\n", "unsafe"),
        ("{{ word.__class__ }}\n", "unsafe"),
    ],
)
def test_template_mistakes_and_escapes_fail_loudly(
    site: Path, write_app: Callable[..., Path], script: str, message: str
) -> None:
    app = _site_app(site, write_app, script=script)
    with pytest.raises(ConfigError, match=message):
        render_run(app, check_values(app.spec, {}), {})


def test_an_optional_parameter_without_a_value_cannot_be_printed(
    site: Path, write_app: Callable[..., Path], tmp_path: Path
) -> None:
    params = [{"name": "extra", "type": "str", "pattern": ".*"}]
    app = _site_app(site, write_app, parameters=params, script="echo {{ extra }}\n")
    with pytest.raises(ConfigError, match="has no value"):
        render_run(app, check_values(app.spec, {}), {})
    guarded = "{% if extra is not none %}echo {{ extra }}{% else %}echo none{% endif %}\n"
    app = _site_app(site, write_app, parameters=params, script=guarded)
    assert _run(render_run(app, check_values(app.spec, {}), {}).script, tmp_path).stdout == "none\n"


def test_the_install_entry_of_the_cluster_sets_up_the_run(
    site: Path, write_app: Callable[..., Path], tmp_path: Path
) -> None:
    bin_dir = tmp_path / "opt" / "bin"
    bin_dir.mkdir(parents=True)
    tool = bin_dir / "mytool"
    tool.write_text('#!/bin/sh\necho "mytool $GREETING"\n')
    tool.chmod(0o755)
    install = {
        "gpu-*": {"container": "nvcr.io/hpc/app:24.1"},
        "hpc": {"path": str(bin_dir), "env": {"GREETING": "from hpc"}, "check": ["mytool"]},
        "h*": {"path": "/usr/bin", "env": {"GREETING": "from h*"}},
    }
    app = _site_app(site, write_app, install=install, script="mytool\n")
    script = render_run(app, check_values(app.spec, {}), {}).script
    assert _run(script, tmp_path, "hpc").stdout == "mytool from hpc\n"  # exact name before globs
    other = _run(script, tmp_path, "hx")
    assert other.returncode == 127  # the h* entry has no mytool on its PATH
    nowhere = _run(script, tmp_path, "elsewhere")
    assert nowhere.returncode == 127
    assert "echoer is not installed on cluster elsewhere (installed on: gpu-* hpc h*)" in (
        nowhere.stderr
    )
    assert "srun --nodes=1 --ntasks=1 --container-image=nvcr.io/hpc/app:24.1" in script
    assert (tmp_path / "echoer-42").is_dir()  # each run works in its own directory


def test_a_missing_checked_command_stops_the_run_with_a_clear_message(
    site: Path, write_app: Callable[..., Path], tmp_path: Path
) -> None:
    install = {"*": {"path": "/usr/bin", "check": ["no-such-command-here"]}}
    app = _site_app(site, write_app, install=install)
    result = _run(render_run(app, check_values(app.spec, {}), {}).script, tmp_path)
    assert result.returncode == 127
    assert "echoer: no-such-command-here not found on cluster here" in result.stderr
    ref = render_run(app, check_values(app.spec, {}), {"local-a": "embedded", "hpc": "slurm"}).ref
    assert ref.unusable == (("local-a", "no-such-command-here not found on this host"),)


SHIPPED_VALUES: dict[str, dict[str, str]] = {
    "python": {"script": "/tmp/x.py"},
    "mpi": {"program": "./a.out"},
}


@pytest.mark.parametrize("name", sorted(load().apps))
def test_every_shipped_application_renders_to_valid_bash(name: str, tmp_path: Path) -> None:
    app = load().get(name)
    rendered = render_run(app, check_values(app.spec, SHIPPED_VALUES.get(name, {})), {})
    path = tmp_path / "job.sh"
    path.write_text(rendered.script)
    assert BASH is not None
    check = subprocess.run([BASH, "-n", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert rendered.script.startswith(f"#!/bin/bash\n#SBATCH --job-name={name}\n")
    assert rendered.ref.name == name and rendered.ref.version == app.spec.app_version


def test_a_staged_file_becomes_an_input_stage_and_its_path_in_the_script() -> None:
    app = load().get("python")
    rendered = render_run(app, check_values(app.spec, {"script": "home:/u/me/train.py"}), {})
    assert rendered.options == ("--input-stage=home:/u/me/train.py:cn-inputs/script/train.py",)
    assert 'python3 -u "$cn_app_workdir"/cn-inputs/script/train.py' in rendered.script
    assert rendered.ref.params["script"] == "home:/u/me/train.py"


def test_any_text_reaches_the_program_unchanged(
    site: Path, write_app: Callable[..., Path], tmp_path: Path
) -> None:
    """Property: for any values (arguments cannot hold NUL), one bash run of
    the rendered script prints each back byte for byte."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    params = [
        {"name": f"v{i}", "type": "str", "pattern": "(?s).*", "max_length": 500} for i in range(8)
    ]
    body = "".join(f"printf '%s\\0' {{{{ v{i} }}}}\n" for i in range(8))
    app = _site_app(site, write_app, parameters=params, script=body)
    text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))

    @settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(st.lists(text, min_size=8, max_size=8))
    def check(values: list[str]) -> None:
        given_values = {f"v{i}": v for i, v in enumerate(values)}
        script = render_run(app, check_values(app.spec, given_values), {}).script
        path = tmp_path / "prop.sh"
        path.write_text(script, encoding="utf-8")
        assert BASH is not None
        out = subprocess.run(
            [BASH, str(path)],
            cwd=tmp_path,
            env={
                "PATH": "/usr/bin:/bin",
                "CN_CLUSTER": "x",
                "SLURM_JOB_ID": "1",
                "LC_ALL": "C.UTF-8",
            },
            capture_output=True,
            timeout=30,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.decode("utf-8").split("\0")[:-1] == values

    check()
