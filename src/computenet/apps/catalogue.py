"""Loading the catalogue: the shipped applications, then a site's folder.

A site's file replaces the shipped one of the same name (``lammps.yaml``
over ``lammps.yaml``). A file that does not parse or validate is left out
and reported as ``Problem``s (its path and the field at fault); the others
load as usual, so one broken file never takes the catalogue down.
``CatalogueSource`` reloads when a site file changes, is added or removed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from computenet.apps.schema import AppFile
from computenet.errors import NotFoundError

if TYPE_CHECKING:
    from jinja2 import Template

log = logging.getLogger("computenet.apps")

SHIPPED_DIR = Path(__file__).parent / "shipped"
MAX_FILE_BYTES = 1 << 20


@dataclass(frozen=True)
class Problem:
    """Why one file is not in the catalogue."""

    path: str
    field: str  # dotted, e.g. "parameters.2.default"; "(file)" for the file as a whole
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class App:
    """One loaded application: its definition and its compiled template."""

    spec: AppFile
    source: str  # "shipped" | "site"
    path: Path
    template: Template = field(repr=False, compare=False)
    replaces: Path | None = None  # the shipped file a site file overrides

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class Catalogue:
    apps: Mapping[str, App]
    problems: tuple[Problem, ...] = ()

    def get(self, name: str) -> App:
        app = self.apps.get(name)
        if app is None:
            broken = [p for p in self.problems if Path(p.path).stem == name]
            if broken:
                raise NotFoundError(
                    f"application {name!r} is not available: its file is broken: {broken[0]}"
                )
            known = ", ".join(sorted(self.apps)) or "none"
            raise NotFoundError(f"no application {name!r} in the catalogue (known: {known})")
        return app


def _field_of(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(file)"


def load_file(path: Path, source: str) -> App | list[Problem]:
    """One file as an ``App``, or every problem found in it."""
    import yaml

    from computenet.apps.render import compile_template

    shown = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return [Problem(shown, "(file)", f"{size} bytes; the limit is {MAX_FILE_BYTES}")]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(shown, "(file)", f"cannot read it: {exc}")]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        return [Problem(shown, where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    if not isinstance(data, dict):
        return [Problem(shown, "(file)", "expected a mapping of fields at the top level")]
    try:
        spec = AppFile.model_validate(data)
    except ValidationError as exc:
        return [Problem(shown, _field_of(e["loc"]), e["msg"]) for e in exc.errors()]
    if spec.name != path.stem:
        return [Problem(shown, "name", f"{spec.name!r} differs from the file name {path.stem!r}")]
    template = compile_template(spec.script)
    if isinstance(template, str):
        return [Problem(shown, "script", template)]
    return App(spec=spec, source=source, path=path, template=template)


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.is_file())


def load(site_dir: Path | None = None, shipped_dir: Path = SHIPPED_DIR) -> Catalogue:
    """The shipped applications with the site's folder over them."""
    apps: dict[str, App] = {}
    problems: list[Problem] = []
    for path in _yaml_files(shipped_dir):
        got = load_file(path, "shipped")
        if isinstance(got, App):
            apps[got.name] = got
        else:
            problems.extend(got)
    if site_dir is not None:
        if not site_dir.is_dir():
            problems.append(Problem(str(site_dir), "(folder)", "apps_dir is not a directory"))
        else:
            for path in _yaml_files(site_dir):
                got = load_file(path, "site")
                if isinstance(got, App):
                    shipped = apps.get(got.name)
                    if shipped is not None:
                        got = App(got.spec, "site", got.path, got.template, replaces=shipped.path)
                    apps[got.name] = got
                else:
                    problems.extend(got)
    for problem in problems:
        log.warning("application file left out: %s", problem)
    return Catalogue(dict(sorted(apps.items())), tuple(problems))


class CatalogueSource:
    """The current catalogue, reloaded when the site folder's files change
    (checked by their names, sizes and modification times)."""

    def __init__(self, site_dir: Path | None, shipped_dir: Path = SHIPPED_DIR) -> None:
        self.site_dir = site_dir
        self.shipped_dir = shipped_dir
        self._lock = threading.Lock()
        self._signature: tuple[Any, ...] | None = None
        self._catalogue: Catalogue | None = None

    def _scan(self) -> tuple[Any, ...]:
        if self.site_dir is None:
            return ()
        try:
            return tuple(
                (p.name, st.st_mtime_ns, st.st_size)
                for p in _yaml_files(self.site_dir)
                for st in (p.stat(),)
            )
        except OSError:
            return ("unreadable",)

    def current(self) -> Catalogue:
        signature = self._scan()
        with self._lock:
            if self._catalogue is None or signature != self._signature:
                self._catalogue = load(self.site_dir, self.shipped_dir)
                self._signature = signature
            return self._catalogue
