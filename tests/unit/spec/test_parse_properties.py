"""Whatever the words, parsing ends in a JobSpec or a SpecError."""

from __future__ import annotations

from datetime import UTC

from hypothesis import given, settings
from hypothesis import strategies as st

from computenet.errors import SpecError
from computenet.model.spec import JobSpec
from computenet.spec import parse_sbatch, slurm_passthrough_args
from computenet.spec.options import OPTIONS

_names = st.sampled_from([o.name for o in OPTIONS])
_values = st.one_of(
    st.text(alphabet="0123456789:-+,%@?_=abcdefgkmtAGMKNOW/.", max_size=14),
    st.sampled_from(
        [
            "1",
            "2-4",
            "gpu:a100:2",
            "now+1hour",
            "ALL",
            "afterok:1",
            "1-5%2",
            "USR1@30",
            "core",
            "s:/p",
            "p:s:/d",
            "4G",
            "user",
            "x",
        ]
    ),
)
_word = st.one_of(
    st.tuples(_names, _values).map(lambda nv: f"--{nv[0]}={nv[1]}"),
    st.tuples(_names).map(lambda n: f"--{n[0]}"),
    st.sampled_from(["-N", "-n2", "-HW", "-t", "-c", "-J", "-a", "--", "-"]),
    _values,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_word, max_size=6), st.lists(_word, max_size=6))
def test_parse_raises_only_spec_error(argv: list[str], directive_words: list[str]) -> None:
    script = "#!/bin/sh\n#SBATCH " + " ".join(directive_words) + "\nrun\n"
    try:
        spec = parse_sbatch(argv, script, now=1.9e9, tz=UTC, environment={"A": "1"})
    except SpecError:
        return
    assert isinstance(spec, JobSpec)
    assert JobSpec.from_dict(spec.to_dict()) == spec
    kept = slurm_passthrough_args(spec)
    assert all(word in " ".join(argv) for word in kept)
