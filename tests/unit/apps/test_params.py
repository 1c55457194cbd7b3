"""Parameter values are checked, typed and defaulted before any rendering."""

from __future__ import annotations

from typing import Any

import pytest

from computenet.apps.catalogue import load
from computenet.apps.params import FileValue, check_values, parse_assignments
from computenet.apps.schema import AppFile
from computenet.errors import ParameterError, SpecError


@pytest.fixture(scope="module")
def lammps() -> AppFile:
    return load().get("lammps").spec


def _fields(exc: pytest.ExceptionInfo[ParameterError]) -> dict[str, str]:
    return {f["field"]: f["message"] for f in exc.value.details["fields"]}


def test_defaults_fill_what_is_not_given(lammps: AppFile) -> None:
    values = check_values(lammps, {"steps": 500})
    assert values == {"size": 10, "steps": 500, "temperature": 1.44, "cutoff": 2.5, "seed": 87287}


def test_text_values_from_the_command_line_take_their_types(lammps: AppFile) -> None:
    values = check_values(lammps, {"steps": " 300", "temperature": "2", "size": "12"})
    assert values["steps"] == 300 and values["size"] == 12
    assert isinstance(values["temperature"], float) and values["temperature"] == 2.0


def test_every_bad_field_is_reported_with_its_allowed_range(lammps: AppFile) -> None:
    with pytest.raises(ParameterError) as exc:
        check_values(
            lammps,
            {"steps": 5, "size": 1000, "temperature": "hot", "cutoff": True, "colour": "red"},
        )
    fields = _fields(exc)
    assert fields["steps"] == "must be between 10 and 1e+07 (got 5)"
    assert fields["size"] == "must be between 2 and 80 (got 1000)"
    assert fields["temperature"] == "must be a number (got 'hot')"
    assert fields["cutoff"] == "must be a number, not true/false"
    assert fields["colour"].startswith("unknown parameter (known: cutoff, seed, size")
    assert exc.value.http_status == 422 and exc.value.code == "invalid_parameters"
    assert isinstance(exc.value, SpecError)
    assert exc.value.message.startswith("lammps: ")


@pytest.mark.parametrize("bad", [1.5, "1e3", "0x10", "", [], {}])
def test_ints_refuse_what_is_not_a_whole_number(lammps: AppFile, bad: Any) -> None:
    with pytest.raises(ParameterError, match="steps: must be a whole number"):
        check_values(lammps, {"steps": bad})


@pytest.mark.parametrize("bad", ["nan", "inf", float("inf"), "-inf"])
def test_floats_must_be_finite(lammps: AppFile, bad: Any) -> None:
    with pytest.raises(ParameterError, match="temperature: must be a finite number"):
        check_values(lammps, {"temperature": bad})


def _app(*params: dict[str, Any]) -> AppFile:
    return AppFile.model_validate(
        {
            "version": 1,
            "name": "t",
            "title": "T",
            "app_version": "1",
            "parameters": list(params),
            "install": {"*": {"path": "/usr/bin"}},
            "script": "true\n",
        }
    )


def test_choices_bools_and_patterns() -> None:
    app = _app(
        {"name": "mode", "type": "choice", "choices": ["fast", "exact"], "default": "fast"},
        {"name": "verbose", "type": "bool"},
        {"name": "tag", "type": "str", "pattern": "[a-z]{1,8}", "default": "x"},
    )
    assert check_values(app, {"verbose": "yes"}) == {"mode": "fast", "verbose": True, "tag": "x"}
    assert check_values(app, {"verbose": "off", "mode": "exact"})["verbose"] is False
    with pytest.raises(ParameterError) as exc:
        check_values(app, {"mode": "slow", "verbose": "maybe", "tag": "ABC; rm -rf ~"})
    fields = _fields(exc)
    assert fields["mode"] == "must be one of fast, exact (got 'slow')"
    assert fields["verbose"] == "must be true or false (got 'maybe')"
    assert fields["tag"] == "does not match the pattern [a-z]{1,8}"


def test_required_and_optional_parameters() -> None:
    app = _app(
        {"name": "need", "type": "int", "required": True},
        {"name": "maybe", "type": "float"},
    )
    with pytest.raises(ParameterError, match="need: is required"):
        check_values(app, {})
    assert check_values(app, {"need": 1}) == {"need": 1, "maybe": None}


def test_a_string_longer_than_allowed_is_refused() -> None:
    app = _app({"name": "s", "type": "str", "pattern": ".*", "max_length": 5})
    with pytest.raises(ParameterError, match="s: is 6 characters; at most 5"):
        check_values(app, {"s": "abcdef"})


def test_file_values_at_a_site_are_staged_and_may_not_escape() -> None:
    app = _app({"name": "data", "type": "file"})
    staged = check_values(app, {"data": "archive:/projects/x/in.dat"})["data"]
    assert staged == FileValue("archive", "/projects/x/in.dat", "cn-inputs/data/in.dat")
    here = check_values(app, {"data": "/scratch/./me/in.dat"})["data"]
    assert here == FileValue(None, "/scratch/me/in.dat", None)
    for bad, message in [
        ("archive:../../etc/passwd", "may not contain '..'"),
        ("/scratch/../etc/shadow", "may not contain '..'"),
        ("relative/path", "must be SITE:PATH or an absolute path"),
        ("archive:/x/in\n.dat", "NUL or newline"),
        ("archive:/x/$(id).dat", "characters a staged file may not have"),
        ("bad site!:/x", "must be SITE:PATH"),
    ]:
        with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
            check_values(app, {"data": bad})


def test_assignments_from_the_command_line() -> None:
    assert parse_assignments(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ParameterError, match="--partition=NAME"):
        parse_assignments(["compute"])
