"""``#SBATCH`` lines of a batch script, read by sbatch's rules.

- A line whose first seven characters are ``#SBATCH`` is a directive; the
  rest of the line is split like a shell would (quotes group words, an
  unquoted ``#`` starts a comment). ``# SBATCH`` and indented ``#SBATCH``
  are plain comments.
- Reading stops at the first line that is neither blank nor a comment
  (the first command); later ``#SBATCH`` lines mean nothing.
- ``#SBATCH hetjob`` (or ``packjob``) separates heterogeneous job
  components, which computenet does not run.
"""

from __future__ import annotations

import shlex

from computenet.errors import LimitError, SpecError, UnsupportedOption

MAGIC = "#SBATCH"
DEFAULT_MAX_SCRIPT_BYTES = 1 << 20


def parse_directives(script: str) -> list[str]:
    """The option words of every ``#SBATCH`` line before the first command."""
    words: list[str] = []
    for lineno, line in enumerate(script.split("\n"), start=1):
        if line.startswith(MAGIC):
            line_words = _split(line[len(MAGIC) :], lineno)
            if any(w.lower() in ("hetjob", "packjob") for w in line_words):
                raise UnsupportedOption(
                    f"line {lineno}: heterogeneous jobs (#SBATCH hetjob) are not supported",
                    option="hetjob",
                )
            words.extend(line_words)
            continue
        stripped = line.lstrip()
        if stripped and not stripped.startswith("#"):
            break
    return words


def _split(text: str, lineno: int) -> list[str]:
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    lexer.escapedquotes = "\"'"
    try:
        return list(lexer)
    except ValueError as exc:
        raise SpecError(f"line {lineno}: {exc} in #SBATCH line", line=lineno) from exc


def check_script(script: str | bytes, *, max_bytes: int = DEFAULT_MAX_SCRIPT_BYTES) -> str:
    """The script as text if sbatch would accept it; raises otherwise.

    LimitError when it is over ``max_bytes``; SpecError when it is empty,
    not UTF-8, holds NUL bytes or DOS line breaks, or lacks a ``#!`` line.
    """
    if isinstance(script, bytes):
        data = script
        if len(data) > max_bytes:
            raise _too_big(len(data), max_bytes)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError(f"batch script is not valid UTF-8 (byte {exc.start})") from exc
    else:
        text = script
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:
            # Lone surrogates: bytes that were not UTF-8 when the file was read.
            raise SpecError(f"batch script is not valid UTF-8 (character {exc.start})") from exc
        if size > max_bytes:
            raise _too_big(size, max_bytes)
    if not text:
        raise SpecError("batch script is empty")
    if "\0" in text:
        raise SpecError(f"batch script contains a NUL byte (character {text.index(chr(0))})")
    if "\r\n" in text:
        raise SpecError(
            "batch script contains DOS line breaks (\\r\\n) instead of UNIX line breaks (\\n)"
        )
    if not text.startswith("#!"):
        raise SpecError(
            "this does not look like a batch script: the first line must start with #! "
            "followed by the path to an interpreter (for instance #!/bin/sh)"
        )
    return text


def _too_big(size: int, max_bytes: int) -> LimitError:
    return LimitError(
        f"batch script is {size} bytes, over the limit of {max_bytes} bytes",
        size=size,
        limit=max_bytes,
    )
