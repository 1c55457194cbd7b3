"""An application as a form: what the portal (and ``cnet apps show``) renders.

``form_schema`` gives, per parameter, the field's type, label, help,
default, whether it is required, and its bounds (int, float), choices
(choice), pattern and length (str); and, per default resource, the sbatch
option it becomes. The field names are stable (docs/apps.md).
"""

from __future__ import annotations

from typing import Any

from computenet.apps.catalogue import App
from computenet.apps.installs import ordered
from computenet.apps.schema import (
    AnyParam,
    ChoiceParam,
    FileParam,
    FloatParam,
    IntParam,
    StrParam,
)

#: The default resources a form may show, with the option each one sets.
RESOURCE_FIELDS = (
    ("nodes", "--nodes", "int", "Nodes"),
    ("ntasks", "--ntasks", "int", "Tasks"),
    ("ntasks_per_node", "--ntasks-per-node", "int", "Tasks per node"),
    ("cpus_per_task", "--cpus-per-task", "int", "CPUs per task"),
    ("gpus", "--gpus", "int", "GPUs"),
    ("mem", "--mem", "str", "Memory per node"),
    ("time", "--time", "str", "Time limit"),
    ("partition", "--partition", "str", "Partition"),
    ("constraint", "--constraint", "str", "Node features"),
)


def field_of(p: AnyParam) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": p.name,
        "type": p.type,
        "label": p.shown_label,
        "help": p.help,
        "default": p.default,
        "required": p.required and p.default is None,
    }
    if isinstance(p, IntParam | FloatParam):
        out["min"], out["max"] = p.min, p.max
    elif isinstance(p, ChoiceParam):
        out["choices"] = list(p.choices)
    elif isinstance(p, StrParam):
        out["pattern"], out["max_length"] = p.pattern, p.max_length
    elif isinstance(p, FileParam):
        out["help"] = p.help or "SITE:PATH (copied to the job first) or an absolute path"
    return out


def summary(app: App) -> dict[str, Any]:
    """One line of ``GET /apps``."""
    spec = app.spec
    return {
        "name": spec.name,
        "title": spec.title,
        "version": spec.app_version,
        "summary": (spec.description.strip().splitlines() or [""])[0],
        "source": app.source,
        "figure_unit": spec.figure.unit if spec.figure else None,
        "installed": [pattern for pattern, _ in ordered(spec)],
    }


def form_schema(app: App) -> dict[str, Any]:
    """``GET /apps/{name}``: everything needed to draw and check the form."""
    spec = app.spec
    resources = []
    for key, option, kind, label in RESOURCE_FIELDS:
        resources.append(
            {
                "name": key,
                "option": option,
                "type": kind,
                "label": label,
                "default": getattr(spec.resources, key),
            }
        )
    figure = None
    if spec.figure is not None:
        f = spec.figure
        figure = {
            "unit": f.unit,
            "higher_is_better": f.higher_is_better,
            "per": f.per,
            "label": f.label or f.unit,
        }
    return {
        **summary(app),
        "description": spec.description,
        "format_version": spec.version,
        "path": str(app.path),
        "replaces": str(app.replaces) if app.replaces else None,
        "fields": [field_of(p) for p in spec.parameters],
        "resources": resources,
        "install": [
            {"clusters": pattern, "how": install.describe(), "checks": list(install.check)}
            for pattern, install in ordered(spec)
        ],
        "figure": figure,
        "script_template": spec.script,
    }
