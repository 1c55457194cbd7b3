"""Parameter values: checked against their declarations before any rendering.

Values come typed (JSON from the API or the portal) or as text (``cnet apps
run -p steps=200``); both are accepted where the meaning is plain ("200" for
an int, "yes" for a bool). Every bad field is collected, so a form can show
each message at its field: ``ParameterError.details["fields"]`` is a list of
``{"field", "message"}``. Nothing is rendered or submitted when any is bad.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from computenet.apps.schema import (
    AnyParam,
    AppFile,
    BoolParam,
    ChoiceParam,
    FileParam,
    FloatParam,
    IntParam,
    StrParam,
)
from computenet.errors import ParameterError

MAX_PARAMS = 200
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
#: a site name as the transfer engine knows it
_SITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: a staged file keeps its name, which must be plain
_BASENAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,254}$")
_MAX_PATH = 4096


@dataclass(frozen=True)
class FileValue:
    """A ``file`` parameter's value: where the file is, and how the job sees it."""

    site: str | None  # None: an absolute path where the job runs
    path: str
    dest: str | None  # staged: the path under the job's submit directory

    @property
    def text(self) -> str:
        return f"{self.site}:{self.path}" if self.site else self.path


class _Bad(Exception):
    pass


def _int(p: IntParam, value: Any) -> int:
    if isinstance(value, bool):
        raise _Bad("must be a whole number, not true/false")
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,19}", text):
            raise _Bad(f"must be a whole number (got {value[:40]!r})")
        value = int(text)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise _Bad(f"must be a whole number (got {type(value).__name__})")
    _in_range(value, p.min, p.max)
    return value


def _float(p: FloatParam, value: Any) -> float:
    if isinstance(value, bool):
        raise _Bad("must be a number, not true/false")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _Bad(f"must be a number (got {value[:40]!r})") from None
    if not isinstance(value, int | float):
        raise _Bad(f"must be a number (got {type(value).__name__})")
    number = float(value)
    if not math.isfinite(number):
        raise _Bad("must be a finite number")
    _in_range(number, p.min, p.max)
    return number


def _in_range(value: float, low: float | None, high: float | None) -> None:
    if low is not None and high is not None and not low <= value <= high:
        raise _Bad(f"must be between {low:g} and {high:g} (got {value:g})")
    if low is not None and value < low:
        raise _Bad(f"must be at least {low:g} (got {value:g})")
    if high is not None and value > high:
        raise _Bad(f"must be at most {high:g} (got {value:g})")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Bad(f"must be true or false (got {str(value)[:40]!r})")


def _choice(p: ChoiceParam, value: Any) -> str:
    text = str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
    if not isinstance(text, str) or text not in p.choices:
        raise _Bad(f"must be one of {', '.join(p.choices)} (got {str(value)[:40]!r})")
    return text


def _str(p: StrParam, value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(f"must be text (got {type(value).__name__})")
    if len(value) > p.max_length:
        raise _Bad(f"is {len(value)} characters; at most {p.max_length}")
    if "\x00" in value or re.fullmatch(p.pattern, value) is None:
        raise _Bad(f"does not match the pattern {p.pattern}")
    return value


def file_value(name: str, value: Any) -> FileValue:
    """``SITE:PATH`` (to be staged in) or ``/absolute/path`` (used in place)."""
    if not isinstance(value, str) or not value:
        raise _Bad("must be SITE:PATH or an absolute path")
    if len(value) > _MAX_PATH or any(c in value for c in "\x00\n\r"):
        raise _Bad("is not a usable path (too long, or NUL or newline characters)")
    if value.startswith("/"):
        site, path = None, value
    else:
        site, colon, path = value.partition(":")
        if not colon or not _SITE.fullmatch(site) or not path:
            raise _Bad(f"must be SITE:PATH or an absolute path (got {value[:60]!r})")
    parts = path.split("/")
    if ".." in parts:
        raise _Bad("may not contain '..' (paths stay inside the site's root)")
    base = posixpath.basename(path.rstrip("/"))
    if site is None:
        return FileValue(None, posixpath.normpath(path), None)
    if not _BASENAME.fullmatch(base):
        raise _Bad(f"file name {base[:60]!r} has characters a staged file may not have")
    return FileValue(site, path, f"cn-inputs/{name}/{base}")


def _one(p: AnyParam, value: Any) -> Any:
    if isinstance(p, IntParam):
        return _int(p, value)
    if isinstance(p, FloatParam):
        return _float(p, value)
    if isinstance(p, BoolParam):
        return _bool(value)
    if isinstance(p, ChoiceParam):
        return _choice(p, value)
    if isinstance(p, StrParam):
        return _str(p, value)
    assert isinstance(p, FileParam)
    return file_value(p.name, value)


def check_values(app: AppFile, given: Mapping[str, Any]) -> dict[str, Any]:
    """The value of every declared parameter (given, else its default; None
    for an optional one left out). Raises ``ParameterError`` naming every
    bad field; an unknown name is a bad field too."""
    bad: list[dict[str, str]] = []
    if len(given) > MAX_PARAMS:
        raise ParameterError(
            f"{len(given)} parameters given; {app.name} declares {len(app.parameters)}",
            app=app.name,
            fields=[],
        )
    known = {p.name for p in app.parameters}
    listed = ", ".join(sorted(known)) or "none"
    for name in given:
        if name not in known:
            bad.append({"field": str(name)[:64], "message": f"unknown parameter (known: {listed})"})
    values: dict[str, Any] = {}
    for p in app.parameters:
        raw = given.get(p.name)
        if raw is None:
            raw = p.default
        if raw is None:
            if p.required:
                bad.append({"field": p.name, "message": "is required"})
            values[p.name] = None
            continue
        try:
            values[p.name] = _one(p, raw)
        except _Bad as exc:
            bad.append({"field": p.name, "message": str(exc)})
    if bad:
        text = "; ".join(f"{b['field']}: {b['message']}" for b in bad)
        raise ParameterError(f"{app.name}: {text}", app=app.name, fields=bad)
    return values


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["steps=200", "pair=lj/cut"]`` as a mapping (the CLI's ``-p``)."""
    out: dict[str, str] = {}
    bad: list[dict[str, str]] = []
    for item in items:
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not name:
            bad.append(
                {
                    "field": item[:64],
                    "message": "expected -p NAME=VALUE (the partition is --partition=NAME here)",
                }
            )
            continue
        out[name] = value
    if bad:
        raise ParameterError(
            "; ".join(f"{b['field']}: {b['message']}" for b in bad), app=None, fields=bad
        )
    return out
