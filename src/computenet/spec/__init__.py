"""Slurm-compatible job specifications: sbatch options and #SBATCH scripts.

``parse_sbatch``/``parse_submit`` turn a command line and a script into a
``JobSpec``; ``check_embedded`` says what an embedded cluster does with
it; ``slurm_passthrough_args`` is what a Slurm cluster receives. The
option table is ``options.OPTIONS``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Imported on first use: `cnet ls` needs only units.py, not the option table.
_LAZY = {
    "DEFAULT_ARRAY_OUTPUT": "computenet.spec.patterns",
    "DEFAULT_MAX_ARRAY_SIZE": "computenet.spec.array",
    "DEFAULT_MAX_SCRIPT_BYTES": "computenet.spec.directives",
    "DEFAULT_OUTPUT": "computenet.spec.patterns",
    "OPTIONS": "computenet.spec.options",
    "OptionDef": "computenet.spec.options",
    "SubmitFlags": "computenet.spec.parse",
    "check_embedded": "computenet.spec.embedded",
    "check_script": "computenet.spec.directives",
    "default_output_pattern": "computenet.spec.patterns",
    "expand_pattern": "computenet.spec.patterns",
    "format_mem": "computenet.spec.units",
    "format_time": "computenet.spec.units",
    "parse_array": "computenet.spec.array",
    "parse_dependency": "computenet.spec.dependency",
    "parse_directives": "computenet.spec.directives",
    "parse_mem_bytes": "computenet.spec.units",
    "parse_sbatch": "computenet.spec.parse",
    "parse_submit": "computenet.spec.parse",
    "parse_time_s": "computenet.spec.units",
    "parse_when": "computenet.spec.dates",
    "slurm_passthrough_args": "computenet.spec.passthrough",
    "split_submit_argv": "computenet.spec.argv",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
