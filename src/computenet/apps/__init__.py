"""The application catalogue: real applications as typed templates.

One YAML file per application (``schema.AppFile``): the shipped ones in
``apps/shipped/``, a site's own in ``apps_dir`` (``CN_APPS_DIR``), where a
file of the same name replaces the shipped one. A run checks its parameter
values (``params``), renders the script template in a sandbox that
shell-quotes every value (``render``), and becomes a batch script with the
install setup of each cluster (``script``); the job then goes through the
same submission path as ``cnet submit``. Its performance figure is read from
its output when it completes (``figures``).
"""

from __future__ import annotations

from computenet.apps import report
from computenet.apps.catalogue import App, Catalogue, CatalogueSource, Problem, load
from computenet.apps.params import check_values, parse_assignments
from computenet.apps.script import RenderedRun, render_run

__all__ = [
    "App",
    "Catalogue",
    "CatalogueSource",
    "Problem",
    "RenderedRun",
    "check_values",
    "load",
    "parse_assignments",
    "render_run",
    "report",
]
