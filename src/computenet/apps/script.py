"""A catalogue run as a batch script: what ``cnet submit`` would be given.

The script is self-contained, so it goes through the same parse,
feasibility, budget and store steps as any submission:

    #!/bin/bash
    #SBATCH --job-name=APP           the default resources, as #SBATCH lines
    #SBATCH ...
    cn_app_main() {                  the rendered template
    ...
    }
    cn_app_workdir=$PWD              each run works in its own directory
    cn_app_rundir=$PWD/APP-$SLURM_JOB_ID
    mkdir -p ...; cd ...
    case "${CN_CLUSTER:-}" in        the install entry of the cluster it runs on
      local-a) setup lines; cn_app_main ;;
      *) ...
    esac

``CN_CLUSTER`` is set by the controller in every job's environment (the
cluster's computenet name). A ``file`` parameter given as ``SITE:PATH``
adds an ``--input-stage`` option, so the transfer engine brings the file to
``cn-inputs/NAME/`` under the submit directory before the job is queued.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from computenet.apps.catalogue import App
from computenet.apps.installs import ordered, run_line, setup_lines, unusable_here
from computenet.apps.params import FileValue
from computenet.apps.render import render_body
from computenet.apps.schema import FORMAT_VERSION
from computenet.model import AppFigure, AppRef


@dataclass(frozen=True)
class RenderedRun:
    script: str
    options: tuple[str, ...]  # added before the caller's options (staged inputs)
    ref: AppRef


def app_ref(app: App, values: Mapping[str, Any], clusters: Mapping[str, str]) -> AppRef:
    spec = app.spec
    figure = None
    if spec.figure is not None:
        f = spec.figure
        figure = AppFigure(f.regex, f.unit, f.higher_is_better, f.stream, f.per)
    recorded = {k: v.text if isinstance(v, FileValue) else v for k, v in values.items()}
    return AppRef(
        name=spec.name,
        version=spec.app_version,
        installed=tuple(p for p, _ in ordered(spec)),
        unusable=unusable_here(spec, clusters),
        figure=figure,
        params=recorded,
    )


def _case_block(app: App) -> list[str]:
    lines = ['case "${CN_CLUSTER:-}" in']
    for pattern, install in ordered(app.spec):
        lines.append(f"  {pattern})")
        lines.extend(f"    {line}" for line in setup_lines(app.spec, install))
        lines.append(f"    {run_line(install)}")
        lines.append("    ;;")
    if "*" not in app.spec.install:
        where = " ".join(app.spec.install)
        lines.append("  *)")
        lines.append(
            f'    echo "{app.name} is not installed on cluster ${{CN_CLUSTER:-?}} '
            f'(installed on: {where})" >&2'
        )
        lines.append("    exit 127")
        lines.append("    ;;")
    lines.append("esac")
    return lines


def render_run(app: App, values: Mapping[str, Any], clusters: Mapping[str, str]) -> RenderedRun:
    """The script and extra options of a run with checked ``values``;
    ``clusters`` (name -> kind) are the clusters known now, for ``unusable``."""
    spec = app.spec
    body = render_body(
        app.template,
        spec.name,
        values,
        {"name": spec.name, "version": spec.app_version, "title": spec.title},
    )
    header = ["#!/bin/bash", f"#SBATCH --job-name={spec.name}"]
    header.extend(f"#SBATCH {o}" for o in spec.resources.options())
    header.append(
        f"# computenet catalogue: {spec.name} {spec.app_version} (file format {FORMAT_VERSION})"
    )
    lines = [*header, "", "cn_app_main() {", body.rstrip("\n") or ":", "}", ""]
    lines += [
        "cn_app_workdir=$PWD",
        f'cn_app_rundir="$PWD/{spec.name}-${{SLURM_JOB_ID:-$$}}"',
        'mkdir -p "$cn_app_rundir" && cd "$cn_app_rundir" || exit 1',
        *_case_block(app),
    ]
    stages = tuple(
        f"--input-stage={v.site}:{v.path}:{v.dest}"
        for v in values.values()
        if isinstance(v, FileValue) and v.site is not None and v.dest is not None
    )
    return RenderedRun("\n".join(lines) + "\n", stages, app_ref(app, values, clusters))
