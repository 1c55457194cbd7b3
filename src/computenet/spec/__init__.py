"""Slurm-compatible job specifications: sbatch options and #SBATCH scripts.

``parse_sbatch``/``parse_submit`` turn a command line and a script into a
``JobSpec``; ``check_embedded`` says what an embedded cluster does with
it; ``slurm_passthrough_args`` is what a Slurm cluster receives. The
option table is ``options.OPTIONS``.
"""

from __future__ import annotations

from computenet.spec.argv import split_submit_argv
from computenet.spec.array import DEFAULT_MAX_ARRAY_SIZE, parse_array
from computenet.spec.dates import parse_when
from computenet.spec.dependency import parse_dependency
from computenet.spec.directives import DEFAULT_MAX_SCRIPT_BYTES, check_script, parse_directives
from computenet.spec.embedded import check_embedded
from computenet.spec.options import OPTIONS, OptionDef
from computenet.spec.parse import SubmitFlags, parse_sbatch, parse_submit
from computenet.spec.passthrough import slurm_passthrough_args
from computenet.spec.patterns import (
    DEFAULT_ARRAY_OUTPUT,
    DEFAULT_OUTPUT,
    default_output_pattern,
    expand_pattern,
)
from computenet.spec.units import format_mem, format_time, parse_mem_bytes, parse_time_s

__all__ = [
    "DEFAULT_ARRAY_OUTPUT",
    "DEFAULT_MAX_ARRAY_SIZE",
    "DEFAULT_MAX_SCRIPT_BYTES",
    "DEFAULT_OUTPUT",
    "OPTIONS",
    "OptionDef",
    "SubmitFlags",
    "check_embedded",
    "check_script",
    "default_output_pattern",
    "expand_pattern",
    "format_mem",
    "format_time",
    "parse_array",
    "parse_dependency",
    "parse_directives",
    "parse_mem_bytes",
    "parse_sbatch",
    "parse_submit",
    "parse_time_s",
    "parse_when",
    "slurm_passthrough_args",
    "split_submit_argv",
]
