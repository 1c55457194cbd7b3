"""Loading application files: shipped ones, a site's over them, broken ones reported."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from computenet.apps.catalogue import SHIPPED_DIR, CatalogueSource, load
from computenet.errors import NotFoundError

SHIPPED = {
    "gromacs",
    "hpl",
    "lammps",
    "mpi",
    "openfoam",
    "python",
    "pytorch",
    "quantum-espresso",
    "stream",
}


def test_every_shipped_application_loads_without_problems() -> None:
    catalogue = load()
    assert catalogue.problems == ()
    assert set(catalogue.apps) == SHIPPED
    assert all(a.source == "shipped" for a in catalogue.apps.values())
    lammps = catalogue.get("lammps").spec
    assert lammps.figure is not None and lammps.figure.unit == "tau/day"
    assert [p.name for p in lammps.parameters][:2] == ["size", "steps"]


def test_a_site_file_of_the_same_name_replaces_the_shipped_one(
    site: Path, write_app: Callable[..., Path]
) -> None:
    write_app("lammps", title="Our LAMMPS", app_version="2Aug2023")
    catalogue = load(site)
    app = catalogue.get("lammps")
    assert app.source == "site" and app.spec.title == "Our LAMMPS"
    assert app.replaces == SHIPPED_DIR / "lammps.yaml"
    assert set(catalogue.apps) == SHIPPED


def test_a_site_file_adds_an_application(site: Path, write_app: Callable[..., Path]) -> None:
    write_app()
    assert load(site).get("echoer").source == "site"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"version": 2}, "version", "Input should be 1"),
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
        (
            {"parameters": [{"name": "n", "type": "int", "min": 5, "max": 1}]},
            "parameters.0.int",
            "min 5 is above max 1",
        ),
        (
            {"parameters": [{"name": "n", "type": "int", "default": "3"}]},
            "parameters.0.int.default",
            "valid integer",
        ),
        (
            {"parameters": [{"name": "c", "type": "choice", "choices": ["a"], "default": "b"}]},
            "parameters.0.choice",
            "not among the choices",
        ),
        (
            {"parameters": [{"name": "s", "type": "str"}]},
            "parameters.0.str.pattern",
            "Field required",
        ),
        (
            {"parameters": [{"name": "app", "type": "bool"}]},
            "parameters.0.bool.name",
            "reserved",
        ),
        ({"install": {"*": {"path": "/usr/bin", "module": "x"}}}, "install.*", "exactly one"),
        ({"install": {"bad name;": {"path": "/usr/bin"}}}, "install.bad name;.[key]", "pattern"),
        (
            {"figure": {"regex": "(a)(b)", "unit": "x/s", "higher_is_better": True}},
            "figure",
            "group named 'value'",
        ),
        ({"resources": {"time": "ten minutes"}}, "resources.time", "pattern"),
        ({"script": "{% if %}"}, "script", "template syntax error on line 1"),
        ({"name": "other"}, "name", "differs from the file name"),
    ],
)
def test_a_broken_file_is_reported_with_its_path_and_field_and_the_rest_loads(
    site: Path, fields: dict[str, object], field: str, message: str
) -> None:
    import yaml

    from tests.unit.apps.conftest import MINIMAL

    path = site / "echoer.yaml"
    path.write_text(yaml.safe_dump({**MINIMAL, **fields}))
    catalogue = load(site)
    assert "echoer" not in catalogue.apps
    assert set(catalogue.apps) == SHIPPED  # the others are untouched
    assert len(catalogue.problems) >= 1
    problem = catalogue.problems[0]
    assert problem.path == str(path)
    assert problem.field == field, catalogue.problems
    assert message in problem.message
    with pytest.raises(NotFoundError, match="its file is broken"):
        catalogue.get("echoer")


def test_yaml_that_does_not_parse_names_the_line(site: Path) -> None:
    path = site / "x.yaml"
    path.write_text("version: 1\nname: [unclosed\n")
    problem = load(site).problems[0]
    assert problem.path == str(path) and problem.field.startswith("line ")
    (site / "y.yaml").write_text("- just\n- a list\n")
    assert any("mapping" in p.message for p in load(site).problems)


def test_an_oversized_file_is_refused_unread(site: Path) -> None:
    (site / "big.yaml").write_text("#" * (1 << 20) + "\n")
    problem = load(site).problems[0]
    assert problem.field == "(file)" and "limit" in problem.message


def test_a_missing_site_folder_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    catalogue = load(tmp_path / "nowhere")
    assert set(catalogue.apps) == SHIPPED
    assert catalogue.problems[0].field == "(folder)"


def test_unknown_application_lists_the_known_ones() -> None:
    with pytest.raises(NotFoundError, match=r"no application 'nope'.*lammps"):
        load().get("nope")


def test_the_source_reloads_when_a_site_file_changes(
    site: Path, write_app: Callable[..., Path]
) -> None:
    source = CatalogueSource(site)
    first = source.current()
    assert "echoer" not in first.apps
    assert source.current() is first  # nothing changed: the same object
    path = write_app()
    assert source.current().get("echoer").spec.title == "Echo"
    write_app(title="Echo two")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert source.current().get("echoer").spec.title == "Echo two"
    path.unlink()
    assert "echoer" not in source.current().apps


def test_the_site_example_in_the_docs_loads_and_renders(site: Path) -> None:
    import re

    from computenet.apps.params import check_values
    from computenet.apps.script import render_run

    docs = Path(__file__).resolve().parents[3] / "docs" / "apps.md"
    block = re.search(r"```yaml\n# (\S+)\n(.*?)```", docs.read_text(), re.S)
    assert block is not None
    (site / Path(block.group(1)).name).write_text(block.group(2))
    catalogue = load(site)
    assert catalogue.problems == ()
    app = catalogue.get("nek-pipe")
    script = render_run(app, check_values(app.spec, {"case": "fine"}), {}).script
    assert "cp -r /opt/cases/pipe-fine case" in script
    assert "  hpc)\n" in script and "module load nek5000/19.0 openmpi/4.1" in script
