"""The catalogue's file format (version 1): one YAML file per application.

Every model forbids unknown keys, so a misspelt field is an error that names
the field instead of a setting silently ignored. ``docs/apps.md`` describes
each field; this module is the contract.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FORMAT_VERSION = 1

APP_NAME = r"^[a-z][a-z0-9_-]{0,39}$"
PARAM_NAME = r"^[a-z][a-z0-9_]{0,39}$"
#: cluster names and shell/fnmatch globs over them (``*``, ``?``, ``[...]``):
#: these characters are safe unquoted in a shell ``case`` pattern.
CLUSTER_PATTERN = r"^[A-Za-z0-9*?\[\]_.-]{1,64}$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
COMMAND_NAME = r"^[A-Za-z0-9_.+-]{1,64}$"
MODULE_NAME = r"^[A-Za-z0-9_.+/-]{1,128}$"
IMAGE_NAME = r"^[A-Za-z0-9_.:/@+-]{1,256}$"
PARTITION_NAME = r"^[A-Za-z0-9_.-]{1,64}$"

#: Names the script template sees besides the parameters.
RESERVED_NAMES = frozenset(
    {"app", "job", "raw", "params", "true", "false", "none", "loop", "range", "self"}
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Param(_Model):
    name: str = Field(pattern=PARAM_NAME)
    label: str | None = Field(None, max_length=80)
    help: str = Field("", max_length=2000)
    #: No default and required: the caller must give a value. No default and
    #: not required: the template sees ``none`` and must test for it.
    required: bool = False

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_NAMES:
            raise ValueError(f"{value!r} is reserved (used by the template itself)")
        return value

    @property
    def shown_label(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


class IntParam(_Param):
    type: Literal["int"]
    default: int | None = None
    min: int | None = None
    max: int | None = None

    @model_validator(mode="after")
    def _bounds(self) -> IntParam:
        _check_bounds(self.min, self.max, self.default)
        return self


class FloatParam(_Param):
    type: Literal["float"]
    default: float | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> FloatParam:
        for value in (self.default, self.min, self.max):
            if value is not None and not math.isfinite(value):
                raise ValueError("default, min and max must be finite numbers")
        _check_bounds(self.min, self.max, self.default)
        return self


class ChoiceParam(_Param):
    type: Literal["choice"]
    choices: list[str] = Field(min_length=1, max_length=200)
    default: str | None = None

    @model_validator(mode="after")
    def _choices(self) -> ChoiceParam:
        if len(set(self.choices)) != len(self.choices):
            raise ValueError("choices repeat a value")
        if self.default is not None and self.default not in self.choices:
            raise ValueError(f"default {self.default!r} is not among the choices")
        return self


class BoolParam(_Param):
    type: Literal["bool"]
    default: bool = False


class StrParam(_Param):
    """A string that must match ``pattern`` as a whole (``re.fullmatch``)."""

    type: Literal["str"]
    pattern: str = Field(min_length=1, max_length=1000)
    default: str | None = None
    max_length: int = Field(256, ge=1, le=65536)

    @model_validator(mode="after")
    def _pattern(self) -> StrParam:
        try:
            compiled = re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(f"pattern does not compile: {exc}") from exc
        if self.default is not None and (
            compiled.fullmatch(self.default) is None or len(self.default) > self.max_length
        ):
            raise ValueError(f"default {self.default!r} does not match the pattern")
        return self


class FileParam(_Param):
    """A file at a site: ``SITE:PATH`` (staged into the job's directory) or
    an absolute path that exists where the job runs."""

    type: Literal["file"]
    default: str | None = None


AnyParam = IntParam | FloatParam | ChoiceParam | BoolParam | StrParam | FileParam
Param = Annotated[AnyParam, Field(discriminator="type")]


def _check_bounds(low: float | None, high: float | None, default: float | None) -> None:
    if low is not None and high is not None and low > high:
        raise ValueError(f"min {low} is above max {high}")
    if default is not None:
        if low is not None and default < low:
            raise ValueError(f"default {default} is below min {low}")
        if high is not None and default > high:
            raise ValueError(f"default {default} is above max {high}")


class Resources(_Model):
    """Default resources, written as ``#SBATCH`` lines: the caller's sbatch
    options override them exactly as sbatch's command line overrides a script."""

    nodes: int | None = Field(None, ge=1, le=100_000)
    ntasks: int | None = Field(None, ge=1, le=10_000_000)
    ntasks_per_node: int | None = Field(None, ge=1, le=100_000)
    cpus_per_task: int | None = Field(None, ge=1, le=100_000)
    gpus: int | None = Field(None, ge=0, le=100_000)
    mem: str | None = Field(None, pattern=r"^[0-9]+[KMGT]?$")  # per node, sbatch's --mem
    time: str | None = Field(None, pattern=r"^[0-9:-]{1,16}$")  # sbatch's --time
    partition: str | None = Field(None, pattern=PARTITION_NAME)
    constraint: str | None = Field(None, pattern=r"^[A-Za-z0-9_&|,\[\]*.-]{1,256}$")

    def options(self) -> list[str]:
        """The resources as sbatch long options, in a fixed order."""
        out = []
        for key in (
            "nodes",
            "ntasks",
            "ntasks_per_node",
            "cpus_per_task",
            "gpus",
            "mem",
            "time",
            "partition",
            "constraint",
        ):
            value = getattr(self, key)
            if value is not None:
                out.append(f"--{key.replace('_', '-')}={value}")
        return out


class Install(_Model):
    """How the application is reached on the clusters a pattern names:
    exactly one of a module to load, a directory to put first on PATH, or a
    container image; optionally variables to set, commands that must be
    found, and (trusted, site-written) shell lines to run first."""

    module: list[Annotated[str, Field(pattern=MODULE_NAME)]] | None = Field(
        None, min_length=1, max_length=16
    )
    path: str | None = Field(None, pattern=r"^/[A-Za-z0-9_.+/-]{0,1023}$")
    container: str | None = Field(None, pattern=IMAGE_NAME)
    env: dict[Annotated[str, Field(pattern=ENV_NAME)], str] = Field(
        default_factory=dict, max_length=64
    )
    check: list[Annotated[str, Field(pattern=COMMAND_NAME)]] = Field(
        default_factory=list, max_length=16
    )
    setup: str | None = Field(None, max_length=4000)

    @field_validator("module", mode="before")
    @classmethod
    def _one_module(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _exactly_one(self) -> Install:
        given = [k for k in ("module", "path", "container") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of module, path or container"
                + (f" (got {', '.join(given)})" if given else "")
            )
        for value in self.env.values():
            if "\x00" in value or "\n" in value:
                raise ValueError("env values may not hold NUL or newline characters")
        return self

    @property
    def kind(self) -> str:
        return "module" if self.module else "path" if self.path else "container"

    def describe(self) -> str:
        if self.module:
            return "module " + " ".join(self.module)
        if self.path:
            return f"path {self.path}"
        return f"container {self.container}"


class FigureSpec(_Model):
    """How to read the run's performance figure from its output: the last
    match of ``regex`` (its group ``value``, or its only group)."""

    regex: str = Field(min_length=1, max_length=1000)
    unit: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9/*._ %-]+$")
    higher_is_better: bool
    stream: Literal["stdout", "stderr"] = "stdout"
    #: what one unit of allocation is when figures from different sizes are
    #: compared (docs/apps.md, "Measured speed")
    per: Literal["cpu", "gpu", "node"] = "cpu"
    label: str | None = Field(None, max_length=80)

    @model_validator(mode="after")
    def _regex(self) -> FigureSpec:
        try:
            compiled = re.compile(self.regex)
        except re.error as exc:
            raise ValueError(f"regex does not compile: {exc}") from exc
        if "value" not in compiled.groupindex and compiled.groups != 1:
            raise ValueError("regex needs a group named 'value' or exactly one group")
        return self


class AppFile(_Model):
    version: Literal[1]
    name: str = Field(pattern=APP_NAME)
    title: str = Field(min_length=1, max_length=80)
    app_version: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.+~-]+$")
    description: str = Field("", max_length=10_000)
    parameters: list[Param] = Field(default_factory=list, max_length=100)
    resources: Resources = Field(default_factory=lambda: Resources.model_validate({}))
    install: dict[Annotated[str, Field(pattern=CLUSTER_PATTERN)], Install] = Field(
        min_length=1, max_length=100
    )
    figure: FigureSpec | None = None
    script: str = Field(min_length=1, max_length=200_000)

    @model_validator(mode="after")
    def _unique(self) -> AppFile:
        names = [p.name for p in self.parameters]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"parameters repeat a name: {', '.join(twice)}")
        return self

    def param(self, name: str) -> AnyParam | None:
        for p in self.parameters:
            if p.name == name:
                return p
        return None
