"""Job dependencies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from computenet.errors import SpecError
from computenet.model.spec import Dependency, DependencyType
from computenet.spec import parse_dependency
from computenet.spec.dependency import parse_dependency_list

D = DependencyType


@pytest.mark.parametrize(
    ("text", "deps"),
    [
        ("afterok:12", (Dependency(D.AFTEROK, ("12",)),)),
        ("afterok:12:13", (Dependency(D.AFTEROK, ("12", "13")),)),
        (
            "afterany:1,afternotok:2",
            (Dependency(D.AFTERANY, ("1",)), Dependency(D.AFTERNOTOK, ("2",))),
        ),
        ("after:5", (Dependency(D.AFTER, ("5",)),)),
        ("after:5+10", (Dependency(D.AFTER, ("5",), delay_s=600),)),
        ("singleton", (Dependency(D.SINGLETON),)),
        ("afterok:7_3", (Dependency(D.AFTEROK, ("7_3",)),)),
        ("aftercorr:9", (Dependency(D.AFTERCORR, ("9",)),)),
        ("AFTEROK:1", (Dependency(D.AFTEROK, ("1",)),)),
    ],
)
def test_dependency_forms(text: str, deps: tuple[Dependency, ...]) -> None:
    assert parse_dependency(text) == deps


def test_question_mark_means_any() -> None:
    deps, any_one = parse_dependency_list("afterok:1?afternotok:2")
    assert any_one
    assert [d.kind for d in deps] == [D.AFTEROK, D.AFTERNOTOK]
    assert parse_dependency_list("afterok:1,afterok:2")[1] is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("afterok:1,afterany:2?after:3", "either ','"),
        ("afterfoo:1", "unknown type 'afterfoo'"),
        ("afterok", "needs job ids"),
        ("afterok:", "needs job ids"),
        ("afterok:1:", "'' is not a job id"),
        ("afterok:1+5", "only after:ID\\+MINUTES takes a delay"),
        ("after:1+x", "takes a delay"),
        ("", "unknown type"),
    ],
)
def test_bad_dependencies(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_dependency(text)


@given(st.text(alphabet="afterokny:,?+_0123456789singleto", max_size=30))
def test_dependency_parser_raises_only_spec_error(text: str) -> None:
    try:
        deps = parse_dependency(text)
    except SpecError:
        return
    assert deps
