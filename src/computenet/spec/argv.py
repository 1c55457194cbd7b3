"""getopt-compatible reading of sbatch option words.

sbatch uses ``getopt_long`` with a leading ``+``: options end at the first
word that is not an option (the script) or at ``--``. Long options take
their value as ``--opt=value`` or as the next word (even one starting with
``-``); optional values only as ``--opt=value``. Short options cluster
(``-Hv``) and take values attached (``-N2``) or as the next word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from computenet.errors import SpecError
from computenet.spec.options import Arg, OptionDef, lookup_long, lookup_short


@dataclass(frozen=True)
class Given:
    """One option occurrence as the user wrote it."""

    option: OptionDef
    value: str | None
    words: tuple[str, ...]  # the argv words it came from
    written: str  # "--mem", "-N": how the user spelled the option
    index: int = 0  # position of its first word; short options in one cluster share it

    def shown(self) -> str:
        """The option as a one-word text for messages: ``--mem=4G``."""
        if self.value is None:
            return f"--{self.option.name}"
        return f"--{self.option.name}={self.value}"


def read_options(words: Sequence[str]) -> list[Given]:
    """Every option in ``words``; all words must be options or their values.

    Raises SpecError for unknown or ambiguous options, missing values and
    stray words.
    """
    given, end = _scan(words)
    if end < len(words):
        stray = words[end]
        raise SpecError(f"unexpected argument '{stray}' among options", option=stray)
    return given


def split_submit_argv(argv: Sequence[str]) -> tuple[list[str], str | None, list[str]]:
    """Split a submit command line into (options, script path, script args).

    The first word that is not an option or an option's value is the
    script; every word after it belongs to the script. ``--`` ends the
    options too (the word after it is the script).
    """
    _, end = _scan(argv)
    options = list(argv[:end])
    rest = list(argv[end:])
    if rest and rest[0] == "--":
        rest = rest[1:]
    if not rest:
        return options, None, []
    return options, rest[0], rest[1:]


def _scan(words: Sequence[str]) -> tuple[list[Given], int]:
    """The options at the front of ``words`` and the index where they end."""
    given: list[Given] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--" or not word.startswith("-") or word == "-":
            return given, i
        if word.startswith("--"):
            item, i = _long(words, i)
            given.append(item)
        else:
            items, i = _short_cluster(words, i)
            given.extend(items)
    return given, i


def _long(words: Sequence[str], i: int) -> tuple[Given, int]:
    word = words[i]
    name, eq, value = word[2:].partition("=")
    opt = lookup_long(name)
    if eq:
        if opt.arg is Arg.NONE:
            raise SpecError(f"option '--{opt.name}' doesn't allow an argument", option=opt.name)
        return Given(opt, value, (word,), f"--{name}", i), i + 1
    if opt.arg is Arg.REQUIRED:
        if i + 1 >= len(words):
            raise SpecError(f"option '--{opt.name}' requires an argument", option=opt.name)
        return Given(opt, words[i + 1], (word, words[i + 1]), f"--{name}", i), i + 2
    return Given(opt, None, (word,), f"--{name}", i), i + 1


def _short_cluster(words: Sequence[str], i: int) -> tuple[list[Given], int]:
    word = words[i]
    items: list[Given] = []
    pos = 1
    while pos < len(word):
        opt = lookup_short(word[pos])
        attached = word[pos + 1 :]
        if opt.arg is Arg.NONE:
            items.append(Given(opt, None, (word,), f"-{word[pos]}", i))
            pos += 1
            continue
        if attached:
            items.append(Given(opt, attached, (word,), f"-{word[pos]}", i))
            return items, i + 1
        if opt.arg is Arg.OPTIONAL:
            items.append(Given(opt, None, (word,), f"-{word[pos]}", i))
            return items, i + 1
        if i + 1 >= len(words):
            raise SpecError(f"option requires an argument -- '{word[pos]}'", option=opt.name)
        items.append(Given(opt, words[i + 1], (word, words[i + 1]), f"-{word[pos]}", i))
        return items, i + 2
    return items, i + 1
