"""Request models of the API: strict, no extra fields, bounded sizes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_OPTIONS = 512
MAX_ENV = 4096
#: one option, argument or environment value: Linux's own limit on one
#: argument or environment string (MAX_ARG_STRLEN)
MAX_ARG_CHARS = 128 * 1024
#: a script over the server's ``max_script_bytes`` is refused when it is read;
#: this is the outer bound, the whole body's (``api.app.MAX_BODY_BYTES``)
MAX_SCRIPT_CHARS = 64 << 20
#: jobs in one bulk request; the server's ``max_bulk_jobs`` may be lower
MAX_BULK_JOBS = 100_000

Word = Annotated[str, StringConstraints(max_length=MAX_ARG_CHARS)]
EnvName = Annotated[str, StringConstraints(min_length=1, max_length=256)]
JobRef = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class SubmitRequest(BaseModel):
    """One job, as sbatch sees it: a script and its options.

    ``options`` are sbatch command-line options (``["-N", "2", "--time=10"]``);
    ``script`` is the batch script text (omit it with ``--wrap``).
    """

    model_config = ConfigDict(strict=True, extra="forbid")
    script: str | None = Field(default=None, max_length=MAX_SCRIPT_CHARS)
    options: list[Word] = Field(default_factory=list, max_length=MAX_OPTIONS)
    args: list[Word] = Field(default_factory=list, max_length=MAX_OPTIONS)
    cwd: str | None = Field(default=None, max_length=4096)
    env: dict[EnvName, Word] = Field(default_factory=dict, max_length=MAX_ENV)
    script_name: str | None = Field(default=None, max_length=255)
    test_only: bool = False


class BulkSubmitRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    jobs: list[SubmitRequest] = Field(min_length=1, max_length=MAX_BULK_JOBS)


class CancelRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    ids: list[JobRef] = Field(min_length=1, max_length=10_000)
