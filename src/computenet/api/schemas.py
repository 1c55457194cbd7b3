"""Request models of the API: strict, no extra fields, bounded sizes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_OPTIONS = 512
MAX_ENV = 4096


class SubmitRequest(BaseModel):
    """One job, as sbatch sees it: a script and its options.

    ``options`` are sbatch command-line options (``["-N", "2", "--time=10"]``);
    ``script`` is the batch script text (omit it with ``--wrap``).
    """

    model_config = ConfigDict(strict=True, extra="forbid")
    script: str | None = None
    options: list[str] = Field(default_factory=list, max_length=MAX_OPTIONS)
    args: list[str] = Field(default_factory=list, max_length=MAX_OPTIONS)
    cwd: str | None = Field(default=None, max_length=4096)
    env: dict[str, str] = Field(default_factory=dict, max_length=MAX_ENV)
    script_name: str | None = Field(default=None, max_length=255)
    test_only: bool = False


class BulkSubmitRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    jobs: list[SubmitRequest] = Field(min_length=1)


class CancelRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    ids: list[str] = Field(min_length=1, max_length=10_000)
