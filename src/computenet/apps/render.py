"""Rendering a script template: sandboxed, strict, every value shell-quoted.

Templates are Jinja2 run in ``SandboxedEnvironment`` with ``StrictUndefined``
(a misspelt name is an error, never an empty string). Every ``{{ ... }}``
output passes through ``_finalize``, which shell-quotes it, so a value is
one literal word to the shell whatever it holds: ``; rm -rf ~``, ``$(...)``,
backticks and newlines included. ``| raw`` skips the quoting for trusted
text (values the application file itself wrote) and refuses a parameter's
value. A value is data to Jinja as well: ``{{ 7*7 }}`` inside a value is
never evaluated, because Jinja renders values, it does not parse them.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from computenet.apps.params import FileValue
from computenet.errors import ConfigError


class UserStr(str):
    """A parameter's text: shell-quoted on output, refused by ``raw``."""


class UserInt(int):
    """A parameter's whole number (arithmetic on it gives plain ints)."""


class UserFloat(float):
    """A parameter's number."""


class Raw(str):
    """Text the template marked as trusted: written as it is."""


class FileArg:
    """A ``file`` parameter as the script sees it: the staged copy under the
    submit directory, or the absolute path given."""

    def __init__(self, value: FileValue) -> None:
        self.value = value

    @property
    def staged(self) -> bool:
        return self.value.dest is not None

    @property
    def name(self) -> str:
        return (self.value.dest or self.value.path).rsplit("/", 1)[-1]

    def shell(self) -> str:
        if self.value.dest is not None:
            # the dest is made of checked names, so the variable may stay outside quotes
            return '"$cn_app_workdir"/' + shlex.quote(self.value.dest)
        return shlex.quote(self.value.path)

    def __str__(self) -> str:
        return self.value.dest or self.value.path


_USER = (UserStr, UserInt, UserFloat, FileArg)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(float(value))
    return str(value)


def _finalize(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, FileArg):
        return value.shell()
    if value is None:
        raise SecurityError(
            "a template printed a parameter that has no value; test it with "
            "{% if name is not none %} first"
        )
    return shlex.quote(_text(value))


def _raw(value: Any) -> Raw:
    if isinstance(value, _USER):
        raise SecurityError("'| raw' refused for a parameter's value: parameters are always quoted")
    return Raw(_text(value))


def _quote(value: Any) -> Raw:
    """``| q``: quote now (e.g. inside a string built with ``~``)."""
    return Raw(_finalize(value))


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined,
        finalize=_finalize,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["raw"] = _raw
    env.filters["q"] = _quote
    return env


_ENV = _environment()


def compile_template(text: str) -> Template | str:
    """The compiled template, or the syntax error as text (with its line)."""
    try:
        return _ENV.from_string(text)
    except TemplateSyntaxError as exc:
        return f"template syntax error on line {exc.lineno}: {exc.message}"


def template_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Checked parameter values wrapped so the template quotes them."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or isinstance(value, bool):
            out[name] = value
        elif isinstance(value, int):
            out[name] = UserInt(value)
        elif isinstance(value, float):
            out[name] = UserFloat(value)
        elif isinstance(value, FileValue):
            out[name] = FileArg(value)
        else:
            out[name] = UserStr(value)
    return out


def render_body(
    template: Template, app_name: str, values: Mapping[str, Any], app: Mapping[str, str]
) -> str:
    """The template's text for these (already checked) values.

    Raises ``ConfigError`` when the template itself fails (a name it does
    not define, ``raw`` on a parameter): the application file is at fault,
    not the caller."""
    try:
        return template.render({**template_values(values), "app": dict(app)})
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise ConfigError(f"application {app_name}: its script template failed: {exc}") from exc
