"""#SBATCH directives and the checks sbatch makes on a script."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from computenet.errors import LimitError, SpecError, UnsupportedOption
from computenet.spec import check_script, parse_directives


def test_directives_stop_at_the_first_command() -> None:
    script = (
        "#!/bin/bash\n"
        "#SBATCH -N 2\n"
        "\n"
        "# a comment\n"
        "   # an indented comment\n"
        "#SBATCH --mem=4G\n"
        "echo start\n"
        "#SBATCH --time=5\n"
    )
    assert parse_directives(script) == ["-N", "2", "--mem=4G"]


def test_space_after_hash_and_indented_directives_are_comments() -> None:
    script = "#!/bin/sh\n# SBATCH -N 9\n  #SBATCH -N 8\n#SBATCH -J real\n"
    assert parse_directives(script) == ["-J", "real"]


def test_trailing_comments_and_quotes() -> None:
    script = (
        "#!/bin/sh\n"
        "#SBATCH -N 2 # two nodes\n"
        "#SBATCH --comment=\"a # b\" -J 'my job'\n"
        "#SBATCH --mail-user=x#y\n"
        '#SBATCH --comment=say\\"hi\\"\n'
    )
    assert parse_directives(script) == [
        "-N",
        "2",
        "--comment=a # b",
        "-J",
        "my job",
        "--mail-user=x",
        '--comment=say"hi"',
    ]


def test_unclosed_quote_names_the_line() -> None:
    with pytest.raises(SpecError, match="line 3: No closing quotation"):
        parse_directives('#!/bin/sh\n#SBATCH -N 1\n#SBATCH -J "open\n')


def test_heterogeneous_jobs_are_refused() -> None:
    with pytest.raises(UnsupportedOption, match="heterogeneous"):
        parse_directives("#!/bin/sh\n#SBATCH -N 1\n#SBATCH hetjob\n#SBATCH -N 2\n")


def test_script_checks() -> None:
    assert check_script("#!/bin/sh\necho hi\n") == "#!/bin/sh\necho hi\n"
    assert check_script(b"#!/bin/sh\necho \xc3\xa9\n") == "#!/bin/sh\necho é\n"
    cases = [
        ("echo hi\n", "does not look like a batch script"),
        ("", "empty"),
        ("#!/bin/sh\necho \0\n", "NUL byte"),
        ("#!/bin/sh\r\necho hi\r\n", "DOS line breaks"),
        (b"#!/bin/sh\necho \xff\n", "not valid UTF-8"),
        ("#!/bin/sh\necho \udcff\n", "not valid UTF-8"),
    ]
    for script, message in cases:
        with pytest.raises(SpecError, match=message):
            check_script(script)


def test_oversized_script_is_a_limit_error() -> None:
    big = "#!/bin/sh\n" + "#" * (1 << 20)
    with pytest.raises(LimitError, match="over the limit of 1048576 bytes"):
        check_script(big)
    with pytest.raises(LimitError):
        check_script(big.encode())
    assert check_script("#!/bin/sh\n" + "x" * 100, max_bytes=200)
    with pytest.raises(LimitError):
        check_script("#!/bin/sh\n" + "x" * 100, max_bytes=50)


_word = st.text(
    alphabet=st.characters(blacklist_characters="\n\0\\", codec="utf-8"), max_size=12
).filter(lambda w: w.lower() not in ("hetjob", "packjob"))  # those two words are refused


@given(st.lists(st.lists(_word, min_size=1, max_size=4), max_size=6))
def test_quoted_directive_words_round_trip(lines: list[list[str]]) -> None:
    import shlex

    body = "".join("#SBATCH " + " ".join(shlex.quote(w) for w in words) + "\n" for words in lines)
    script = "#!/bin/sh\n" + body + "echo done\n#SBATCH --never\n"
    assert parse_directives(script) == [w for words in lines for w in words]


@given(st.text(max_size=200))
def test_directive_reader_raises_only_spec_error(body: str) -> None:
    try:
        words = parse_directives("#!/bin/sh\n" + body)
    except SpecError:
        return
    assert all(isinstance(w, str) for w in words)
