"""Filename patterns of ``--output``, ``--error`` and ``--input``.

Expanded as slurmd expands them for a batch job: ``%j`` job id, ``%J``
``jobid.step``, ``%A`` array master id (the job id outside arrays), ``%a``
array task id (4294967294, Slurm's NO_VAL, outside arrays), ``%b`` task id
modulo 10, ``%x`` job name, ``%u`` user, ``%N`` node, ``%n``/``%t`` 0,
``%s`` step, ``%%`` a percent sign. A number after ``%`` zero-pads numeric
fields (at most 10 wide). Any backslash turns expansion off (the
backslashes are dropped). Relative results are relative to the job's
working directory.
"""

from __future__ import annotations

from computenet.model.spec import JobSpec

DEFAULT_OUTPUT = "slurm-%j.out"
DEFAULT_ARRAY_OUTPUT = "slurm-%A_%a.out"
NO_VAL = 4294967294  # what Slurm prints for %a in a job that is not an array
_MAX_PAD = 10
_FIELDS = frozenset("AabJjNnstux")


def default_output_pattern(spec: JobSpec) -> str:
    """The output pattern sbatch uses when ``-o`` is not given."""
    return DEFAULT_ARRAY_OUTPUT if spec.array is not None else DEFAULT_OUTPUT


def expand_pattern(
    pattern: str,
    *,
    job_id: str,
    array_job_id: str | None,
    array_task_id: int | None,
    name: str,
    user: str,
    node: str = "",
    step: str = "batch",
) -> str:
    """The file name ``pattern`` stands for in this job."""
    if "\\" in pattern:
        return pattern.replace("\\", "")
    task = NO_VAL if array_task_id is None else array_task_id
    values: dict[str, tuple[str, bool]] = {  # letter -> (text, is numeric)
        "A": (array_job_id or job_id, True),
        "a": (str(task), True),
        "b": (str(task % 10), True),
        "J": (f"{job_id}.{step}", False),
        "j": (job_id, True),
        "N": (node, False),
        "n": ("0", True),
        "s": (step, False),
        "t": ("0", True),
        "u": (user, False),
        "x": (name, False),
    }
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char != "%" or i + 1 >= len(pattern):
            out.append(char)
            i += 1
            continue
        j = i + 1
        while j < len(pattern) and pattern[j].isdigit():
            j += 1
        digits = pattern[i + 1 : j]
        letter = pattern[j] if j < len(pattern) else ""
        if not digits and letter == "%":
            out.append("%")
        elif letter in _FIELDS:
            text, numeric = values[letter]
            if numeric and digits:
                text = text.rjust(min(int(digits), _MAX_PAD), "0")
            out.append(text)
        elif digits:
            # Slurm keeps only the last digit of a width before a non-field.
            out.append(digits[-1] + letter)
        else:
            out.append("%" + letter)
        i = j + 1
    return "".join(out)
